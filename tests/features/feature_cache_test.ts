/** Feature cache: reuse on a hit, a changed key misses, stale or corrupt entries are rebuilt with a message. */
import { join } from "node:path";
import { openDataset } from "../../lib/data/mvtec.ts";
import type { Backbone } from "../../lib/features/backbones.ts";
import { cachedImageFeatures, type CacheContext, cacheFile, featureCacheKey } from "../../lib/features/feature_cache.ts";
import { buildInputs } from "../../lib/run/inputs.ts";
import { sampleInputFiles } from "../../lib/types.ts";
import { readSafetensors, writeSafetensors } from "../../lib/io/safetensors.ts";
import { assert, assertEquals } from "../assert.ts";
import { tinyMvtecAd } from "../run/_tiny.ts";

const root = await tinyMvtecAd(4);
const dataset = await openDataset(root, "tex");
const trainImages = dataset.train.map((s) => s.rgbPath);

/** A backbone that counts its calls: features = mean brightness, per cell and channel index. */
function countingBackbone(checksum = "aa"): Backbone & { calls: number } {
  const b = {
    name: "counting",
    description: "test double",
    channels: 2,
    layer: "l1",
    weightsChecksum: checksum,
    preprocessing: "p1",
    recipe: "area-imagenet",
    calls: 0,
    extract: (image: { data: Uint8Array }, mapLen: number) => {
      b.calls++;
      const mean = image.data.reduce((a, v) => a + v, 0) / image.data.length;
      return Promise.resolve(Float32Array.from({ length: mapLen * mapLen * 2 }, (_, k) => mean + k));
    },
  };
  return b as Backbone & { calls: number };
}

async function context(): Promise<{ ctx: CacheContext; lines: string[] }> {
  const lines: string[] = [];
  const ctx = { dir: await Deno.makeTempDir({ prefix: "ast-cache-" }), data: root, className: "tex", split: "train", log: (l: string) => lines.push(l) };
  return { ctx, lines };
}

Deno.test("feature cache: second request is a hit with identical features and no extraction", async () => {
  const { ctx, lines } = await context();
  const bb = countingBackbone();
  const first = await cachedImageFeatures(trainImages, bb, 4, ctx);
  assertEquals([first.cache, bb.calls], ["stored", dataset.train.length]);
  const again = await cachedImageFeatures(trainImages, bb, 4, ctx);
  assertEquals([again.cache, bb.calls], ["hit", dataset.train.length]);
  assertEquals(again.x, first.x);
  assert(lines.some((l) => /features train: cached/.test(l)));
  // the entry is a safetensors file with the key and a content checksum in its metadata
  const f = await readSafetensors(again.path!);
  assertEquals(f.tensors.get("features")!.shape, [dataset.train.length, 4, 4, 2]);
  const key = JSON.parse(f.metadata.key);
  assertEquals([key.backbone, key.layer, key.map_len, key.weights_sha256, key.split, key.class], ["counting", "l1", 4, "aa", "train", "tex"]);
  assert(/^[0-9a-f]{64}$/.test(f.metadata.content_sha256));
});

Deno.test("feature cache: any key change misses (map size, weights, split, image files)", async () => {
  const { ctx } = await context();
  const bb = countingBackbone();
  await cachedImageFeatures(trainImages, bb, 4, ctx);
  const n = dataset.train.length;
  assertEquals((await cachedImageFeatures(trainImages, bb, 3, ctx)).cache, "stored");
  const other = countingBackbone("bb");
  assertEquals((await cachedImageFeatures(trainImages, other, 4, ctx)).cache, "stored");
  assertEquals((await cachedImageFeatures(trainImages, bb, 4, { ...ctx, split: "test" })).cache, "stored");
  assertEquals(bb.calls, 3 * n);
  // a regenerated image (same path, new mtime) invalidates the entry
  const p = dataset.train[0].rgbPath;
  await Deno.utime(p, new Date(), new Date(Date.now() + 5000));
  assertEquals((await cachedImageFeatures(trainImages, bb, 4, ctx)).cache, "stored");
});

Deno.test("feature cache: truncated, bit-flipped or stale entries are rebuilt with a logged message", async () => {
  const { ctx, lines } = await context();
  const bb = countingBackbone();
  const { x, path } = await cachedImageFeatures(trainImages, bb, 4, ctx);
  const bytes = await Deno.readFile(path!);

  await Deno.writeFile(path!, bytes.subarray(0, bytes.length - 10)); // truncated
  let r = await cachedImageFeatures(trainImages, bb, 4, ctx);
  assertEquals(r.cache, "stored");
  assertEquals(r.x, x);
  assert(lines.some((l) => l.includes(`${path} is corrupt`) && l.includes("rebuilding")), lines.join("\n"));

  const flipped = await Deno.readFile(path!);
  flipped[flipped.length - 3] ^= 0x40; // same size, one value changed
  await Deno.writeFile(path!, flipped);
  lines.length = 0;
  r = await cachedImageFeatures(trainImages, bb, 4, ctx);
  assertEquals(r.cache, "stored");
  assert(lines.some((l) => /content checksum mismatch.*rebuilding/.test(l)), lines.join("\n"));

  // an entry at the expected name whose key differs (e.g. an older format) is stale
  const key = await featureCacheKey(trainImages, bb, 4, ctx);
  assertEquals(cacheFile(ctx.dir, key), path);
  const f = await readSafetensors(path!);
  await writeSafetensors(path!, { features: { shape: f.tensors.get("features")!.shape, data: f.tensors.get("features")!.data } }, {
    ...f.metadata,
    key: f.metadata.key.replace('"layer":"l1"', '"layer":"l0"'),
  });
  lines.length = 0;
  r = await cachedImageFeatures(trainImages, bb, 4, ctx);
  assertEquals(r.cache, "stored");
  assert(lines.some((l) => /is stale \(its key does not match\): rebuilding/.test(l)), lines.join("\n"));
  assertEquals(bb.calls, 4 * dataset.train.length);
  // no temp files are left behind (writes are temp + rename)
  const names = [...Deno.readDirSync(ctx.dir)].map((e) => e.name);
  assertEquals(names, [path!.split("/").pop()]);
});

