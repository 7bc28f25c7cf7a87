/**
 * `deno task experiment NAME|all [--scale demo|cpu|paper] [--seeds 0,1,2] [--mode MODE[,MODE]]
 *  [--data ROOT --class NAME] [--set key=value ...] [--json FILE] [--results DIR] [--dry-run] [--keep-going]
 *  [--keep-checkpoints]`
 * runs an experiment's grid (experiments/*.ts): cells already recorded under results/runs (or
 * DIR/runs) are reused, interrupted ones resume, and the index goes to
 * results/experiments/NAME/SCALE.json.
 * NAME is an exact name or a unique prefix (reported: `'table5' -> table5_students (unique
 * prefix)`); an ambiguous prefix lists its candidates, an unknown name every name (exit 2).
 * Then it prints the results table its notebook shows (lib/report/experiment_table.ts): for the
 * paper tables (2-4) ours vs the paper per class and mode; for ablations per (mode, variant) the
 * mean image AUROC over seeds and its seed sd, and against AST the paired difference with its
 * 95% interval and a verdict (lib/report/ablation.ts).
 *
 * On a Slurm cluster (lib/cli/experiment_slurm.ts, README "Run on a cluster"):
 * `--slurm [--partition P] [--time HH:MM:SS] [--cpus N] [--mem SIZE] [--gpus N] [--account A]
 * [--max-parallel K] [--submit]` writes one job array (one task per cell not yet recorded,
 * running or queued) under `<results>/experiments/NAME/slurm/`, and submits it with `--submit`;
 * each task runs `--cell ID`, exactly one cell by its stable id; `--status` lists every cell as
 * recorded / running / queued / failed / missing, then the table of the recorded ones. The
 * selection options (--data, --class, --mode, --seeds, --set) select the cells in all three.
 *
 * `--data ROOT --class NAME` runs the experiment's variants on your own data instead of its
 * datasets (any layout the loaders read: MVTec AD, MVTec 3D-AD, a plain folder; depth modes only
 * where there are point maps). `--json FILE` writes
 * `{experiment, title, paper, scale, data, class, seeds, rows: [...]}`, one row per
 * (data, class, mode, variant) with `mode`, `variant`, `n_seeds`, `image_auroc` (mean over
 * seeds), `image_auroc_sd`, `pixel_auroc`, `diff_vs_ast`, `diff_ci95` ([low, high]) and
 * `verdict` (null for the AST row itself), and more (lib/report/ablation.ts ablationJsonRows).
 */
import { parseArgs } from "node:util";
import { dirname, resolve } from "node:path";
import { EXPERIMENTS, experiment } from "../../experiments/mod.ts";
import { MAX_SEED } from "../config/ast_config.ts";
import { runtimeFromEnv, type RuntimeOptions } from "../config/runtime.ts";
import { classNameProblem } from "../data/class_name.ts";
import { openAnyDataset } from "../data/open.ts";
import { type DatasetRef, experimentScale, type GridCell, planGrid, runGrid, type Scale, SCALES } from "../experiment/grid.ts";
import { resourceProblem, shellQuote, type SlurmResources } from "../experiment/slurm/sbatch_script.ts";
import { printStatus, runOneCell, writeJobArray } from "./experiment_slurm.ts";
import { ablationJsonRows, ablationTable } from "../report/ablation.ts";
import { experimentTableText } from "../report/experiment_table.ts";
import { writeJsonAtomic } from "../results/run_files.ts";
import { MODES, type Mode } from "../types.ts";
import { countsText } from "../util/counts_text.ts";
import { projectPath } from "../util/project.ts";
import { parseErrorLine, UsageError } from "./args.ts";
import { matchExperimentName, prefixNote } from "./experiment_names.ts";

const USAGE = "usage: deno task experiment NAME|all [--scale demo|cpu|paper] [--seeds 0,1,2] [--mode MODE] " +
  "[--data ROOT --class NAME] [--set key=value] [--json FILE] [--results DIR] [--dry-run] [--keep-going] [--keep-checkpoints]\n" +
  "       deno task experiment NAME [selection] --slurm [--partition P] [--time HH:MM:SS] [--cpus N] [--mem SIZE] [--gpus N] " +
  "[--account A] [--max-parallel K] [--submit]\n" +
  "       deno task experiment NAME [selection] --status | --cell ID";

