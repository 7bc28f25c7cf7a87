/**
 * Stage 1, resolve: the dataset, the effective config, the output folder, and what an
 * interrupted run left (on --resume). Writes nothing: the run folder is created by claimRunOut
 * only after every input has been checked (lib/run/run.ts).
 */
import { basename, dirname, join, resolve } from "node:path";
import { type AstConfig, validateConfig, withDefaults } from "../config/ast_config.ts";
import { loadExperimentFile, resolveConfig } from "../config/resolve.ts";
import type { ConfigPatch } from "../config/patch.ts";
import { DEFAULT_RUNTIME, type RuntimeOptions } from "../config/runtime.ts";
import type { MvtecDataset } from "../data/mvtec.ts";
import { datasetNotes, hasDefectMasks, openAnyDataset } from "../data/open.ts";
import type { FeatureRecord, RunConfigFile, RunState } from "../results/record.ts";
import { readRunState } from "../results/record.ts";
import { exists, readJson, RUN_FILES } from "../results/run_files.ts";
import { claimExactFolder, claimRunFolder, defaultRunName } from "../results/run_folder.ts";
import { classNameProblem } from "../data/class_name.ts";
import { outPathProblem } from "./out_path.ts";
import { resumeMismatch } from "./resume_check.ts";
import type { EpochReport } from "../train/engine.ts";
import type { Mode, PresetName, RunLog } from "../types.ts";

export interface RunOptions {
  data: string;
  className: string;
  mode: Mode;
  preset?: PresetName;
  epochs?: number;
  seed?: number;
  out?: string;
  /** where a run without `out` gets its default-named folder (default: results/runs under the working folder) */
  runsDir?: string;
  resume?: boolean;
  /** --set key=value overrides */
  sets?: string[];
  /** experiment config (JSON or a TS module whose default export is a config patch) */
  configFile?: string;
  backbone?: string;
  /** --weights: the backbone's weights file/folder (else looked up under the runtime's weights root) */
  weights?: string;
  /** --layer: overrides the backbone's default layer */
  layer?: string;
  /**
   * A finished run whose trained teacher to reuse instead of training one: it must have the same
   * teacher-side config (teacherConfigKey), data and features; checked before it is copied.
   */
  teacherFrom?: string;
  /** a grid variant's patch, applied after the flags */
  variant?: { name: string; patch: ConfigPatch };
  /**
   * keep checkpoint/ after the run finished (--keep-checkpoints); by default it is removed once
   * metrics.json is written (about 3x the model's size; only an interrupted run needs it)
   */
  keepCheckpoints?: boolean;
  /** image-feature cache folder; null disables; default: the runtime's (else data/cache/features) */
  featureCache?: string | null;
  /** an already opened dataset (e.g. a folder of your own images); else opened from data/className */
  dataset?: MvtecDataset;
  /** where this machine keeps weights and caches, which backend runs (lib/config/runtime.ts) */
  runtime?: RuntimeOptions;
  log?: RunLog;
  onEpoch?: (r: EpochReport) => void;
}

export class RunError extends Error {}

export interface ResolvedRun {
  options: RunOptions;
  runtime: RuntimeOptions;
  log: RunLog;
  dataset: MvtecDataset;
  cfg: AstConfig;
  /**
   * The run folder: --out, or (new runs without --out) the default name it is planned under;
   * claimRunOut creates it, once every input has been checked.
   */
  out: string;
  /** no --out: the default name may become a unique variant when another run took it */
  defaultName: boolean;
  resume: boolean;
  /** progress of earlier invocations (resume) */
  state: RunState;
  /** the image features the run started with (resume), else null */
  recorded: FeatureRecord | null;
}

/** The effective config of a new run (lib/config/resolve.ts, in its fixed order). */
export async function runConfig(o: RunOptions, layout: MvtecDataset["layout"]): Promise<AstConfig> {
  return resolveConfig({
    preset: o.preset,
    mode: o.mode,
    layout,
    file: o.configFile ? await loadExperimentFile(o.configFile) : undefined,
    sets: o.sets,
    flags: { backbone: o.backbone, layer: o.layer, weights: o.weights, seed: o.seed, epochs: o.epochs },
    variant: o.variant,
  });
}

export async function resolveRun(o: RunOptions): Promise<ResolvedRun> {
  const log = o.log ?? ((l: string) => console.log(l));
  const badClass = classNameProblem(o.className);
  if (badClass) throw new RunError(badClass);
  if (o.resume && !o.out) throw new RunError("--resume needs --out RUN_DIR: the folder of the run to continue");
  const dataset = o.dataset ?? await openAnyDataset(o.data, o.className);
  for (const note of datasetNotes(dataset)) log(`note: ${note}`);
  if (!hasDefectMasks(dataset)) log("note: no defect masks: image-level metrics only (pixel AUROC and AUPRO need masks)");
  if (dataset.layout === "mvtecad" && o.mode !== "rgb") {
    throw new RunError(`${dataset.classDir}: MVTec AD layout has no depth data: use --mode rgb`);
  }
  const out = resolve(o.out ?? join(o.runsDir ?? join("results", "runs"), defaultRunName(o.className, o.mode)));
  if (o.out) {
    const problem = await outPathProblem(o.out, dataset.classDir);
    if (problem) throw new RunError(problem);
  }
  const configPath = join(out, RUN_FILES.config);
  let cfg: AstConfig, state: RunState = { elapsedBefore: 0 }, recorded: FeatureRecord | null = null;
  if (o.resume) {
    if (!(await exists(configPath))) throw new RunError(`--resume: ${out} holds no run to resume (no ${RUN_FILES.config})`);
    if (await exists(join(out, RUN_FILES.metrics))) throw new RunError(`--resume: ${out} is already complete (metrics.json exists)`);
    const saved = await readJson<RunConfigFile>(configPath);
    const mismatch = await resumeMismatch(o, saved, dataset.layout, runConfig);
    if (mismatch) throw new RunError(mismatch);
    cfg = withDefaults(saved.config);
    recorded = saved;
    state = await readRunState(out);
    log(`resuming ${out}`);
  } else {
    if (o.out && await exists(out)) throw new RunError(alreadyExists(out));
    cfg = await runConfig(o, dataset.layout);
  }
  validateConfig(cfg);
  if (dataset.layout === "mvtecad" && (cfg.trainMask || cfg.evalMask)) {
    throw new RunError("foreground masks need 3D data: MVTec AD runs use no mask");
  }
  return { options: o, runtime: o.runtime ?? DEFAULT_RUNTIME, log, dataset, cfg, out, defaultName: !o.out, resume: !!o.resume, state, recorded };
}

const alreadyExists = (out: string) => `--out ${out} already exists (run folders are immutable; use --resume to continue an interrupted run)`;

/**
 * Create the run folder of a new run, exclusively: an explicit --out that appeared meanwhile is
 * refused; a default name another run took (same second) becomes a unique variant. Returns the
 * folder. A resumed run's folder exists already and is returned as is.
 */
export async function claimRunOut(run: ResolvedRun): Promise<string> {
  if (run.resume) return run.out;
  if (!run.defaultName) return await claimExactFolder(run.out, () => new RunError(alreadyExists(run.out)));
  return await claimRunFolder(dirname(run.out), basename(run.out));
}
