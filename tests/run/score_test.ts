import { join } from "node:path";
import { openDataset } from "../../lib/data/mvtec.ts";
import { runExperiment } from "../../lib/run/run.ts";
import { readModelCard } from "../../lib/results/model_card.ts";
import { folderInputs, openScoringModel, ScoreInputError, scoreImageFile, scoreInputs, writeScoreOutputs } from "../../lib/run/score.ts";
import { main as astMain } from "../../lib/cli/ast.ts";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { decodePng, readImage, writePng } from "../../lib/io/images.ts";
import { readScoresParquet } from "../../lib/results/run_files.ts";
import { assert, assertClose, assertEquals, assertRejects } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d, tinyMvtecAd } from "./_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};
const root3d = await tinyMvtec3d(7);
const base = await Deno.makeTempDir();
const model3d = join(base, "model3d");
await runExperiment({ data: root3d, className: "puck", mode: "combi", backbone: "raw-patch", epochs: 2, seed: 1, out: model3d, sets: TINY_SETS, log: quiet });
const ds3d = await openDataset(root3d, "puck");

function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const e of Deno.readDirSync(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) walk(p, `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}:${Deno.statSync(p).size}:${Deno.statSync(p).mtime?.getTime()}`);
    }
  };
  walk(dir, "");
  return out.sort();
}

Deno.test({ name: "score: the model card holds input spec, normal scores and a threshold with its meaning", ...opts, fn: async () => {
  const card = await readModelCard(model3d);
  assertEquals(card.mode, "combi");
  assertEquals([card.input.width, card.input.height], [64, 64]);
  assert(card.input.depth !== undefined, "depth size recorded for a 3D model");
  assertEquals(card.normal_scores!.source, "validation");
  assertEquals(card.normal_scores!.n, ds3d.validation.length);
  assert(card.threshold !== null && Number.isFinite(card.threshold.value), "threshold chosen");
  assert(card.threshold!.meaning.includes("held-apart normal images"), card.threshold!.meaning);
}});

Deno.test({ name: "score: scoring test images reproduces the run's recorded scores, writes maps and overlays, never the model folder", ...opts, fn: async () => {
  const before = listing(model3d);
  const m = await openScoringModel(model3d);
  const samples = ds3d.test.slice(0, 3);
  const scored = await scoreInputs(m, samples.map((s) => ({ image: s.rgbPath, depth: s.xyzPath })));
  const recorded = readScoresParquet(model3d);
  const byPath = new Map((recorded.getColumn("path").toArray() as string[]).map((p, i) => [p, recorded.getColumn("score_max").get(i) as number]));
  assertClose(scored.map((s) => s.score), samples.map((s) => byPath.get(s.rgbPath)!), { atol: 1e-5, rtol: 1e-4, what: "scores" });
  for (const s of scored) assertEquals(s.defective, s.score > m.threshold!.value);
  const out = join(base, "scores1");
  const { files } = await writeScoreOutputs(out, m, scored);
  assertEquals(files.length, 2 * scored.length + 1);
  const map = await readSafetensors(join(out, `${samples[0].stem}.map.safetensors`));
  assertEquals(map.tensors.get("anomaly_map")!.shape, [scored[0].side, scored[0].side]);
  assertClose([Number(map.metadata.score)], [scored[0].score], { atol: 1e-6 });
  const png = decodePng(await Deno.readFile(join(out, `${samples[0].stem}.overlay.png`)));
  assert(png.width > 200 && png.height > 100, `overlay ${png.width}x${png.height}`);
  await assertRejects(() => writeScoreOutputs(join(model3d, "scores"), m, scored), ScoreInputError, "never writes there");
  await assertRejects(() => writeScoreOutputs(out, m, scored), ScoreInputError, "already holds results");
  m.dispose();
  assertEquals(listing(model3d), before, "the model folder is unchanged");
}});

