/**
 * 3D (MVTec 3D-AD) preprocessing of AST, step by step (docs/AST_DETAILS.md "Inputs", steps 1-6),
 * on plain typed arrays (row-major, single channel unless stated): from an xyz point map to the
 * unshuffled depth the model sees and the soft foreground mask. The RGB side is rgb.ts; both
 * give the model an HWC image (`depthInput`). Conformance: tests/preprocess/depth_test.ts against
 * fixtures/ast_reference/preprocess_3d.safetensors.
 */
import type { HwcImage } from "../types.ts";
import { binarize, resizeBilinear } from "./resize.ts";

/** Step 1 default: number of gap-filling passes. */
export const DEFAULT_FILLS = 3;
/** Step 2 default: foreground threshold on |z - background plane|, metres (7 mm). */
export const DEFAULT_BG_THRESH = 7e-3;
/** Step 5: pixel-unshuffle factor (depth side = factor * map side). */
export const UNSHUFFLE_FACTOR = 8;
/** Step 6 default: side of the square dilation structure. */
export const DEFAULT_DILATE_SIZE = 8;

/**
 * Step 1. Each pass: every zero pixel becomes the mean of the non-zero values of its 3x3
 * neighbourhood (clipped at the bottom/right border) in the previous pass' image; no valid
 * neighbour -> stays 0. Row 0 and column 0 are never filled: the reference slices
 * `img[i-1:i+2, j-1:j+2]`, which is empty for i = 0 or j = 0.
 */
export function fillGaps(z: Float32Array, h: number, w: number, passes = DEFAULT_FILLS): Float32Array {
  let cur = Float32Array.from(z);
  for (let pass = 0; pass < passes; pass++) {
    const next = Float32Array.from(cur);
    let changed = false;
    for (let i = 1; i < h; i++) {
      const iEnd = Math.min(i + 1, h - 1);
      for (let j = 1; j < w; j++) {
        if (cur[i * w + j] !== 0) continue;
        const jEnd = Math.min(j + 1, w - 1);
        let sum = 0, count = 0;
        for (let y = i - 1; y <= iEnd; y++) {
          for (let x = j - 1; x <= jEnd; x++) {
            const v = cur[y * w + x];
            if (v !== 0) {
              sum += v;
              count++;
            }
          }
        }
        if (count > 0) {
          next[i * w + j] = sum / count;
          changed = true;
        }
      }
    }
    cur = next;
    if (!changed) break;
  }
  return cur;
}

/**
 * Mean of the non-zero values in rows [r0,r0+2) x cols [c0,c0+2); NaN when all are zero. Like
 * the reference's numpy code: the sum accumulates in float32 (the point map's type), the division
 * is in float64.
 */
function cornerMean(z: Float32Array, w: number, r0: number, c0: number): number {
  let sum = 0, count = 0;
  for (let y = r0; y < r0 + 2; y++) {
    for (let x = c0; x < c0 + 2; x++) {
      const v = z[y * w + x];
      sum = Math.fround(sum + v);
      if (v !== 0) count++;
    }
  }
  return count ? sum / count : NaN;
}

/**
 * Step 2, first half: the background plane, a bilinear surface through the non-zero means of
 * the four 2x2 corner windows (value at pixel centre (i, j) interpolated with i/(h-1), j/(w-1)).
 * A corner window with no valid point (the reference would produce NaN everywhere) takes the
 * mean of the other corners.
 */
export function backgroundPlane(z: Float32Array, h: number, w: number): Float64Array {
  const corners = [
    cornerMean(z, w, 0, 0), // top-left
    cornerMean(z, w, 0, w - 2), // top-right
    cornerMean(z, w, h - 2, 0), // bottom-left
    cornerMean(z, w, h - 2, w - 2), // bottom-right
  ];
  const valid = corners.filter((v) => !Number.isNaN(v));
  const fallback = valid.length ? valid.reduce((a, b) => a + b, 0) / valid.length : 0;
  const [tl, tr, bl, br] = corners.map((v) => (Number.isNaN(v) ? fallback : v));
  // float64, as the reference's numpy plane: rounded to float32, pixels within ~1e-8 of the
  // threshold flipped (one pixel in two of the shared puck's 65 point maps did).
  const plane = new Float64Array(h * w);
  for (let i = 0; i < h; i++) {
    const ti = h > 1 ? i / (h - 1) : 0;
    const left = tl * (1 - ti) + bl * ti;
    const right = tr * (1 - ti) + br * ti;
    for (let j = 0; j < w; j++) {
      const tj = w > 1 ? j / (w - 1) : 0;
      plane[i * w + j] = left * (1 - tj) + right * tj;
    }
  }
  return plane;
}

