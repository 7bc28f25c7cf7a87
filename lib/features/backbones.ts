/**
 * Registry of image feature extractors for rgb/combi modes. A backbone maps an RGB image to an
 * HWC feature map of side mapLen. Pretrained CNNs (MobileNetV2, EfficientNet-B5) register here
 * when their implementation and weights are available.
 */
import type { DecodedImage } from "../io/images.ts";
import { RAW_PATCH_FACTOR, rawPatchEmbedding } from "./raw_patch.ts";

export interface Backbone {
  name: string;
  /** what the features are, for records and tables */
  description: string;
  channels: number;
  extract(image: DecodedImage, mapLen: number): Promise<Float32Array>;
}

export const rawPatchBackbone: Backbone = {
  name: "raw-patch",
  description: `raw-pixel ${RAW_PATCH_FACTOR}x${RAW_PATCH_FACTOR} patch embedding (no pretrained network)`,
  channels: 3 * RAW_PATCH_FACTOR * RAW_PATCH_FACTOR,
  extract: (image, mapLen) => Promise.resolve(rawPatchEmbedding(image, mapLen)),
};

const REGISTRY = new Map<string, Backbone>([[rawPatchBackbone.name, rawPatchBackbone]]);

/** Pretrained backbones named by presets that this version cannot run yet. */
const PLANNED = new Set(["mobilenet_v2", "efficientnet-b5"]);

export function registerBackbone(b: Backbone): void {
  REGISTRY.set(b.name, b);
}

export interface ResolvedBackbone {
  backbone: Backbone;
  /** why a different backbone than requested is used, if so */
  note?: string;
}

/**
 * The backbone to use. `explicit` = chosen on the command line (never substituted); otherwise a
 * preset's choice falls back to the raw-patch embedding when the pretrained one is unavailable,
 * except for `paper`, which must use the paper's features.
 */
export function resolveBackbone(name: string, { explicit, preset }: { explicit: boolean; preset: string }): ResolvedBackbone {
  const b = REGISTRY.get(name);
  if (b) return { backbone: b };
  if (!PLANNED.has(name)) {
    throw new Error(`unknown backbone '${name}' (available: ${[...REGISTRY.keys()].join(", ")})`);
  }
  if (explicit || preset === "paper") {
    throw new Error(`backbone '${name}' is not available in this build (available: ${[...REGISTRY.keys()].join(", ")})`);
  }
  return { backbone: rawPatchBackbone, note: `${name} unavailable: using the raw-pixel patch embedding` };
}
