/** The loops of edge padding and its gradient (the op: lib/ops/replicate_pad.ts), on plain arrays. */
import type { NumArray } from "./kernel_host.ts";

export type Shape4 = [number, number, number, number];

/** out [N,H+2p,W+2p,C] from x [N,H,W,C]. */
export function replicatePadValues(x: NumArray, [n, h, w, c]: Shape4, pad: number, out: NumArray): void {
  const wp = w + 2 * pad, hp = h + 2 * pad;
  for (let b = 0; b < n; b++) {
    for (let py = 0; py < hp; py++) {
      const iy = Math.min(h - 1, Math.max(0, py - pad));
      const src = ((b * h + iy) * w) * c, dst = ((b * hp + py) * wp) * c;
      const left = x.subarray(src, src + c), right = x.subarray(src + (w - 1) * c, src + w * c);
      for (let k = 0; k < pad; k++) {
        out.set(left, dst + k * c);
        out.set(right, dst + (pad + w + k) * c);
      }
      out.set(x.subarray(src, src + w * c), dst + pad * c);
    }
  }
}

/** dx [N,H,W,C] = sum of dy over the padded copies of each pixel (the adjoint of the pad). */
export function replicatePadGradValues(dy: Float32Array, [n, h, w, c]: Shape4, pad: number, dx: Float32Array): void {
  const wp = w + 2 * pad, hp = h + 2 * pad;
  for (let b = 0; b < n; b++) {
    // interior: one block copy per row
    for (let iy = 0; iy < h; iy++) {
      const s = ((b * hp + iy + pad) * wp + pad) * c;
      dx.set(dy.subarray(s, s + w * c), ((b * h + iy) * w) * c);
    }
    // padding: add each padded pixel onto the edge pixel it copies
    for (let py = 0; py < hp; py++) {
      const iy = Math.min(h - 1, Math.max(0, py - pad));
      const interiorRow = py >= pad && py < pad + h;
      const row = ((b * h + iy) * w) * c, src = ((b * hp + py) * wp) * c;
      for (let px = 0; px < wp; px++) {
        if (interiorRow && px >= pad && px < pad + w) continue;
        const ix = Math.min(w - 1, Math.max(0, px - pad));
        const d = row + ix * c, s = src + px * c;
        for (let k = 0; k < c; k++) dx[d + k] += dy[s + k];
      }
    }
  }
}
