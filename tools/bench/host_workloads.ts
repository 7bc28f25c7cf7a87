/**
 * Host-side (plain JS, no tfjs) stages whose speed the unit tests used to assert and now only the
 * bench measures: the evaluation metrics of one MVTec-sized test set, and the 3D input stage of one
 * MVTec 3D-AD-sized image. No FLOP count (loops over pixels, sorting): GFLOP/s is recorded as 0.
 *  - metrics_mvtec: image AUROC and F1-max over 50 images, pixel AUROC over 50 x 192 x 192
 *    pixels and AUPRO (per-region overlap, FPR 0.3) on the same maps — one run's evaluation.
 *  - depth_800: an 800 x 800 xyz TIFF decoded and preprocessed to a 24 x 24 map (per image).
 */
import { encodeXyzTiff, decodeXyzTiff } from "../../lib/io/tiff.ts";
import { aupro, auroc, f1Max } from "../../lib/metrics/mod.ts";
import { depthInput } from "../../lib/preprocess/depth.ts";
import { mulberry32 } from "../../lib/util/random.ts";

export interface HostWorkload {
  kind: "host";
  name: string;
  task: "metrics" | "depth";
  referenceMs: null;
}

export interface HostStep {
  step(): Promise<void>;
  note: string;
  perImage: boolean;
}

/** Seeded maps with a few rectangular defects on every other image, scores raised inside them. */
function metricsStep(images = 50, side = 192): HostStep {
  const rng = mulberry32(99), px = side * side;
  const maps: Float32Array[] = [], masks: Uint8Array[] = [];
  for (let i = 0; i < images; i++) {
    const mask = new Uint8Array(px), map = new Float32Array(px);
    if (i % 2 === 0) {
      for (let d = 0; d < 3; d++) {
        const x0 = Math.floor(rng() * (side - 24)), y0 = Math.floor(rng() * (side - 24));
        const w = 4 + Math.floor(rng() * 20), h = 4 + Math.floor(rng() * 20);
        for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) mask[y * side + x] = 1;
      }
    }
    for (let p = 0; p < px; p++) map[p] = rng() + (mask[p] ? 0.5 : 0);
    maps.push(map);
    masks.push(mask);
  }
  const flatMaps = new Float32Array(images * px), flatMasks = new Uint8Array(images * px);
  maps.forEach((m, i) => flatMaps.set(m, i * px));
  masks.forEach((m, i) => flatMasks.set(m, i * px));
  const imageScores = maps.map((m) => m.reduce((a, b) => Math.max(a, b), -Infinity));
  const labels = masks.map((m) => (m.some((v) => v) ? 1 : 0));
  return {
    step: () => {
      auroc(imageScores, labels);
      f1Max(imageScores, labels);
      auroc(flatMaps, flatMasks);
      aupro(maps, masks, side, side);
      return Promise.resolve();
    },
    note: `${images} images x ${side}x${side}: image AUROC + F1-max, pixel AUROC, AUPRO`,
    perImage: false,
  };
}

/** A tilted plane with a raised disc and a ring of missing points, as an xyz TIFF in memory. */
function depthStep(side = 800, mapLen = 24): HostStep {
  const xyz = new Float32Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const k = (y * side + x) * 3, r = Math.hypot(x - side / 2, y - side / 2);
      const z = 0.6 + 1e-5 * x - (r < side / 4 ? 0.02 : 0);
      const missing = Math.abs(r - side / 3) < 2;
      xyz.set(missing ? [0, 0, 0] : [(x - side / 2) * 1e-3, (y - side / 2) * 1e-3, z], k);
    }
  }
  const bytes = encodeXyzTiff({ width: side, height: side, xyz });
  return {
    step: async () => {
      const map = await decodeXyzTiff(bytes, "bench.tiff");
      depthInput(map.xyz, map.height, map.width, { mapLen });
    },
    note: `${side}x${side} xyz TIFF decode + 3D preprocessing to ${mapLen}x${mapLen}`,
    perImage: true,
  };
}

export function prepareHost(w: HostWorkload): HostStep {
  return w.task === "metrics" ? metricsStep() : depthStep();
}
