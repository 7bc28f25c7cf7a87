/**
 * A finished run folder as a model: the effective config, the trained AstModel and the same
 * image features the run used (backbone, layer and weights checksum from config.json). Used by
 * notebooks (Figure 5, anomaly maps) and by scoring new images. Reads the run folder only;
 * never writes into it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { initBackend } from "../backend/backend.ts";
import { setConvolutionPrecision } from "../backend/precision.ts";
import { type AstConfig, configPrecision, withDefaults } from "../config/ast_config.ts";
import { DEFAULT_RUNTIME, type RuntimeOptions } from "../config/runtime.ts";
import type { Backbone } from "../features/backbone.ts";
import { AstModel, type ImageResults } from "../models/ast.ts";
import { mapOutSize } from "../models/scoring.ts";
import type { ParameterStore } from "../models/parameters.ts";
import { MODEL_CARD_FILE, type ModelCard, unverifiedWeightsNote } from "../results/model_card.ts";
import type { RunConfigFile, RunRecord } from "../results/record.ts";
import { sha256File } from "../util/sha256.ts";
import { exists, readJson, RUN_FILES } from "../results/run_files.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import type { InputFiles, Sample } from "../types.ts";
import { scoringInput } from "./evaluate.ts";
import { recordedBackbone } from "./features.ts";
import { buildInputs, type FeatureSet, groundTruth, inputChannels } from "./inputs.ts";

export type { RunConfigFile };

export interface TrainedModel {
  runDir: string;
  config: AstConfig;
  record: RunConfigFile;
  metrics: RunRecord | null;
  model: AstModel;
  /** things the user should know about this folder (e.g. weights that cannot be verified) */
  notes: string[];
  /** the flow's inputs exactly as the run computed them (no cache) */
  features(files: InputFiles[], onProgress?: (done: number, total: number) => void): Promise<FeatureSet>;
  /** image scores and upsampled anomaly maps (8 x map side), as in the run's evaluation */
  score(f: FeatureSet): ImageResults;
  dispose(): void;
}

export class ModelFolderError extends Error {}

/** Load a finished run folder (teacher.safetensors, student.safetensors, config.json). */
export async function loadTrainedModel(runDir: string, o: { weights?: string; runtime?: RuntimeOptions } = {}): Promise<TrainedModel> {
  const runtime = o.runtime ?? DEFAULT_RUNTIME;
  const cfgPath = join(runDir, RUN_FILES.config);
  if (!(await exists(cfgPath))) throw new ModelFolderError(`${runDir}: not a run folder (no ${RUN_FILES.config})`);
  const record = await readJson<RunConfigFile>(cfgPath);
  if (!record.config || !record.config.teacher) throw new ModelFolderError(`${cfgPath}: no 'config' object (a folder from an incompatible version?)`);
  const cfg = withDefaults(record.config);
  const teacherPath = join(runDir, RUN_FILES.teacher);
  if (!(await exists(teacherPath))) throw new ModelFolderError(`${runDir}: no trained teacher (${RUN_FILES.teacher}); is the run finished?`);
  const studentPath = join(runDir, RUN_FILES.student);
  if (cfg.scoring === "student" && !(await exists(studentPath))) {
    throw new ModelFolderError(`${runDir}: no trained student (${RUN_FILES.student}); is the run finished?`);
  }
  const card = await readCardIfAny(runDir);
  const notes = await verifyTrainedWeights(runDir, card);
  if (card) await verifyCardAgainstConfig(runDir, card, record, cfg);
  await initBackend(runtime.backend);
  const metricsPath = join(runDir, RUN_FILES.metrics);
  const metrics = (await exists(metricsPath)) ? await readJson<RunRecord>(metricsPath) : null;
  // The convolutions in the precision the model ran in (metrics.json; before the record: what
  // config.json asked for; runs from before the option: fp32). Set again before each use: other
  // models loaded in the same process may differ.
  const precision = metrics?.precision ?? configPrecision(cfg);
  const usePrecision = () => setConvolutionPrecision(precision);
  const precisionNote = usePrecision().note;
  if (precisionNote) notes.push(precisionNote);
  const backbone: Backbone | null = cfg.mode === "depth" ? null : (await recordedBackbone(record, { weights: o.weights, weightsDir: runtime.weightsDir }, (found, was) =>
    new ModelFolderError(
      `${runDir}: ${record.backbone} weights differ from the ones the model was trained with (sha256 ${found} != ${was}); pass the original weights`,
    ))).backbone;
  const model = AstModel.create(cfg, inputChannels(cfg.mode, backbone), cfg.seed);
  await loadWeights(teacherPath, model.teacher.params);
  if (model.student) await loadWeights(studentPath, model.student.params);
  const inputOptions = { mode: cfg.mode, mapLen: cfg.mapLen, backbone, useMask: cfg.trainMask || cfg.evalMask, preprocess: cfg.preprocess };
  return {
    runDir,
    config: cfg,
    record,
    metrics,
    model,
    notes,
    features: (files, onProgress) => (usePrecision(), buildInputs(files, { ...inputOptions, onProgress: onProgress ? (d, t) => onProgress(d, t) : undefined })),
    score: (f) => (usePrecision(), model.score(scoringInput(f, cfg), cfg.batchSize)),
    dispose() {
      model.dispose();
      backbone?.dispose?.();
    },
  };
}

