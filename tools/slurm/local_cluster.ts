/**
 * A real single-node Slurm cluster on this machine, for the cluster-mode integration test and for
 * users who want to try cluster mode without a site cluster. Everything lives in one folder
 * (default: a fresh /tmp/ast-slurm-*): slurm.conf, the munge key, munged's socket/pid/log/seed,
 * slurmctld state, slurmd spool, pid and log files. Nothing is written to /etc/slurm or
 * /etc/munge: clients and daemons find the conf through SLURM_CONF (`cluster.env`) and the munge
 * socket through `AuthInfo=socket=<dir>/munge.socket` in that conf.
 *
 * The three daemons run in the foreground as our children (`munged -F --force`, `slurmctld -D`,
 * `slurmd -D`) so their pids are known and stop() kills exactly them; their stdout/stderr go to
 * `<dir>/<daemon>.out` (munged in the foreground logs there only, not to its --log-file), the
 * Slurm daemons' own logs to `<dir>/<daemon>.log`. Must run as root (the daemons run
 * as SlurmUser=SlurmdUser=root, munged owns a root-owned key); ports 16817 (slurmctld) and 16818
 * (slurmd), not the default 6817/6818, so a site or system cluster on this machine is untouched.
 * A second local cluster (or one an earlier run did not stop) holding those ports makes
 * startLocalCluster throw ClusterUnavailable quoting the daemon's "Address already in use" line
 * and naming the leftover cluster's folder and the command that stops it.
 *
 * Jobs run as the submitting user with the submitter's environment (sbatch's default
 * --export=ALL); finished jobs leave squeue after MinJobAge=5 s; no accounting (no sacct). stop()
 * cancels queued jobs first (slurmstepd would outlive slurmd), then SIGTERMs slurmd+slurmctld,
 * then munged (SIGKILL after 5 s). An unload handler calls stopSync() if the program ends
 * without stop(). The folder (logs) is left in place; remove it when done.
 * Measured facts: ../shared/docs/PLATFORM_NOTES.md, section Slurm.
 *
 * Deno permissions: --allow-read (conf, logs), --allow-write=/tmp (or the --dir given),
 * --allow-run (munged, slurmctld, slurmd, sinfo, squeue, scancel, scontrol, sh, ps, pgrep),
 * --allow-env (PATH lookup, children's environment), --allow-sys (uid, hostname, memory).
 *
 * CLI (stays in the foreground; Ctrl-C or SIGTERM stops the daemons):
 *   deno run --allow-read --allow-write=/tmp --allow-run --allow-env --allow-sys \
 *     tools/slurm/local_cluster.ts start [--dir D] [--timeout SECONDS]
 *   ... tools/slurm/local_cluster.ts stop --dir D     (a cluster left running: kills the pids in D/pids.json)
 */
import { join, resolve } from "node:path";

export interface LocalCluster {
  /** the temp folder holding conf, key, state, logs */
  dir: string;
  /** what clients need: at least { SLURM_CONF } */
  env: Record<string, string>;
  /** the one partition's name (e.g. "debug"), default */
  partition: string;
  /** CPUs of the node */
  cpus: number;
  /** RealMemory given to the node */
  memoryMb: number;
  pids: { munged: number; slurmctld: number; slurmd: number };
  /** kill the three daemons by pid (SIGTERM, then SIGKILL after a few s), wait for exit; idempotent */
  stop(): Promise<void>;
  /** same, synchronous best-effort (for an unload handler) */
  stopSync(): void;
}

/** The cluster could not start; the message says which daemon failed and quotes its log. */
export class ClusterUnavailable extends Error {
  override name = "ClusterUnavailable";
}

/** slurmctld/slurmd ports: the defaults + 10000, so a system cluster (6817/6818) is not touched. */
export const SLURMCTLD_PORT = 16817;
export const SLURMD_PORT = 16818;
const DAEMONS = ["munged", "slurmctld", "slurmd"] as const;
type Daemon = typeof DAEMONS[number];
const CLIENTS = ["sinfo", "sbatch", "squeue", "scancel", "scontrol"];
/** sbin is searched too: a non-root PATH often lacks it (and then preflight names "not root"). */
const SEARCH_EXTRA = ["/usr/sbin", "/sbin", "/usr/local/sbin"];
const KILL_WAIT_MS = 5000;
/** sockaddr_un.sun_path is 108 bytes, NUL included. */
const MAX_SOCKET_PATH = 107;

