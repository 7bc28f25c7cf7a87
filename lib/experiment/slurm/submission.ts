/**
 * A submitted (or written) job array of a grid: its folder
 * `<results>/experiments/<name>/slurm/<scale>-<UTC time>-<random>/` holds `job.sbatch`,
 * `cells.json` (array task -> cell id) and `logs/<job>_<task>.out`; after `sbatch`,
 * `submitted.json` holds the job id. The status view reads every submission of the grid to
 * name the job and task of a queued cell, and the log of a task that ended without a record.
 */
import { join } from "node:path";
import { readJson, writeJsonAtomic } from "../../results/run_files.ts";
import type { ArrayCell } from "./sbatch_script.ts";

export interface SubmissionCells {
  experiment: string;
  scale: string;
  written: string;
  /** cells[i] is array task i */
  cells: ArrayCell[];
}

export interface Submitted {
  job_id: string;
  submitted: string;
  command: string[];
}

export interface Submission extends SubmissionCells {
  dir: string;
  jobId: string | null;
}

export function submissionsDir(resultsRoot: string, experiment: string): string {
  return join(resultsRoot, "experiments", experiment, "slurm");
}

/** Create a new, exclusively named job folder with its cells and script. */
export async function writeSubmission(resultsRoot: string, cells: SubmissionCells, script: (jobDir: string) => string): Promise<string> {
  const parent = submissionsDir(resultsRoot, cells.experiment);
  await Deno.mkdir(parent, { recursive: true });
  const stamp = cells.written.replaceAll(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  for (let attempt = 0;; attempt++) {
    const dir = join(parent, `${cells.scale}-${stamp}-${Math.random().toString(36).slice(2, 6)}`);
    try {
      await Deno.mkdir(dir); // exclusive: two submissions in the same second never share a folder
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists && attempt < 20) continue;
      throw e;
    }
    await Deno.mkdir(join(dir, "logs"));
    await writeJsonAtomic(join(dir, "cells.json"), cells);
    await Deno.writeTextFile(join(dir, "job.sbatch"), script(dir), { mode: 0o755 });
    return dir;
  }
}

/** Submit a job folder's script with sbatch; the job id, also written to submitted.json. */
export async function submit(jobDir: string): Promise<string> {
  const command = ["sbatch", "--parsable", join(jobDir, "job.sbatch")];
  let out;
  try {
    out = await new Deno.Command(command[0], { args: command.slice(1), stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error("sbatch not found: run this on a machine of the cluster (a login node), or submit the script there");
    throw e;
  }
  const stdout = new TextDecoder().decode(out.stdout).trim(), stderr = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) throw new Error(`sbatch refused ${join(jobDir, "job.sbatch")}: ${stderr.split("\n").at(-1) || `exit ${out.code}`}`);
  const jobId = stdout.split(";")[0]; // "<id>[;<cluster>]"
  if (!/^\d+$/.test(jobId)) throw new Error(`sbatch printed no job id: '${stdout}'`);
  const submitted: Submitted = { job_id: jobId, submitted: new Date().toISOString(), command };
  await writeJsonAtomic(join(jobDir, "submitted.json"), submitted);
  return jobId;
}

/** Every job folder of an experiment at a scale, oldest first. */
export async function listSubmissions(resultsRoot: string, experiment: string, scale: string): Promise<Submission[]> {
  const parent = submissionsDir(resultsRoot, experiment);
  const found: Submission[] = [];
  try {
    for await (const e of Deno.readDir(parent)) {
      if (!e.isDirectory || !e.name.startsWith(`${scale}-`)) continue;
      const dir = join(parent, e.name);
      let cells: SubmissionCells;
      try {
        cells = await readJson<SubmissionCells>(join(dir, "cells.json"));
      } catch {
        continue; // being written
      }
      const submitted = await readJson<Submitted>(join(dir, "submitted.json")).catch(() => null);
      found.push({ ...cells, dir, jobId: submitted?.job_id ?? null });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return found.sort((a, b) => a.written.localeCompare(b.written) || a.dir.localeCompare(b.dir));
}

/** The last non-empty line of an array task's log, or null. */
export async function lastLogLine(jobDir: string, jobId: string, task: number): Promise<string | null> {
  try {
    const text = await Deno.readTextFile(join(jobDir, "logs", `${jobId}_${task}.out`));
    return text.split("\n").map((l) => l.trim()).filter(Boolean).at(-1) ?? null;
  } catch {
    return null;
  }
}
