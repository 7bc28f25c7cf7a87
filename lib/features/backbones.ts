/**
 * Registry of image feature extractors for rgb/combi modes (one table, timm-like): each entry
 * names its default layer, stride, channels, input-size rule, normalisation and where its
 * weights come from. A backbone maps an RGB image to an HWC feature map of side mapLen.
 *
 * Resolution (`resolveBackbone`, docs/CLI_CONTRACT.md):
 *  - a chosen backbone (`--backbone NAME [--weights PATH] [--layer L]`, or any config that
 *    differs from the preset's): exactly that backbone, or an error; never a substitute. Without
 *    `--weights` the weights are looked up under the runtime's weights root (`$AST_WEIGHTS_DIR`,
 *    else `data/weights`) at the entry's `weights.relPath`, else in the copy bundled with the
 *    repository (`weights.bundled`: MobileNetV2 in data/pretrained, SHA-256 checked on every load).
 *  - the preset's own choice (`config.backboneFallback`): `paper` (efficientnet-b5) errors when the
 *    weights are missing, saying how to get them; the other presets (mobilenet_v2) fall back to
 *    the raw-pixel patch embedding with a note that the run records.
 */
import { join, resolve } from "node:path";
import type { Backbone } from "./backbone.ts";
import { RAW_PATCH_FACTOR, RAW_PATCH_RECIPE, rawPatchEmbedding } from "./raw_patch.ts";
import { MOBILENET_V2_DEFAULT_LAYER, MOBILENET_V2_PREPROCESS, mobileNetV2Backbone } from "./mobilenet_v2.ts";
import { efficientNetB5Backbone, strideAtBlock } from "./efficientnet/backbone.ts";
import { pathKind, sha256File, weightFilesAt, WEIGHTS_DIR_ENV, weightsChecksum, weightsRoot } from "./weights_files.ts";
import { projectPath } from "../util/project.ts";

export type { Backbone };

export interface BackboneSpec {
  name: string;
  summary: string;
  /** null: no layers to choose from */
  defaultLayer: string | null;
  stride: number;
  /** channels at the default layer */
  channels: number;
  /** input side for a map of side mapLen */
  inputSize(mapLen: number): number;
  normalisation: string;
  /** null: needs no weights */
  weights: null | {
    /** where the loader looks under the weights root ($AST_WEIGHTS_DIR) */
    relPath: string;
    kind: "dir" | "file";
    format: string;
    howToGet: string;
    /**
     * Weights shipped in the repository (data/pretrained/), used when the weights root has none;
     * every file's SHA-256 is pinned and checked on each load.
     */
    bundled?: { path: string; sha256: Record<string, string> };
  };
  load(weightsPath: string | null, opts: { layer?: string }): Promise<Backbone>;
}

export class BackboneError extends Error {}

/** Said wherever the raw-pixel stand-in is used (run log, metrics.json, tables): it is no pretrained network. */
export const RAW_PATCH_WARNING = "NOT a pretrained network: raw pixels in 4x4 patches; results are not comparable with pretrained features";

export const rawPatchBackbone: Backbone = {
  name: "raw-patch",
  description: `raw-pixel ${RAW_PATCH_FACTOR}x${RAW_PATCH_FACTOR} patch embedding (no pretrained network)`,
  channels: 3 * RAW_PATCH_FACTOR * RAW_PATCH_FACTOR,
  stride: RAW_PATCH_FACTOR,
  inputSize: (mapLen) => RAW_PATCH_FACTOR * mapLen,
  preprocessing: "area-resize/imagenet-norm/unshuffle4/v1",
  recipe: RAW_PATCH_RECIPE,
  extract: (image, mapLen) => Promise.resolve(rawPatchEmbedding(image, mapLen)),
};

/** `block35`, `35` -> 35 (EfficientNet layers are named by block index). */
export function efficientNetBlock(layer: string): number {
  const m = /^(?:block|_blocks\.)?(\d+)$/.exec(layer);
  if (!m) throw new BackboneError(`--layer ${layer}: efficientnet-b5 layers are blockN (N = 0..38), e.g. block35`);
  return Number(m[1]);
}

/** EfficientNet-B5 (lib/features/efficientnet/) with the registry's layer naming and input rule. */
async function loadEfficientNetB5(weightsPath: string, opts: { layer?: string }): Promise<Backbone> {
  const block = efficientNetBlock(opts.layer ?? "block35");
  const file = (await pathKind(weightsPath)) === "dir" ? join(weightsPath, "model.safetensors") : weightsPath;
  const b = await efficientNetB5Backbone(file, { block });
  const stride = strideAtBlock(block);
  const out = Object.create(b) as Backbone;
  out.layer = `block${block}`;
  out.stride = stride;
  out.inputSize = (mapLen) => stride * mapLen;
  out.preprocessing ??= "pil-bilinear/imagenet-norm/v1";
  out.weightsFiles = [file];
  return out;
}

