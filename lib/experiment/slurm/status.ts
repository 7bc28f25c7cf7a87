/**
 * The state of every cell of a grid in a results store, without running anything: recorded
 * (metrics.json), running (a live lock: pid, host, Slurm job and task), queued (an array task
 * of a submission that Slurm still lists), failed (its last error line: the cell's failure
 * record, or the log of an array task that ended without a record, e.g. killed or out of time),
 * or missing. Resubmitting takes the missing and failed cells (submission.ts, the CLI).
 */
import { join } from "node:path";
import type { RunRecord } from "../../results/record.ts";
import { exists, readJson, RUN_FILES } from "../../results/run_files.ts";
import { countsText } from "../../util/counts_text.ts";
import { liveLockOwner, lockOwner } from "../cell_lock.ts";
import { cellFailurePath, cellLockPath, type CellFailure, describeOwner, type GridCell, type GridPlan, type PlannedCell } from "../grid.ts";
import { activeState, jobStates } from "./squeue.ts";
import { lastLogLine, listSubmissions, type Submission } from "./submission.ts";

export type CellState = "recorded" | "running" | "queued" | "failed" | "missing" | "unavailable";

export interface CellStatus {
  cell: PlannedCell;
  state: CellState;
  /** who runs it, why it failed, where it is recorded */
  detail: string;
  metrics: RunRecord | null;
}

/** The latest submission's array task for each cell id. */
function latestTasks(submissions: Submission[]): Map<string, { submission: Submission; task: number }> {
  const tasks = new Map<string, { submission: Submission; task: number }>();
  for (const s of submissions) s.cells.forEach((c, task) => tasks.set(c.id, { submission: s, task }));
  return tasks;
}

const firstLine = (s: string) => s.split("\n").find((l) => l.trim())?.trim() ?? s;

export async function gridStatus(plan: GridPlan, experiment: string, scale: string): Promise<{ cells: CellStatus[]; squeue: boolean }> {
  const submissions = await listSubmissions(plan.resultsRoot, experiment, scale);
  const tasks = latestTasks(submissions);
  const jobIds = [...new Set(submissions.map((s) => s.jobId).filter((j): j is string => j !== null))];
  const states = await jobStates(jobIds); // null: Slurm cannot be asked here
  const out: CellStatus[] = [];
  for (const cell of plan.cells) {
    const status = (state: CellState, detail: string, metrics: RunRecord | null = null) => out.push({ cell, state, detail, metrics });
    if (cell.problem) {
      status(cell.problem.status, firstLine(cell.problem.message));
      continue;
    }
    const runDir = cell.runDir!;
    if (await exists(join(runDir, RUN_FILES.metrics))) {
      status("recorded", runDir, await readJson<RunRecord>(join(runDir, RUN_FILES.metrics)));
      continue;
    }
    const lock = cellLockPath(runDir);
    const live = await liveLockOwner(lock);
    if (live) {
      status("running", describeOwner(live));
      continue;
    }
    const task = cell.id ? tasks.get(cell.id) : undefined;
    const taskId = task?.submission.jobId ? `${task.submission.jobId}_${task.task}` : null;
    const taskState = taskId && states ? states.get(taskId) : undefined;
    if (taskId && taskState && activeState(taskState)) {
      // a task Slurm has started that has not taken the cell's lock yet (starting Deno) is running
      if (taskState === "RUNNING") status("running", `Slurm job ${taskId} starting`);
      else status("queued", `Slurm job ${taskId} ${taskState.toLowerCase()}`);
      continue;
    }
    const failure = await readJson<CellFailure>(cellFailurePath(runDir)).catch(() => null);
    const dead = await lockOwner(lock); // a lock whose owner is gone: killed mid-cell
    const started = await exists(join(runDir, RUN_FILES.config));
    if (failure) {
      status("failed", `${firstLine(failure.error)}${failure.slurm ? ` (Slurm job ${failure.slurm.job})` : ""}`);
    } else if (dead || (taskId && states && !taskState)) {
      const job = dead?.slurm?.job ?? taskId;
      const [arrayJob, t] = job?.split("_") ?? [];
      const log = task && arrayJob && t !== undefined ? await lastLogLine(task.submission.dir, arrayJob, Number(t)) : null;
      const how = dead ? `interrupted (${describeOwner(dead)} is gone)` : `Slurm job ${taskId} ended without a record`;
      status("failed", `${how}${started ? "; resubmitting resumes it from its checkpoint" : ""}${log ? `; its log ends: ${log}` : ""}`);
    } else {
      status("missing", started ? "started, not running: rerun or resubmit to resume" : "");
    }
  }
  return { cells: out, squeue: states !== null };
}

/** The cells as the comparison tables take them (recorded ones with their metrics). */
export function asGridCells(statuses: CellStatus[]): GridCell[] {
  return statuses.map(({ cell, state, detail, metrics }) => ({
    ...cell.base,
    runDir: cell.runDir,
    status: state === "recorded" ? "recorded" : state === "failed" ? "failed" : state === "unavailable" ? "unavailable" : state === "running" || state === "queued" ? "running-elsewhere" : "planned",
    message: detail,
    metrics,
    ...(metrics?.teacher_from ? { teacherFrom: metrics.teacher_from } : {}),
  }));
}

/** A plain-text table: one line per cell, then the counts. */
export function statusTable(statuses: CellStatus[]): string {
  const rows = statuses.map(({ cell, state, detail }) => [
    String(cell.index),
    cell.base.className,
    cell.base.mode,
    cell.base.variant,
    String(cell.base.seed),
    state,
    cell.id ?? "-",
    state === "recorded" ? "" : detail,
  ]);
  const head = ["#", "class", "mode", "variant", "seed", "status", "cell", "detail"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 7 ? 0 : r[i].length))));
  const line = (r: string[]) => r.map((c, i) => (i === 7 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(head), ...rows.map(line), countsText(statuses, (s) => s.state)].join("\n");
}
