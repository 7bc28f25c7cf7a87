/**
 * Experiment grids: a paper table or ablation as classes x modes x variants x seeds, at one of
 * three scales (`paper` for a GPU machine, `cpu` for hours on a laptop, `demo` for minutes on the
 * generated dataset). Each cell is one ordinary run (lib/run/run.ts) stored under
 * `results/runs/<class>-<mode>-<id>/`, where the id hashes everything that determines the result
 * (data, class, effective config, feature weights). So a cell already recorded by any experiment
 * is reused, not retrained (Table 4 reads Table 2's and 3's runs), an interrupted cell resumes
 * from its checkpoint, and a changed config gets a new folder instead of overwriting a record.
 * A cell being trained is locked (cell_lock.ts): a second runner skips it as running elsewhere.
 * `planGrid` lists the cells with their folders and ids without training anything; `runGrid`
 * runs them in order, and a Slurm array task runs one by its id (`runPlannedCell`; slurm/).
 */
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { teacherConfigKey } from "../config/ast_config.ts";
import { DEFAULT_RUNTIME, type RuntimeOptions, type SlurmJob } from "../config/runtime.ts";
import type { MvtecDataset } from "../data/mvtec.ts";
import { openAnyDataset } from "../data/open.ts";
import { generateDataset } from "../data/synthetic.ts";
import { generateTestbed } from "../data/testbeds.ts";
import { backboneSpec, locateWeights } from "../features/backbones.ts";
import { acquireCellLock, hostname, liveLockOwner, type LockOwner } from "./cell_lock.ts";
import { weightsChecksumAt } from "../features/weights_files.ts";
import type { RunRecord } from "../results/record.ts";
import { exists, readJson, RUN_FILES, writeJsonAtomic } from "../results/run_files.ts";
import { runConfig, type RunOptions } from "../run/resolve.ts";
import { runExperiment } from "../run/run.ts";
import type { EpochReport, Mode } from "../types.ts";
import { projectPath } from "../util/project.ts";
import { type DatasetRef, datasetRoot, type ExperimentDefinition, gridCells, referenceVariant, type Scale, SCALES, variantPatch } from "./grid_spec.ts";

// The grid's definition types and pure enumeration live in grid_spec.ts; re-exported for importers of grid.ts.
export { type DatasetRef, datasetRoot, type ExperimentDefinition, type GridSpec, gridCells, referenceVariant, type Scale, SCALES, type Variant, variantPatch } from "./grid_spec.ts";

export interface GridCell {
  experiment: string;
  scale: Scale;
  className: string;
  /** the class's name in the paper's tables (className unless the dataset says otherwise) */
  paperClass: string;
  data: string;
  mode: Mode;
  variant: string;
  /** the experiment's reference (AST) variant in this mode */
  reference: string;
  seed: number;
  runDir: string | null;
  /** running-elsewhere: another runner holds the cell's lock (message names its pid) */
  status: "recorded" | "trained" | "resumed" | "failed" | "unavailable" | "planned" | "running-elsewhere";
  message?: string;
  metrics: RunRecord | null;
  /** the run whose teacher this cell reused (the same seed's reference cell), if any */
  teacherFrom?: string;
}

export interface GridOptions {
  /** results root (default: the project's results/) */
  results?: string;
  log?: (line: string) => void;
  /** keep going after a failed cell (default false: the first failure throws) */
  continueOnError?: boolean;
  /** override the scale's datasets (e.g. your own classes) */
  datasets?: DatasetRef[];
  /** override the scale's seeds */
  seeds?: number[];
  /** run only these modes of the grid */
  modes?: Mode[];
  /** run only these variants (by name) */
  variants?: string[];
  /** only list what would run */
  dryRun?: boolean;
  /** keep each trained cell's checkpoint/ (default: removed once its record is complete) */
  keepCheckpoints?: boolean;
  /** where weights, caches and the full datasets are; the backend (lib/config/runtime.ts) */
  runtime?: RuntimeOptions;
  /**
   * Overrides for every cell, as `--set` would give them (dotted keys, e.g. `{"student.hidden": 256}`);
   * a variant's own settings still win where they name the same field. Changed cells get new folders.
   */
  set?: Record<string, string | number | boolean>;
  /** each finished epoch of the cell being trained (a progress line) */
  onEpoch?: (e: EpochReport, cell: string) => void;
  /** a cell starts training or resuming, or ends (recorded, trained, resumed, failed, unavailable) */
  onCell?: (cell: string, status: GridCell["status"] | "training" | "resuming", result?: GridCell) => void | Promise<void>;
}

