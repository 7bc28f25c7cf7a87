/** Issue 14, case 1 (grids): a cell another runner is training is skipped; a dead runner's cell is taken over and trained. */
import { join } from "node:path";
import { cellLockPath, runGrid } from "../../lib/experiment/grid.ts";
import { deadPid, tinyGrid } from "./_tiny_grid.ts";
import { assert, assertEquals } from "../assert.ts";
import { tinyMvtec3d } from "../run/_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};
const root3d = await tinyMvtec3d();

const definition = () => tinyGrid(root3d);

Deno.test({ name: "grid: a cell locked by a live runner is skipped as running elsewhere; a stale lock is taken over", ...opts, fn: async () => {
  const results = await Deno.makeTempDir();
  const [planned] = await runGrid(definition(), "demo", { results, log: quiet, dryRun: true });
  const lock = cellLockPath(planned.runDir!);
  await Deno.mkdir(join(results, "runs"), { recursive: true });
  const lockOf = (pid: number) => JSON.stringify({ pid, hostname: Deno.hostname(), started: new Date().toISOString() });

  await Deno.writeTextFile(lock, lockOf(1)); // pid 1: alive
  const lines: string[] = [];
  const [busy] = await runGrid(definition(), "demo", { results, log: (l) => lines.push(l) });
  assertEquals([busy.status, busy.message], ["running-elsewhere", "running elsewhere (pid 1)"]);
  assert(lines.some((l) => l.endsWith("skipped, running elsewhere (pid 1)")), lines.join("\n"));
  assert(!(await Deno.stat(planned.runDir!).then(() => true, () => false)), "nothing written into the cell");

  // A runner killed between claiming the folder and writing config.json left an empty folder and its lock.
  await Deno.writeTextFile(lock, lockOf(await deadPid()));
  await Deno.mkdir(planned.runDir!);
  const [trained] = await runGrid(definition(), "demo", { results, log: quiet });
  assertEquals([trained.status, trained.runDir], ["trained", planned.runDir]);
  assert(!(await Deno.stat(lock).then(() => true, () => false)), "lock removed when the cell finished");
}});

Deno.test({ name: "grid: a failed cell releases its lock", ...opts, fn: async () => {
  const results = await Deno.makeTempDir();
  const fail = () => {
    throw new Error("stopped");
  };
  const [failed] = await runGrid(definition(), "demo", { results, log: quiet, continueOnError: true, onEpoch: fail });
  assertEquals(failed.status, "failed");
  const [planned] = await runGrid(definition(), "demo", { results, log: quiet, dryRun: true });
  assert(!(await Deno.stat(cellLockPath(planned.runDir!)).then(() => true, () => false)), "no lock left");
  const [resumed] = await runGrid(definition(), "demo", { results, log: quiet });
  assertEquals(resumed.status, "resumed");
}});
