/** The status view reads a results store as it is: recorded, running (with its Slurm job), interrupted, failed with its error line, missing. */
import { join } from "node:path";
import { cellFailurePath, cellLockPath, planGrid, runPlannedCell } from "../../../lib/experiment/grid.ts";
import { deadPid, TINY_CONFIG, tinyGrid } from "../_tiny_grid.ts";
import { gridStatus, statusTable } from "../../../lib/experiment/slurm/status.ts";
import { writeSubmission } from "../../../lib/experiment/slurm/submission.ts";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";
import { tinyMvtec3d } from "../../run/_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};
const root3d = await tinyMvtec3d();
const definition = () => tinyGrid(root3d, [{ name: "ast", config: TINY_CONFIG }, { name: "wide", config: { ...TINY_CONFIG, student: { hidden: 12, nBlocks: 1 } } }], [0, 1, 2]);

Deno.test({ name: "status: recorded, running (Slurm job), interrupted, failed (error line), missing; ids are stable", ...opts, fn: async () => {
  const results = await Deno.makeTempDir();
  const plan = await planGrid(definition(), "demo", { results, log: quiet });
  assertEquals(plan.cells.length, 6);
  const again = await planGrid(definition(), "demo", { results, log: quiet });
  assertEquals(again.cells.map((c) => c.id), plan.cells.map((c) => c.id), "the same grid plans the same ids");
  assertEquals(new Set(plan.cells.map((c) => c.id)).size, 6);
  // the student-only variant adopts the same seed's reference teacher
  assertEquals(plan.cells[3].teacherFrom, plan.cells[0].runDir);

  const [rec, run, dead, failed, missing] = plan.cells;
  const done = await runPlannedCell(rec, { log: quiet });
  assertEquals(done.status, "trained");
  await Deno.mkdir(join(results, "runs"), { recursive: true });
  const lock = (pid: number, job?: string) => JSON.stringify({ pid, hostname: Deno.hostname(), started: new Date().toISOString(), ...(job ? { slurm: { job, node: "n1" } } : {}) });
  await Deno.writeTextFile(cellLockPath(run.runDir!), lock(1, "41_1")); // pid 1 is alive
  await Deno.writeTextFile(cellLockPath(dead.runDir!), lock(await deadPid(), "41_2"));
  await Deno.writeTextFile(cellFailurePath(failed.runDir!), JSON.stringify({ error: "teacher epoch 3: non-finite loss (NaN)\nstack...", at: "x", hostname: "n2", pid: 9, slurm: { job: "41_3" } }));

  const { cells } = await gridStatus(plan, "tiny", "demo");
  const by = (id: string | null) => cells.find((c) => c.cell.id === id)!;
  assertEquals(by(rec.id).state, "recorded");
  assert(by(rec.id).metrics?.image_auroc_max !== undefined);
  assertEquals([by(run.id).state, by(run.id).detail], ["running", "Slurm job 41_1 (pid 1)"]);
  assertEquals(by(dead.id).state, "failed");
  assertStringIncludes(by(dead.id).detail, "interrupted (Slurm job 41_2");
  assertEquals([by(failed.id).state, by(failed.id).detail], ["failed", "teacher epoch 3: non-finite loss (NaN) (Slurm job 41_3)"]);
  assertEquals(by(missing.id).state, "missing");
  const table = statusTable(cells);
  assertStringIncludes(table, "1 recorded, 1 running, 2 failed, 2 missing");
  assertStringIncludes(table, "running   ");

  // a submission names its cells; its log is where a task that ended without a record left its last words
  const dir = await writeSubmission(results, { experiment: "tiny", scale: "demo", written: new Date().toISOString(), cells: [{ id: missing.id!, tag: missing.tag }] }, () => "#!/bin/bash\n");
  assert((await Deno.stat(join(dir, "logs"))).isDirectory);
  const second = await writeSubmission(results, { experiment: "tiny", scale: "demo", written: new Date().toISOString(), cells: [] }, () => "");
  assert(second !== dir, "two submissions never share a folder");
}});

Deno.test({ name: "runPlannedCell: a failure is recorded beside the cell and removed once the cell succeeds", ...opts, fn: async () => {
  const results = await Deno.makeTempDir();
  const plan = await planGrid(definition(), "demo", { results, log: quiet, seeds: [0] });
  const cell = plan.cells[0];
  const failed = await runPlannedCell(cell, { log: quiet, onEpoch: () => { throw new Error("stopped on purpose"); } });
  assertEquals(failed.status, "failed");
  const record = JSON.parse(await Deno.readTextFile(cellFailurePath(cell.runDir!)));
  assertEquals(record.error, "stopped on purpose");
  const ok = await runPlannedCell(cell, { log: quiet });
  assertEquals(ok.status, "resumed");
  assert(!(await Deno.stat(cellFailurePath(cell.runDir!)).then(() => true, () => false)), "failure record removed");
}});
