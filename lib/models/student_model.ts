/**
 * The student as the engine sees it: the asymmetric CNN of the paper, or a flow with the
 * teacher's architecture (the symmetric ablation of Table 5), both predicting the teacher's z.
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { AstConfig } from "../config/ast_config.ts";
import type { ParameterStore } from "./parameters.ts";
import { AsymmetricStudent, type BatchNormUpdate } from "./student.ts";
import { TeacherFlow } from "./teacher_flow.ts";

export interface StudentModel {
  readonly params: ParameterStore;
  predict(x: tf.Tensor4D, pe: tf.Tensor3D | null, training: boolean): { out: tf.Tensor4D; updates: BatchNormUpdate[] };
  dispose(): void;
}

class FlowStudent implements StudentModel {
  constructor(readonly flow: TeacherFlow) {}
  get params() {
    return this.flow.params;
  }
  predict(x: tf.Tensor4D, pe: tf.Tensor3D | null) {
    return { out: this.flow.forward(x, pe).z, updates: [] };
  }
  dispose() {
    this.flow.dispose();
  }
}

class CnnStudent implements StudentModel {
  constructor(readonly net: AsymmetricStudent) {}
  get params() {
    return this.net.params;
  }
  predict(x: tf.Tensor4D, pe: tf.Tensor3D | null, training: boolean) {
    return this.net.forward(x, pe, training);
  }
  dispose() {
    this.net.dispose();
  }
}

export function createStudent(cfg: Pick<AstConfig, "posEnc" | "posEncDim" | "teacher" | "student">, channels: number, seed: number): StudentModel {
  const posEncDim = cfg.posEnc ? cfg.posEncDim : 0;
  if (cfg.student.kind === "flow") {
    // Symmetric student: the teacher's architecture, its own width and depth settings.
    return new FlowStudent(TeacherFlow.create({
      channels,
      hidden: cfg.student.hidden,
      nBlocks: cfg.student.nBlocks,
      kernelSizes: cfg.teacher.kernelSizes,
      clamp: cfg.teacher.clamp,
      posEncDim,
      permutations: cfg.teacher.permutations,
    }, seed));
  }
  return new CnnStudent(AsymmetricStudent.create({
    channels,
    hidden: cfg.student.hidden,
    nBlocks: cfg.student.nBlocks,
    leakySlope: cfg.student.leakySlope,
    posEncDim,
  }, seed));
}

export function createTeacher(cfg: Pick<AstConfig, "posEnc" | "posEncDim" | "teacher">, channels: number, seed: number): TeacherFlow {
  return TeacherFlow.create({
    channels,
    hidden: cfg.teacher.hidden,
    nBlocks: cfg.teacher.nBlocks,
    kernelSizes: cfg.teacher.kernelSizes,
    clamp: cfg.teacher.clamp,
    posEncDim: cfg.posEnc ? cfg.posEncDim : 0,
    permutations: cfg.teacher.permutations,
  }, seed);
}