/** Absolute path of `name` in $PATH (plus the sbin folders), else null. */
function which(name: string): string | null {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":").filter(Boolean), ...SEARCH_EXTRA];
  for (const d of dirs) {
    try {
      const p = join(d, name);
      const s = Deno.statSync(p);
      if (s.isFile && s.mode !== null && (s.mode & 0o111)) return p;
    } catch { /* not here */ }
  }
  return null;
}

function granted(desc: Deno.PermissionDescriptor): boolean {
  return Deno.permissions.querySync(desc).state === "granted";
}

/** Why a cluster cannot start here (not root, a binary missing: names it), or null. Synchronous and cheap. */
export function clusterPreflight(): string | null {
  if (Deno.build.os !== "linux") return `the local Slurm cluster needs Linux (this is ${Deno.build.os})`;
  const perms: [Deno.PermissionDescriptor, string][] = [
    [{ name: "run" }, "--allow-run"],
    [{ name: "sys" }, "--allow-sys"],
    [{ name: "env" }, "--allow-env"],
    [{ name: "read" }, "--allow-read"],
  ];
  for (const [desc, flag] of perms) if (!granted(desc)) return `the local Slurm cluster needs ${flag}`;
  const uid = Deno.uid();
  if (uid !== 0) return `the local Slurm cluster must run as root (uid ${uid}): slurmd and munged run as this user with SlurmUser=root`;
  const missing = [...DAEMONS, ...CLIENTS].filter((b) => !which(b));
  if (missing.length) return `Slurm/munge binaries not found: ${missing.join(", ")} (Debian: apt-get install slurm-wlm munge)`;
  return null;
}

/** `hostname -s`: the host name up to the first dot. */
function shortHostname(): string {
  return Deno.hostname().split(".")[0];
}

function tail(path: string, lines = 12): string {
  try {
    const text = Deno.readTextFileSync(path).trimEnd();
    return text ? text.split("\n").slice(-lines).join("\n") : "(empty)";
  } catch {
    return "(no file)";
  }
}

/** Lines of the daemon's log and stdout/stderr that name a port already in use, if any. */
function portInUseLines(dir: string, d: Daemon): string[] {
  const out: string[] = [];
  for (const f of [`${d}.log`, `${d}.out`]) {
    try {
      for (const l of Deno.readTextFileSync(join(dir, f)).split("\n")) if (/address already in use/i.test(l)) out.push(l.trim());
    } catch { /* absent */ }
  }
  return out;
}

/** Other Slurm/munge daemons running on this machine (`pgrep -a`), for the port-taken message. */
function otherDaemons(ours: number[]): string[] {
  try {
    const o = new Deno.Command("pgrep", { args: ["-a", "-x", "slurmctld|slurmd|munged"], stdout: "piped", stderr: "null" }).outputSync();
    return new TextDecoder().decode(o.stdout).trim().split("\n").filter((l) => l && !ours.includes(Number(l.split(" ")[0])));
  } catch {
    return [];
  }
}

/** The daemons listed in `<dir>/pids.json` that still run (pid still runs a process of that name). */
function stillRunning(dir: string): [Daemon, number][] {
  let pids: Record<string, number>;
  try {
    pids = JSON.parse(Deno.readTextFileSync(join(dir, "pids.json")));
  } catch {
    return [];
  }
  const out: [Daemon, number][] = [];
  for (const name of ["slurmd", "slurmctld", "munged"] as const) {
    const pid = pids[name];
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      const o = new Deno.Command("ps", { args: ["-o", "comm=", "-p", String(pid)], stdout: "piped", stderr: "null" }).outputSync();
      if (new TextDecoder().decode(o.stdout).trim() === name) out.push([name, pid]);
    } catch { /* no ps: unknown */ }
  }
  return out;
}

const CLI = "deno run --allow-read --allow-write=/tmp --allow-run --allow-env --allow-sys tools/slurm/local_cluster.ts";

