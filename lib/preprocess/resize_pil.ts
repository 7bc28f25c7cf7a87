/**
 * PIL's bilinear resize of 8-bit images (`Image.resize(..., BILINEAR)`), as torchvision's
 * `Resize((S,S))` does it on a PIL image before EfficientNet (lib/preprocess/rgb.ts).
 *
 * The resize reproduces Pillow's `ImagingResample` for 8-bit images: a triangle filter whose
 * support is scaled by the downscale factor (so shrinking is antialiased), coefficients
 * normalised per output pixel and quantised to 22-bit fixed point, a horizontal pass then a
 * vertical pass, each rounding and clamping to uint8. Pure TS, no native dependency.
 */
/** Pillow: PRECISION_BITS = 32 - 8 - 2 for 8-bit-per-channel resampling. */
const PRECISION_BITS = 22;

/** Pillow's bilinear ("triangle") filter, support 1. */
function triangle(x: number): number {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

/** Fixed-point taps of one resampling axis: output o reads inputs first[o] .. first[o]+count[o]-1. */
export interface AxisTaps {
  first: Int32Array;
  count: Int32Array;
  /** ksize fixed-point weights per output index (unused tail entries are 0) */
  weights: Int32Array;
  ksize: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for a full-image box. */
export function bilinearTaps(inSize: number, outSize: number): AxisTaps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize), count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const ss = 1 / filterScale;
    // C casts truncate toward zero; (center - support + 0.5) can be negative only near the edge,
    // where it is then clamped to 0 anyway.
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x] / ww : k[x];
      weights[o * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    first[o] = xmin;
    count[o] = xmax;
  }
  return { first, count, weights, ksize };
}

function clip8(acc: number): number {
  const v = Math.floor(acc / (1 << PRECISION_BITS)); // arithmetic >> on a value that may exceed int32
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

/**
 * PIL `Image.resize((outW, outH), BILINEAR)` of an 8-bit HWC image with `channels` channels.
 * Like Pillow, an axis whose size does not change is not resampled.
 */
export function resizeBilinearPil(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outW: number,
  outH: number,
): Uint8Array {
  let cur = data, curW = width;
  if (outW !== width) {
    const t = bilinearTaps(width, outW);
    const out = new Uint8Array(outW * height * channels);
    for (let y = 0; y < height; y++) {
      const row = y * width * channels;
      for (let o = 0; o < outW; o++) {
        const x0 = t.first[o], n = t.count[o], kb = o * t.ksize;
        for (let c = 0; c < channels; c++) {
          let acc = 1 << (PRECISION_BITS - 1);
          for (let i = 0; i < n; i++) acc += cur[row + (x0 + i) * channels + c] * t.weights[kb + i];
          out[(y * outW + o) * channels + c] = clip8(acc);
        }
      }
    }
    cur = out;
    curW = outW;
  }
  if (outH !== height) {
    const t = bilinearTaps(height, outH);
    const stride = curW * channels;
    const out = new Uint8Array(outH * stride);
    for (let o = 0; o < outH; o++) {
      const y0 = t.first[o], n = t.count[o], kb = o * t.ksize;
      for (let j = 0; j < stride; j++) {
        let acc = 1 << (PRECISION_BITS - 1);
        for (let i = 0; i < n; i++) acc += cur[(y0 + i) * stride + j] * t.weights[kb + i];
        out[o * stride + j] = clip8(acc);
      }
    }
    cur = out;
  }
  return cur === data ? data.slice() : cur;
}