Deno.test({ name: "score: bad inputs are one-line errors naming the file and the fix", ...opts, fn: async () => {
  const m = await openScoringModel(model3d);
  const s = ds3d.test[0];
  await assertRejects(() => scoreInputs(m, [{ image: s.rgbPath }]), ScoreInputError, "needs the depth");
  const big = join(base, "big.png");
  const img = await readImage(s.rgbPath);
  await writePng(big, { width: 32, height: 32, channels: img.channels, data: img.data.slice(0, 32 * 32 * img.channels) });
  await assertRejects(() => scoreInputs(m, [{ image: big, depth: s.xyzPath }]), ScoreInputError, "resize or crop to 64x64");
  const corrupt = join(base, "corrupt.png");
  await Deno.writeFile(corrupt, new Uint8Array([1, 2, 3, 4]));
  await assertRejects(() => scoreInputs(m, [{ image: corrupt, depth: s.xyzPath }]), ScoreInputError, corrupt);
  await assertRejects(() => scoreInputs(m, [{ image: s.rgbPath, depth: corrupt }]), ScoreInputError, corrupt);
  m.dispose();
  await assertRejects(() => openScoringModel(base), Error, "no model.json");
}});

Deno.test({ name: "score: CLI on a folder of an MVTec AD-trained RGB model (held-apart split of train/good)", ...opts, fn: async () => {
  const rootAd = await tinyMvtecAd(2);
  const model = join(base, "modelAd");
  const { metrics } = await runExperiment({ data: rootAd, className: "tex", mode: "rgb", backbone: "raw-patch", epochs: 1, out: model, sets: TINY_SETS, log: quiet });
  const card = await readModelCard(model);
  assertEquals(card.normal_scores!.source, "train-holdout");
  assert(metrics.n_train < 8, "some training images were held apart");
  assert(metrics.threshold_report !== null && metrics.threshold_report !== undefined, "precision/recall at the threshold on labelled test data");
  const inputs = folderInputs(join(rootAd, "tex", "test", "blob"), card);
  assertEquals(inputs.length, 3);
  const out = join(base, "cli-out");
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    assertEquals(await astMain(["score", "--model", model, "--folder", join(rootAd, "tex", "test", "blob"), "--out", out, "--threshold", "quantile:0.5"]), 0);
  } finally {
    console.log = orig;
  }
  assert(lines.some((l) => l.includes("50.0% quantile")), lines.join("\n"));
  assertEquals(lines.filter((l) => /score [0-9.e-]+\s+normalised/.test(l)).length, 3);
  const summary = JSON.parse(await Deno.readTextFile(join(out, "scores.json")));
  assertEquals(summary.images.length, 3);
}});

Deno.test({ name: "score: one call from lib returns numbers, the map as a tensor and the figure", ...opts, fn: async () => {
  const s = ds3d.test[ds3d.test.length - 1];
  const r = await scoreImageFile(model3d, { image: s.rgbPath, depth: s.xyzPath });
  assertEquals(r.mapTensor.shape, [r.side, r.side]);
  assertClose(r.mapTensor.dataSync(), r.map, { atol: 0 });
  assertClose([r.mapTensor.max().dataSync()[0]], [r.score], { atol: 1e-6, rtol: 1e-6, what: "image score = max of the map" });
  r.mapTensor.dispose();
  assert(r.svg.startsWith("<svg") && r.svg.includes("<image"), "an SVG with the input image");
  assert(decodePng(r.png).width > 100, "a PNG rendering");
}});

Deno.test({ name: "score: damaged weights and an incompatible model folder are clear errors", ...opts, fn: async () => {
  const copy = join(base, "damaged");
  await Deno.mkdir(copy);
  for (const e of Deno.readDirSync(model3d)) if (e.isFile) await Deno.copyFile(join(model3d, e.name), join(copy, e.name));
  const bytes = await Deno.readFile(join(copy, "student.safetensors"));
  await Deno.writeFile(join(copy, "student.safetensors"), bytes.slice(0, 100));
  await assertRejects(() => openScoringModel(copy), Error, "student.safetensors: cannot load the trained weights");
  await Deno.copyFile(join(model3d, "student.safetensors"), join(copy, "student.safetensors"));
  const card = JSON.parse(await Deno.readTextFile(join(copy, "model.json")));
  await Deno.writeTextFile(join(copy, "model.json"), JSON.stringify({ ...card, version: 99 }));
  await assertRejects(() => openScoringModel(copy), Error, "retrain with this version");
}});