export const BACKBONES: readonly BackboneSpec[] = [
  {
    name: "raw-patch",
    summary: rawPatchBackbone.description,
    defaultLayer: null,
    stride: RAW_PATCH_FACTOR,
    channels: rawPatchBackbone.channels,
    inputSize: (mapLen) => RAW_PATCH_FACTOR * mapLen,
    normalisation: "ImageNet mean/std on [0,1]",
    weights: null,
    load: () => Promise.resolve(rawPatchBackbone),
  },
  {
    name: "mobilenet_v2",
    summary: "Keras MobileNetV2 alpha 0.35, ImageNet; a CPU-sized stand-in for EfficientNet-B5",
    defaultLayer: MOBILENET_V2_DEFAULT_LAYER,
    stride: 16,
    channels: 32,
    inputSize: (mapLen) => 16 * mapLen,
    normalisation: `RGB scaled to [-1,1] (${MOBILENET_V2_PREPROCESS})`,
    weights: {
      relPath: "mobilenet_v2_0.35_224",
      kind: "dir",
      format: "TensorFlow.js layers model: model.json + weights.bin (float32)",
      howToGet: "save keras.applications.MobileNetV2(alpha=0.35, weights='imagenet') as .h5 and convert it " +
        "with `tensorflowjs_converter --input_format keras model.h5 DIR` (Keras 2 format)",
      // Apache-2.0, provenance in data/pretrained/README.md
      bundled: {
        path: projectPath("data", "pretrained", "mobilenet_v2_0.35_224"),
        sha256: {
          "model.json": "6fcab4e086d741b9e19c760d663ee12649910317500de98593391516cc178e17",
          "weights.bin": "871179f09e824817dc433bda185c0a51e6706466f088745e8d51b49a9126ee04",
        },
      },
    },
    load: (path, opts) => mobileNetV2Backbone(path!, opts),
  },
  {
    name: "efficientnet-b5",
    summary: "EfficientNet-B5 (ImageNet, AutoAugment) to block 35, as in the paper",
    defaultLayer: "block35",
    stride: 32,
    channels: 304,
    inputSize: (mapLen) => 32 * mapLen,
    normalisation: "PIL-style bilinear resize, ImageNet mean/std on [0,1]",
    weights: {
      relPath: join("efficientnet_b5", "model.safetensors"),
      kind: "file",
      format: "safetensors: timm tf_efficientnet_b5.aa_in1k or efficientnet_pytorch state-dict names",
      howToGet: "with internet access run `deno run -A lib/cli/download_weights.ts --out " +
        "$AST_WEIGHTS_DIR/efficientnet_b5` (fetches timm's tf_efficientnet_b5.aa_in1k model.safetensors " +
        "from Hugging Face and records its SHA-256)",
    },
    load: (path, opts) => loadEfficientNetB5(path!, opts),
  },
];

export function backboneSpec(name: string): BackboneSpec {
  const s = BACKBONES.find((b) => b.name === name);
  if (!s) throw new BackboneError(`unknown backbone '${name}' (available: ${BACKBONES.map((b) => b.name).join(", ")})`);
  return s;
}

export interface ResolveOptions {
  /** the backbone asked for (config / preset) */
  name: string;
  /** missing weights may fall back to the raw-pixel patch embedding (a preset's own choice only) */
  fallback?: boolean;
  /** --weights: a file or folder; no lookup */
  weights?: string;
  /** --layer: overrides the entry's default layer */
  layer?: string;
  /** the weights root (RuntimeOptions.weightsDir); undefined = the project's data/weights */
  weightsDir?: string;
  /** false: ignore weights bundled in data/pretrained (what a checkout without them would do) */
  bundled?: boolean;
}

export interface ResolvedBackbone {
  backbone: Backbone;
  /** why a different backbone than requested is used, if so */
  note?: string;
  /** the weights file or folder used, absolute */
  weightsPath?: string;
}

/** Where a backbone's weights are expected when --weights is not given. */
export function defaultWeightsPath(spec: BackboneSpec, weightsDir?: string): string | null {
  return spec.weights ? join(weightsRoot(weightsDir).dir, spec.weights.relPath) : null;
}

/**
 * The bundled weights' folder after checking every file against its pinned SHA-256; null when the
 * backbone has none or they are not in this checkout.
 */
