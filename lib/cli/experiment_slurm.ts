/**
 * The cluster side of `deno task experiment` (lib/cli/experiment.ts): `--slurm` writes (and with
 * `--submit` submits) one job array for the grid's cells that are neither recorded, running nor
 * queued; `--cell ID` is what each array task runs; `--status` shows every cell's state in the
 * results store and the comparison table of the recorded ones.
 */
import { relative } from "node:path";
import type { RuntimeOptions } from "../config/runtime.ts";
import { type ExperimentDefinition, type GridPlan, runPlannedCell, type Scale } from "../experiment/grid.ts";
import { checkNodeEnvironment } from "./node_check.ts";
import { sbatchScript, type SlurmResources } from "../experiment/slurm/sbatch_script.ts";
import { asGridCells, gridStatus, statusTable } from "../experiment/slurm/status.ts";
import { submit, writeSubmission } from "../experiment/slurm/submission.ts";
import { ablationTable } from "../report/ablation.ts";
import { experimentTableText } from "../report/experiment_table.ts";
import { countsText } from "../util/counts_text.ts";
import { PROJECT_ROOT, projectPath } from "../util/project.ts";
import { UsageError } from "./args.ts";

/** `--cell ID`: run exactly that cell of the plan; exit code 0 when it is recorded (now or before) or running elsewhere. */
export async function runOneCell(plan: GridPlan, id: string, runtime: RuntimeOptions, keepCheckpoints?: boolean): Promise<number> {
  const cell = plan.cells.find((c) => c.id === id);
  if (!cell) {
    const ids = plan.cells.map((c) => c.id).filter(Boolean);
    throw new UsageError(`--cell ${id} is not a cell of this grid with these options (its ${ids.length} cells: ${ids.slice(0, 4).join(", ")}${ids.length > 4 ? ", ..." : ""}); the data, config or weights may have changed since it was submitted`);
  }
  console.log(await checkNodeEnvironment(runtime));
  const done = await runPlannedCell(cell, { runtime, keepCheckpoints, waitForTeacher: true, log: (l) => console.log(l) });
  console.log(`${cell.tag}: ${done.status}${done.message ? ` (${done.message.split("\n")[0]})` : ""}`);
  return done.status === "failed" || done.status === "unavailable" ? 1 : 0;
}

/** `--status`: one line per cell, the counts, then the table of the recorded cells. */
export async function printStatus(def: ExperimentDefinition, scale: Scale, plan: GridPlan): Promise<number> {
  const { cells, squeue } = await gridStatus(plan, def.name, scale);
  console.log(`${def.name} (${def.paper}) at ${scale} scale, results ${plan.resultsRoot}${squeue ? "" : " (squeue not available: queued cells show as missing)"}`);
  console.log(statusTable(cells));
  const grid = asGridCells(cells);
  if (grid.some((c) => c.metrics)) {
    try {
      console.log(experimentTableText(def, grid, ablationTable(def, grid), scale, plan.resultsRoot));
    } catch (e) {
      console.error(`experiment: warning: no results table: ${(e as Error).message.split("\n")[0]}`);
    }
  }
  return cells.some((c) => c.state === "failed") ? 1 : 0;
}

export interface SlurmRequest {
  resources: SlurmResources;
  submit: boolean;
  /** the command-line arguments that select the cells, forwarded to every array task */
  selection: string[];
  /** the command that shows the grid's status, for the last line */
  statusCommand: string;
}

/** The AST_* settings a task needs to see what the submitting machine saw (sbatch's environment may not carry them). */
function carriedEnvironment(runtime: RuntimeOptions): Record<string, string> {
  const env: Record<string, string> = {};
  const b = runtime.backend;
  if (runtime.featureCacheDir) env.AST_CACHE_DIR = runtime.featureCacheDir.replace(/\/features$/, "");
  if (runtime.weightsDir) env.AST_WEIGHTS_DIR = runtime.weightsDir;
  if (runtime.datasets.mvtecAd) env.AST_MVTEC_AD = runtime.datasets.mvtecAd;
  if (runtime.datasets.mvtec3d) env.AST_MVTEC3D = runtime.datasets.mvtec3d;
  if (b.prefer) env.AST_BACKEND = b.prefer;
  if (b.nativeConv !== undefined) env.AST_NATIVE_CONV = b.nativeConv;
  if (b.nativeFused === false) env.AST_NATIVE_FUSED = "0";
  return env;
}

/** `--slurm`: the job array for the missing and failed cells. */
export async function writeJobArray(def: ExperimentDefinition, scale: Scale, plan: GridPlan, req: SlurmRequest, runtime: RuntimeOptions): Promise<number> {
  const { cells } = await gridStatus(plan, def.name, scale);
  // A cell that cannot even be planned (its config is invalid) would fail on every node: said, not sent.
  const unplannable = cells.filter((c) => c.cell.problem?.status === "failed");
  for (const c of unplannable) console.error(`experiment: error: ${c.cell.tag}: not submitted: ${c.detail}`);
  const todo = cells.filter((c) => (c.state === "missing" || c.state === "failed") && c.cell.id);
  const left = cells.filter((c) => !todo.includes(c) && !unplannable.includes(c));
  const counts = countsText(left, (c) => c.state);
  if (!todo.length) {
    console.log(`${def.name} at ${scale} scale: nothing to submit (${counts || "no cells"})`);
    return unplannable.length ? 1 : 0;
  }
  const taskCommand: string = JSON.parse(await Deno.readTextFile(projectPath("deno.json"))).tasks.experiment;
  const written = new Date().toISOString();
  const arrayCells = todo.map((c) => ({ id: c.cell.id!, tag: c.cell.tag }));
  const dir = await writeSubmission(plan.resultsRoot, { experiment: def.name, scale, written, cells: arrayCells }, (jobDir) =>
    sbatchScript({
      experiment: def.name,
      scale,
      cells: arrayCells,
      resources: req.resources,
      jobDir,
      project: PROJECT_ROOT,
      deno: Deno.execPath(),
      results: plan.resultsRoot,
      taskFlags: taskCommand.split(/\s+/).filter((t) => /^--(allow|deny)-/.test(t)),
      selection: req.selection,
      env: carriedEnvironment(runtime),
      statusCommand: req.statusCommand,
      origin: `written by \`deno task experiment ${def.name} --scale ${scale} --slurm\` on ${written}`,
    }));
  const script = `${dir}/job.sbatch`;
  const shown = relative(Deno.cwd(), script).startsWith("..") ? script : relative(Deno.cwd(), script);
  console.log(`${def.name} at ${scale} scale: ${todo.length} cell${todo.length === 1 ? "" : "s"} to run${counts ? ` (${counts} left alone)` : ""}`);
  console.log(`job array script: ${shown}`);
  if (!req.submit) {
    console.log(`submit it with: sbatch ${shown}`);
    return unplannable.length ? 1 : 0;
  }
  const jobId = await submit(dir);
  console.log(`submitted job ${jobId} (${todo.length} array tasks); logs in ${dir}/logs/; progress: ${req.statusCommand}`);
  return unplannable.length ? 1 : 0;
}
