/**
 * Raster plumbing for image figures: channel expansion, antialiased resampling and PNG encoding.
 */
import { Buffer } from "node:buffer";
import { PNG } from "pngjs";

/** An 8-bit image, HWC row-major. */
export interface RasterImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

/** A single-channel float map (e.g. an anomaly map), row-major. */
export interface ScalarMap {
  data: Float32Array;
  width: number;
  height: number;
}

/** Expand gray/RGB/RGBA to RGBA (opaque when there was no alpha). */
export function toRgba(image: RasterImage): Uint8Array {
  const { data, width, height, channels } = image;
  const n = width * height;
  if (data.length !== n * channels) {
    throw new Error(`image data has ${data.length} values, expected ${width}x${height}x${channels}`);
  }
  if (channels === 4) return data.slice();
  const out = new Uint8Array(n * 4);
  for (let k = 0; k < n; k++) {
    const s = k * channels;
    out[4 * k] = data[s];
    out[4 * k + 1] = data[channels === 3 ? s + 1 : s];
    out[4 * k + 2] = data[channels === 3 ? s + 2 : s];
    out[4 * k + 3] = 255;
  }
  return out;
}

/** Per output index: first input index and normalised weights (a triangle filter). */
function resampleTaps(inSize: number, outSize: number): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  // Widen the filter when shrinking so every input pixel contributes (antialiasing, like PIL);
  // when enlarging this is plain bilinear with half-pixel centres.
  const support = Math.max(1, scale);
  const taps = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const start = Math.max(0, Math.floor(centre - support));
    const stop = Math.min(inSize, Math.ceil(centre + support));
    const weights = new Float64Array(stop - start);
    let total = 0;
    for (let j = start; j < stop; j++) {
      const w = Math.max(0, 1 - Math.abs(j + 0.5 - centre) / support);
      weights[j - start] = w;
      total += w;
    }
    for (let k = 0; k < weights.length; k++) weights[k] /= total;
    taps.push({ start, weights });
  }
  return taps;
}

/** Resize an HWC float raster (separable, antialiased when shrinking). */
export function resample(
  src: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  const xTaps = resampleTaps(width, outWidth);
  const yTaps = resampleTaps(height, outHeight);
  const rows = new Float32Array(height * outWidth * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outWidth; x++) {
      const { start, weights } = xTaps[x];
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < weights.length; k++) acc += weights[k] * src[(y * width + start + k) * channels + c];
        rows[(y * outWidth + x) * channels + c] = acc;
      }
    }
  }
  const out = new Float32Array(outHeight * outWidth * channels);
  for (let y = 0; y < outHeight; y++) {
    const { start, weights } = yTaps[y];
    for (let i = 0; i < outWidth * channels; i++) {
      let acc = 0;
      for (let k = 0; k < weights.length; k++) acc += weights[k] * rows[(start + k) * outWidth * channels + i];
      out[y * outWidth * channels + i] = acc;
    }
  }
  return out;
}

/** Resize an 8-bit image (any channel count), rounding back to bytes. */
export function resampleImage(image: RasterImage, outWidth: number, outHeight: number): RasterImage {
  if (outWidth === image.width && outHeight === image.height) return image;
  const f = resample(image.data, image.width, image.height, image.channels, outWidth, outHeight);
  const data = new Uint8Array(f.length);
  for (let i = 0; i < f.length; i++) data[i] = Math.round(f[i]); // Uint8Array clamps to 0..255
  return { data, width: outWidth, height: outHeight, channels: image.channels };
}

/** Encode RGBA bytes as an 8-bit PNG; `alpha: false` stores RGB only (smaller, for opaque images). */
export function encodePng(rgba: Uint8Array, width: number, height: number, { alpha = true } = {}): Uint8Array {
  if (rgba.length !== width * height * 4) throw new Error(`RGBA data has ${rgba.length} bytes, expected ${width}x${height}x4`);
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength); // pngjs wants a Buffer
  return new Uint8Array(PNG.sync.write(png, { colorType: alpha ? 6 : 2 }));
}

export function pngDataUri(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png.buffer, png.byteOffset, png.byteLength).toString("base64")}`;
}