Deno.test("feature cache: buildInputs uses it for the image part; off = extract every time", async () => {
  const { ctx } = await context();
  const bb = countingBackbone();
  const common = { mode: "rgb" as const, mapLen: 4, backbone: bb, useMask: false, preprocess: { fills: 3, bgThresh: 7e-3, dilateSize: 8 } };
  const a = await buildInputs(dataset.test.map(sampleInputFiles), { ...common, cache: { ...ctx, split: "test" } });
  const b = await buildInputs(dataset.test.map(sampleInputFiles), { ...common, cache: { ...ctx, split: "test" } });
  assertEquals(bb.calls, dataset.test.length);
  assertEquals(a.x, b.x);
  await buildInputs(dataset.test.map(sampleInputFiles), { ...common, cache: null });
  assertEquals(bb.calls, 2 * dataset.test.length);
});

Deno.test("feature cache: concurrent writers of one entry (in one process) never share a temporary file", async () => {
  const { ctx } = await context();
  // four extractions of the same entry at once: each writes the entry; all must end valid
  const results = await Promise.all([0, 1, 2, 3].map(() => cachedImageFeatures(trainImages, countingBackbone(), 4, ctx)));
  for (const r of results) assertEquals(r.x, results[0].x);
  const again = await cachedImageFeatures(trainImages, countingBackbone(), 4, ctx);
  assertEquals(again.cache, "hit");
  assertEquals(again.x, results[0].x);
  const leftovers = [...Deno.readDirSync(join(results[0].path!, ".."))].filter((e) => e.name.includes(".tmp-"));
  assertEquals(leftovers.map((e) => e.name), [], "no temporary files left");
});

Deno.test({ name: "feature cache: two processes filling one cache folder at once both succeed with one valid entry", sanitizeResources: false, fn: async () => {
  const { ctx } = await context();
  const writer = new URL("./_cache_writer.ts", import.meta.url).pathname;
  const child = () => new Deno.Command(Deno.execPath(), { args: ["run", "-A", writer, root, "tex", ctx.dir], stdout: "piped", stderr: "piped" }).output();
  const outs = await Promise.all([child(), child()]);
  const parsed = outs.map((o) => {
    assertEquals(o.code, 0, new TextDecoder().decode(o.stderr));
    return JSON.parse(new TextDecoder().decode(o.stdout).trim().split("\n").at(-1)!);
  });
  assertEquals(parsed[0].path, parsed[1].path);
  assertEquals(parsed[0].sum, parsed[1].sum);
  const third = await child();
  assertEquals(JSON.parse(new TextDecoder().decode(third.stdout).trim().split("\n").at(-1)!).cache, "hit");
} });

Deno.test("feature cache: bf16 features (issue 17) have entries of their own; fp32 keys are the ones from before the option", async () => {
  const { ctx } = await context();
  const bb = countingBackbone();
  const fp32Key = await featureCacheKey(trainImages, bb, 4, ctx);
  assert(!("precision" in fp32Key), "an fp32 key has no precision field (its file name stays what it was)");
  assertEquals(Object.keys(fp32Key).sort(), ["backbone", "channels", "class", "data", "files_sha256", "format", "input_size", "layer", "map_len", "preprocessing", "split", "weights_sha256"]);
  const bf16Ctx: CacheContext = { ...ctx, precision: "bf16" };
  const bf16Key = await featureCacheKey(trainImages, bb, 4, bf16Ctx);
  assertEquals(bf16Key.precision, "bf16");
  assert(cacheFile(ctx.dir, bf16Key) !== cacheFile(ctx.dir, fp32Key));
  const n = dataset.train.length;
  assertEquals((await cachedImageFeatures(trainImages, bb, 4, ctx)).cache, "stored");
  assertEquals((await cachedImageFeatures(trainImages, bb, 4, bf16Ctx)).cache, "stored");
  assertEquals((await cachedImageFeatures(trainImages, bb, 4, bf16Ctx)).cache, "hit");
  assertEquals((await cachedImageFeatures(trainImages, bb, 4, ctx)).cache, "hit");
  assertEquals(bb.calls, 2 * n);
});
