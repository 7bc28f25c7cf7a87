/**
 * Issue 16 end to end, on a real single-node Slurm started here (tools/slurm/local_cluster.ts):
 * a demo grid (Table 5's student variants, depth, 2 seeds, 1 epoch on a tiny dataset) goes out
 * as one job array with `deno task experiment ... --slurm --submit`. First only seed 1, with a
 * failpoint that kills every task right after its teacher checkpoint: the status view shows
 * those cells as interrupted with their logs' last line. Then the whole grid: only the missing
 * and interrupted cells are submitted, the interrupted ones resume from their checkpoints, and
 * every cell is recorded. Each must equal the same cell run locally (same ids, byte-identical
 * weights, maps and scores). The daemons started are stopped by their pids at the end.
 * Skipped, with the reason, where a cluster cannot start (not root, slurm-wlm/munge missing,
 * a daemon that does not come up); never passed without running.
 */
import { join } from "node:path";
import { clusterPreflight, ClusterUnavailable, type LocalCluster, startLocalCluster } from "../../tools/slurm/local_cluster.ts";
import { assert, assertEquals, assertStringIncludes } from "../assert.ts";
import { runArgs } from "../_cli.ts";
import { TINY_SETS, tinyMvtec3d } from "../run/_tiny.ts";
import { PROJECT_ROOT } from "../../lib/util/project.ts";

let cluster: LocalCluster | null = null;
let skip = clusterPreflight();
if (!skip) {
  try {
    cluster = await startLocalCluster({ dir: await Deno.makeTempDir({ prefix: "ast-slurm-" }), timeoutMs: 90_000 });
    globalThis.addEventListener("unload", () => cluster?.stopSync());
  } catch (e) {
    if (!(e instanceof ClusterUnavailable)) throw e;
    skip = `the Slurm daemons did not start: ${e.message}`;
  }
}
if (skip) console.warn(`SKIP: Slurm grid test: ${skip}`);

interface Run {
  code: number;
  out: string;
}

async function experiment(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: runArgs("experiment", join(PROJECT_ROOT, "lib/cli/experiment.ts"), ...args),
    cwd: PROJECT_ROOT,
    env: { ...cluster!.env, NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: r.code, out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr) };
}

async function squeueEmpty(jobId: string): Promise<boolean> {
  const r = await new Deno.Command("squeue", { args: ["-h", "-j", jobId], env: cluster!.env, stdout: "piped", stderr: "piped" }).output();
  return r.success ? new TextDecoder().decode(r.stdout).trim() === "" : /invalid job id/i.test(new TextDecoder().decode(r.stderr));
}

