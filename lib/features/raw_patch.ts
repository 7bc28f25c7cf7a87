/**
 * Raw-pixel patch embedding: the image resized to 4*mapLen (area averaging, i.e. antialiased
 * when shrinking), ImageNet-normalised and pixel-unshuffled by 4 -> 48 channels per cell.
 * No learned features: a stand-in for a pretrained backbone, always labelled as such. (4x4
 * patches rather than 8x8: a quarter of the channels, so RGB+3D fits the demo's time budget.)
 */
import type { DecodedImage } from "../io/images.ts";

export const RAW_PATCH_FACTOR = 4;
export const IMAGENET_MEAN = [0.485, 0.456, 0.406];
export const IMAGENET_STD = [0.229, 0.224, 0.225];

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

/** Features HWC [mapLen, mapLen, 3*f*f], channel = c*f*f + dy*f + dx (torch pixel_unshuffle order). */
export function rawPatchEmbedding(image: DecodedImage, mapLen: number): Float32Array {
  if (image.channels !== 3) throw new Error(`raw patch embedding expects an RGB image, got ${image.channels} channels`);
  const f = RAW_PATCH_FACTOR, side = mapLen * f, cOut = 3 * f * f;
  const out = new Float32Array(mapLen * mapLen * cOut);
  for (let c = 0; c < 3; c++) {
    const plane = new Float32Array(image.width * image.height);
    for (let k = 0; k < plane.length; k++) plane[k] = image.data[k * 3 + c] / 255;
    const resized = areaResize(plane, image.height, image.width, side, side);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        const v = (resized[y * side + x] - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
        const cell = (Math.floor(y / f) * mapLen + Math.floor(x / f)) * cOut;
        out[cell + c * f * f + (y % f) * f + (x % f)] = v;
      }
    }
  }
  return out;
}
