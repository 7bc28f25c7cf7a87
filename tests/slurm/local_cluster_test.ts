/**
 * The local Slurm cluster (tools/slurm/local_cluster.ts) is real: it starts munged, slurmctld and
 * slurmd in a temp folder, runs an sbatch job array submitted with only `cluster.env` added to our
 * environment, and stop() leaves none of the three daemons behind. Skipped (with the reason, once)
 * where a cluster cannot start: not root, Slurm/munge not installed.
 */
import { join } from "node:path";
import { clusterPreflight, type LocalCluster, startLocalCluster } from "../../tools/slurm/local_cluster.ts";
import { processAlive } from "../../lib/util/process_alive.ts";
import { assert, assertEquals } from "../assert.ts";

const reason = clusterPreflight();
if (reason) console.warn(`SKIP: ${reason}`);

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(cmd: string, args: string[], env: Record<string, string>): Promise<string> {
  const o = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  const dec = new TextDecoder();
  if (!o.success) throw new Error(`${cmd} ${args.join(" ")} failed (${o.code}): ${dec.decode(o.stderr)}`);
  return dec.decode(o.stdout).trim();
}

Deno.test({
  name: "local Slurm cluster: starts, runs a 3-task sbatch array, stops all three daemons",
  ignore: reason !== null,
  async fn() {
    const root = await Deno.makeTempDir({ dir: "/tmp", prefix: "ast-slurm-test-" });
    const jobs = join(root, "jobs");
    await Deno.mkdir(jobs);
    let cluster: LocalCluster | undefined;
    try {
      cluster = await startLocalCluster({ dir: join(root, "cluster"), timeoutMs: 30_000 });
      assert(cluster.cpus >= 1 && cluster.memoryMb > 0, `node ${cluster.cpus} CPUs, ${cluster.memoryMb} MB`);
      const env = { ...Deno.env.toObject(), ...cluster.env };
      const id = await run("sbatch", [
        "--parsable",
        "--array=0-2",
        `--chdir=${jobs}`,
        `--output=${join(jobs, "slurm-%A_%a.out")}`,
        "--wrap",
        `echo task $SLURM_ARRAY_TASK_ID > ${jobs}/out_$SLURM_ARRAY_TASK_ID`,
      ], env);
      assert(/^\d+$/.test(id), `sbatch --parsable printed ${JSON.stringify(id)}`);
      const deadline = Date.now() + 60_000;
      for (;;) {
        if ((await run("squeue", ["--noheader", `--jobs=${id}`], env)) === "") break;
        assert(Date.now() < deadline, `job ${id} still in squeue after 60 s`);
        await delay(1000);
      }
      for (const t of [0, 1, 2]) {
        assertEquals(await Deno.readTextFile(join(jobs, `out_${t}`)), `task ${t}\n`, `array task ${t}`);
      }
    } finally {
      await cluster?.stop();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    }
    for (const [name, pid] of Object.entries(cluster.pids)) assert(!processAlive(pid), `${name} (pid ${pid}) still running after stop()`);
    await cluster.stop(); // idempotent
  },
});
