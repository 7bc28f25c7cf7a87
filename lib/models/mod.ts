/**
 * lib/models: the AST method as tensors — `AstModel` (ast.ts: teacher, student, positional
 * encoding, both objectives, anomaly maps and scores), the teacher flow and its blocks (flow/),
 * the asymmetric and the flow student, losses, bicubic scoring, parameters under the official
 * state-dict names. Written in lib/ops, so it runs on any backend.
 * May import: lib/ops, lib/config (config types), lib/types.ts, lib/io (state-dict types), lib/util.
 */
export { AstModel, type AstModelConfig, type ImageResults, type ScoringInput } from "./ast.ts";
export { type FlowConfig, TeacherFlow } from "./teacher_flow.ts";
export { AsymmetricStudent, type BatchNormUpdate, type StudentConfig } from "./student.ts";
export { createStudent, createTeacher, type StudentModel } from "./student_model.ts";
export { flowNllPerPixel, meanLoss, studentDistancePerPixel } from "./losses.ts";
export { positionalEncoding } from "./positional_encoding.ts";
export { bicubicResize, imageScores, mapOutSize } from "./scoring.ts";
export { ParameterStore } from "./parameters.ts";
export { loadStateDict, stateDict } from "./state_dict.ts";