async function waitForJob(jobId: string, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  while (!(await squeueEmpty(jobId))) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`job ${jobId} still queued or running after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  return (performance.now() - t0) / 1000;
}

/** Submit with `--slurm --submit`, check the array's task count, wait for the job to end: its id and seconds waited. */
async function submitAndWait(args: string[], tasks: number, timeoutMs: number, env: Record<string, string> = {}): Promise<{ jobId: string; seconds: number }> {
  const r = await experiment(args, env);
  assertEquals(r.code, 0, r.out);
  const job = r.out.match(/submitted job (\d+) \((\d+) array tasks\)/);
  assert(job, r.out);
  assertEquals(job[2], String(tasks));
  return { jobId: job[1], seconds: await waitForJob(job[1], timeoutMs) };
}

/** status lines: "# class mode variant seed status cell detail" -> cell id -> status */
function statusOf(out: string): Map<string, { status: string; line: string }> {
  const m = new Map<string, { status: string; line: string }>();
  for (const line of out.split("\n")) {
    const f = line.trim().split(/\s{2,}/);
    if (/^\d+$/.test(f[0] ?? "") && f.length >= 7) m.set(f[6], { status: f[5], line });
  }
  return m;
}

const sha = async (path: string) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path)))).map((b) => b.toString(16).padStart(2, "0")).join("");

Deno.test({
  name: "slurm: a demo grid runs as one job array on a real Slurm; killed tasks resume on resubmission; every cell equals the same cell run locally",
  ignore: skip !== null,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const c = cluster!;
    try {
      const data = await tinyMvtec3d();
      const shared = await Deno.makeTempDir({ prefix: "ast-slurm-store-" });
      const grid = ["table5_students", "--scale", "demo", "--data", data, "--class", "puck", "--mode", "depth", ...TINY_SETS.flatMap((s) => ["--set", s]), "--set", "teacher.epochs=1", "--set", "student.epochs=1", "--results", shared];
      const slurm = ["--slurm", "--submit", "--cpus", "1", "--max-parallel", String(Math.max(1, c.cpus)), "--time", "00:10:00", "--partition", c.partition];

      // 1. seed 1 only, every task killed right after its teacher's checkpoint
      const job1 = await submitAndWait([...grid, "--seeds", "1", ...slurm], 3, 180_000, { AST_FAILPOINT: "teacher:after-checkpoint" });

      const status1 = await experiment([...grid, "--seeds", "0,1", "--status"]);
      assertEquals(status1.code, 1, "a failed cell makes --status exit 1\n" + status1.out);
      const s1 = statusOf(status1.out);
      assertEquals(s1.size, 6, status1.out);
      const states1 = [...s1.values()].map((s) => s.status).sort();
      assertEquals(states1, ["failed", "failed", "failed", "missing", "missing", "missing"], status1.out);
      for (const s of [...s1.values()].filter((s) => s.status === "failed")) {
        assertStringIncludes(s.line, `interrupted (Slurm job ${job1.jobId}_`);
        assertStringIncludes(s.line, "resubmitting resumes it from its checkpoint");
      }

      // 2. the whole grid: only what is not recorded goes out; the interrupted cells resume
      const job2 = await submitAndWait([...grid, "--seeds", "0,1", ...slurm], 6, 300_000);
      const status2 = await experiment([...grid, "--seeds", "0,1", "--status"]);
      assertEquals(status2.code, 0, status2.out);
      const s2 = statusOf(status2.out);
      assertEquals([...s2.values()].map((s) => s.status), Array(6).fill("recorded"), status2.out);
      assertStringIncludes(status2.out, "6 recorded");
      assertStringIncludes(status2.out, "nf-student"); // the comparison table follows
      const logs = join(shared, "experiments", "table5_students", "slurm");
      let resumed = 0;
      for await (const sub of Deno.readDir(logs)) {
        for await (const f of Deno.readDir(join(logs, sub.name, "logs"))) resumed += ((await Deno.readTextFile(join(logs, sub.name, "logs", f.name))).match(/: resumed\b/g) ?? []).length;
      }
      assertEquals(resumed, 3, "the three interrupted cells resumed from their checkpoints");

      // 3. nothing left to submit
      const third = await experiment([...grid, "--seeds", "0,1", ...slurm]);
      assertStringIncludes(third.out, "nothing to submit (6 recorded)");

      // 4. the same cells run locally (one thread, as each array task had one CPU): the same bytes
      const local = await Deno.makeTempDir({ prefix: "ast-slurm-local-" });
      const here = await experiment([...grid.slice(0, -1), local, "--seeds", "0,1"], { AST_THREADS: "1" });
      assertEquals(here.code, 0, here.out);
      for (const id of s2.keys()) {
        for (const file of ["teacher.safetensors", "student.safetensors", "maps.safetensors", "scores.parquet"]) {
          assertEquals(await sha(join(shared, "runs", id, file)), await sha(join(local, "runs", id, file)), `${id}/${file}`);
        }
        const [a, b] = await Promise.all([shared, local].map(async (r) => JSON.parse(await Deno.readTextFile(join(r, "runs", id, "metrics.json")))));
        for (const k of ["image_auroc_max", "image_auroc_mean", "pixel_auroc", "aupro", "seed"]) assertEquals(a[k], b[k], `${id} ${k}`);
      }
      console.log(`--- status after the killed job array ---\n${status1.out}--- status after the resubmission ---\n${status2.out}`);
      console.log(`slurm grid: job ${job1.jobId} (3 tasks, killed) ${job1.seconds.toFixed(0)} s, job ${job2.jobId} (6 tasks) ${job2.seconds.toFixed(0)} s on ${c.cpus} CPUs`);
    } finally {
      await c.stop();
      for (const pid of Object.values(c.pids)) {
        assert(!(await Deno.stat(`/proc/${pid}`).then(() => true, () => false)), `daemon pid ${pid} still running`);
      }
    }
  },
});
