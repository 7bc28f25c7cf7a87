/**
 * On-disk cache of image features, so every run sharing (dataset, class, split, backbone,
 * layer, map size / input size, weights checksum, preprocessing) extracts them once.
 *
 * Layout: `<dir>/<first 32 hex of sha256(key)>.safetensors`, dir = `$AST_CACHE_DIR/features`
 * or `data/cache/features`. One tensor `features` [N, mapLen, mapLen, C] float32 (HWC per
 * image, samples in the split's order); `__metadata__` holds `key` (the canonical JSON key),
 * `content_sha256` (of the tensor bytes) and `format`. On read the key must match exactly and
 * the checksum must verify; a stale or corrupt entry is reported and rebuilt, never used.
 * Writes go through a temp file + rename, so readers never see a torn file.
 */
import { projectPath } from "../util/project.ts";
import { createHash } from "node:crypto";
import { join, relative, resolve } from "node:path";
import { readImage } from "../io/images.ts";
import { parseSafetensors, writeSafetensors } from "../io/safetensors.ts";
import type { Backbone } from "./backbone.ts";

export const FEATURE_CACHE_FORMAT = "ast-feature-cache/1";

export interface FeatureCacheKey {
  format: string;
  /** absolute dataset root */
  data: string;
  class: string;
  split: string;
  backbone: string;
  layer: string;
  map_len: number;
  input_size: number;
  channels: number;
  weights_sha256: string;
  preprocessing: string;
  /** sha256 of the image list: relative path, size and mtime of each file, in order */
  files_sha256: string;
  /** "bf16" for features computed with bf16 convolutions; absent for fp32 (keys from before the option) */
  precision?: "bf16";
}

export interface CacheContext {
  /** cache folder (see featureCacheDir) */
  dir: string;
  /** dataset root and class as given to the run */
  data: string;
  className: string;
  split: string;
  log?: (line: string) => void;
  /** "bf16" when the backbone's convolutions run in bf16 (lib/backend/precision.ts): its own entries; absent = fp32 */
  precision?: "bf16";
}

/** The runtime's cache folder (`$AST_CACHE_DIR/features`, see lib/config/runtime.ts), else the project's `data/cache/features`. */
export function featureCacheDir(runtimeDir?: string): string {
  return runtimeDir ?? projectPath("data", "cache", "features");
}

/** Identity of the image files: a regenerated dataset at the same path changes it. */
export async function filesFingerprint(root: string, paths: string[]): Promise<string> {
  const h = createHash("sha256");
  for (const p of paths) {
    const st = await Deno.stat(p);
    h.update(`${relative(root, p)}\t${st.size}\t${st.mtime?.getTime() ?? 0}\n`);
  }
  return h.digest("hex") as string;
}

export async function featureCacheKey(images: string[], backbone: Backbone, mapLen: number, ctx: CacheContext): Promise<FeatureCacheKey> {
  const data = resolve(ctx.data);
  return {
    format: FEATURE_CACHE_FORMAT,
    data,
    class: ctx.className,
    split: ctx.split,
    backbone: backbone.name,
    layer: backbone.layer ?? "",
    map_len: mapLen,
    input_size: backbone.inputSize ? backbone.inputSize(mapLen) : mapLen * (backbone.stride ?? 1),
    channels: backbone.channels,
    weights_sha256: backbone.weightsChecksum ?? "",
    preprocessing: backbone.preprocessing ?? "",
    files_sha256: await filesFingerprint(data, images),
    // only bf16 adds the key: fp32 keys (and so their files) stay those from before the option
    ...(ctx.precision === "bf16" ? { precision: "bf16" as const } : {}),
  };
}

function canonical(key: FeatureCacheKey): string {
  return JSON.stringify(key, Object.keys(key).sort());
}

export function cacheFile(dir: string, key: FeatureCacheKey): string {
  const h = createHash("sha256").update(canonical(key)).digest("hex") as string;
  return join(dir, `${h.slice(0, 32)}.safetensors`);
}

