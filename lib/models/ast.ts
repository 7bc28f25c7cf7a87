/**
 * One AST model: the teacher flow, the student (asymmetric CNN, or a flow for the symmetric
 * ablation; none when the teacher's NLL is the score), the positional encoding, both training
 * objectives, and the anomaly maps and image scores. Training (lib/run/fit.ts), a loaded run
 * (lib/run/trained.ts), scoring new images (lib/run/score.ts) and the bench all use this class,
 * so the losses and the scoring exist once.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AstConfig } from "../config/ast_config.ts";
import { deriveSeed } from "../util/random.ts";
import { flowNllPerPixel, meanLoss, studentDistancePerPixel } from "./losses.ts";
import { positionalEncoding } from "./positional_encoding.ts";
import { imageScores, type ImageScores } from "./scoring.ts";
import type { BatchNormUpdate } from "./student.ts";
import { createStudent, createTeacher, type StudentModel } from "./student_model.ts";
import type { TeacherFlow } from "./teacher_flow.ts";

/** The parts of the config the model itself depends on. */
export type AstModelConfig = Pick<AstConfig, "mapLen" | "posEnc" | "posEncDim" | "teacher" | "student" | "scoring">;

/** Features of N images to score, as flat arrays. */
export interface ScoringInput {
  /** [N,H,W,C] */
  x: Float32Array;
  n: number;
  side: number;
  channels: number;
  /** [N,H,W] soft masks for evaluation, or null */
  masks: Float32Array | null;
  /** anomaly-map side (8 * side) */
  outSize: number;
}

export interface ImageResults {
  scoreMax: Float32Array;
  scoreMean: Float32Array;
  /** [N, outSize, outSize] */
  maps: Float32Array;
}

export class AstModel {
  /** Wire a model from its parts (fresh, or with loaded weights). */
  constructor(
    readonly cfg: AstModelConfig,
    readonly channels: number,
    readonly teacher: TeacherFlow,
    readonly student: StudentModel | null,
    readonly pe: tf.Tensor3D | null,
  ) {}

  /** Freshly initialised teacher and student for `channels` input channels; seeds derived from `seed`. */
  static create(cfg: AstModelConfig, channels: number, seed: number): AstModel {
    const teacher = createTeacher(cfg, channels, deriveSeed(seed, "teacher"));
    const student = cfg.scoring === "student" ? createStudent(cfg, channels, deriveSeed(seed, "student")) : null;
    const pe = cfg.posEnc ? positionalEncoding(cfg.posEncDim, cfg.mapLen) : null;
    return new AstModel(cfg, channels, teacher, student, pe);
  }

  /** The teacher's objective: the flow's NLL per pixel (mask-weighted), averaged. */
  teacherLoss(x: tf.Tensor4D, mask: tf.Tensor4D | null): tf.Scalar {
    const { z, logDet } = this.teacher.forward(x, this.pe);
    return meanLoss(flowNllPerPixel(z, logDet, mask));
  }

  /**
   * The student's objective: its distance to the frozen teacher's output. BatchNorm's new running
   * statistics go to `updates` (assigned after the optimiser step).
   */
  studentLoss(x: tf.Tensor4D, mask: tf.Tensor4D | null, updates: BatchNormUpdate[]): tf.Scalar {
    const target = this.teacher.forward(x, this.pe).z;
    return this.studentLossAgainst(target, x, mask, updates);
  }

  /** The student's objective against a given target (the bench times the student alone). */
  studentLossAgainst(target: tf.Tensor4D, x: tf.Tensor4D, mask: tf.Tensor4D | null, updates: BatchNormUpdate[]): tf.Scalar {
    const r = this.requireStudent().predict(x, this.pe, true);
    updates.push(...r.updates);
    return meanLoss(studentDistancePerPixel(target, r.out, mask));
  }

