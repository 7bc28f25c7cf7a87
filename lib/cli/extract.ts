/**
 * `deno task ast extract --backbone NAME [--weights PATH] [--layer L] --image IMG --out OUT
 *   [--size PX | --map-len N] [--precision fp32|bf16]`: one image's features as safetensors, tensor `features`
 * (1, C, H, W) float32 (NCHW, PyTorch layout) with `__metadata__` naming backbone, layer,
 * input size, map size and the weights' SHA-256. The input side defaults to the backbone's
 * size for a 24x24 map (the paper's: 768 px for efficientnet-b5, 384 for mobilenet_v2).
 * `--precision bf16` runs the backbone's convolutions in bf16 (lib/backend/precision.ts; the
 * metadata then says `precision: bf16`); where bf16 cannot run they stay fp32, with a note.
 */
import { resolve } from "node:path";
import { initBackend } from "../backend/backend.ts";
import { setConvolutionPrecision } from "../backend/precision.ts";
import { PRECISIONS, type Precision } from "../config/ast_config.ts";
import type { RuntimeOptions } from "../config/runtime.ts";
import { backboneRecord, backboneSpec, resolveBackbone } from "../features/backbones.ts";
import { readImage } from "../io/images.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import { intOption, parseOptions, UsageError } from "./args.ts";

export const EXTRACT_USAGE = `usage: deno task ast extract --backbone NAME [--weights PATH] [--layer NAME]
         --image IMG --out OUT.safetensors [--size PX | --map-len N] [--precision fp32|bf16]`;

/** The paper's map side: the default when neither --size nor --map-len is given. */
export const DEFAULT_MAP_LEN = 24;

/** HWC [h, w, c] -> CHW. */
export function hwcToChw(x: Float32Array, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let k = 0; k < h * w; k++) for (let ch = 0; ch < c; ch++) out[ch * h * w + k] = x[k * c + ch];
  return out;
}

export async function extractCommand(args: string[], runtime: RuntimeOptions, log: (l: string) => void = console.log): Promise<number> {
  const { values: v } = parseOptions(args, {
    backbone: { type: "string" },
    weights: { type: "string" },
    layer: { type: "string" },
    image: { type: "string" },
    out: { type: "string" },
    size: { type: "string" },
    "map-len": { type: "string" },
    precision: { type: "string" },
  });
  if (!v.backbone) throw new UsageError("--backbone NAME is required");
  if (!v.image) throw new UsageError("--image IMG is required");
  if (!v.out) throw new UsageError("--out OUT.safetensors is required");
  if (v.size && v["map-len"]) throw new UsageError("give --size or --map-len, not both");
  let spec;
  try {
    spec = backboneSpec(v.backbone);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let mapLen = intOption("map-len", v["map-len"], 1) ?? DEFAULT_MAP_LEN;
  const size = intOption("size", v.size, 1);

  const wanted = (v.precision ?? "fp32") as Precision;
  if (!PRECISIONS.includes(wanted)) throw new UsageError(`--precision must be ${PRECISIONS.join(" or ")}, got '${v.precision}'`);

  await initBackend(runtime.backend);
  const precision = setConvolutionPrecision(wanted);
  if (precision.note) log(`note: ${precision.note}`);
  const { backbone, weightsPath } = await resolveBackbone({
    name: spec.name,
    weights: v.weights,
    layer: v.layer,
    weightsDir: runtime.weightsDir,
  });
  try {
    const stride = backbone.stride ?? spec.stride;
    if (size !== undefined) {
      if (size % stride !== 0) throw new UsageError(`--size ${size}: must be a multiple of ${backbone.name}'s stride ${stride}${backbone.layer ? ` at ${backbone.layer}` : ""}`);
      mapLen = size / stride;
    }
    const image = await readImage(v.image, { toRgb: true });
    const started = performance.now();
    const hwc = await backbone.extract(image, mapLen);
    const ms = performance.now() - started;
    const c = backbone.channels;
    if (hwc.length !== mapLen * mapLen * c) throw new Error(`${backbone.name} gave ${hwc.length} values, expected ${mapLen}x${mapLen}x${c}`);
    const rec = backboneRecord(backbone, mapLen);
    const meta: Record<string, string> = {
      layout: "NCHW",
      image: resolve(v.image),
      map_len: String(mapLen),
      ...(precision.precision === "bf16" ? { precision: "bf16" } : {}),
      ...(weightsPath ? { weights_path: weightsPath } : {}),
    };
    for (const [k, val] of Object.entries(rec)) meta[k] = String(val);
    await writeSafetensors(v.out, { features: { shape: [1, c, mapLen, mapLen], data: hwcToChw(hwc, mapLen, mapLen, c) } }, meta);
    log(`${backbone.name}${backbone.layer ? ` ${backbone.layer}` : ""}: ${rec.input_size} px -> features (1, ${c}, ${mapLen}, ${mapLen}) in ${ms.toFixed(0)} ms -> ${v.out}`);
    return 0;
  } finally {
    backbone.dispose?.();
  }
}
