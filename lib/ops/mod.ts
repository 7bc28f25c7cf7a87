/**
 * lib/ops/: the differentiable ops the models are written in, one concept per file, each with
 * its composed reference (the pure-tfjs composition that defines what the op computes; it runs on
 * backends without the op's kernel and is what the tests compare the kernels with).
 *
 * An op owns its kernels' names and attributes (the contract a backend implements), its
 * `tf.registerGradient` registration (op_gradients.ts) and the decision to run a kernel: when the
 * active backend has it and, for the fused ops, the switch is on (fused_switch.ts). tfjs' own
 * gradient definitions are registered here too (training_gradients.ts).
 *
 * May import: `@tensorflow/tfjs-core` (and `@tensorflow/tfjs`, loaded once for its gradient
 * definitions), each other, lib/util. Never lib/backend: the kernels live there
 * (lib/backend/js/, lib/backend/native/), registered by lib/backend/backend.ts, which imports
 * the names from here.
 */
export { adamStepKernel, type AdamStepAttrs } from "./adam_step.ts";
export { batchNorm2d, type BatchNormParams } from "./batch_norm.ts";
export { batchNormLeakyRelu } from "./batch_norm_leaky_relu.ts";
export { clipByValueGradientComposed } from "./clip_by_value_gradient.ts";
export { conv2dBias } from "./conv2d_bias.ts";
export { couplingHalf, couplingHalfComposed } from "./coupling_half.ts";
export { activeBackendHas, setFusedOps } from "./fused_switch.ts";
export { joinClip, joinClipComposed } from "./join_clip.ts";
export { registerOpGradients } from "./op_gradients.ts";
export { permuteSplit, permuteSplitComposed } from "./permute_split.ts";
export { replicatePad, replicatePadComposed, replicatePadKernel } from "./replicate_pad.ts";
export { channelMeans, swish, swishComposed, swishWithMeans, swishWithMeansComposed } from "./swish.ts";
export { registerTrainingGradients } from "./training_gradients.ts";
