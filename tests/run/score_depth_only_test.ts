/**
 * Issue 15, item 7: a depth-only model scores a point map alone (`--depth` without `--image`; the
 * outputs name the point map), while RGB and RGB+3D models still need `--image`; and the normal
 * scores' standard deviation is one definition (sample sd, n - 1) in metrics.json, model.json and
 * scores.json.
 */
import { join } from "node:path";
import { scoreCommand } from "../../lib/cli/score.ts";
import { UsageError } from "../../lib/cli/args.ts";
import { DEFAULT_RUNTIME } from "../../lib/config/runtime.ts";
import { openDataset } from "../../lib/data/mvtec.ts";
import { decodePng } from "../../lib/io/images.ts";
import { runExperiment } from "../../lib/run/run.ts";
import { assert, assertClose, assertEquals, assertRejects } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "./_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};
const root = await tinyMvtec3d(11);
const base = await Deno.makeTempDir();
const depthModel = join(base, "depth");
await runExperiment({ data: root, className: "puck", mode: "depth", epochs: 1, seed: 0, out: depthModel, sets: TINY_SETS, log: quiet });
const ds = await openDataset(root, "puck");
const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));

Deno.test({ name: "score: a depth model scores --depth alone; outputs name the point map, the overlay is drawn on it", ...opts, fn: async () => {
  const xyz = ds.test.find((s) => s.defectType !== "good")!.xyzPath!;
  const out = join(base, "depth-only");
  const lines: string[] = [];
  assertEquals(await scoreCommand(["--model", depthModel, "--depth", xyz, "--out", out], DEFAULT_RUNTIME, (l) => lines.push(l)), 0);
  assert(lines.some((l) => l.startsWith(`${xyz}  score `)), lines.join("\n"));
  const scores = await readJson(join(out, "scores.json"));
  assertEquals(scores.images.length, 1);
  assertEquals([scores.images[0].image, scores.images[0].depth], [xyz, xyz]);
  assert(Number.isFinite(scores.images[0].score), JSON.stringify(scores.images[0]));
  const png = decodePng(await Deno.readFile(join(out, scores.images[0].overlay)));
  assert(png.width > 200 && png.height > 100, `overlay ${png.width}x${png.height}`);
  // the same point map with its RGB image gives the same score (the depth model never uses the RGB)
  const rgb = ds.test.find((s) => s.xyzPath === xyz)!.rgbPath;
  await scoreCommand(["--model", depthModel, "--image", rgb, "--depth", xyz, "--out", join(base, "with-rgb")], DEFAULT_RUNTIME, quiet);
  const withRgb = await readJson(join(base, "with-rgb", "scores.json"));
  assertClose([withRgb.images[0].score], [scores.images[0].score], { atol: 1e-7, what: "score" });
}});

Deno.test({ name: "score: a folder with xyz/ alone scores with a depth model", ...opts, fn: async () => {
  const dir = join(base, "xyz-folder");
  await Deno.mkdir(join(dir, "xyz"), { recursive: true });
  for (const s of ds.test.slice(0, 2)) await Deno.copyFile(s.xyzPath!, join(dir, "xyz", `${s.defectType}_${s.stem}.tiff`));
  const lines: string[] = [];
  assertEquals(await scoreCommand(["--model", depthModel, "--folder", dir, "--out", join(base, "xyz-folder-out")], DEFAULT_RUNTIME, (l) => lines.push(l)), 0);
  assert(lines.includes("2 scored, 0 failed"), lines.join("\n"));
}});

Deno.test({ name: "score: an RGB+3D model without --image is a usage error naming the fix", ...opts, fn: async () => {
  const combi = join(base, "combi");
  await runExperiment({ data: root, className: "puck", mode: "combi", backbone: "raw-patch", epochs: 1, seed: 0, out: combi, sets: TINY_SETS, log: quiet });
  await assertRejects(
    () => scoreCommand(["--model", combi, "--depth", ds.test[0].xyzPath!, "--out", join(base, "combi-out")], DEFAULT_RUNTIME, quiet),
    (e: Error) => e instanceof UsageError && e.message === `--image FILE is required: ${combi} is a combi model (only a depth model scores from --depth alone)`,
  );
  await assertRejects(
    () => scoreCommand(["--model", combi, "--folder", root, "--depth", ds.test[0].xyzPath!], DEFAULT_RUNTIME, quiet),
    (e: Error) => e instanceof UsageError && e.message.startsWith("--folder DIR takes no --image or --depth"),
  );
}});

Deno.test({ name: "score: the normal scores' sd is the sample sd (n - 1) in metrics.json, model.json and scores.json alike", ...opts, fn: async () => {
  const metrics = await readJson(join(depthModel, "metrics.json"));
  const card = await readJson(join(depthModel, "model.json"));
  const out = join(base, "sd");
  await scoreCommand(["--model", depthModel, "--depth", ds.test[0].xyzPath!, "--out", out], DEFAULT_RUNTIME, quiet);
  const scores = await readJson(join(out, "scores.json"));
  const v: number[] = card.normal_scores.values;
  assert(v.length >= 2, `${v.length} normal scores`);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)); // numpy std(ddof=1)
  assertClose([card.normal_scores.std, scores.normal_scores.std], [sd, sd], { atol: 0, rtol: 1e-12, what: "model.json / scores.json sd" });
  // metrics.json summarises the same scores (float32 in, float64 sums): same definition, same value
  assertEquals(metrics.validation_scores.n, v.length);
  assertClose([metrics.validation_scores.std], [sd], { atol: 0, rtol: 1e-6, what: "metrics.json sd" });
}});
