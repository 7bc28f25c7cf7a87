/**
 * Turns dataset samples into the flow's input: image features (rgb), unshuffled depth (depth),
 * or both concatenated, features first (combi); plus the soft foreground mask and, for test
 * samples, ground-truth masks at the anomaly-map resolution. Plain HWC arrays, stacked.
 */
import type { Mode } from "../experiment/config.ts";
import { loadDepth, loadMask, type Sample } from "../data/mvtec.ts";
import { UNSHUFFLE_FACTOR } from "../data/preprocess3d.ts";
import type { Backbone } from "./backbones.ts";
import { type CacheContext, cachedImageFeatures } from "./feature_cache.ts";

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
  /** called per sample of each pass; `what` = "image" (backbone) or "depth" */
  onProgress?: (done: number, total: number, what: "image" | "depth") => void;
  /** image-feature cache (feature_cache.ts); null/absent = extract every time */
  cache?: CacheContext | null;
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
  if (o.mode !== "depth") {
    const c = o.backbone!.channels;
    const { x: img } = await cachedImageFeatures(samples, o.backbone!, side, o.cache ?? null, (d, t) => o.onProgress?.(d, t, "image"));
    if (c === channels) x.set(img);
    else for (let k = 0; k < samples.length * cells; k++) x.set(img.subarray(k * c, (k + 1) * c), k * channels);
  }
  if (o.mode !== "rgb") {
    const offset = o.mode === "depth" ? 0 : o.backbone!.channels;
    for (let i = 0; i < samples.length; i++) {
      const base = i * cells * channels;
      const d = await loadDepth(samples[i], { mapLen: side, ...o.preprocess, useMask: o.useMask });
      for (let ch = 0; ch < DEPTH_CHANNELS; ch++) {
        for (let k = 0; k < cells; k++) x[base + k * channels + offset + ch] = d.depth[ch * cells + k];
      }
      if (masks) masks.set(d.foregroundDown, i * cells);
      o.onProgress?.(i + 1, samples.length, "depth");
    }
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
