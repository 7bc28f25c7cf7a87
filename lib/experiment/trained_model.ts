/**
 * A finished run folder as a model: the effective config, the trained teacher and student, the
 * positional encoding and the same image features the run used (backbone, layer and weights
 * checksum from config.json). Used by notebooks (Figure 5, anomaly maps) and by scoring.
 * Reads the run folder only; never writes into it.
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { initBackend } from "../backend/backend.ts";
import type { Sample } from "../data/mvtec.ts";
import { type Backbone, resolveBackbone } from "../features/backbones.ts";
import { buildFeatures, featureChannels, type FeatureSet, groundTruth } from "../features/feature_set.ts";
import { createStudent, createTeacher, type StudentModel } from "../models/student_model.ts";
import type { TeacherFlow } from "../models/teacher_flow.ts";
import { positionalEncoding } from "../models/positional_encoding.ts";
import { studentDistancePerPixel } from "../models/losses.ts";
import { loadCheckpoint } from "../train/checkpoint.ts";
import { exists, readJson, RUN_FILES } from "../results/run_files.ts";
import { deriveSeed } from "../util/random.ts";
import type { AstConfig } from "./config.ts";
import { evaluationInput, type ImageResults, scoreImages } from "./evaluate.ts";
import type { RunRecord } from "./run.ts";

export interface RunConfigFile {
  config: AstConfig;
  data: string;
  class: string;
  layout: string;
  backbone: string;
  backbone_layer?: string;
  weights_sha256?: string;
  weights_path?: string;
}

export interface TrainedModel {
  runDir: string;
  config: AstConfig;
  record: RunConfigFile;
  metrics: RunRecord | null;
  teacher: TeacherFlow;
  student: StudentModel | null;
  pe: tf.Tensor3D | null;
  /** features exactly as the run computed them (no cache) */
  features(samples: Sample[], onProgress?: (done: number, total: number) => void): Promise<FeatureSet>;
  /** image scores and upsampled anomaly maps (8 x map side), as in the run's evaluation */
  score(f: FeatureSet): ImageResults;
  dispose(): void;
}

export class ModelFolderError extends Error {}

/** Load a finished run folder (teacher.safetensors, student.safetensors, config.json). */
export async function loadTrainedModel(runDir: string, o: { weights?: string } = {}): Promise<TrainedModel> {
  const cfgPath = join(runDir, RUN_FILES.config);
  if (!(await exists(cfgPath))) throw new ModelFolderError(`${runDir}: not a run folder (no ${RUN_FILES.config})`);
  const record = await readJson<RunConfigFile>(cfgPath);
  if (!record.config || !record.config.teacher) throw new ModelFolderError(`${cfgPath}: no 'config' object (a folder from an incompatible version?)`);
  const cfg = record.config;
  const teacherPath = join(runDir, RUN_FILES.teacher);
  if (!(await exists(teacherPath))) throw new ModelFolderError(`${runDir}: no trained teacher (${RUN_FILES.teacher}); is the run finished?`);
  const studentPath = join(runDir, RUN_FILES.student);
  if (cfg.scoring === "student" && !(await exists(studentPath))) {
    throw new ModelFolderError(`${runDir}: no trained student (${RUN_FILES.student}); is the run finished?`);
  }
  await initBackend();
  const backbone: Backbone | null = cfg.mode === "depth" ? null : (await resolveBackbone({
    name: record.backbone,
    explicit: true,
    preset: cfg.preset,
    weights: o.weights ?? (record.weights_path && (await exists(record.weights_path)) ? record.weights_path : undefined),
    layer: record.backbone_layer,
  })).backbone;
  if (backbone && (backbone.weightsChecksum ?? "") !== (record.weights_sha256 ?? "")) {
    throw new ModelFolderError(
      `${runDir}: ${record.backbone} weights differ from the ones the model was trained with (sha256 ${backbone.weightsChecksum} != ${record.weights_sha256}); pass the original weights`,
    );
  }
  const useMask = cfg.trainMask || cfg.evalMask;
  const featureOptions = {
    mode: cfg.mode,
    mapLen: cfg.mapLen,
    backbone,
    useMask,
    preprocess: cfg.preprocess,
  };
  const channels = featureChannels(cfg.mode, backbone);
  const teacher = createTeacher(cfg, channels, deriveSeed(cfg.seed, "teacher"));
  await loadWeights(teacherPath, teacher.params);
  let student: StudentModel | null = null;
  if (cfg.scoring === "student") {
    student = createStudent(cfg, channels, deriveSeed(cfg.seed, "student"));
    await loadWeights(studentPath, student.params);
  }
  const pe = cfg.posEnc ? positionalEncoding(cfg.posEncDim, cfg.mapLen) : null;
  const metricsPath = join(runDir, RUN_FILES.metrics);
  const metrics = (await exists(metricsPath)) ? await readJson<RunRecord>(metricsPath) : null;
  return {
    runDir,
    config: cfg,
    record,
    metrics,
    teacher,
    student,
    pe,
    features: (samples, onProgress) =>
      buildFeatures(samples, { ...featureOptions, onProgress: onProgress ? (d, t) => onProgress(d, t) : undefined }),
    score: (f) => scoreImages(teacher, student, pe, evaluationInput(f, cfg), cfg.batchSize),
    dispose() {
      teacher.dispose();
      student?.dispose();
      pe?.dispose();
      backbone?.dispose?.();
    },
  };
}

/** Trained weights into a model; a damaged file is one line naming it and the fix. */
async function loadWeights(path: string, params: TeacherFlow["params"]): Promise<void> {
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
 * Teacher and student outputs per feature-map pixel with pixel labels (Figure 5): background
 * pixels are dropped when the model uses a foreground mask (the paper ignores them too).
 */
export async function pixelOutputs(model: TrainedModel, f: FeatureSet): Promise<PixelOutputs> {
  if (!model.student) throw new ModelFolderError(`${model.runDir}: a teacher-NLL model has no student outputs`);
  const { side, channels: inCh } = f;
  const n = f.samples.length, cells = side * side;
  const gt = await groundTruth(f.samples, side);
  const useMask = model.config.evalMask && f.masks;
  const teacherRows: Float32Array[] = [], studentRows: Float32Array[] = [];
  const dist: number[] = [], anomalous: number[] = [], image: number[] = [];
  let outCh = 0;
  for (let i = 0; i < n; i++) {
    const [z, s, d] = tf.tidy(() => {
      const x = tf.tensor4d(f.x.subarray(i * cells * inCh, (i + 1) * cells * inCh), [1, side, side, inCh]);
      const zt = model.teacher.forward(x, model.pe).z;
      const zs = model.student!.predict(x, model.pe, false).out;
      return [zt, zs, studentDistancePerPixel(zt, zs, null)];
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
