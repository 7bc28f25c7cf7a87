/**
 * EfficientNet-B5 block list and static "same" padding, as the reference package
 * (lukemelas EfficientNet-PyTorch) builds them: B0's seven stages scaled by width 1.6 and depth
 * 2.2, paddings fixed at construction for the native 456-pixel image.
 */

/** One B0 stage: repeats, kernel, stride, expand ratio, input and output channels (SE ratio 0.25). */
interface StageArgs {
  repeats: number;
  kernel: number;
  stride: number;
  expandRatio: number;
  inChannels: number;
  outChannels: number;
}

const B0_STAGES: readonly StageArgs[] = [
  { repeats: 1, kernel: 3, stride: 1, expandRatio: 1, inChannels: 32, outChannels: 16 },
  { repeats: 2, kernel: 3, stride: 2, expandRatio: 6, inChannels: 16, outChannels: 24 },
  { repeats: 2, kernel: 5, stride: 2, expandRatio: 6, inChannels: 24, outChannels: 40 },
  { repeats: 3, kernel: 3, stride: 2, expandRatio: 6, inChannels: 40, outChannels: 80 },
  { repeats: 3, kernel: 5, stride: 1, expandRatio: 6, inChannels: 80, outChannels: 112 },
  { repeats: 4, kernel: 5, stride: 2, expandRatio: 6, inChannels: 112, outChannels: 192 },
  { repeats: 1, kernel: 3, stride: 1, expandRatio: 6, inChannels: 192, outChannels: 320 },
];

export const B5_WIDTH = 1.6;
export const B5_DEPTH = 2.2;
/** The image size the reference package computes its static paddings for. */
export const B5_NATIVE_IMAGE_SIZE = 456;
export const SE_RATIO = 0.25;
export const BN_EPS = 1e-3;
/** Total stride of the network at the last block. */
export const B5_OUTPUT_STRIDE = 32;

/** efficientnet_pytorch `round_filters` (divisor 8, never below 90% of the scaled width). */
export function roundFilters(filters: number, width = B5_WIDTH, divisor = 8): number {
  const scaled = filters * width;
  let rounded = Math.max(divisor, Math.floor((scaled + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * scaled) rounded += divisor;
  return rounded;
}

/** efficientnet_pytorch `round_repeats`. */
export function roundRepeats(repeats: number, depth = B5_DEPTH): number {
  return Math.ceil(depth * repeats);
}

/** Pads [top, bottom, left, right] (square images: the same both ways). */
export type Pads = [number, number, number, number];

/**
 * TF "same" padding for a square input of side `inSize` (what Conv2dStaticSamePadding computes
 * once): total = max((ceil(in/s)-1)*s + k - in, 0), the odd pixel at the bottom/right.
 */
export function samePadding(inSize: number, kernel: number, stride: number): Pads {
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + kernel - inSize, 0);
  const before = Math.floor(total / 2), after = total - before;
  return [before, after, before, after];
}

export interface MBConvSpec {
  index: number;
  /** B0 stage (0..6) and position inside it (timm's blocks.stage.position) */
  stage: number;
  position: number;
  kernel: number;
  stride: number;
  expandRatio: number;
  inChannels: number;
  /** channels after the expansion (= inChannels when expandRatio is 1) */
  midChannels: number;
  outChannels: number;
  /** squeeze-excitation width: max(1, floor(inChannels * 0.25)) */
  seChannels: number;
  /** static pads of the depthwise conv (computed at the 456-pixel layout) */
  depthwisePads: Pads;
  /** identity skip: stride 1 and in == out */
  residual: boolean;
}

export const B5_STEM_CHANNELS = roundFilters(32);
/** The stem conv (3x3, stride 2) pads for a 456 input. */
export const B5_STEM_PADS: Pads = samePadding(B5_NATIVE_IMAGE_SIZE, 3, 2);

/** All B5 MBConv blocks (39), in the reference package's order. */
export function efficientNetB5Blocks(): MBConvSpec[] {
  const blocks: MBConvSpec[] = [];
  let size = Math.ceil(B5_NATIVE_IMAGE_SIZE / 2); // after the stem
  B0_STAGES.forEach((s, stage) => {
    const repeats = roundRepeats(s.repeats);
    const stageIn = roundFilters(s.inChannels), out = roundFilters(s.outChannels);
    for (let position = 0; position < repeats; position++) {
      const inChannels = position === 0 ? stageIn : out;
      const stride = position === 0 ? s.stride : 1;
      blocks.push({
        index: blocks.length,
        stage,
        position,
        kernel: s.kernel,
        stride,
        expandRatio: s.expandRatio,
        inChannels,
        midChannels: inChannels * s.expandRatio,
        outChannels: out,
        seChannels: Math.max(1, Math.floor(inChannels * SE_RATIO)),
        depthwisePads: samePadding(size, s.kernel, stride),
        residual: stride === 1 && inChannels === out,
      });
      size = Math.ceil(size / stride);
    }
  });
  return blocks;
}

export const B5_BLOCKS: readonly MBConvSpec[] = efficientNetB5Blocks();
/** The paper's feature block: last block of the 304-channel stage (stride 32). */
export const AST_FEATURE_BLOCK = 35;

/** Output side of a block for a square input of side `inputSize` with the static pads. */
export function blockOutputSize(inputSize: number, block: number): number {
  const conv = (n: number, k: number, s: number, p: Pads) => Math.floor((n + p[0] + p[1] - k) / s) + 1;
  let n = conv(inputSize, 3, 2, B5_STEM_PADS);
  for (let b = 0; b <= block; b++) {
    const s = B5_BLOCKS[b];
    n = conv(n, s.kernel, s.stride, s.depthwisePads);
  }
  return n;
}
