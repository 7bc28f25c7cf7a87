/**
 * Extraction speed, for `deno task bench` (workloads `mobilenet_v2`, `effnet_b5_768`): wall ms
 * per image for `backbone.extract` at a map side, on a synthetic image already at the
 * backbone's input size (so decoding and large-image resizing are not timed). One warm-up
 * call first: it pays for kernel setup and weight upload.
 */
import type { DecodedImage } from "../../lib/io/images.ts";
import type { Backbone } from "../../lib/features/backbones.ts";

/** A deterministic RGB test pattern (smooth gradients plus a fine checker). */
export function syntheticImage(side: number): DecodedImage {
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const k = (y * side + x) * 3, checker = ((x >> 2) + (y >> 2)) & 1 ? 40 : 0;
      data[k] = (x * 255 / side + checker) & 255;
      data[k + 1] = (y * 255 / side + checker) & 255;
      data[k + 2] = ((x + y) * 127 / side) & 255;
    }
  }
  return { width: side, height: side, channels: 3, data };
}

/** Mean wall milliseconds per image over `n` timed extractions (after one warm-up). */
export async function measureExtraction(backbone: Backbone, mapLen: number, n: number): Promise<number> {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  const side = backbone.inputSize ? backbone.inputSize(mapLen) : mapLen * (backbone.stride ?? 1);
  const image = syntheticImage(side);
  await backbone.extract(image, mapLen);
  const started = performance.now();
  for (let i = 0; i < n; i++) await backbone.extract(image, mapLen);
  return (performance.now() - started) / n;
}
