/**
 * Connected components of a binary mask with 8-connectivity, as scipy.ndimage.label with a 3x3
 * structure of ones (what the MVTec AD / 3D-AD evaluation code uses to define defect regions).
 */
import { isPositiveLabel } from "./labels.ts";

export interface Components {
  /** Per pixel: 0 for background, 1..count for the region the pixel belongs to (row-major). */
  labels: Int32Array;
  count: number;
  /** sizes[r] = number of pixels of region r (index 0, the background, is unused and 0). */
  sizes: Int32Array;
}

/** Labels foreground pixels (mask value > 0) of a row-major width x height mask. */
export function labelComponents(mask: ArrayLike<number>, width: number, height: number): Components {
  const n = width * height;
  if (mask.length !== n) throw new Error(`mask has ${mask.length} values, expected ${width}x${height} = ${n}`);
  const labels = new Int32Array(n);
  const regionSizes: number[] = [0];
  const stack = new Int32Array(n); // each pixel is pushed at most once
  let count = 0;
  for (let seed = 0; seed < n; seed++) {
    if (labels[seed] !== 0 || !isPositiveLabel(mask[seed], "mask", seed)) continue;
    count++;
    labels[seed] = count;
    let top = 0, size = 0;
    stack[top++] = seed;
    while (top > 0) {
      const p = stack[--top];
      size++;
      const y = (p / width) | 0, x = p - y * width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (labels[q] === 0 && isPositiveLabel(mask[q], "mask", q)) {
            labels[q] = count;
            stack[top++] = q;
          }
        }
      }
    }
    regionSizes.push(size);
  }
  return { labels, count, sizes: Int32Array.from(regionSizes) };
}