/** Your own class as the grid's only dataset; modes without point maps are dropped. */
async function ownDataset(data: string, className: string): Promise<DatasetRef> {
  const root = resolve(data);
  let dataset;
  try {
    dataset = await openAnyDataset(root, className);
  } catch (e) {
    throw new UsageError(`--data ${data} --class ${className}: ${(e as Error).message.split("\n")[0]}`);
  }
  const hasDepth = [...dataset.train, ...dataset.test].every((s) => Boolean(s.xyzPath));
  return { data: root, className, ...(hasDepth ? {} : { modes: ["rgb"] as Mode[] }) };
}

function parseSets(sets: string[] | undefined): Record<string, string> | undefined {
  if (!sets?.length) return undefined;
  return Object.fromEntries(sets.map((s) => {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new UsageError(`--set expects key=value, got '${s}'`);
    return [s.slice(0, eq), s.slice(eq + 1)];
  }));
}

export async function main(argv: string[], runtime: RuntimeOptions = runtimeFromEnv()): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        scale: { type: "string" },
        seeds: { type: "string" },
        mode: { type: "string" },
        data: { type: "string" },
        class: { type: "string" },
        set: { type: "string", multiple: true },
        json: { type: "string" },
        results: { type: "string" },
        "dry-run": { type: "boolean" },
        "keep-going": { type: "boolean" },
        "keep-checkpoints": { type: "boolean" },
        slurm: { type: "boolean" },
        submit: { type: "boolean" },
        status: { type: "boolean" },
        cell: { type: "string" },
        partition: { type: "string" },
        time: { type: "string" },
        cpus: { type: "string" },
        mem: { type: "string" },
        gpus: { type: "string" },
        account: { type: "string" },
        "max-parallel": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(parseErrorLine(e as Error));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.log(`${USAGE}\nexperiments: ${Object.keys(EXPERIMENTS).join(", ")}`);
    return values.help ? 0 : 2;
  }
  // exact names; a unique prefix is taken but said; an ambiguous or unknown one is a usage error
  const names = positionals[0] === "all" ? Object.keys(EXPERIMENTS) : positionals.map((given) => {
    const m = matchExperimentName(given, Object.keys(EXPERIMENTS));
    if (m.byPrefix) console.log(prefixNote(given, m));
    return m.name;
  });
  const scale = (values.scale ?? experimentScale(runtime)) as Scale;
  if (!SCALES.includes(scale)) throw new UsageError(`--scale must be one of ${SCALES.join(", ")}, got '${values.scale}'`);
  const seeds = values.seeds?.split(",").map((s) => {
    if (!/^\d+$/.test(s) || Number(s) > MAX_SEED) throw new UsageError(`--seeds must be comma-separated integers in 0..${MAX_SEED}, got '${values.seeds}'`);
    return Number(s);
  });
  const modes = values.mode?.split(",").map((m) => {
    if (!MODES.includes(m as Mode)) throw new UsageError(`--mode must be ${MODES.join(", ")} (comma-separated), got '${m}'`);
    return m as Mode;
  });
  if (Boolean(values.data) !== Boolean(values.class)) throw new UsageError("--data ROOT and --class NAME go together");
  const badClass = values.class === undefined ? null : classNameProblem(values.class);
  if (badClass) throw new UsageError(badClass);
  const datasets = values.data ? [await ownDataset(values.data, values.class!)] : undefined;
  if (values.json && names.length !== 1) throw new UsageError("--json FILE takes one experiment");
  const defs = names.map(experiment);
  const resultsRoot = resolve(values.results ?? runtime.resultsDir ?? projectPath("results"));
  const cluster = clusterMode(values);
  if (cluster) {
    if (defs.length !== 1) throw new UsageError(`--${cluster.mode} takes one experiment`);
    const [def] = defs;
    const plan = await planGrid(def, scale, { seeds, modes, datasets, set: parseSets(values.set), runtime, results: resultsRoot, keepCheckpoints: values["keep-checkpoints"], log: (l) => console.log(l) });
    if (cluster.mode === "cell") return await runOneCell(plan, values.cell!, runtime, values["keep-checkpoints"]);
    if (cluster.mode === "status") return await printStatus(def, scale, plan);
    const statusCommand = `deno task experiment ${[def.name, "--scale", scale, ...cluster.selection, ...(values.results ? ["--results", values.results] : []), "--status"].map(shellQuote).join(" ")}`;
    return await writeJobArray(def, scale, plan, { resources: cluster.resources, submit: !!values.submit, selection: cluster.selection, statusCommand }, runtime);
  }
  let failed = 0;
  for (const def of defs) {
    const cells: GridCell[] = await runGrid(def, scale, {
      seeds,
      modes,
      datasets,
      set: parseSets(values.set),
      dryRun: values["dry-run"],
      continueOnError: values["keep-going"],
      keepCheckpoints: values["keep-checkpoints"],
      runtime,
      results: resultsRoot,
    });
    failed += cells.filter((c) => c.status === "failed" && !values["dry-run"]).length;
    console.log(`${def.name}: ${countsText(cells, (c) => c.status)}`);
    if (values["dry-run"]) continue;
    // the table the experiment's notebook shows, as plain text
    const rows = ablationTable(def, cells);
    try {
      console.log(experimentTableText(def, cells, rows, scale, resultsRoot) || `${def.name}: no finished cell, no table`);
    } catch (e) {
      // the runs are recorded whatever happens here: say why there is no table, do not fail the grid
      console.error(`experiment: warning: ${def.name}: no results table: ${(e as Error).message.split("\n")[0]}`);
    }
    if (values.json) {
      const path = resolve(values.json);
      await Deno.mkdir(dirname(path), { recursive: true });
      await writeJsonAtomic(path, {
        experiment: def.name,
        title: def.title,
        paper: def.paper,
        scale,
        data: values.data ? resolve(values.data) : [...new Set(cells.map((c) => c.data))].join(", "),
        class: values.class ?? [...new Set(cells.map((c) => c.className))].join(", "),
        seeds: [...new Set(cells.map((c) => c.seed))],
        rows: ablationJsonRows(rows),
      });
      console.log(`wrote ${path}`);
    }
  }
  return failed ? 1 : 0;
}