function contentChecksum(x: Float32Array): string {
  return createHash("sha256").update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength)).digest("hex") as string;
}

export type CacheLookup =
  | { status: "hit"; x: Float32Array }
  | { status: "miss" }
  | { status: "stale" | "corrupt"; reason: string };

/** Reads and verifies a cache entry (does not extract). */
export async function readCacheEntry(path: string, key: FeatureCacheKey, count: number): Promise<CacheLookup> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return { status: "miss" };
    return { status: "corrupt", reason: `unreadable (${(e as Error).message.split("\n")[0]})` };
  }
  let file;
  try {
    file = parseSafetensors(bytes, path);
  } catch (e) {
    return { status: "corrupt", reason: (e as Error).message.split("\n")[0] };
  }
  if (file.metadata.key !== canonical(key)) return { status: "stale", reason: "its key does not match" };
  const t = file.tensors.get("features");
  const shape = [count, key.map_len, key.map_len, key.channels];
  if (!t || t.dtype !== "F32" || JSON.stringify(t.shape) !== JSON.stringify(shape)) {
    return { status: "corrupt", reason: `features tensor missing or not F32 [${shape}]` };
  }
  const x = t.data as Float32Array;
  if (contentChecksum(x) !== file.metadata.content_sha256) return { status: "corrupt", reason: "content checksum mismatch" };
  return { status: "hit", x };
}

export async function writeCacheEntry(path: string, key: FeatureCacheKey, x: Float32Array, count: number): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await writeSafetensors(path, { features: { shape: [count, key.map_len, key.map_len, key.channels], data: x } }, {
    format: FEATURE_CACHE_FORMAT,
    key: canonical(key),
    content_sha256: contentChecksum(x),
    layout: "N,H,W,C",
  });
}

/** Image features [N, mapLen, mapLen, C] of image files, straight from the backbone. */
export async function extractImageFeatures(
  images: string[],
  backbone: Backbone,
  mapLen: number,
  onProgress?: (done: number, total: number) => void,
): Promise<Float32Array> {
  const cells = mapLen * mapLen, c = backbone.channels;
  const x = new Float32Array(images.length * cells * c);
  for (let i = 0; i < images.length; i++) {
    const image = await readImage(images[i], { toRgb: true });
    const f = await backbone.extract(image, mapLen);
    if (f.length !== cells * c) {
      throw new Error(`${images[i]}: backbone ${backbone.name} gave ${f.length} values, expected ${cells}x${c}`);
    }
    x.set(f, i * cells * c);
    onProgress?.(i + 1, images.length);
  }
  return x;
}

/**
 * Cached image features: reused when a valid entry exists, else extracted (with progress) and
 * stored. `ctx` null = no cache.
 */
export async function cachedImageFeatures(
  images: string[],
  backbone: Backbone,
  mapLen: number,
  ctx: CacheContext | null,
  onProgress?: (done: number, total: number) => void,
): Promise<{ x: Float32Array; cache: "hit" | "stored" | "off"; path?: string }> {
  if (!ctx) return { x: await extractImageFeatures(images, backbone, mapLen, onProgress), cache: "off" };
  const log = ctx.log ?? (() => {});
  const key = await featureCacheKey(images, backbone, mapLen, ctx);
  const path = cacheFile(ctx.dir, key);
  const found = await readCacheEntry(path, key, images.length);
  if (found.status === "hit") {
    log(`features ${ctx.split}: cached (${path})`);
    return { x: found.x, cache: "hit", path };
  }
  if (found.status !== "miss") log(`feature cache: ${path} is ${found.status} (${found.reason}): rebuilding`);
  const x = await extractImageFeatures(images, backbone, mapLen, onProgress);
  await writeCacheEntry(path, key, x, images.length);
  log(`features ${ctx.split}: stored in cache (${path})`);
  return { x, cache: "stored", path };
}