  /**
   * Per-pixel anomaly distance [B,H,W] with the mask applied once: the student-teacher distance,
   * or the teacher's NLL (`teacherOnly`, or a model without a student).
   */
  distanceMap(x: tf.Tensor4D, mask: tf.Tensor4D | null, teacherOnly = false): tf.Tensor3D {
    const { z, logDet } = this.teacher.forward(x, this.pe);
    if (this.student && !teacherOnly) return studentDistancePerPixel(z, this.student.predict(x, this.pe, false).out, mask);
    return mask ? backgroundAtForegroundMin(flowNllPerPixel(z, logDet, null), mask) : flowNllPerPixel(z, logDet, null);
  }

  /** Anomaly maps (upsampled to outSize) and image scores of one batch. */
  scoreBatch(x: tf.Tensor4D, mask: tf.Tensor4D | null, outSize: number, teacherOnly = false): ImageScores {
    return tf.tidy(() => {
      const dist = this.distanceMap(x, mask, teacherOnly);
      // the NLL map has the mask applied already (its background filled, not zeroed: see below)
      const nll = !this.student || teacherOnly;
      const { anomalyMap, scoreMax, scoreMean } = imageScores(dist, mask && !nll ? tf.squeeze(mask, [3]) as tf.Tensor3D : null, outSize);
      return { anomalyMap, scoreMax, scoreMean };
    });
  }

  /** Image scores and anomaly maps of N images, in batches (memory stays flat). */
  score(data: ScoringInput, batchSize = 8, teacherOnly = false): ImageResults {
    const { n, side, channels, outSize } = data;
    const cells = side * side;
    const scoreMax = new Float32Array(n), scoreMean = new Float32Array(n);
    const maps = new Float32Array(n * outSize * outSize);
    for (let b = 0; b < n; b += batchSize) {
      const m = Math.min(batchSize, n - b);
      tf.tidy(() => {
        const x = tf.tensor4d(data.x.subarray(b * cells * channels, (b + m) * cells * channels), [m, side, side, channels]);
        const mask = data.masks ? tf.tensor4d(data.masks.subarray(b * cells, (b + m) * cells), [m, side, side, 1]) : null;
        const s = this.scoreBatch(x, mask, outSize, teacherOnly);
        scoreMax.set(s.scoreMax.dataSync(), b);
        scoreMean.set(s.scoreMean.dataSync(), b);
        maps.set(s.anomalyMap.dataSync(), b * outSize * outSize);
      });
    }
    return { scoreMax, scoreMean, maps };
  }

  /** Teacher and student outputs of one batch, and their per-pixel distance (no mask): Figure 5. */
  outputs(x: tf.Tensor4D): { teacher: tf.Tensor4D; student: tf.Tensor4D; distance: tf.Tensor3D } {
    const teacher = this.teacher.forward(x, this.pe).z;
    const student = this.requireStudent().predict(x, this.pe, false).out;
    return { teacher, student, distance: studentDistancePerPixel(teacher, student, null) };
  }

  /** Trainable parameter counts. */
  paramCounts(): { teacher: number; student: number } {
    return { teacher: this.teacher.params.countTrainable(), student: this.student?.params.countTrainable() ?? 0 };
  }

  private requireStudent(): StudentModel {
    if (!this.student) throw new Error("this model scores with the teacher's NLL: it has no student");
    return this.student;
  }

  dispose(): void {
    this.teacher.dispose();
    this.student?.dispose();
    this.pe?.dispose();
  }
}

/**
 * The teacher's NLL per pixel with the foreground mask applied for scoring. The NLL can be
 * negative, so multiplying it by a zero mask (as the distance is) would make the background
 * outrank the object and tie every image's maximum at 0. Outside the foreground (mask 0) each
 * image takes its lowest foreground NLL instead: the background never raises a score. An image
 * without foreground keeps zeros, as before.
 */
export function backgroundAtForegroundMin(nll: tf.Tensor3D, mask: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const fg = tf.greater(tf.squeeze(mask, [3]), 0);
    const lowest = tf.min(tf.where(fg, nll, tf.fill(nll.shape, Number.POSITIVE_INFINITY)), [1, 2], true);
    const fill = tf.where(tf.isInf(lowest), tf.zerosLike(lowest), lowest);
    return tf.where(fg, nll, tf.broadcastTo(fill, nll.shape)) as tf.Tensor3D;
  });
}
