/**
 * One AST run end to end: dataset -> features -> teacher -> student -> evaluation, written as an
 * immutable record under `out` (see results/run_files.ts). Checkpoints every few epochs make an
 * interrupted run resumable; the record is complete once metrics.json exists.
 */
import * as tf from "@tensorflow/tfjs-core";
import { join, resolve } from "node:path";
import { initBackend } from "../backend/backend.ts";
import type { MvtecDataset, Sample } from "../data/mvtec.ts";
import { datasetNotes, hasDefectMasks, openAnyDataset } from "../data/open.ts";
import { type AstConfig, applyOverrides, type Mode, presetConfig, type PresetName, PRESETS, validateConfig } from "./config.ts";
import { backboneRecord, type ResolvedBackbone, resolveBackbone } from "../features/backbones.ts";
import { featureCacheDir } from "../features/feature_cache.ts";
import { buildFeatures, type FeatureSet, groundTruth } from "../features/feature_set.ts";
import { createStudent, createTeacher, type StudentModel } from "../models/student_model.ts";
import type { TeacherFlow } from "../models/teacher_flow.ts";
import { positionalEncoding } from "../models/positional_encoding.ts";
import { flowNllPerPixel, meanLoss, studentDistancePerPixel } from "../models/losses.ts";
import { stateDict } from "../models/state_dict.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import { Adam } from "../train/adam.ts";
import { type EpochReport, trainLoop } from "../train/engine.ts";
import { type CheckpointMeta, loadCheckpoint, saveCheckpoint } from "../train/checkpoint.ts";
import { computeMetrics, evaluationInput, mapOutSize, type Metrics, scoreImages } from "./evaluate.ts";
import { exists, readJson, RUN_FILES, writeJsonAtomic, writeScoresParquet } from "../results/run_files.ts";
import { provenance } from "../results/provenance.ts";
import { deriveSeed, mulberry32, permutation } from "../util/random.ts";
import { readImage } from "../io/images.ts";
import { readXyzTiff } from "../io/tiff.ts";
import { type InputSpec, MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelCard, normalScores, writeModelCard } from "./model_card.ts";
import { chooseThreshold, evaluateThreshold, parseThresholdRule, type Threshold, type ThresholdReport } from "./threshold.ts";

export interface RunOptions {
  data: string;
  className: string;
  mode: Mode;
  preset?: PresetName;
  epochs?: number;
  seed?: number;
  out?: string;
  resume?: boolean;
  /** --set key=value overrides */
  sets?: string[];
  /** experiment config (JSON or a TS module whose default export is a partial AstConfig) */
  configFile?: string;
  backbone?: string;
  /** --weights: the backbone's weights file/folder (else looked up under $AST_WEIGHTS_DIR) */
  weights?: string;
  /** --layer: overrides the backbone's default layer */
  layer?: string;
  /** image-feature cache folder; null disables; default featureCacheDir() */
  featureCache?: string | null;
  /** the complete effective config (takes the place of preset, configFile, sets, epochs, seed) */
  configObject?: AstConfig;
  /** an already opened dataset (e.g. a folder of your own images); else opened from data/className */
  dataset?: MvtecDataset;
  log?: (line: string) => void;
  onEpoch?: (r: EpochReport) => void;
}

/** What metrics.json holds (docs/CLI_CONTRACT.md). */
export interface RunRecord extends Metrics {
  backend: string;
  threads: number;
  seconds: number;
  class: string;
  mode: Mode;
  preset: PresetName;
  backbone: string;
  backbone_note?: string;
  /** network layer, input side and SHA-256 of the weight files, for pretrained backbones */
  backbone_layer?: string;
  backbone_input_size?: number;
  backbone_weights_sha256?: string;
  epochs: { teacher: number; student: number };
  seed: number;
  layout: string;
  n_train: number;
  n_test: number;
  /** what the loader noticed (ignored files, no masks, ...) */
  dataset_notes?: string[];
  validation_scores: ReturnType<typeof summarise> | null;
  /** decision threshold from held-apart normal scores (null without them), and what it means */
  threshold: Threshold | null;
  /** precision / recall / FPR at that threshold on the labelled test images, and the F1-max threshold */
  threshold_report: ThresholdReport | null;
  /** where the held-apart normal images came from */
  normal_source: string | null;
  /** the teacher's own NLL as the anomaly score, from the same run (Table 5/6/7 "teacher" rows) */
  teacher_nll: Metrics | null;
  /** trainable parameter counts */
  params: { teacher: number; student: number };
  /** resident memory (MB) over the training epochs: peak, and first vs last epoch of each phase */
  memory: ReturnType<typeof memorySummary>;
  /** wall seconds per stage of this invocation; inference = teacher+student scoring per test image, features excluded */
  timing: { features_s: number; teacher_s: number; student_s: number; evaluate_s: number; inference_ms_per_image: number };
  provenance: Awaited<ReturnType<typeof provenance>>;
}

