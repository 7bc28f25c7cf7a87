/**
 * The sbatch script of a grid's job array: one array task per cell, each running exactly that
 * cell (`deno task experiment NAME --cell ID`, by its stable id) with the experiment task's own
 * permissions. Pure text: the caller writes and submits it (submission.ts).
 *
 * Where things are on the compute nodes is set at the top of the script, each overridable from
 * the environment at submission (`AST_LAB_DENO=/opt/deno sbatch job.sbatch`): AST_LAB_PROJECT
 * (this project, on a path the nodes share), AST_LAB_DENO (the Deno binary), AST_RESULTS (the
 * shared results store) and the AST_* variables that were set at submission (feature cache,
 * weights, datasets, backend). Each task checks them first and stops with one line naming what is
 * missing (exit 3); the experiment CLI then checks the native libraries (node_check.ts).
 */

export interface SlurmResources {
  partition?: string;
  /** HH:MM:SS or Slurm's other time formats */
  time?: string;
  /** CPUs per array task (SLURM_CPUS_PER_TASK: the task's thread count) */
  cpus?: number;
  /** e.g. 8G */
  mem?: string;
  gpus?: number;
  account?: string;
  /** at most this many array tasks at once (`--array=0-N%K`) */
  maxParallel?: number;
}

export interface ArrayCell {
  id: string;
  /** shown beside the id in the script, e.g. "[1/4] puck depth ast seed 0" */
  tag: string;
}

export interface SbatchScriptInput {
  experiment: string;
  scale: string;
  cells: ArrayCell[];
  resources: SlurmResources;
  /** the job folder: logs/ go there */
  jobDir: string;
  project: string;
  deno: string;
  results: string;
  /** the experiment task's permission flags as deno.json spells them (relative paths, $HOME) */
  taskFlags: string[];
  /** extra experiment arguments that select the cells (--data, --class, --mode, --seeds, --set, ...) */
  selection: string[];
  /** AST_* variables to carry to the nodes (name -> value) */
  env: Record<string, string>;
  /** written by, for the header */
  origin: string;
  /** the command that shows the grid's status, for the header */
  statusCommand?: string;
}

/** A word for bash, single-quoted unless it is plainly safe. */
export function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Slurm's size format (e.g. 500M, 8G, 1T) and its time formats, checked before sbatch sees them. */
export function resourceProblem(r: SlurmResources): string | null {
  if (r.mem !== undefined && !/^\d+[KMGT]?$/i.test(r.mem)) return `--mem must be a size like 4G or 500M, got '${r.mem}'`;
  if (r.time !== undefined && !/^(\d+-)?\d+(:\d{1,2}){0,2}$/.test(r.time)) return `--time must be HH:MM:SS, MM, or D-HH:MM:SS, got '${r.time}'`;
  for (const [k, v] of [["cpus", r.cpus], ["gpus", r.gpus], ["max-parallel", r.maxParallel]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= (k === "gpus" ? 0 : 1) && v <= 100000)) return `--${k} must be a whole number${k === "gpus" ? "" : " from 1"}, got '${v}'`;
  }
  for (const [k, v] of [["partition", r.partition], ["account", r.account]] as const) {
    if (v !== undefined && !/^[\w.,+-]+$/.test(v)) return `--${k} must be a Slurm name (letters, digits, . _ - +), got '${v}'`;
  }
  return null;
}

/**
 * The task's --allow-write list: the task's own (results, data, caches, /tmp), plus the node's
 * $TMPDIR (Slurm often gives each job its own; the wasm worker file goes there), the results
 * store, and the feature and native caches when the job's environment moves them.
 */
function writeFlag(flags: string[]): string {
  const own = flags.find((f) => f.startsWith("--allow-write="))?.slice("--allow-write=".length).split(",") ?? [];
  return `"--allow-write=${[...own, "${TMPDIR:-/tmp}", "$AST_RESULTS"].join(",")}\${AST_CACHE_DIR:+,$AST_CACHE_DIR}\${AST_NATIVE_CACHE:+,$AST_NATIVE_CACHE}"`;
}

