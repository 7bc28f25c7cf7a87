/**
 * Experiment grids: a paper table or ablation as classes x modes x variants x seeds, at one of
 * three scales (`paper` for a GPU machine, `cpu` for hours on a laptop, `demo` for minutes on the
 * generated dataset). Each cell is one ordinary run (lib/run/run.ts) stored under
 * `results/runs/<class>-<mode>-<id>/`, where the id hashes everything that determines the result
 * (data, class, effective config, feature weights). So a cell already recorded by any experiment
 * is reused, not retrained (Table 4 reads Table 2's and 3's runs), an interrupted cell resumes
 * from its checkpoint, and a changed config gets a new folder instead of overwriting a record.
 * A cell being trained is locked (cell_lock.ts): a second runner skips it as running elsewhere.
 */
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { teacherConfigKey } from "../config/ast_config.ts";
import { DEFAULT_RUNTIME, type RuntimeOptions } from "../config/runtime.ts";
import type { MvtecDataset } from "../data/mvtec.ts";
import { openAnyDataset } from "../data/open.ts";
import { generateDataset } from "../data/synthetic.ts";
import { generateTestbed } from "../data/testbeds.ts";
import { backboneSpec, locateWeights } from "../features/backbones.ts";
import { acquireCellLock, hostname, type LockOwner } from "./cell_lock.ts";
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

/**
 * Run (or reuse) every cell of an experiment at a scale. Returns one entry per cell and writes
 * the index `results/experiments/<name>/<scale>.json`.
 */
export async function runGrid(def: ExperimentDefinition, scale: Scale, o: GridOptions = {}): Promise<GridCell[]> {
  const spec = def.scales[scale];
  if (!spec) throw new Error(`${def.name}: no '${scale}' scale (have ${Object.keys(def.scales).join(", ")})`);
  const log = o.log ?? ((l: string) => console.log(l));
  const resultsRoot = resolve(o.results ?? projectPath("results"));
  const cells = gridCells(spec, o.datasets ?? spec.datasets, o.seeds ?? spec.seeds, (mode) => referenceVariant(def, mode, spec.variants))
    .filter((c) => (!o.modes || o.modes.includes(c.mode)) && (!o.variants || o.variants.includes(c.variant.name)));
  const runtime = o.runtime ?? DEFAULT_RUNTIME;
  log(`${def.name} (${def.paper}) at ${scale} scale: ${cells.length} runs`);
  const datasets = new Map<DatasetRef, MvtecDataset | string>();
  const out: GridCell[] = [];
  // The reference cell's teacher per (dataset, mode, seed): student-only variants reuse it.
  const teachers = new Map<string, { runDir: string; key: string }>();
  const fingerprints = new Map<MvtecDataset, string>();
  let i = 0;
  for (const { ref, mode, variant, seed, reference } of cells) {
    i++;
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
    const tag = `[${i}/${cells.length}] ${ref.className} ${mode} ${variant.name} seed ${seed}`;
    if (!datasets.has(ref)) datasets.set(ref, await prepareDataset(ref, log, runtime));
    const dataset = datasets.get(ref)!;
    if (typeof dataset === "string") {
      log(`${tag}: skipped (${dataset})`);
      out.push({ ...base, runDir: null, status: "unavailable", message: dataset, metrics: null });
      await o.onCell?.(tag, "unavailable", out.at(-1));
      continue;
    }
    /** A cell whose record is complete: read, not trained again. */
    const recordedCell = async (runDir: string): Promise<boolean> => {
      if (!(await exists(join(runDir, RUN_FILES.metrics)))) return false;
      log(`${tag}: recorded in ${runDir}`);
      const metrics = await readJson<RunRecord>(join(runDir, RUN_FILES.metrics));
      out.push({ ...base, runDir, status: "recorded", metrics, ...(metrics.teacher_from ? { teacherFrom: metrics.teacher_from } : {}) });
      await o.onCell?.(tag, "recorded", out.at(-1));
      return true;
    };
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
      const id = await runKey(base.data, fingerprints.get(dataset)!, ref, cfg, mode, cfg.backbone, runtime);
      const runDir = join(resultsRoot, "runs", `${ref.className}-${mode}-${id}`);
      const teacherSlot = `${datasetRoot(ref, runtime)}|${ref.className}|${mode}|${seed}`;
      const shared = variant.name === reference ? undefined : teachers.get(teacherSlot);
      const teacherFrom = shared && shared.key === teacherConfigKey(cfg) ? shared.runDir : undefined;
      if (variant.name === reference) teachers.set(teacherSlot, { runDir, key: teacherConfigKey(cfg) });
      if (await recordedCell(runDir)) continue;
      if (o.dryRun) {
        log(`${tag}: would run into ${runDir}`);
        out.push({ ...base, runDir, status: "planned", metrics: null });
        continue;
      }
      // Another runner (a second `deno task experiment`) may be training this very cell.
      const lock = await acquireCellLock(cellLockPath(runDir));
      if (!lock.acquired) {
        const message = `running elsewhere (${describeOwner(lock.owner)})`;
        log(`${tag}: skipped, ${message}`);
        out.push({ ...base, runDir, status: "running-elsewhere", message, metrics: null });
        await o.onCell?.(tag, "running-elsewhere", out.at(-1));
        continue;
      }
      try {
        if (await recordedCell(runDir)) continue; // finished by the runner that held the lock before us
        const resume = await exists(join(runDir, RUN_FILES.config));
        if (!resume) await removeEmptyFolder(runDir);
        log(`${tag}: ${resume ? "resuming" : "training"} -> ${runDir}`);
        await o.onCell?.(tag, resume ? "resuming" : "training");
        const usable = teacherFrom && (await exists(join(teacherFrom, RUN_FILES.teacher))) ? teacherFrom : undefined;
        const r = await runExperiment({ ...options, out: runDir, resume, teacherFrom: usable, log: (l) => log(`  ${l}`), onEpoch: o.onEpoch && ((e) => o.onEpoch!(e, tag)) });
        out.push({ ...base, runDir, status: resume ? "resumed" : "trained", metrics: r.metrics, ...(usable ? { teacherFrom: usable } : {}) });
        await o.onCell?.(tag, resume ? "resumed" : "trained", out.at(-1));
      } finally {
        await lock.release();
      }
    } catch (e) {
      const message = (e as Error).message;
      log(`${tag}: FAILED: ${message}`);
      out.push({ ...base, runDir: null, status: "failed", message, metrics: null });
      await o.onCell?.(tag, "failed", out.at(-1));
      if (!o.continueOnError) {
        await writeIndex(resultsRoot, def, scale, out);
        throw new Error(`${def.name} ${tag}: ${message}`);
      }
    }
  }
  if (!o.dryRun) await writeIndex(resultsRoot, def, scale, out);
  return out;
}

/** The lock of a cell: beside its folder, so it can be taken before the folder exists. */
export function cellLockPath(runDir: string): string {
  return `${runDir}.lock`;
}

function describeOwner(owner: LockOwner | null): string {
  if (!owner) return "lock owner unknown";
  return owner.hostname === hostname() ? `pid ${owner.pid}` : `pid ${owner.pid} on ${owner.hostname}`;
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