export interface RunResult {
  out: string;
  metrics: RunRecord;
}

export class RunError extends Error {}

/** Deep-merge a partial config (from an experiment file) into a full one. */
export function mergeConfig(base: AstConfig, partial: Record<string, unknown>): AstConfig {
  const out = structuredClone(base) as unknown as Record<string, unknown>;
  for (const [k, v] of Object.entries(partial)) {
    if (!(k in out)) throw new RunError(`config: unknown key '${k}'`);
    const cur = out[k];
    out[k] = cur && typeof cur === "object" && !Array.isArray(cur) && v && typeof v === "object"
      ? { ...cur as object, ...v as object }
      : v;
  }
  return out as unknown as AstConfig;
}

async function loadConfigFile(path: string): Promise<Record<string, unknown>> {
  if (!(await exists(path))) throw new RunError(`--config ${path}: file not found`);
  if (path.endsWith(".json")) return await readJson(path);
  const mod = await import(new URL(`file://${resolve(path)}`).href);
  const cfg = mod.default ?? mod.config;
  if (!cfg || typeof cfg !== "object") throw new RunError(`--config ${path}: no default export with a config object`);
  return cfg;
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

/** What config.json records about the image features, so --resume uses the very same. */
interface FeatureRecord {
  backbone: string;
  backbone_layer?: string;
  weights_sha256?: string;
  weights_path?: string;
}

interface RunState {
  /** wall seconds spent in earlier (interrupted) invocations */
  elapsedBefore: number;
}

/** The effective config of a new run: preset for the dataset kind, experiment file, --set, flags. */
export async function resolveRunConfig(o: RunOptions, layout: MvtecDataset["layout"]): Promise<AstConfig> {
  let cfg = presetConfig(o.preset ?? "demo", o.mode, layout);
  if (o.configFile) cfg = mergeConfig(cfg, await loadConfigFile(o.configFile));
  cfg = applyOverrides(cfg, o.sets ?? []);
  cfg.mode = o.mode;
  if (o.backbone) cfg.backbone = o.backbone;
  if (o.seed !== undefined) cfg.seed = o.seed;
  if (o.epochs !== undefined) cfg.teacher.epochs = cfg.student.epochs = o.epochs;
  validateConfig(cfg);
  return cfg;
}

export async function runExperiment(o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const log = o.log ?? ((l: string) => console.log(l));
  let dataset = o.dataset ?? await openAnyDataset(o.data, o.className);
  for (const note of datasetNotes(dataset)) log(`note: ${note}`);
  if (!hasDefectMasks(dataset)) log("note: no defect masks: image-level metrics only (pixel AUROC and AUPRO need masks)");
  if (dataset.layout === "mvtecad" && o.mode !== "rgb") {
    throw new RunError(`${dataset.classDir}: MVTec AD layout has no depth data: use --mode rgb`);
  }
  const preset = o.preset ?? "demo";
  if (!PRESETS.includes(preset)) throw new RunError(`--preset must be one of ${PRESETS.join(", ")}, got '${preset}'`);

  const out = resolve(o.out ?? join("results", "runs", `${timestamp()}-${o.className}-${o.mode}`));
  const configPath = join(out, RUN_FILES.config);
  let cfg: AstConfig;
  let state: RunState = { elapsedBefore: 0 };
  let recorded: FeatureRecord | null = null;
  if (o.resume) {
    if (!(await exists(configPath))) throw new RunError(`--resume: ${out} holds no run to resume (no ${RUN_FILES.config})`);
    if (await exists(join(out, RUN_FILES.metrics))) throw new RunError(`--resume: ${out} is already complete (metrics.json exists)`);
    const saved = await readJson<{ config: AstConfig } & FeatureRecord>(configPath);
    cfg = saved.config;
    recorded = saved;
    state = await readJson<RunState>(join(out, "state.json")).catch(() => state);
    log(`resuming ${out}`);
  } else {
    if (await exists(out)) throw new RunError(`--out ${out} already exists (run folders are immutable; use --resume to continue an interrupted run)`);
    cfg = o.configObject ? structuredClone(o.configObject) : await resolveRunConfig(o, dataset.layout);
    validateConfig(cfg);
  }
  if (dataset.layout === "mvtecad" && (cfg.trainMask || cfg.evalMask)) {
    throw new RunError("foreground masks need 3D data: MVTec AD runs use no mask");
  }

  // Held-apart normal images for score statistics and the decision threshold: the validation
  // split, else a seeded fraction of train/good (cfg.holdoutFraction; same split on --resume).
  let normalSource: string | null = dataset.validation.length ? ((dataset as { source?: string }).source === "folder" ? "folder-holdout" : "validation") : null;
  if (!dataset.validation.length && cfg.holdoutFraction > 0 && dataset.train.length >= 2) {
    const n = dataset.train.length;
    const k = Math.min(n - 1, Math.max(1, Math.round(cfg.holdoutFraction * n)));
    const held = new Set(Array.from(permutation(n, mulberry32(deriveSeed(cfg.seed, "holdout"))).slice(0, k)));
    dataset = {
      ...dataset,
      train: dataset.train.filter((_, i) => !held.has(i)),
      validation: dataset.train.filter((_, i) => held.has(i)).map((s) => ({ ...s, split: "validation" as const })),
    };
    normalSource = "train-holdout";
    log(`holding apart ${k} of ${n} train/good images as normal references for the threshold (holdoutFraction ${cfg.holdoutFraction})`);
  }

  const backendInfo = await initBackend();
  const resolved = cfg.mode === "depth" ? null : await runBackbone(cfg, o, preset, recorded);
  const backboneName = resolved ? resolved.backbone.name : "none (depth only)";
  if (resolved?.note) log(`note: ${resolved.note}`);
  const bbInfo = resolved ? backboneRecord(resolved.backbone, cfg.mapLen) : null;
  const featureRecord: FeatureRecord = {
    backbone: backboneName,
    ...(resolved?.backbone.layer ? { backbone_layer: resolved.backbone.layer } : {}),
    ...(resolved?.backbone.weightsChecksum ? { weights_sha256: resolved.backbone.weightsChecksum } : {}),
    ...(resolved?.weightsPath ? { weights_path: resolved.weightsPath } : {}),
  };

  if (!o.resume) {
    await Deno.mkdir(out, { recursive: true });
    await writeJsonAtomic(configPath, {
      config: cfg,
      data: resolve(o.data),
      class: o.className,
      layout: dataset.layout,
      ...featureRecord,
    });
  }
  const ckptDir = join(out, RUN_FILES.checkpointDir);
  await Deno.mkdir(ckptDir, { recursive: true });
  const featureDesc = resolved ? `${resolved.backbone.description}${bbInfo?.input_size ? `, ${bbInfo.input_size} px input` : ""}` : backboneName;
  log(`AST ${cfg.mode} on ${dataset.classDir} (${dataset.layout}): ${dataset.train.length} train, ${dataset.validation.length} validation, ${dataset.test.length} test; backend ${backendInfo.name} x${backendInfo.threads}; features ${featureDesc === backboneName ? backboneName : `${backboneName} (${featureDesc})`}`);

  const useMask = cfg.trainMask || cfg.evalMask;
  // Only pretrained networks are worth caching: the raw-patch embedding costs about a file read.
  const cacheDir = !resolved?.backbone.weightsChecksum ? null : o.featureCache === undefined ? featureCacheDir() : o.featureCache;
  const features = (samples: Sample[], what: string) =>
    buildFeatures(samples, {
      mode: cfg.mode,
      mapLen: cfg.mapLen,
      backbone: resolved?.backbone ?? null,
      useMask,
      preprocess: cfg.preprocess,
      onProgress: progressLine(`features ${what}`, log),
      cache: cacheDir ? { dir: cacheDir, data: o.data, className: o.className, split: what, log } : null,
    });
  let train: FeatureSet, validation: FeatureSet | null, test: FeatureSet;
  const stage = { t: performance.now() };
  const lap = () => {
    const now = performance.now(), s = (now - stage.t) / 1000;
    stage.t = now;
    return s;
  };
  try {
    train = await features(dataset.train, "train");
    validation = dataset.validation.length ? await features(dataset.validation, "validation") : null;
    test = await features(dataset.test, "test");
  } finally {
    resolved?.backbone.dispose?.(); // features are plain arrays from here on
  }
  const featuresSeconds = lap();

  const pe = cfg.posEnc ? positionalEncoding(cfg.posEncDim, cfg.mapLen) : null;
  const xTrain = tf.tensor4d(train.x, [train.samples.length, train.side, train.side, train.channels]);
  const mTrain = cfg.trainMask && train.masks ? tf.tensor4d(train.masks, [train.samples.length, train.side, train.side, 1]) : null;
  const history: EpochReport[] = await readJson<{ epochs: EpochReport[] }>(join(out, RUN_FILES.history))
    .then((h) => h.epochs).catch(() => []);
  const onEpoch = async (r: EpochReport) => {
    // Resident memory per epoch: it should stay flat over a run (tensors are disposed per step).
    const rssMb = Math.round(Deno.memoryUsage().rss / 2 ** 20);
    log(`${r.phase} epoch ${r.epoch}/${r.epochs}  loss ${r.loss.toFixed(5)}  ${r.seconds.toFixed(1)} s  rss ${rssMb} MB`);
    history.push({ ...r, rss_mb: rssMb });
    await writeJsonAtomic(join(out, RUN_FILES.history), { epochs: history });
    await writeJsonAtomic(join(out, "state.json"), { elapsedBefore: state.elapsedBefore + (performance.now() - started) / 1000 });
    o.onEpoch?.(r);
  };

  const teacher = createTeacher(cfg, train.channels, deriveSeed(cfg.seed, "teacher"));
  await trainPhase("teacher", teacher.params, cfg.teacher.epochs, (x, m) => {
    const { z, logDet } = teacher.forward(x, pe);
    return meanLoss(flowNllPerPixel(z, logDet, m));
  });
  const teacherSeconds = lap();

  let student: StudentModel | null = null;
  if (cfg.scoring === "student") {
    student = createStudent(cfg, train.channels, deriveSeed(cfg.seed, "student"));
    const s = student;
    await trainPhase("student", s.params, cfg.student.epochs, (x, m, updates) => {
      // The frozen teacher's output is the regression target.
      const target = teacher.forward(x, pe).z;
      const r = s.predict(x, pe, true);
      updates.push(...r.updates);
      return meanLoss(studentDistancePerPixel(target, r.out, m));
    });
  }
  tf.dispose([xTrain, mTrain ?? []].flat());
  const studentSeconds = lap();

  log("evaluating");
  const outSize = mapOutSize(cfg.mapLen);
  const evalInput = (f: FeatureSet) => evaluationInput(f, cfg);
  const inferStart = performance.now();
  const results = scoreImages(teacher, student, pe, evalInput(test), cfg.batchSize);
  const inferenceMs = (performance.now() - inferStart) / Math.max(1, test.samples.length);
  const labels = test.samples.map((s) => s.label);
  const types = test.samples.map((s) => s.defectType);
  const gt = hasDefectMasks(dataset) && (dataset.layout === "mvtecad" || test.samples.some((s) => s.maskPath))
    ? await groundTruth(test.samples, outSize)
    : null;
  const metrics = computeMetrics(results, labels, types, gt, outSize);
  const validationScores = validation ? scoreImages(teacher, student, pe, evalInput(validation), cfg.batchSize) : null;
  // The teacher alone is a detector too (its NLL); recording it in every run gives the
  // paper's "teacher" rows without training the same teacher again.
  const threshold = validationScores ? chooseThreshold(validationScores.scoreMax, parseThresholdRule(cfg.threshold)) : null;
  const thresholdReport = threshold ? evaluateThreshold(results.scoreMax, labels, threshold.value) : null;
  const teacherScores = student ? scoreImages(teacher, null, pe, evalInput(test), cfg.batchSize) : null;
  const teacherNll = teacherScores ? computeMetrics(teacherScores, labels, types, gt, outSize) : null;
  const evaluateSeconds = lap();

  await writeScoresParquet(out, test.samples.map((s, i) => ({
    path: s.rgbPath,
    defect_type: s.defectType,
    label: s.label,
    score_max: results.scoreMax[i],
    score_mean: results.scoreMean[i],
    ...(teacherScores ? { teacher_nll_max: teacherScores.scoreMax[i], teacher_nll_mean: teacherScores.scoreMean[i] } : {}),
  })));
  await writeSafetensors(join(out, RUN_FILES.maps), {
    anomaly_maps: { shape: [test.samples.length, outSize, outSize], data: results.maps, dtype: "F16" },
  }, { layout: "N,H,W", note: "bicubic-upsampled student-teacher distance maps of the test images, in scores.parquet order" });
  const card: ModelCard = {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    created: new Date().toISOString(),
    class: o.className,
    mode: cfg.mode,
    layout: dataset.layout,
    features: {
      backbone: backboneName,
      ...(bbInfo?.layer ? { layer: String(bbInfo.layer) } : {}),
      ...(bbInfo?.weights_sha256 ? { weights_sha256: String(bbInfo.weights_sha256) } : {}),
      ...(bbInfo?.input_size ? { input_size: Number(bbInfo.input_size) } : {}),
    },
    input: await inputSpec(dataset.train[0], cfg.mode),
    pos_enc: cfg.posEnc,
    foreground_mask: cfg.evalMask,
    map_side: outSize,
    normal_scores: validationScores && normalSource ? normalScores(validationScores.scoreMax, normalSource as "validation") : null,
    threshold,
  };
  await writeModelCard(out, card);
  const seconds = state.elapsedBefore + (performance.now() - started) / 1000;
  const record: RunRecord = {
    ...metrics,
    backend: backendInfo.name,
    threads: backendInfo.threads,
    seconds,
    class: o.className,
    mode: cfg.mode,
    preset: cfg.preset,
    backbone: backboneName,
    ...(resolved?.note ? { backbone_note: resolved.note } : {}),
    ...(bbInfo?.layer ? { backbone_layer: String(bbInfo.layer) } : {}),
    ...(bbInfo ? { backbone_input_size: Number(bbInfo.input_size) } : {}),
    ...(bbInfo?.weights_sha256 ? { backbone_weights_sha256: String(bbInfo.weights_sha256) } : {}),
    epochs: { teacher: cfg.teacher.epochs, student: cfg.student.epochs },
    seed: cfg.seed,
    layout: dataset.layout,
    n_train: dataset.train.length,
    n_test: dataset.test.length,
    ...(datasetNotes(dataset).length || !hasDefectMasks(dataset)
      ? { dataset_notes: [...datasetNotes(dataset), ...(hasDefectMasks(dataset) ? [] : ["no defect masks: image-level metrics only"])] }
      : {}),
    validation_scores: validationScores ? summarise(validationScores.scoreMax) : null,
    threshold,
    threshold_report: thresholdReport,
    normal_source: normalSource,
    teacher_nll: teacherNll,
    params: { teacher: teacher.params.countTrainable(), student: student?.params.countTrainable() ?? 0 },
    memory: memorySummary(history),
    timing: {
      features_s: featuresSeconds,
      teacher_s: teacherSeconds,
      student_s: studentSeconds,
      evaluate_s: evaluateSeconds,
      inference_ms_per_image: inferenceMs,
    },
    provenance: await provenance(backendInfo),
  };
  await writeJsonAtomic(join(out, RUN_FILES.metrics), record);
  teacher.dispose();
  student?.dispose();
  pe?.dispose();
  return { out, metrics: record };

  async function trainPhase(
    phase: "teacher" | "student",
    params: TeacherFlow["params"],
    epochs: number,
    loss: (x: tf.Tensor4D, m: tf.Tensor4D | null, updates: [tf.Variable, tf.Tensor][]) => tf.Scalar,
  ): Promise<void> {
    const finalPath = join(out, phase === "teacher" ? RUN_FILES.teacher : RUN_FILES.student);
    const ckptPath = join(ckptDir, `${phase}.safetensors`);
    const optimizer = new Adam(cfg.adam, params.trainable);
    let start = 0;
    if (await exists(finalPath)) {
      await loadCheckpoint(finalPath, params, null);
      log(`${phase}: trained weights found, skipping training`);
      optimizer.dispose();
      return;
    }
    if (await exists(ckptPath)) {
      const meta = await loadCheckpoint(ckptPath, params, optimizer);
      start = meta.epoch;
      log(`${phase}: resuming after epoch ${start}`);
    }
    await trainLoop({ x: xTrain, masks: mTrain }, {
      phase,
      epochs,
      startEpoch: start,
      batchSize: Math.min(cfg.batchSize, xTrain.shape[0]),
      seed: cfg.seed,
      params,
      optimizer,
      loss,
      onEpoch: async (r) => {
        if (r.epoch % cfg.checkpointEvery === 0 || r.epoch === r.epochs) {
          const meta: CheckpointMeta = { phase, epoch: r.epoch, adamStep: optimizer.step };
          await saveCheckpoint(ckptPath, params, optimizer, meta);
        }
        await onEpoch(r);
      },
    });
    await writeSafetensors(finalPath, await stateDict(params), { phase, epochs: String(epochs), format: "AST state dict (PyTorch layout)" });
    optimizer.dispose();
  }
}

function memorySummary(history: EpochReport[]) {
  const rss = (r: EpochReport) => r.rss_mb;
  const phase = (name: string) => {
    const rows = history.filter((r) => r.phase === name && rss(r) !== undefined);
    return rows.length ? { first_epoch_mb: rss(rows[0])!, last_epoch_mb: rss(rows[rows.length - 1])!, peak_mb: Math.max(...rows.map((r) => rss(r)!)) } : null;
  };
  const all = history.map(rss).filter((v): v is number => v !== undefined);
  return { rss_peak_mb: all.length ? Math.max(...all) : null, teacher: phase("teacher"), student: phase("student") };
}

/** What the model expects as input (checked when scoring new images). */
async function inputSpec(sample: Sample, mode: Mode): Promise<InputSpec> {
  const img = await readImage(sample.rgbPath);
  const spec: InputSpec = { width: img.width, height: img.height, channels: img.channels };
  if (mode !== "rgb" && sample.xyzPath) {
    const xyz = await readXyzTiff(sample.xyzPath);
    spec.depth = { width: xyz.width, height: xyz.height };
  }
  return spec;
}

function summarise(v: Float32Array) {
  const s = Float64Array.from(v).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const std = Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length);
  return { n: s.length, mean, std, min: s[0], median: q(0.5), q95: q(0.95), q99: q(0.99), max: s[s.length - 1] };
}