function failure(dir: string, d: Daemon, what: string, pids: number[]): ClusterUnavailable {
  const inUse = portInUseLines(dir, d);
  const parts = [`${d} ${what}`];
  if (inUse.length) {
    const others = otherDaemons(pids);
    // A local cluster's daemons carry `-f <its dir>/slurm.conf`: name the command that stops it.
    const left = [...new Set(others.map((l) => l.match(/ -f (\S+)\/slurm\.conf/)?.[1]).filter(Boolean))];
    const fix = left.length
      ? `a local cluster an earlier run did not stop is running (${left.join(", ")}): stop it with \`${left.map((l) => `${CLI} stop --dir ${l}`).join("; ")}\``
      : `most likely a local cluster an earlier run did not stop (stop it with \`${CLI} stop --dir <its dir>\`, or kill its pids), else another program`;
    parts.push(`port ${d === "slurmd" ? SLURMD_PORT : SLURMCTLD_PORT} is taken ("${inUse[0]}"): ${fix}`);
    if (others.length) parts.push(`running now: ${others.join("; ")}`);
  }
  // <d>.out (the daemon's stderr) holds what the log has plus errors from before the log opened;
  // munged -F writes no --log-file at all.
  parts.push(`last lines of ${join(dir, `${d}.out`)}:\n${tail(join(dir, `${d}.out`))}`);
  return new ClusterUnavailable(parts.join("\n"));
}

function slurmConf(o: { dir: string; host: string; cpus: number; memoryMb: number; partition: string }): string {
  const d = o.dir;
  return [
    "# Written by tools/slurm/local_cluster.ts: a single-node cluster living in this folder.",
    "ClusterName=astlab-local",
    `SlurmctldHost=${o.host}(127.0.0.1)`,
    `SlurmctldPort=${SLURMCTLD_PORT}`,
    `SlurmdPort=${SLURMD_PORT}`,
    "SlurmUser=root",
    "SlurmdUser=root",
    "AuthType=auth/munge",
    "CredType=cred/munge",
    `AuthInfo=socket=${join(d, "munge.socket")}`,
    `StateSaveLocation=${join(d, "state")}`,
    `SlurmdSpoolDir=${join(d, "spool")}`,
    `SlurmctldPidFile=${join(d, "slurmctld.pid")}`,
    `SlurmdPidFile=${join(d, "slurmd.pid")}`,
    `SlurmctldLogFile=${join(d, "slurmctld.log")}`,
    `SlurmdLogFile=${join(d, "slurmd.log")}`,
    "SlurmctldDebug=info",
    "SlurmdDebug=info",
    `PlugStackConfig=${join(d, "plugstack.conf")}`, // empty: not /etc/slurm/plugstack.conf
    "MailProg=/bin/true",
    "ProctrackType=proctrack/linuxproc",
    "TaskPlugin=task/none",
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_Core",
    "MpiDefault=none",
    "JobAcctGatherType=jobacct_gather/none",
    "AccountingStorageType=accounting_storage/none",
    "JobCompType=jobcomp/none",
    "ReturnToService=2",
    "SlurmctldTimeout=10",
    "SlurmdTimeout=30",
    "InactiveLimit=0",
    "KillWait=5",
    "WaitTime=0",
    "MinJobAge=5", // finished jobs leave squeue/scontrol 5 s after the end (default 300 s)
    `NodeName=${o.host} NodeAddr=127.0.0.1 CPUs=${o.cpus} RealMemory=${o.memoryMb} State=UNKNOWN`,
    `PartitionName=${o.partition} Nodes=${o.host} Default=YES MaxTime=INFINITE State=UP`,
    "",
  ].join("\n");
}

/** Sleeps synchronously (for stopSync, which cannot await). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Pids among `pids` that are still running (a zombie counts as gone), via ps; null when ps fails. */
function runningSync(pids: number[]): number[] | null {
  if (!pids.length) return [];
  try {
    const o = new Deno.Command("ps", { args: ["-o", "pid=,stat=", "-p", pids.join(",")], stdout: "piped", stderr: "null" }).outputSync();
    return new TextDecoder().decode(o.stdout).trim().split("\n").filter(Boolean)
      .map((l) => l.trim().split(/\s+/)).filter(([, stat]) => !stat.startsWith("Z")).map(([pid]) => Number(pid));
  } catch {
    return null;
  }
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch { /* already gone */ }
}

