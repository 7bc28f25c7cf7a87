/**
 * A point map as a grayscale picture: the background of a depth-only model's overlay, which has
 * no RGB image to draw on. Near = bright (raised parts read as high, as in the qualitative
 * panel); pixels without a point (z = 0) are black.
 */
import { readXyzTiff, zChannel } from "../io/tiff.ts";

export interface GrayImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1;
}

export function depthToGray(z: Float32Array, width: number, height: number): GrayImage {
  let lo = Infinity, hi = -Infinity;
  for (const v of z) if (v !== 0 && Number.isFinite(v)) (lo = Math.min(lo, v), hi = Math.max(hi, v));
  const span = hi > lo ? hi - lo : 1;
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const v = z[i];
    // 40..255 for points, so the nearest-to-farthest range stays visible against the black holes
    data[i] = v === 0 || !Number.isFinite(v) ? 0 : Math.round(40 + (215 * (hi - v)) / span);
  }
  return { data, width, height, channels: 1 };
}

export async function readDepthImage(path: string): Promise<GrayImage> {
  const map = await readXyzTiff(path);
  return depthToGray(zChannel(map), map.width, map.height);
}