async function prepareDataset(ref: DatasetRef, log: (l: string) => void, runtime: RuntimeOptions): Promise<MvtecDataset | string> {
  const root = datasetRoot(ref, runtime);
  const classDir = join(root, ref.className);
  if (ref.generate) {
    const { seed, testbed } = ref.generate;
    const g = testbed
      ? await generateTestbed({ root, name: testbed, seed })
      : await generateDataset({ root, className: ref.className, seed });
    if (g.generated) log(`generated the ${testbed ? `${testbed} testbed` : "synthetic dataset"} at ${g.classDir}`);
  }
  if (!(await exists(classDir))) {
    const msg = `${classDir} not found${ref.howToGet ? `: ${ref.howToGet}` : ""}`;
    if (ref.optional) return msg;
    throw new Error(msg);
  }
  return await openAnyDataset(root, ref.className);
}

/** Open a dataset reference as a grid would (the synthetic dataset is generated when missing). */
export async function openDatasetRef(ref: DatasetRef, log: (l: string) => void = () => {}, runtime: RuntimeOptions = DEFAULT_RUNTIME): Promise<MvtecDataset> {
  return await prepareDataset({ ...ref, optional: false }, log, runtime) as MvtecDataset;
}

/**
 * What identifies a dataset's contents: a generated one's dataset.json (generator version, seed,
 * counts), else every sample file's path, size and modification time. A regenerated or edited
 * dataset at the same place thus gets new cells instead of reusing results of the old contents.
 */
export async function datasetFingerprint(dataset: MvtecDataset): Promise<string> {
  const hash = createHash("sha256");
  try {
    hash.update(await Deno.readFile(join(dataset.classDir, "dataset.json")));
    return hash.digest("hex").slice(0, 16);
  } catch { /* not generated: the files themselves */ }
  const files = [...dataset.train, ...dataset.validation, ...dataset.test]
    .flatMap((s) => [s.rgbPath, s.xyzPath, s.maskPath].filter((p): p is string => Boolean(p)))
    .sort();
  for (const f of files) {
    const st = await Deno.stat(f);
    hash.update(`${f}\u0000${st.size}\u0000${st.mtime?.getTime() ?? 0}\n`);
  }
  return hash.digest("hex").slice(0, 16);
}

/** What identifies a run's result: data (place and contents), class, effective config and the feature weights used. */
async function runKey(data: string, contents: string, ref: DatasetRef, cfgJson: unknown, mode: Mode, backbone: string, runtime: RuntimeOptions): Promise<string> {
  let weights: string | null = null;
  if (mode !== "depth") {
    try {
      const spec = backboneSpec(backbone);
      const path = await locateWeights(spec, undefined, runtime.weightsDir);
      // Which weights were found changes the features (mobilenet_v2 vs raw-patch fallback);
      // their contents, not their location, identify them.
      weights = path ? await weightsChecksumAt(path) : "none";
    } catch {
      weights = "unknown";
    }
  }
  const key = JSON.stringify({ data, contents, className: ref.className, config: cfgJson, weights });
  return createHash("sha256").update(key).digest("hex").slice(0, 12);
}

/** A grid cell planned: what it runs and where, or why it cannot run. */
export interface PlannedCell {
  /** 1-based position in the grid's run order */
  index: number;
  /** e.g. "[3/12] puck depth ast seed 0" */
  tag: string;
  /** the cell's identity as GridCell reports it */
  base: Omit<GridCell, "runDir" | "status" | "metrics" | "message" | "teacherFrom">;
  /**
   * The cell's stable id: its run folder's name, `<class>-<mode>-<hash of data, contents, class,
   * config, feature weights>`, so the same cell has the same id on every machine that sees the
   * same files (a Slurm array task names its cell by it). Null when the cell cannot be planned.
   */
  id: string | null;
  runDir: string | null;
  options: RunOptions | null;
  /** the same seed's reference cell, whose teacher this cell adopts (equal teacher config) */
  teacherFrom?: string;
  /** why the cell cannot run: its (optional) dataset is missing, or its config is invalid */
  problem?: { status: "unavailable" | "failed"; message: string };
}

