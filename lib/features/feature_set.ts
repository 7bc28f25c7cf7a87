/**
 * Turns dataset samples into the flow's input: image features (rgb), unshuffled depth (depth),
 * or both concatenated, features first (combi); plus the soft foreground mask and, for test
 * samples, ground-truth masks at the anomaly-map resolution. Plain HWC arrays, stacked.
 */
import type { Mode } from "../experiment/config.ts";
import { readImage } from "../io/images.ts";
import { loadDepth, loadMask, type Sample } from "../data/mvtec.ts";
import { UNSHUFFLE_FACTOR } from "../data/preprocess3d.ts";
import type { Backbone } from "./backbones.ts";

export interface FeatureSet {
  samples: Sample[];
  side: number;
  channels: number;
  /** [N, side, side, channels] */
  x: Float32Array;
  /** [N, side, side] soft foreground masks, or null when no mask is used */
  masks: Float32Array | null;
}

export interface FeatureOptions {
  mode: Mode;
  mapLen: number;
  backbone: Backbone | null;
  useMask: boolean;
  preprocess: { fills: number; bgThresh: number; dilateSize: number };
  onProgress?: (done: number, total: number) => void;
}

export const DEPTH_CHANNELS = UNSHUFFLE_FACTOR * UNSHUFFLE_FACTOR;

export function featureChannels(mode: Mode, backbone: Backbone | null): number {
  const img = mode === "depth" ? 0 : backbone!.channels;
  return img + (mode === "rgb" ? 0 : DEPTH_CHANNELS);
}

export async function buildFeatures(samples: Sample[], o: FeatureOptions): Promise<FeatureSet> {
  const side = o.mapLen, cells = side * side;
  const channels = featureChannels(o.mode, o.backbone);
  const x = new Float32Array(samples.length * cells * channels);
  const masks = o.useMask ? new Float32Array(samples.length * cells) : null;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i];
    const base = i * cells * channels;
    let offset = 0;
    if (o.mode !== "depth") {
      const image = await readImage(s.rgbPath, { toRgb: true });
      const f = await o.backbone!.extract(image, side);
      const c = o.backbone!.channels;
      if (f.length !== cells * c) throw new Error(`${s.rgbPath}: backbone ${o.backbone!.name} gave ${f.length} values, expected ${cells}x${c}`);
      for (let k = 0; k < cells; k++) x.set(f.subarray(k * c, (k + 1) * c), base + k * channels);
      offset = c;
    }
    if (o.mode !== "rgb") {
      const d = await loadDepth(s, { mapLen: side, ...o.preprocess, useMask: o.useMask });
      for (let ch = 0; ch < DEPTH_CHANNELS; ch++) {
        for (let k = 0; k < cells; k++) x[base + k * channels + offset + ch] = d.depth[ch * cells + k];
      }
      if (masks) masks.set(d.foregroundDown, i * cells);
    }
    o.onProgress?.(i + 1, samples.length);
  }
  for (let k = 0; k < x.length; k++) {
    if (!Number.isFinite(x[k])) {
      const i = Math.floor(k / (cells * channels));
      throw new Error(`${samples[i].xyzPath ?? samples[i].rgbPath}: non-finite feature value (corrupt input?)`);
    }
  }
  return { samples, side, channels, x, masks };
}

/** Ground-truth masks [N, outSize, outSize] (binary) for the test samples. */
export async function groundTruth(samples: Sample[], outSize: number): Promise<Float32Array> {
  const out = new Float32Array(samples.length * outSize * outSize);
  for (let i = 0; i < samples.length; i++) out.set(await loadMask(samples[i].maskPath, outSize), i * outSize * outSize);
  return out;
}
