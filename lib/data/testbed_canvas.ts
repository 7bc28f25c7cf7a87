/**
 * The drawing surface the testbed renderers (testbed_posenc.ts, testbed_fgmask.ts,
 * testbed_subtle.ts) share: a depth map in metres, a float RGB image, a per-pixel probability of
 * a missing point and the defect mask, turned into a `RenderedSample` by the same pinhole camera
 * as the synthetic puck (synthetic.ts: focal = 3 x side, ~1 mm per pixel at 0.6 m). Also the
 * small geometry helpers the renderers use (smoothstep, rotation, cosine caps).
 */
import type { RenderedSample, Rng } from "./synthetic.ts";

export class Canvas {
  readonly n: number;
  /** distance from the camera, metres */
  readonly z: Float32Array;
  /** RGB as floats (0-255), HWC */
  readonly rgb: Float32Array;
  /** probability that the sensor misses the point */
  readonly dropout: Float32Array;
  /** per-pixel depth noise, metres (standard deviation) */
  readonly noise: Float32Array;
  /** per-pixel RGB speckle (standard deviation, grey levels) */
  readonly speckle: Float32Array;
  readonly mask: Uint8Array;

  constructor(readonly size: number, depthNoise = 0.00015, rgbSpeckle = 3) {
    this.n = size * size;
    this.z = new Float32Array(this.n);
    this.rgb = new Float32Array(this.n * 3);
    this.dropout = new Float32Array(this.n);
    this.noise = new Float32Array(this.n).fill(depthNoise);
    this.speckle = new Float32Array(this.n).fill(rgbSpeckle);
    this.mask = new Uint8Array(this.n);
  }

  /** Visit every pixel: index k, row i, column j and the pixel centre (y, x) = (i + 0.5, j + 0.5). */
  each(fn: (k: number, i: number, j: number, y: number, x: number) => void) {
    const s = this.size;
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) fn(i * s + j, i, j, i + 0.5, j + 0.5);
  }

  setRgb(k: number, c: readonly number[]) {
    this.rgb[3 * k] = c[0];
    this.rgb[3 * k + 1] = c[1];
    this.rgb[3 * k + 2] = c[2];
  }

  /** Blend colour `c` over pixel k with opacity `alpha`. */
  blendRgb(k: number, c: readonly number[], alpha: number) {
    for (let ch = 0; ch < 3; ch++) this.rgb[3 * k + ch] = this.rgb[3 * k + ch] * (1 - alpha) + c[ch] * alpha;
  }

  /**
   * Noise, missing points and the camera: z + N(0, noise), a point is missing (z = 0) with
   * probability `dropout`, x and y from the pinhole model; RGB + N(0, speckle), rounded, clipped.
   * Draws, per pixel in row-major order: one normal for depth, one uniform, one normal for RGB.
   */
  finish(rng: Rng): RenderedSample {
    const size = this.size, focal = size * 3;
    const xyz = new Float32Array(this.n * 3);
    const rgb = new Uint8Array(this.n * 3);
    this.each((k, _i, _j, y, x) => {
      let z = this.z[k] + this.noise[k] * rng.normal();
      if (rng.uniform() < this.dropout[k]) z = 0;
      xyz[3 * k] = z === 0 ? 0 : ((x - size / 2) / focal) * z;
      xyz[3 * k + 1] = z === 0 ? 0 : ((y - size / 2) / focal) * z;
      xyz[3 * k + 2] = z;
      const t = this.speckle[k] * rng.normal();
      for (let c = 0; c < 3; c++) rgb[3 * k + c] = Math.max(0, Math.min(255, Math.round(this.rgb[3 * k + c] + t)));
    });
    return { rgb, xyz, mask: this.mask };
  }
}

/** 0 below `edge0`, 1 above `edge1`, smooth in between. */
export function smoothstep(edge0: number, edge1: number, v: number): number {
  const t = Math.min(1, Math.max(0, (v - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

/** (dy, dx) rotated by -angle: coordinates in the frame of a shape rotated by `angle`. */
export function unrotate(dy: number, dx: number, angle: number): [number, number] {
  const c = Math.cos(angle), s = Math.sin(angle);
  return [-s * dx + c * dy, c * dx + s * dy];
}

/** Raised-cosine cap: 1 at the centre, 0 at `radius` and beyond. */
export function cosineCap(r: number, radius: number): number {
  return r >= radius ? 0 : 0.5 * (1 + Math.cos(Math.PI * r / radius));
}

/** Clamp a colour channel value to [0, 255]. */
export const clamp255 = (v: number) => Math.max(0, Math.min(255, v));