/**
 * The image features of a run. A backbone other than the preset's, or given weights, counts as
 * chosen (never substituted). On --resume, exactly the backbone, layer and weights the run
 * started with (recorded in config.json): a checksum change is an error.
 */
async function runBackbone(cfg: AstConfig, o: RunOptions, preset: PresetName, recorded: FeatureRecord | null): Promise<ResolvedBackbone> {
  if (recorded) {
    const weights = o.weights ?? (recorded.weights_path && (await exists(recorded.weights_path)) ? recorded.weights_path : undefined);
    const r = await resolveBackbone({ name: recorded.backbone, explicit: true, preset, weights, layer: recorded.backbone_layer });
    if ((r.backbone.weightsChecksum ?? "") !== (recorded.weights_sha256 ?? "")) {
      throw new RunError(`--resume: ${recorded.backbone} weights changed since the run started (sha256 ${r.backbone.weightsChecksum} != recorded ${recorded.weights_sha256})`);
    }
    return r;
  }
  const presetDefault = presetConfig(preset, cfg.mode, "mvtec3d").backbone;
  const explicit = !!o.backbone || !!o.weights || !!o.layer || cfg.backbone !== presetDefault;
  return await resolveBackbone({ name: cfg.backbone, explicit, preset, weights: o.weights, layer: o.layer });
}

/** A progress reporter that logs at most ~10 lines per pass. */
function progressLine(what: string, log: (l: string) => void) {
  return (done: number, total: number, pass?: string) => {
    const step = Math.max(1, Math.ceil(total / 10));
    if (done === total || done % step === 0) log(`${what}${pass ? ` (${pass})` : ""} ${done}/${total}`);
  };
}