export async function bundledWeights(spec: BackboneSpec): Promise<string | null> {
  const bundled = spec.weights?.bundled;
  if (!bundled || (await pathKind(bundled.path)) !== "dir") return null;
  for (const [name, want] of Object.entries(bundled.sha256)) {
    const file = join(bundled.path, name);
    if ((await pathKind(file)) !== "file") throw new BackboneError(`${file}: bundled ${spec.name} weights file missing; restore it (git checkout ${file}) or pass --weights PATH`);
    const got = await sha256File(file);
    if (got !== want) {
      throw new BackboneError(`${file}: SHA-256 ${got}, but the bundled ${spec.name} file is ${want}: the file was changed or damaged; restore it (git checkout ${file}) or pass --weights PATH`);
    }
  }
  return bundled.path;
}

/**
 * A backbone's weights: --weights (must exist), else the weights root's copy, else the bundled
 * one (checked); null when there are none.
 */
export async function locateWeights(spec: BackboneSpec, explicitPath?: string, weightsDir?: string, bundled = true): Promise<string | null> {
  if (!spec.weights) {
    if (explicitPath) throw new BackboneError(`--weights: backbone '${spec.name}' takes no weights`);
    return null;
  }
  if (explicitPath) {
    const kind = await pathKind(explicitPath);
    if (!kind) throw new BackboneError(`--weights ${explicitPath}: not found`);
    return resolve(explicitPath);
  }
  const p = defaultWeightsPath(spec, weightsDir)!;
  if ((await pathKind(p)) === spec.weights.kind) return p;
  return bundled ? await bundledWeights(spec) : null;
}

/** How to provide missing weights, as one line. */
export function missingWeightsMessage(spec: BackboneSpec, weightsDir?: string): string {
  const root = weightsRoot(weightsDir);
  const where = root.fromEnv ? `$${WEIGHTS_DIR_ENV} (${root.dir})` : `${root.dir} ($${WEIGHTS_DIR_ENV} is not set)`;
  return `backbone '${spec.name}': weights not found at ${defaultWeightsPath(spec, weightsDir)} (looked under ${where}). ` +
    `To get them: ${spec.weights!.howToGet}; place them at $${WEIGHTS_DIR_ENV}/${spec.weights!.relPath} ` +
    `(${spec.weights!.format}) or pass --weights PATH`;
}

/** The backbone to use (rules in the module comment). Loads the network. */
export async function resolveBackbone(o: ResolveOptions): Promise<ResolvedBackbone> {
  const spec = backboneSpec(o.name);
  if (o.layer && !spec.defaultLayer) throw new BackboneError(`--layer: backbone '${spec.name}' has no layers to choose from`);
  const path = await locateWeights(spec, o.weights, o.weightsDir, o.bundled ?? true);
  if (spec.weights && !path) {
    if (!o.fallback || o.weights) throw new BackboneError(missingWeightsMessage(spec, o.weightsDir));
    return {
      backbone: rawPatchBackbone,
      note: `${spec.name} weights not found at ${defaultWeightsPath(spec, o.weightsDir)} (set $${WEIGHTS_DIR_ENV}): using the raw-pixel patch embedding — ${RAW_PATCH_WARNING}`,
    };
  }
  const backbone = await spec.load(path, { layer: o.layer });
  return {
    backbone: await withSpecDefaults(backbone, spec, path, o.layer),
    ...(path ? { weightsPath: path } : {}),
    ...(spec.name === "raw-patch" ? { note: `raw-patch features chosen — ${RAW_PATCH_WARNING}` } : {}),
  };
}

/** Fill optional fields a loader left out from the registry entry (layer, stride, input rule, checksum). */
async function withSpecDefaults(b: Backbone, spec: BackboneSpec, path: string | null, layer?: string): Promise<Backbone> {
  if (b.layer && b.inputSize && b.stride && (b.weightsChecksum || !path)) return b;
  const out = Object.create(b) as Backbone;
  out.layer = b.layer ?? layer ?? spec.defaultLayer ?? undefined;
  out.stride = b.stride ?? spec.stride;
  out.inputSize = b.inputSize ?? spec.inputSize;
  if (!b.weightsChecksum && path) {
    const files = await weightFilesAt(path);
    out.weightsFiles = files;
    out.weightsChecksum = await weightsChecksum(files);
  }
  return out;
}


/** Read-only description of a resolved backbone, for run records and file metadata. */
export function backboneRecord(b: Backbone, mapLen: number): Record<string, string | number> {
  return {
    backbone: b.name,
    ...(b.layer ? { layer: b.layer } : {}),
    input_size: b.inputSize ? b.inputSize(mapLen) : mapLen * (b.stride ?? 1),
    channels: b.channels,
    ...(b.weightsChecksum ? { weights_sha256: b.weightsChecksum } : {}),
    ...(b.preprocessing ? { preprocessing: b.preprocessing } : {}),
  };
}