/**
 * Step 2: foreground (1) where |z - background plane| > threshold and z != 0, else 0.
 * Run on the gap-filled depth.
 */
export function backgroundPlaneForeground(
  z: Float32Array,
  h: number,
  w: number,
  threshold = DEFAULT_BG_THRESH,
): Float32Array {
  const plane = backgroundPlane(z, h, w);
  const fg = new Float32Array(h * w);
  for (let k = 0; k < h * w; k++) {
    fg[k] = z[k] !== 0 && Math.abs(z[k] - plane[k]) > threshold ? 1 : 0;
  }
  return fg;
}

/**
 * Step 3: background depth := mean foreground depth; subtract that mean; x100 (metres -> cm).
 * Without any foreground every pixel is background and the result is all zeros.
 */
export function centreDepth(z: Float32Array, foreground: Float32Array): Float32Array {
  let sum = 0, count = 0;
  for (let k = 0; k < z.length; k++) {
    sum += foreground[k] * z[k];
    count += foreground[k];
  }
  const meanFg = count > 0 ? sum / count : 0;
  const out = new Float32Array(z.length);
  for (let k = 0; k < z.length; k++) {
    const f = foreground[k];
    const d = f * z[k] + (1 - f) * meanFg;
    out[k] = (d - meanFg) * 100;
  }
  return out;
}

/**
 * Step 5: (side x side) -> (factor^2, side/factor, side/factor), CHW, channel = dy*factor + dx
 * (torch pixel_unshuffle on one channel; same order as tf.spaceToDepth).
 */
export function pixelUnshuffle(depth: Float32Array, side: number, factor = UNSHUFFLE_FACTOR): Float32Array {
  if (side % factor !== 0) throw new Error(`pixelUnshuffle: side ${side} is not a multiple of ${factor}`);
  const m = side / factor;
  const out = new Float32Array(side * side);
  for (let dy = 0; dy < factor; dy++) {
    for (let dx = 0; dx < factor; dx++) {
      const base = (dy * factor + dx) * m * m;
      for (let y = 0; y < m; y++) {
        for (let x = 0; x < m; x++) out[base + y * m + x] = depth[(y * factor + dy) * side + x * factor + dx];
      }
    }
  }
  return out;
}

/** 1-D binary dilation along rows (stride 1) or columns (stride w): reach [before, after]. */
function dilate1d(src: Float32Array, h: number, w: number, alongRows: boolean, before: number, after: number) {
  const out = new Float32Array(h * w);
  const lines = alongRows ? h : w, len = alongRows ? w : h;
  const step = alongRows ? 1 : w, lineStep = alongRows ? w : 1;
  for (let l = 0; l < lines; l++) {
    const base = l * lineStep;
    // distance-to-last-set-pixel sweep: out[i] = any src in [i - after, i + before]
    let lastSet = -Infinity;
    for (let i = 0; i < len; i++) {
      if (src[base + i * step] > 0) lastSet = i;
      if (i - lastSet <= after) out[base + i * step] = 1;
    }
    let nextSet = Infinity;
    for (let i = len - 1; i >= 0; i--) {
      if (src[base + i * step] > 0) nextSet = i;
      if (nextSet - i <= before) out[base + i * step] = 1;
    }
  }
  return out;
}

/**
 * Step 6, first half: binary dilation with a size x size square, as scipy `binary_dilation`
 * (border value 0). With an even size the structure is off-centre: a single pixel at index i
 * grows to i - size/2 .. i + size/2 - 1 in each axis (i - floor(size/2) .. i + ceil(size/2) - 1).
 */
export function dilateSquare(mask: Float32Array, h: number, w: number, size = DEFAULT_DILATE_SIZE): Float32Array {
  const before = Math.floor(size / 2), after = size - 1 - before;
  const rows = dilate1d(mask, h, w, true, before, after);
  return dilate1d(rows, h, w, false, before, after);
}

