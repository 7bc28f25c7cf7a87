/**
 * A child process for the feature-cache concurrency test: extracts raw-patch features of a tiny
 * class into a given cache folder and prints the entry's path and whether it was a hit.
 * usage: deno run -A _cache_writer.ts DATA_ROOT CLASS CACHE_DIR
 */
import { openDataset } from "../../lib/data/mvtec.ts";
import { rawPatchBackbone } from "../../lib/features/backbones.ts";
import { cachedImageFeatures } from "../../lib/features/feature_cache.ts";

const [root, className, dir] = Deno.args;
const dataset = await openDataset(root, className);
const r = await cachedImageFeatures(dataset.train.map((s) => s.rgbPath), rawPatchBackbone, 4, { dir, data: root, className, split: "train" });
console.log(JSON.stringify({ cache: r.cache, path: r.path, sum: r.x.reduce((a, v) => a + v, 0) }));