export function sbatchScript(o: SbatchScriptInput): string {
  const r = o.resources;
  const n = o.cells.length;
  if (n === 0) throw new Error("a job array needs at least one cell");
  const directives = [
    `--job-name=ast-${o.experiment}-${o.scale}`,
    `--array=0-${n - 1}${r.maxParallel ? `%${r.maxParallel}` : ""}`,
    `--cpus-per-task=${r.cpus ?? 1}`,
    ...(r.mem ? [`--mem=${r.mem}`] : []),
    ...(r.time ? [`--time=${r.time}`] : []),
    ...(r.partition ? [`--partition=${r.partition}`] : []),
    ...(r.account ? [`--account=${r.account}`] : []),
    ...(r.gpus ? [`--gpus=${r.gpus}`] : []),
    `--output=${o.jobDir}/logs/%A_%a.out`,
    // a requeued task appends to its log instead of replacing what the first attempt said
    "--open-mode=append",
  ];
  const flags = o.taskFlags.map((f) => f.startsWith("--allow-write=") ? writeFlag(o.taskFlags) : shellQuote(f));
  // "${NAME:-default}": the value at submission, unless the environment of sbatch says otherwise
  const defaulted = (name: string, value: string) => `"\${${name}:-${value.replaceAll(/["\\$`}]/g, "\\$&")}}"`;
  const exports = Object.entries(o.env).map(([k, v]) => `export ${k}=${defaulted(k, v)}`);
  return [
    "#!/bin/bash",
    `# AST Lab: ${o.experiment} at ${o.scale} scale, ${n} cell${n === 1 ? "" : "s"} as one Slurm job array.`,
    `# ${o.origin}`,
    "# Each array task runs one grid cell by its id; a cell recorded or running elsewhere is left alone,",
    "# an interrupted one resumes from its checkpoint.",
    `# Progress: ${o.statusCommand ?? `deno task experiment ${o.experiment} --scale ${o.scale} --status`}`,
    ...directives.map((d) => `#SBATCH ${d}`),
    "set -uo pipefail",
    "",
    "# Where things are on the compute nodes (override at submission: AST_LAB_DENO=/opt/deno sbatch THIS).",
    `AST_LAB_PROJECT=${defaulted("AST_LAB_PROJECT", o.project)}`,
    `AST_LAB_DENO=${defaulted("AST_LAB_DENO", o.deno)}`,
    `export AST_RESULTS=${defaulted("AST_RESULTS", o.results)}`,
    ...exports,
    "",
    "CELLS=(",
    ...o.cells.map((c) => `  ${shellQuote(c.id)}  # ${c.tag.replaceAll("\n", " ")}`),
    ")",
    "where=\"node $(hostname), job ${SLURM_ARRAY_JOB_ID:-?}_${SLURM_ARRAY_TASK_ID:-?}\"",
    "fail() { echo \"ast-lab: error: $* ($where)\" >&2; exit 3; }",
    "[ -n \"${SLURM_ARRAY_TASK_ID:-}\" ] || fail \"not an array task: submit this script with sbatch\"",
    "cell=\"${CELLS[$SLURM_ARRAY_TASK_ID]:-}\"",
    "[ -n \"$cell\" ] || fail \"array task $SLURM_ARRAY_TASK_ID has no cell (this array has ${#CELLS[@]})\"",
    "[ -x \"$AST_LAB_DENO\" ] || fail \"Deno not found at $AST_LAB_DENO: install Deno on the nodes, or set AST_LAB_DENO\"",
    "[ -f \"$AST_LAB_PROJECT/deno.json\" ] || fail \"the project is not at $AST_LAB_PROJECT: put it on a path the nodes share, or set AST_LAB_PROJECT\"",
    "[ -d \"$AST_LAB_PROJECT/node_modules\" ] || fail \"$AST_LAB_PROJECT/node_modules is missing: run 'deno install' in the project once\"",
    "mkdir -p \"$AST_RESULTS/runs\" 2>/dev/null && [ -w \"$AST_RESULTS/runs\" ] || fail \"the results store $AST_RESULTS/runs is not writable here: put it on a shared path, or set AST_RESULTS\"",
    "[ -n \"${HOME:-}\" ] || fail \"HOME is not set (the native kernel cache goes below it): submit with sbatch's default --export=ALL, or set HOME\"",
    "cd \"$AST_LAB_PROJECT\" || fail \"cannot enter $AST_LAB_PROJECT\"",
    "echo \"ast-lab: cell $cell ($where, ${SLURM_CPUS_PER_TASK:-1} CPUs), $(\"$AST_LAB_DENO\" --version | head -1)\"",
    ["exec \"$AST_LAB_DENO\" run -q", ...flags, "lib/cli/experiment.ts", shellQuote(o.experiment), "--scale", shellQuote(o.scale), "--cell", "\"$cell\"", "--results", "\"$AST_RESULTS\"", ...o.selection.map(shellQuote)].join(" "),
    "",
  ].join("\n");
}