/**
 * Each trained-weights file against the SHA-256 model.json recorded at training: a mismatch is
 * one line naming the file and both hashes. A folder whose model.json predates the record
 * (format 1.0) or has none loads with a note that its weights cannot be verified.
 */
export async function verifyTrainedWeights(runDir: string, card?: Partial<ModelCard> | null): Promise<string[]> {
  if (card === undefined) card = await readCardIfAny(runDir);
  const note = unverifiedWeightsNote(card ? { version: card.version ?? 0, trained_weights_sha256: card.trained_weights_sha256 } : null, runDir);
  if (note) return [note];
  for (const [name, want] of Object.entries(card!.trained_weights_sha256!)) {
    const path = join(runDir, name);
    if (!(await exists(path))) throw new ModelFolderError(`${path}: trained weights missing (${MODEL_CARD_FILE} records sha256 ${want}); restore the file or retrain`);
    await checkRecordedSha256(path, want);
  }
  return [];
}

/** The folder's model.json, or null when it has none (a folder from before the card). */
async function readCardIfAny(runDir: string): Promise<Partial<ModelCard> | null> {
  const cardPath = join(runDir, MODEL_CARD_FILE);
  return (await exists(cardPath)) ? await readJson<Partial<ModelCard>>(cardPath) : null;
}

/** A file of the folder against the SHA-256 model.json recorded at training: one line on a mismatch. */
async function checkRecordedSha256(path: string, want: string): Promise<void> {
  const got = await sha256File(path);
  if (got !== want) {
    throw new ModelFolderError(`${path}: SHA-256 ${got}, but ${MODEL_CARD_FILE} records ${want} from training: the file was changed or damaged; restore it or retrain`);
  }
}

/**
 * model.json against config.json: the card records config.json's SHA-256 (format 1.1), and the
 * fields both say (class, mode, positional encoding, foreground mask, map side) must agree, so an
 * edited or mixed-up file is refused on load instead of scoring with settings the model was not
 * trained with.
 */