interface Running {
  name: Daemon;
  child: Deno.ChildProcess;
  exited: boolean;
  status: Promise<Deno.CommandStatus>;
}

/** Starts `bin args` with stdout+stderr appended to `out`; `exec` keeps the pid the daemon's. */
function spawnDaemon(name: Daemon, bin: string, args: string[], out: string, env: Record<string, string>): Running {
  const child = new Deno.Command("/bin/sh", {
    args: ["-c", 'out="$1"; shift; exec "$@" >>"$out" 2>&1 </dev/null', "sh", out, bin, ...args],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const r: Running = { name, child, exited: false, status: child.status };
  r.status = child.status.then((s) => {
    r.exited = true;
    return s;
  });
  child.unref(); // a program that forgets stop() still exits; the unload handler then kills them
  return r;
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(bin: string, args: string[], env: Record<string, string>): Promise<{ ok: boolean; out: string }> {
  try {
    const o = await new Deno.Command(bin, { args, env, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { ok: o.success, out: (dec.decode(o.stdout) + dec.decode(o.stderr)).trim() };
  } catch (e) {
    return { ok: false, out: String(e) };
  }
}

/** Start munged, slurmctld, slurmd (each in the foreground as a child process: munged -F, slurmctld -D, slurmd -D so their pids are known); wait until `sinfo` reports the node idle (timeout, default 60 s); throws ClusterUnavailable with the reason and stops what it started on failure. */
export async function startLocalCluster(
  opts: { dir?: string; timeoutMs?: number; log?: (line: string) => void; partition?: string } = {},
): Promise<LocalCluster> {
  const reason = clusterPreflight();
  if (reason) throw new ClusterUnavailable(reason);
  const log = opts.log ?? (() => {});
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const partition = opts.partition ?? "debug";
  const t0 = performance.now();
  const dir = opts.dir ? resolve(opts.dir) : await Deno.makeTempDir({ dir: "/tmp", prefix: "ast-slurm-" });
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const socket = join(dir, "munge.socket");
  if (socket.length > MAX_SOCKET_PATH) throw new ClusterUnavailable(`folder path too long for munge's socket (${socket}, ${socket.length} > ${MAX_SOCKET_PATH} bytes): use a shorter --dir`);
  const left = stillRunning(dir);
  if (left.length) {
    throw new ClusterUnavailable(
      `a local cluster is already running in ${dir} (${left.map(([n, p]) => `${n} pid ${p}`).join(", ")}): use it, or stop it first with \`${CLI} stop --dir ${dir}\``,
    );
  }
  // Left by daemons that were killed: munged would be taken as ready on seeing the old socket.
  for (const f of ["munge.socket", "munge.socket.lock", "pids.json"]) await Deno.remove(join(dir, f)).catch(() => {});
  for (const sub of ["state", "spool"]) await Deno.mkdir(join(dir, sub), { recursive: true, mode: 0o700 });

  const host = shortHostname();
  const cpus = navigator.hardwareConcurrency;
  // Below what slurmd measures (it drains a node whose RealMemory exceeds the machine's).
  const memoryMb = Math.floor(Deno.systemMemoryInfo().total / 2 ** 20 * 0.95);
  const conf = join(dir, "slurm.conf");
  await Deno.writeTextFile(conf, slurmConf({ dir, host, cpus, memoryMb, partition }));
  await Deno.writeTextFile(join(dir, "plugstack.conf"), "");
  const key = join(dir, "munge.key");
  await Deno.remove(key).catch(() => {});
  await Deno.writeFile(key, crypto.getRandomValues(new Uint8Array(1024)), { mode: 0o400 });
  await Deno.chmod(key, 0o400);
  const env = { SLURM_CONF: conf };
  const bin = (n: string) => which(n)!;
  const daemonEnv = { ...env };

  const running: Running[] = [];
  let stopping: Promise<void> | null = null;
  const onUnload = () => stopSync();
  globalThis.addEventListener("unload", onUnload);

  function stop(): Promise<void> {
    if (!stopping) {
      stopping = (async () => {
        globalThis.removeEventListener("unload", onUnload);
        for (const r of running) r.child.ref();
        await cancelJobs();
        // slurmd and slurmctld first (they still talk to munged while shutting down), munged last.
        for (const group of [["slurmd", "slurmctld"], ["munged"]]) {
          await Promise.all(running.filter((r) => group.includes(r.name)).map(async (r) => {
            if (r.exited) return;
            signal(r.child.pid, "SIGTERM");
            let timer: ReturnType<typeof setTimeout> | undefined;
            const killed = new Promise<void>((res) => timer = setTimeout(() => (signal(r.child.pid, "SIGKILL"), res()), KILL_WAIT_MS));
            await Promise.race([r.status, killed]);
            clearTimeout(timer);
            await r.status;
          }));
        }
      })();
    }
    return stopping;
  }

  /** Jobs still running would outlive slurmd (slurmstepd is detached): cancel them first. */
  async function cancelJobs(): Promise<void> {
    if (!running.some((r) => r.name === "slurmctld" && !r.exited)) return;
    const q = await run(bin("squeue"), ["--noheader", "--format=%A"], env);
    if (!q.ok || !q.out) return;
    log(`cancelling jobs still in the queue: ${q.out.split("\n").join(" ")}`);
    await run(bin("scancel"), [`--partition=${partition}`], env);
    for (let i = 0; i < 20; i++) {
      const r = await run(bin("squeue"), ["--noheader", "--format=%A"], env);
      if (!r.ok || !r.out) return;
      await delay(250);
    }
  }

  function cancelJobsSync(): void {
    const queue = () => {
      try {
        const o = new Deno.Command(bin("squeue"), { args: ["--noheader", "--format=%A"], env, stdout: "piped", stderr: "null" }).outputSync();
        return o.success ? new TextDecoder().decode(o.stdout).trim() : "";
      } catch {
        return "";
      }
    };
    if (!queue()) return;
    try {
      new Deno.Command(bin("scancel"), { args: [`--partition=${partition}`], env, stdout: "null", stderr: "null" }).outputSync();
    } catch { /* best effort */ }
    for (let i = 0; i < 25 && queue(); i++) sleepSync(200);
  }

  function stopSync(): void {
    if (stopping) return;
    stopping = Promise.resolve();
    globalThis.removeEventListener("unload", onUnload);
    if (running.some((r) => r.name === "slurmctld" && !r.exited)) cancelJobsSync();
    for (const group of [["slurmd", "slurmctld"], ["munged"]]) {
      const pids = running.filter((r) => group.includes(r.name) && !r.exited).map((r) => r.child.pid);
      for (const pid of pids) signal(pid, "SIGTERM");
      const end = Date.now() + KILL_WAIT_MS;
      let left: number[] | null = pids;
      while (left && left.length && Date.now() < end) {
        sleepSync(100);
        left = runningSync(pids);
      }
      for (const pid of left ?? pids) signal(pid, "SIGKILL");
    }
  }

  const cluster: LocalCluster = {
    dir,
    env,
    partition,
    cpus,
    memoryMb,
    pids: { munged: 0, slurmctld: 0, slurmd: 0 },
    stop,
    stopSync,
  };
  const started = () => running.map((r) => r.child.pid);
  const check = () => {
    const dead = running.find((r) => r.exited);
    if (dead) throw failure(dir, dead.name, "exited during start-up", started());
  };

  try {
    log(`local Slurm cluster in ${dir} (node ${host}: ${cpus} CPUs, ${memoryMb} MB; ports ${SLURMCTLD_PORT}/${SLURMD_PORT})`);
    const munged = spawnDaemon("munged", bin("munged"), [
      "-F",
      "--force",
      `--key-file=${key}`,
      `--socket=${socket}`,
      `--pid-file=${join(dir, "munged.pid")}`,
      `--log-file=${join(dir, "munged.log")}`,
      `--seed-file=${join(dir, "munged.seed")}`,
    ], join(dir, "munged.out"), daemonEnv);
    running.push(munged);
    cluster.pids.munged = munged.child.pid;
    const deadline = t0 + timeoutMs;
    for (;;) {
      check();
      try {
        if (Deno.statSync(socket)) break;
      } catch { /* not yet */ }
      if (performance.now() > deadline) throw failure(dir, "munged", `made no socket ${socket} within ${timeoutMs / 1000} s`, started());
      await delay(50);
    }
    const ctld = spawnDaemon("slurmctld", bin("slurmctld"), ["-D", "-f", conf], join(dir, "slurmctld.out"), daemonEnv);
    running.push(ctld);
    cluster.pids.slurmctld = ctld.child.pid;
    const slurmd = spawnDaemon("slurmd", bin("slurmd"), ["-D", "-f", conf], join(dir, "slurmd.out"), daemonEnv);
    running.push(slurmd);
    cluster.pids.slurmd = slurmd.child.pid;
    await Deno.writeTextFile(join(dir, "pids.json"), JSON.stringify(cluster.pids) + "\n");

    let state = "";
    for (;;) {
      check();
      // A port conflict shows in the log before the daemon gives up; say so at once.
      for (const d of ["slurmctld", "slurmd"] as const) {
        if (portInUseLines(dir, d).length) throw failure(dir, d, "cannot listen", started());
      }
      const r = await run(bin("sinfo"), ["--noheader", "--Node", `--nodes=${host}`, "--format=%T"], env);
      state = r.ok ? r.out.split("\n")[0] : "";
      if (state === "idle") break;
      if (/^(inval|drain)/.test(state)) {
        const why = await run(bin("scontrol"), ["show", "node", host], env);
        throw failure(dir, "slurmd", `node ${host} is ${state}: ${why.out.match(/Reason=.*/)?.[0] ?? "(no reason)"}`, started());
      }
      if (performance.now() > deadline) {
        const who = r.ok ? "slurmd" : "slurmctld";
        throw failure(dir, who, `node ${host} not idle after ${timeoutMs / 1000} s (sinfo: ${r.out || "nothing"})`, started());
      }
      await delay(250);
    }
    log(`node ${host} idle after ${((performance.now() - t0) / 1000).toFixed(1)} s; export SLURM_CONF=${conf}`);
    return cluster;
  } catch (e) {
    await stop();
    if (e instanceof ClusterUnavailable) throw e;
    throw new ClusterUnavailable(`local Slurm cluster in ${dir}: ${e instanceof Error ? e.message : e}`);
  }
}

async function main(args: string[]): Promise<number> {
  const [cmd, ...rest] = args;
  const flag = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  if (cmd === "stop") {
    const dir = flag("--dir");
    if (!dir) return (console.error("usage: local_cluster.ts stop --dir D"), 2);
    const left = stillRunning(dir);
    if (!left.length) console.log(`no daemon of ${join(dir, "pids.json")} is running`);
    for (const [name, pid] of left) {
      signal(pid, "SIGTERM");
      console.log(`SIGTERM ${name} (pid ${pid})`);
    }
    return 0;
  }
  if (cmd !== "start") {
    console.error("usage: local_cluster.ts start [--dir D] [--timeout SECONDS] | stop --dir D");
    return 2;
  }
  const timeout = flag("--timeout");
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster({
      dir: flag("--dir"),
      timeoutMs: timeout ? Number(timeout) * 1000 : undefined,
      log: (l) => console.error(l),
    });
  } catch (e) {
    console.error(e instanceof ClusterUnavailable ? `cannot start the local Slurm cluster: ${e.message}` : e);
    return 1;
  }
  console.log(`export SLURM_CONF=${cluster.env.SLURM_CONF}`);
  console.error(
    `partition ${cluster.partition}; pids ${JSON.stringify(cluster.pids)}; logs in ${cluster.dir}\n` +
      `try: sbatch --array=0-3 --wrap 'hostname; echo $SLURM_ARRAY_TASK_ID'; squeue\nCtrl-C stops the cluster.`,
  );
  const { promise: done, resolve } = Promise.withResolvers<string>();
  const onSignal = (s: string) => () => resolve(s);
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [s, h] of handlers) Deno.addSignalListener(s, h);
  // Keeps the event loop alive (the daemons are unref'd) and notices a daemon that died.
  const watch = setInterval(() => {
    const left = runningSync(Object.values(cluster.pids));
    if (left && left.length < 3) resolve("a daemon exited");
  }, 2000);
  const why = await done;
  clearInterval(watch);
  for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
  console.error(`${why}: stopping the local Slurm cluster`);
  await cluster.stop();
  return why === "a daemon exited" ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
