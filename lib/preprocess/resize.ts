/**
 * Resampling and thresholding of single-channel float maps (row-major): torch's bilinear
 * (`F.interpolate(..., align_corners=False)`, no antialias: depth, masks) and an exact area
 * (box) resize (antialiased when shrinking: the raw-patch and MobileNetV2 inputs).
 */

/** Box-filter resize of one channel (exact area coverage; plain bilinear-like when enlarging). */
export function areaResize(src: Float32Array, h: number, w: number, outH: number, outW: number): Float32Array {
  const rowsW = axisWeights(h, outH), colsW = axisWeights(w, outW);
  const tmp = new Float32Array(outH * w);
  for (let o = 0; o < outH; o++) {
    for (const [i, wt] of rowsW[o]) {
      for (let x = 0; x < w; x++) tmp[o * w + x] += wt * src[i * w + x];
    }
  }
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    for (let o = 0; o < outW; o++) {
      let s = 0;
      for (const [i, wt] of colsW[o]) s += wt * tmp[y * w + i];
      out[y * outW + o] = s;
    }
  }
  return out;
}

/** For each output index, the input indices and normalised weights of its footprint. */
function axisWeights(n: number, out: number): [number, number][][] {
  const scale = n / out;
  const res: [number, number][][] = [];
  for (let o = 0; o < out; o++) {
    if (scale <= 1) {
      // enlarging: linear interpolation with half-pixel centres
      const s = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), n - 1);
      const i0 = Math.floor(s), i1 = Math.min(i0 + 1, n - 1), t = s - i0;
      res.push(i0 === i1 ? [[i0, 1]] : [[i0, 1 - t], [i1, t]]);
      continue;
    }
    const a = o * scale, b = (o + 1) * scale;
    const taps: [number, number][] = [];
    for (let i = Math.floor(a); i < Math.ceil(b); i++) {
      const cover = Math.min(b, i + 1) - Math.max(a, i);
      if (cover > 0) taps.push([i, cover / scale]);
    }
    res.push(taps);
  }
  return res;
}

/** Source taps of a 1-D bilinear resize with torch's align_corners=False convention. */
function bilinearTaps(inLen: number, outLen: number) {
  const lo = new Int32Array(outLen), hi = new Int32Array(outLen), frac = new Float32Array(outLen);
  const scale = inLen / outLen;
  for (let d = 0; d < outLen; d++) {
    const src = Math.max((d + 0.5) * scale - 0.5, 0); // torch clamps negative source indices to 0
    const i0 = Math.min(Math.floor(src), inLen - 1);
    lo[d] = i0;
    hi[d] = Math.min(i0 + 1, inLen - 1);
    frac[d] = src - i0;
  }
  return { lo, hi, frac };
}

/**
 * Bilinear resize of one channel, like torch `F.interpolate(mode="bilinear",
 * align_corners=False)` (no antialias) and tf `resizeBilinear(halfPixelCenters=true)`.
 */
export function resizeBilinear(
  src: Float32Array,
  h: number,
  w: number,
  outH: number,
  outW: number = outH,
): Float32Array {
  const ty = bilinearTaps(h, outH), tx = bilinearTaps(w, outW);
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const r0 = ty.lo[y] * w, r1 = ty.hi[y] * w, fy = ty.frac[y];
    for (let x = 0; x < outW; x++) {
      const c0 = tx.lo[x], c1 = tx.hi[x], fx = tx.frac[x];
      const top = src[r0 + c0] * (1 - fx) + src[r0 + c1] * fx;
      const bottom = src[r1 + c0] * (1 - fx) + src[r1 + c1] * fx;
      out[y * outW + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** 1 where value > threshold, else 0 (step 4 binarises the resized mask with threshold 0). */
export function binarize(values: Float32Array, threshold = 0): Float32Array {
  const out = new Float32Array(values.length);
  for (let k = 0; k < values.length; k++) out[k] = values[k] > threshold ? 1 : 0;
  return out;
}