async function verifyCardAgainstConfig(runDir: string, card: Partial<ModelCard>, record: RunConfigFile, cfg: AstConfig): Promise<void> {
  if (card.config_sha256) await checkRecordedSha256(join(runDir, RUN_FILES.config), card.config_sha256);
  const pairs: [string, unknown, unknown][] = [
    ["class", card.class, record.class],
    ["mode", card.mode, cfg.mode],
    ["pos_enc", card.pos_enc, cfg.posEnc],
    ["foreground_mask", card.foreground_mask, cfg.evalMask],
    ["map_side", card.map_side, mapOutSize(cfg.mapLen)],
  ];
  for (const [field, inCard, inConfig] of pairs) {
    if (inCard !== undefined && inConfig !== undefined && inCard !== inConfig) {
      throw new ModelFolderError(`${join(runDir, MODEL_CARD_FILE)}: ${field} is ${JSON.stringify(inCard)} but ${RUN_FILES.config} says ${JSON.stringify(inConfig)}: the files do not belong together (edited or copied from another run); restore them or retrain`);
    }
  }
}

/** Trained weights into a model; a damaged file is one line naming it and the fix. */
async function loadWeights(path: string, params: ParameterStore): Promise<void> {
  try {
    await loadCheckpoint(path, params, null);
  } catch (e) {
    const why = (e as Error).message.split("\n")[0].replace(`${path}: `, "");
    throw new ModelFolderError(`${path}: cannot load the trained weights (${why}); the file is damaged or from another model: restore it or retrain`);
  }
}

export interface PixelOutputs {
  /** [P, C] teacher outputs z, one row per kept feature-map pixel */
  teacher: Float32Array;
  /** [P, C] student outputs */
  student: Float32Array;
  /** [P] student-teacher distance per pixel: mean over channels of the squared difference (the per-pixel score) */
  distance: Float32Array;
  /** [P] 1 where the pixel lies on a defect (ground truth at map resolution, > 0.5), else 0 */
  anomalous: Uint8Array;
  /** [P] index of the image each pixel comes from */
  image: Int32Array;
  channels: number;
}

/**
 * Teacher and student outputs per feature-map pixel with pixel labels (Figure 5) of the samples
 * `f` was built from: background pixels are dropped when the model uses a foreground mask (the
 * paper ignores them too).
 */
export async function pixelOutputs(trained: TrainedModel, f: FeatureSet, samples: Sample[]): Promise<PixelOutputs> {
  const { model } = trained;
  if (!model.student) throw new ModelFolderError(`${trained.runDir}: a teacher-NLL model has no student outputs`);
  const { side, channels: inCh } = f;
  const n = f.files.length, cells = side * side;
  const gt = await groundTruth(samples.map((s) => s.maskPath), side, 0.5, samples.map((s) => s.rgbPath));
  const useMask = trained.config.evalMask && f.masks;
  const teacherRows: Float32Array[] = [], studentRows: Float32Array[] = [];
  const dist: number[] = [], anomalous: number[] = [], image: number[] = [];
  let outCh = 0;
  for (let i = 0; i < n; i++) {
    const [z, s, d] = tf.tidy(() => {
      const x = tf.tensor4d(f.x.subarray(i * cells * inCh, (i + 1) * cells * inCh), [1, side, side, inCh]);
      const o = model.outputs(x);
      return [o.teacher, o.student, o.distance];
    });
    outCh = z.shape[3];
    const zData = z.dataSync() as Float32Array, sData = s.dataSync() as Float32Array, dData = d.dataSync() as Float32Array;
    tf.dispose([z, s, d]);
    for (let k = 0; k < cells; k++) {
      if (useMask && f.masks![i * cells + k] <= 0.5) continue;
      teacherRows.push(zData.subarray(k * outCh, (k + 1) * outCh));
      studentRows.push(sData.subarray(k * outCh, (k + 1) * outCh));
      dist.push(dData[k]);
      anomalous.push(gt[i * cells + k] > 0.5 ? 1 : 0);
      image.push(i);
    }
  }
  const stack = (rows: Float32Array[]) => {
    const out = new Float32Array(rows.length * outCh);
    rows.forEach((r, j) => out.set(r, j * outCh));
    return out;
  };
  return {
    teacher: stack(teacherRows),
    student: stack(studentRows),
    distance: Float32Array.from(dist),
    anomalous: Uint8Array.from(anomalous),
    image: Int32Array.from(image),
    channels: outCh,
  };
}