export interface GridPlan {
  resultsRoot: string;
  cells: PlannedCell[];
}

/** The results store a grid uses: the option, else $AST_RESULTS, else the project's results/. */
export function resultsRootOf(o: Pick<GridOptions, "results" | "runtime"> = {}): string {
  return resolve(o.results ?? o.runtime?.resultsDir ?? projectPath("results"));
}

/**
 * Every cell of an experiment at a scale, with its folder and id, nothing trained. Generated
 * datasets are made when missing; a missing required dataset throws.
 */
export async function planGrid(def: ExperimentDefinition, scale: Scale, o: GridOptions = {}): Promise<GridPlan> {
  const spec = def.scales[scale];
  if (!spec) throw new Error(`${def.name}: no '${scale}' scale (have ${Object.keys(def.scales).join(", ")})`);
  const log = o.log ?? ((l: string) => console.log(l));
  const resultsRoot = resultsRootOf(o);
  const cells = gridCells(spec, o.datasets ?? spec.datasets, o.seeds ?? spec.seeds, (mode) => referenceVariant(def, mode, spec.variants))
    .filter((c) => (!o.modes || o.modes.includes(c.mode)) && (!o.variants || o.variants.includes(c.variant.name)));
  const runtime = o.runtime ?? DEFAULT_RUNTIME;
  const datasets = new Map<DatasetRef, MvtecDataset | string>();
  // The reference cell's teacher per (dataset, mode, seed): student-only variants reuse it.
  const teachers = new Map<string, { runDir: string; key: string }>();
  const fingerprints = new Map<MvtecDataset, string>();
  const planned: PlannedCell[] = [];
  for (const [n, { ref, mode, variant, seed, reference }] of cells.entries()) {
    const base = {
      experiment: def.name,
      scale,
      className: ref.className,
      paperClass: ref.paperClass ?? ref.className,
      data: datasetRoot(ref, runtime),
      mode,
      variant: variant.name,
      reference,
      seed,
    };
    const cell: PlannedCell = { index: n + 1, tag: `[${n + 1}/${cells.length}] ${ref.className} ${mode} ${variant.name} seed ${seed}`, base, id: null, runDir: null, options: null };
    planned.push(cell);
    if (!datasets.has(ref)) datasets.set(ref, await prepareDataset(ref, log, runtime));
    const dataset = datasets.get(ref)!;
    if (typeof dataset === "string") {
      cell.problem = { status: "unavailable", message: dataset };
      continue;
    }
    const options: RunOptions = {
      data: base.data,
      className: ref.className,
      mode,
      preset: spec.preset,
      seed,
      epochs: spec.epochs,
      backbone: spec.backbone,
      variant: variant.config ? { name: variant.name, patch: variantPatch(variant.config, dataset.layout) } : undefined,
      sets: o.set ? Object.entries(o.set).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`) : undefined,
      dataset,
      runtime,
      keepCheckpoints: o.keepCheckpoints,
    };
    try {
      const cfg = await runConfig(options, dataset.layout);
      if (!fingerprints.has(dataset)) fingerprints.set(dataset, await datasetFingerprint(dataset));
      const id = `${ref.className}-${mode}-${await runKey(base.data, fingerprints.get(dataset)!, ref, cfg, mode, cfg.backbone, runtime)}`;
      const runDir = join(resultsRoot, "runs", id);
      const teacherSlot = `${base.data}|${ref.className}|${mode}|${seed}`;
      const shared = variant.name === reference ? undefined : teachers.get(teacherSlot);
      const teacherKey = teacherConfigKey(cfg);
      if (variant.name === reference) teachers.set(teacherSlot, { runDir, key: teacherKey });
      Object.assign(cell, { id, runDir, options }, shared && shared.key === teacherKey ? { teacherFrom: shared.runDir } : {});
    } catch (e) {
      cell.problem = { status: "failed", message: (e as Error).message };
    }
  }
  return { resultsRoot, cells: planned };
}

/** How often a cell waiting for its reference cell's teacher looks again. */
const TEACHER_POLL_MS = 5_000;

/**
 * Run (or reuse) one planned cell: recorded cells are read, a cell another runner holds is
 * skipped, a started one resumes. A failure is recorded beside the cell (`<cell>.failed.json`,
 * its first line in the status view) and removed once the cell succeeds. With `waitForTeacher`
 * (array tasks run cells in parallel), a student-only variant whose reference cell is being
 * trained right now waits for that teacher instead of training the same one again.
 */
export async function runPlannedCell(p: PlannedCell, o: GridOptions & { waitForTeacher?: boolean } = {}): Promise<GridCell> {
  const log = o.log ?? ((l: string) => console.log(l));
  const runtime = o.runtime ?? DEFAULT_RUNTIME;
  const { tag, base } = p;
  const finish = async (cell: GridCell): Promise<GridCell> => {
    await o.onCell?.(tag, cell.status, cell);
    return cell;
  };
  if (p.problem) {
    log(p.problem.status === "unavailable" ? `${tag}: skipped (${p.problem.message})` : `${tag}: FAILED: ${p.problem.message}`);
    return await finish({ ...base, runDir: null, status: p.problem.status, message: p.problem.message, metrics: null });
  }
  const runDir = p.runDir!, options = p.options!;
  /** A cell whose record is complete: read, not trained again. */
  const recordedCell = async (): Promise<GridCell | null> => {
    if (!(await exists(join(runDir, RUN_FILES.metrics)))) return null;
    log(`${tag}: recorded in ${runDir}`);
    const metrics = await readJson<RunRecord>(join(runDir, RUN_FILES.metrics));
    return { ...base, runDir, status: "recorded", metrics, ...(metrics.teacher_from ? { teacherFrom: metrics.teacher_from } : {}) };
  };
  const recorded = await recordedCell();
  if (recorded) return await finish(recorded);
  if (o.dryRun) {
    log(`${tag}: would run into ${runDir}`);
    return { ...base, runDir, status: "planned", metrics: null };
  }
  // Another runner (a second `deno task experiment`, an array task) may be training this very cell.
  const lock = await acquireCellLock(cellLockPath(runDir), runtime.slurm);
  if (!lock.acquired) {
    const message = `running elsewhere (${describeOwner(lock.owner)})`;
    log(`${tag}: skipped, ${message}`);
    return await finish({ ...base, runDir, status: "running-elsewhere", message, metrics: null });
  }
  try {
    const finished = await recordedCell(); // finished by the runner that held the lock before us
    if (finished) return await finish(finished);
    const resume = await exists(join(runDir, RUN_FILES.config));
    if (!resume) await removeEmptyFolder(runDir);
    if (p.teacherFrom && o.waitForTeacher) await waitForTeacher(p.teacherFrom, tag, log);
    log(`${tag}: ${resume ? "resuming" : "training"} -> ${runDir}`);
    await o.onCell?.(tag, resume ? "resuming" : "training");
    const usable = p.teacherFrom && (await exists(join(p.teacherFrom, RUN_FILES.teacher))) ? p.teacherFrom : undefined;
    const r = await runExperiment({ ...options, out: runDir, resume, teacherFrom: usable, log: (l) => log(`  ${l}`), onEpoch: o.onEpoch && ((e) => o.onEpoch!(e, tag)) });
    await Deno.remove(cellFailurePath(runDir)).catch(() => {});
    return await finish({ ...base, runDir, status: resume ? "resumed" : "trained", metrics: r.metrics, ...(usable ? { teacherFrom: usable } : {}) });
  } catch (e) {
    const message = (e as Error).message;
    log(`${tag}: FAILED: ${message}`);
    await writeCellFailure(runDir, message, runtime).catch(() => {});
    return await finish({ ...base, runDir, status: "failed", message, metrics: null });
  } finally {
    await lock.release();
  }
}

/** While the reference cell holds its lock and has no teacher yet, wait for its teacher. */
async function waitForTeacher(referenceDir: string, tag: string, log: (l: string) => void): Promise<void> {
  let said = false;
  while (!(await exists(join(referenceDir, RUN_FILES.teacher)))) {
    const owner = await liveLockOwner(cellLockPath(referenceDir));
    if (!owner) return; // not being trained: this cell trains the same teacher itself
    if (!said) log(`${tag}: waiting for the teacher of ${referenceDir} (being trained: ${describeOwner(owner)})`);
    said = true;
    await new Promise((r) => setTimeout(r, TEACHER_POLL_MS));
  }
}

/** What a failed cell leaves beside its folder, for the status view and resubmission. */
export interface CellFailure {
  error: string;
  at: string;
  hostname: string;
  pid: number;
  slurm?: SlurmJob;
}

/** `<cell folder>.failed.json`: the last failure of a cell that has no record yet. */
export function cellFailurePath(runDir: string): string {
  return `${runDir}.failed.json`;
}

async function writeCellFailure(runDir: string, message: string, runtime: RuntimeOptions): Promise<void> {
  const failure: CellFailure = { error: message, at: new Date().toISOString(), hostname: hostname(), pid: Deno.pid, ...(runtime.slurm ? { slurm: runtime.slurm } : {}) };
  await writeJsonAtomic(cellFailurePath(runDir), failure);
}

/**
 * Run (or reuse) every cell of an experiment at a scale. Returns one entry per cell and writes
 * the index `<results>/experiments/<name>/<scale>.json`.
 */
export async function runGrid(def: ExperimentDefinition, scale: Scale, o: GridOptions = {}): Promise<GridCell[]> {
  const log = o.log ?? ((l: string) => console.log(l));
  const plan = await planGrid(def, scale, { ...o, log });
  log(`${def.name} (${def.paper}) at ${scale} scale: ${plan.cells.length} runs`);
  const out: GridCell[] = [];
  for (const p of plan.cells) {
    const cell = await runPlannedCell(p, { ...o, log });
    out.push(cell);
    if (cell.status === "failed" && !o.continueOnError) {
      await writeIndex(plan.resultsRoot, def, scale, out);
      throw new Error(`${def.name} ${p.tag}: ${cell.message}`);
    }
  }
  if (!o.dryRun) await writeIndex(plan.resultsRoot, def, scale, out);
  return out;
}

/** The lock of a cell: beside its folder, so it can be taken before the folder exists. */
export function cellLockPath(runDir: string): string {
  return `${runDir}.lock`;
}

/** "pid 12", "pid 12 on node3", "Slurm job 40_2 on node3 (pid 12)". */
export function describeOwner(owner: LockOwner | null): string {
  if (!owner) return "lock owner unknown";
  const where = owner.hostname === hostname() ? "" : ` on ${owner.hostname}`;
  return owner.slurm ? `Slurm job ${owner.slurm.job}${where} (pid ${owner.pid})` : `pid ${owner.pid}${where}`;
}

/**
 * A cell folder without config.json holds nothing to resume: a runner was stopped between
 * creating it and writing its config. Removed (we hold the cell's lock) so the cell can start
 * anew; anything else in it is left alone and reported.
 */
async function removeEmptyFolder(dir: string): Promise<void> {
  try {
    await Deno.remove(dir); // non-recursive: only an empty folder
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return;
    throw new Error(`${dir} exists without ${RUN_FILES.config} and is not empty: not a run to resume; move it away`);
  }
}

async function writeIndex(root: string, def: ExperimentDefinition, scale: Scale, cells: GridCell[]): Promise<void> {
  const dir = join(root, "experiments", def.name);
  await Deno.mkdir(dir, { recursive: true });
  await writeJsonAtomic(join(dir, `${scale}.json`), {
    experiment: def.name,
    title: def.title,
    paper: def.paper,
    scale,
    written: new Date().toISOString(),
    cells: cells.map(({ metrics: _m, ...c }) => c),
  });
}

/** The scale notebooks run at: the runtime's (`$AST_SCALE`), else demo. */
export function experimentScale(runtime: RuntimeOptions = DEFAULT_RUNTIME): Scale {
  const v = runtime.scale;
  if (!v) return "demo";
  if (!SCALES.includes(v as Scale)) throw new Error(`AST_SCALE must be one of ${SCALES.join(", ")}, got '${v}'`);
  return v as Scale;
}