/** Step 6, second half: bilinear resize of the dilated mask to the map side, NOT binarised. */
export function softDownsample(mask: Float32Array, side: number, mapLen: number): Float32Array {
  return resizeBilinear(mask, side, side, mapLen, mapLen);
}

export interface PreprocessDepthOptions {
  /** Feature map side (24 for a 768 image; 8 in the fixture config). Depth side = 8 * mapLen. */
  mapLen?: number;
  fills?: number;
  bgThresh?: number;
  dilateSize?: number;
  /** false: the soft mask is all ones (no foreground weighting). Depth is computed the same. */
  useMask?: boolean;
}

export interface PreprocessedDepth {
  mapLen: number;
  depthLen: number;
  /** (64, mapLen, mapLen) CHW: the unshuffled depth, the network's 3D input. */
  depth: Float32Array;
  /** (mapLen, mapLen) soft foreground mask used to weight losses and scores. */
  foregroundDown: Float32Array;
  /** Intermediates, for inspection and tests. */
  zFilled: Float32Array;
  foregroundFull: Float32Array;
  depthResized: Float32Array;
  foregroundResized: Float32Array;
  foregroundDilated: Float32Array;
}

/**
 * Steps 1-6 composed. `input` is either z (h*w) or an interleaved xyz map (h*w*3), from which
 * the z channel is taken.
 */
export function preprocessDepth(
  input: Float32Array,
  h: number,
  w: number,
  { mapLen = 24, fills = DEFAULT_FILLS, bgThresh = DEFAULT_BG_THRESH, dilateSize = DEFAULT_DILATE_SIZE, useMask = true }:
    PreprocessDepthOptions = {},
): PreprocessedDepth {
  let z: Float32Array;
  if (input.length === h * w) z = input;
  else if (input.length === h * w * 3) {
    z = new Float32Array(h * w);
    for (let k = 0; k < h * w; k++) z[k] = input[k * 3 + 2];
  } else {
    throw new Error(`preprocessDepth: ${input.length} values fit neither ${h}x${w} nor ${h}x${w}x3`);
  }
  const depthLen = UNSHUFFLE_FACTOR * mapLen;
  const zFilled = fillGaps(z, h, w, fills);
  const foregroundFull = backgroundPlaneForeground(zFilled, h, w, bgThresh);
  const centred = centreDepth(zFilled, foregroundFull);
  const depthResized = resizeBilinear(centred, h, w, depthLen, depthLen);
  const foregroundResized = binarize(resizeBilinear(foregroundFull, h, w, depthLen, depthLen));
  const depth = pixelUnshuffle(depthResized, depthLen, UNSHUFFLE_FACTOR);
  const foregroundDilated = dilateSquare(foregroundResized, depthLen, depthLen, dilateSize);
  const foregroundDown = useMask
    ? softDownsample(foregroundDilated, depthLen, mapLen)
    : new Float32Array(mapLen * mapLen).fill(1);
  return {
    mapLen,
    depthLen,
    depth,
    foregroundDown,
    zFilled,
    foregroundFull,
    depthResized,
    foregroundResized,
    foregroundDilated,
  };
}

/** Channels of the unshuffled depth: one per position in an 8x8 block. */
export const DEPTH_CHANNELS = UNSHUFFLE_FACTOR * UNSHUFFLE_FACTOR;

/** The model's 3D input: unshuffled depth as an HWC image, and the soft foreground mask. */
export interface DepthInput {
  /** [mapLen, mapLen, 64] */
  depth: HwcImage;
  /** [mapLen * mapLen] soft foreground mask (all ones when the mask is off) */
  foreground: Float32Array;
}

/** Steps 1-6 of an xyz point map (h x w x 3, or z alone), as the model's HWC input. */
export function depthInput(xyz: Float32Array, h: number, w: number, options: PreprocessDepthOptions = {}): DepthInput {
  const d = preprocessDepth(xyz, h, w, options);
  const cells = d.mapLen * d.mapLen;
  const data = new Float32Array(cells * DEPTH_CHANNELS);
  for (let ch = 0; ch < DEPTH_CHANNELS; ch++) {
    for (let k = 0; k < cells; k++) data[k * DEPTH_CHANNELS + ch] = d.depth[ch * cells + k];
  }
  return { depth: { data, height: d.mapLen, width: d.mapLen, channels: DEPTH_CHANNELS }, foreground: d.foregroundDown };
}