type Values = Record<string, string | boolean | string[] | undefined>;

/** The selection options as given, to forward to array tasks (their order kept). */
function selectionArgs(values: Values): string[] {
  const out: string[] = [];
  for (const k of ["data", "class", "mode", "seeds"] as const) if (typeof values[k] === "string") out.push(`--${k}`, k === "data" ? resolve(values[k] as string) : values[k] as string);
  for (const s of (values.set as string[] | undefined) ?? []) out.push("--set", s);
  if (values["keep-checkpoints"]) out.push("--keep-checkpoints");
  return out;
}

const SLURM_ONLY = ["submit", "partition", "time", "cpus", "mem", "gpus", "account", "max-parallel"] as const;

/** Which cluster mode the options ask for (--slurm, --status, --cell), checked; null: a local run. */
function clusterMode(values: Values): { mode: "slurm" | "status" | "cell"; selection: string[]; resources: SlurmResources } | null {
  const modes = (["slurm", "status", "cell"] as const).filter((m) => values[m] !== undefined && values[m] !== false);
  if (modes.length > 1) throw new UsageError(`--${modes[0]} and --${modes[1]} cannot be combined`);
  const mode = modes[0];
  const stray = SLURM_ONLY.filter((k) => values[k] !== undefined && values[k] !== false);
  if (stray.length && mode !== "slurm") throw new UsageError(`--${stray[0]} goes with --slurm`);
  if (!mode) return null;
  for (const k of ["json", "dry-run", "keep-going"] as const) if (values[k] !== undefined && values[k] !== false) throw new UsageError(`--${k} is for a local run, not with --${mode}`);
  const int = (k: string) => {
    const v = values[k];
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v as string)) throw new UsageError(`--${k} must be a whole number, got '${v}'`);
    return Number(v);
  };
  const resources: SlurmResources = {
    ...(values.partition ? { partition: values.partition as string } : {}),
    ...(values.time ? { time: values.time as string } : {}),
    ...(values.mem ? { mem: values.mem as string } : {}),
    ...(values.account ? { account: values.account as string } : {}),
    ...(int("cpus") !== undefined ? { cpus: int("cpus") } : {}),
    ...(int("gpus") !== undefined ? { gpus: int("gpus") } : {}),
    ...(int("max-parallel") !== undefined ? { maxParallel: int("max-parallel") } : {}),
  };
  const problem = resourceProblem(resources);
  if (problem) throw new UsageError(problem);
  return { mode, selection: selectionArgs(values), resources };
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args, runtimeFromEnv()));
  } catch (e) {
    console.error(`experiment: error: ${(e as Error).message?.split("\n")[0] ?? e}`);
    if (e instanceof UsageError) console.error(USAGE);
    Deno.exit(e instanceof UsageError ? 2 : 1);
  }
}
