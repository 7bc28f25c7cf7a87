/**
 * Analytic FLOP counts of the benchmarked workloads (convolutions and matmuls only; element-wise
 * ops, BatchNorm, the flow's clamps etc. are not counted: they are <2% of the work).
 *
 * Counting: one multiply-add = 2 FLOP. A stride-1 "same" conv k x k, cin -> cout over P output
 * pixels = 2 * P * k^2 * cin * cout. A training step = forward + input gradient + filter gradient
 * = 3 x forward for every conv (also the first one, whose input gradient autodiff may skip: this
 * keeps the count comparable with the speed issue's, e.g. the hidden-1024 student's ~2.3 TFLOP).
 * Extraction (no grad) = forward only.
 */
import { B5_BLOCKS, B5_STEM_CHANNELS, blockOutputSize, B5_STEM_PADS } from "../../lib/features/efficientnet/architecture.ts";

/** Forward + input grad + filter grad. */
export const TRAIN_STEP_FACTOR = 3;

/** 2 * MACs of a conv with `pixels` output positions (batch included). */
export function convFlops(pixels: number, kernel: number, cin: number, cout: number): number {
  return 2 * pixels * kernel * kernel * cin * cout;
}

export interface StudentShape {
  channels: number;
  hidden: number;
  nBlocks: number;
  posEncDim: number;
}

/** The asymmetric student's forward: conv1 (C+PE -> h), 2 convs per block (h -> h), conv2 (h -> C); all 3x3. */
export function studentForwardFlops(s: StudentShape, batch: number, side: number): number {
  const p = batch * side * side;
  return convFlops(p, 3, s.channels + s.posEncDim, s.hidden) +
    2 * s.nBlocks * convFlops(p, 3, s.hidden, s.hidden) +
    convFlops(p, 3, s.hidden, s.channels);
}

export interface FlowShape {
  channels: number;
  hidden: number;
  nBlocks: number;
  kernelSizes: number[];
  posEncDim: number;
}

/**
 * The flow's forward: per coupling block two subnets, each conv k (half + PE -> hidden) and
 * conv k (hidden -> 2 x other half); replicate padding keeps the map size.
 */
export function flowForwardFlops(f: FlowShape, batch: number, side: number): number {
  const p = batch * side * side;
  const s1 = Math.floor(f.channels / 2), s2 = f.channels - s1;
  let total = 0;
  for (let k = 0; k < f.nBlocks; k++) {
    const ks = f.kernelSizes[k % f.kernelSizes.length];
    total += convFlops(p, ks, s1 + f.posEncDim, f.hidden) + convFlops(p, ks, f.hidden, 2 * s2); // sub1
    total += convFlops(p, ks, s2 + f.posEncDim, f.hidden) + convFlops(p, ks, f.hidden, 2 * s1); // sub2
  }
  return total;
}

/**
 * EfficientNet-B5 forward on one square image up to `upToBlock`: stem 3x3/2 conv, then per
 * MBConv the 1x1 expansion (at the block's input size), the k x k depthwise conv (2 * k^2 per
 * output element), the squeeze-excitation matmuls and the 1x1 projection (at its output size).
 */
export function effnetB5ForwardFlops(inputSize: number, upToBlock: number): number {
  const stemOut = Math.floor((inputSize + B5_STEM_PADS[0] + B5_STEM_PADS[1] - 3) / 2) + 1;
  let total = convFlops(stemOut * stemOut, 3, 3, B5_STEM_CHANNELS);
  let inSide = stemOut;
  for (let b = 0; b <= upToBlock; b++) {
    const s = B5_BLOCKS[b];
    const outSide = blockOutputSize(inputSize, b);
    if (s.expandRatio !== 1) total += convFlops(inSide * inSide, 1, s.inChannels, s.midChannels);
    total += 2 * outSide * outSide * s.kernel * s.kernel * s.midChannels;
    total += squeezeExcitationFlops(b);
    total += convFlops(outSide * outSide, 1, s.midChannels, s.outChannels);
    inSide = outSide;
  }
  return total;
}

/** Block b's squeeze-excitation: two small dense layers, computed in JS (no tfjs kernel to profile). */
export function squeezeExcitationFlops(block: number): number {
  const s = B5_BLOCKS[block];
  return 2 * 2 * s.midChannels * s.seChannels;
}

/** Kernel names whose FLOPs `kernelFlops` knows (as tf.profile reports them). */
const CONV_KERNELS = new Set(["Conv2D", "FusedConv2D"]);
const DEPTHWISE_KERNELS = new Set(["DepthwiseConv2dNative", "FusedDepthwiseConv2D"]);
const MATMUL_KERNELS = new Set(["BatchMatMul", "_FusedMatMul", "MatMul"]);

/**
 * FLOPs of one profiled kernel from its shapes (NHWC; filters HWIO / [k,k,C,mult]), or 0 for
 * kernels that are not convs or matmuls. For graphs not described analytically here
 * (MobileNetV2 loaded from a layers model): run once under tf.profile and sum.
 */
export function kernelFlops(name: string, inputShapes: number[][], outputShapes: number[][]): number {
  const out = outputShapes[0];
  if (!out) return 0;
  const outElems = out.reduce((a, b) => a * b, 1);
  if (CONV_KERNELS.has(name)) {
    const f = inputShapes[1];
    return f ? 2 * outElems * f[0] * f[1] * f[2] : 0;
  }
  if (DEPTHWISE_KERNELS.has(name)) {
    const f = inputShapes[1];
    return f ? 2 * outElems * f[0] * f[1] : 0;
  }
  if (MATMUL_KERNELS.has(name)) {
    // out = [..., M, N]; the reduced dimension is whichever input dim is not M/N.
    const a = inputShapes[0], b = inputShapes[1];
    if (!a || !b) return 0;
    const n = out[out.length - 1];
    const k = b[b.length - 1] === n ? b[b.length - 2] : b[b.length - 1];
    return 2 * outElems * k;
  }
  return 0;
}
