import { join } from "node:path";
import { openDataset } from "../../lib/data/mvtec.ts";
import { runExperiment } from "../../lib/run/run.ts";
import { readModelCard } from "../../lib/results/model_card.ts";
import { folderInputs, openScoringModel, scoreEach, ScoreInputError, scoreImageFile, scoreInputs, writeScoreOutputs } from "../../lib/run/score.ts";
import { scoreCommand } from "../../lib/cli/score.ts";
import { writeXyzTiff } from "../../lib/io/tiff.ts";
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

/** Rejects with an error of class `cls` whose message contains `text` (node's rejects takes a third argument as its own message, not a check). */
async function rejectsWith(fn: () => Promise<unknown>, cls: new (...a: never[]) => Error, text: string): Promise<void> {
  await assertRejects(fn, (e: Error) => {
    assert(e instanceof cls, `${e?.constructor?.name}: ${e?.message}`);
    assert(e.message.includes(text), `expected '${text}' in '${e.message}'`);
    assert(!e.message.includes("\n"), `one line: '${e.message}'`);
    return true;
  });
}

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
  await rejectsWith(() => writeScoreOutputs(join(model3d, "scores"), m, scored), ScoreInputError, "never writes there");
  await rejectsWith(() => writeScoreOutputs(out, m, scored), ScoreInputError, "already holds results");
  m.dispose();
  assertEquals(listing(model3d), before, "the model folder is unchanged");
}});

Deno.test({ name: "score: bad inputs are one-line errors naming the file and the fix", ...opts, fn: async () => {
  const m = await openScoringModel(model3d);
  const s = ds3d.test[0];
  await rejectsWith(() => scoreInputs(m, [{ image: s.rgbPath }]), ScoreInputError, "needs the depth");
  const big = join(base, "big.png");
  const img = await readImage(s.rgbPath);
  await writePng(big, { width: 32, height: 32, channels: img.channels, data: img.data.slice(0, 32 * 32 * img.channels) });
  await rejectsWith(() => scoreInputs(m, [{ image: big, depth: s.xyzPath }]), ScoreInputError, "resize or crop to 64x64");
  const corrupt = join(base, "corrupt.png");
  await Deno.writeFile(corrupt, new Uint8Array([1, 2, 3, 4]));
  await rejectsWith(() => scoreInputs(m, [{ image: corrupt, depth: s.xyzPath }]), ScoreInputError, corrupt);
  await rejectsWith(() => scoreInputs(m, [{ image: s.rgbPath, depth: corrupt }]), ScoreInputError, corrupt);
  m.dispose();
  await rejectsWith(() => openScoringModel(base), Error, "no model.json");
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
  await rejectsWith(() => openScoringModel(copy), Error, "student.safetensors: SHA-256 ");
  // with its hash record fixed up, the loader's own check still names the damaged file
  const recorded = JSON.parse(await Deno.readTextFile(join(copy, "model.json")));
  await Deno.writeTextFile(join(copy, "model.json"), JSON.stringify({ ...recorded, trained_weights_sha256: { ...recorded.trained_weights_sha256, "student.safetensors": await sha256(join(copy, "student.safetensors")) } }));
  await rejectsWith(() => openScoringModel(copy), Error, "student.safetensors: cannot load the trained weights");
  await Deno.copyFile(join(model3d, "student.safetensors"), join(copy, "student.safetensors"));
  const card = JSON.parse(await Deno.readTextFile(join(copy, "model.json")));
  await Deno.writeTextFile(join(copy, "model.json"), JSON.stringify({ ...card, version: 99 }));
  await rejectsWith(() => openScoringModel(copy), Error, "retrain with this version");
}});

/** A copy of a model folder's files (to damage without touching the original). */
async function copyModel(from: string, name: string): Promise<string> {
  const copy = join(base, name);
  await Deno.mkdir(copy);
  for (const e of Deno.readDirSync(from)) if (e.isFile) await Deno.copyFile(join(from, e.name), join(copy, e.name));
  return copy;
}

const sha256 = async (path: string) => Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(path))), (b) => b.toString(16).padStart(2, "0")).join("");

/** Every float32 value of a safetensors file set to NaN (header and size unchanged). */
async function nanWeights(path: string): Promise<void> {
  const bytes = await Deno.readFile(path);
  const dv = new DataView(bytes.buffer);
  const headerLen = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  for (const [name, t] of Object.entries(header) as [string, { dtype: string; data_offsets: [number, number] }][]) {
    if (name === "__metadata__" || t.dtype !== "F32") continue;
    for (let p = 8 + headerLen + t.data_offsets[0]; p < 8 + headerLen + t.data_offsets[1]; p += 4) dv.setFloat32(p, NaN, true);
  }
  await Deno.writeFile(path, bytes);
}

Deno.test({ name: "score: model.json records the SHA-256 of the trained weights (format 1.1) and the input-size rule", ...opts, fn: async () => {
  const card = await readModelCard(model3d);
  assert(card.version >= 1.1, `format ${card.version}`);
  assertEquals(Object.keys(card.trained_weights_sha256!).sort(), ["student.safetensors", "teacher.safetensors"]);
  for (const [name, hex] of Object.entries(card.trained_weights_sha256!)) assertEquals(hex, await sha256(join(model3d, name)));
  assert(card.input.size_rule!.includes("scoring refuses images of another size"), String(card.input.size_rule));
}});

Deno.test({ name: "score: tampered trained weights -> one-line error naming the file and both hashes", ...opts, fn: async () => {
  const copy = await copyModel(model3d, "tampered");
  const path = join(copy, "teacher.safetensors");
  const bytes = await Deno.readFile(path);
  bytes[bytes.length - 1] ^= 0x55; // one weight changed: still a loadable file
  await Deno.writeFile(path, bytes);
  const want = (await readModelCard(copy)).trained_weights_sha256!["teacher.safetensors"];
  await rejectsWith(() => openScoringModel(copy), Error, `${path}: SHA-256 ${await sha256(path)}, but model.json records ${want}`);
}});

Deno.test({ name: "score: NaN in the trained weights (hash record fixed up) -> error naming the image, never 'ok'; exit non-zero", ...opts, fn: async () => {
  const copy = await copyModel(model3d, "nan");
  const path = join(copy, "student.safetensors");
  await nanWeights(path);
  const card = JSON.parse(await Deno.readTextFile(join(copy, "model.json")));
  card.trained_weights_sha256["student.safetensors"] = await sha256(path);
  await Deno.writeTextFile(join(copy, "model.json"), JSON.stringify(card));
  const s = ds3d.test[0];
  const m = await openScoringModel(copy);
  try {
    await rejectsWith(() => scoreInputs(m, [{ image: s.rgbPath, depth: s.xyzPath }]), ScoreInputError, `${s.rgbPath}  non-finite score: score NaN`);
  } finally {
    m.dispose();
  }
  const lines: string[] = [];
  await rejectsWith(
    () => scoreCommand(["--model", copy, "--image", s.rgbPath, "--depth", s.xyzPath!, "--out", join(base, "nan-out")], {} as never, (l) => lines.push(l)),
    ScoreInputError,
    "non-finite score",
  );
  assert(!lines.some((l) => / ok$/.test(l)), lines.join("\n"));
}});

Deno.test({ name: "score: an all-zero depth map (no foreground) -> 'no foreground', never a score; exit non-zero for one image", ...opts, fn: async () => {
  const card = await readModelCard(model3d);
  assert(card.foreground_mask, "the combi model uses the foreground mask");
  const zero = join(base, "zero.tiff");
  await writeXyzTiff(zero, { width: card.input.depth!.width, height: card.input.depth!.height, xyz: new Float32Array(card.input.depth!.width * card.input.depth!.height * 3) });
  const s = ds3d.test[0];
  const m = await openScoringModel(model3d);
  try {
    const { scored, failed } = await scoreEach(m, [{ image: s.rgbPath, depth: zero }, { image: s.rgbPath, depth: s.xyzPath }]);
    assertEquals(scored.map((x) => x.depth), [s.xyzPath]);
    assertEquals(failed.map((f) => [f.image, f.status]), [[s.rgbPath, "no foreground"]]);
    assert(failed[0].detail.startsWith(`${zero}: no valid foreground pixel`), failed[0].detail);
  } finally {
    m.dispose();
  }
  await rejectsWith(
    () => astMain(["score", "--model", model3d, "--image", s.rgbPath, "--depth", zero, "--out", join(base, "zero-out")]),
    ScoreInputError,
    `${s.rgbPath}  no foreground: ${zero}`,
  );
}});

Deno.test({ name: "score --folder: a corrupt PNG is listed with its reason, the others are scored and written, exit non-zero with 'N scored, M failed'", ...opts, fn: async () => {
  const dir = join(base, "folder-with-corrupt");
  await Deno.mkdir(join(dir, "rgb"), { recursive: true });
  await Deno.mkdir(join(dir, "xyz"));
  for (const s of ds3d.test.slice(0, 2)) {
    await Deno.copyFile(s.rgbPath, join(dir, "rgb", `${s.defectType}_${s.stem}.png`));
    await Deno.copyFile(s.xyzPath!, join(dir, "xyz", `${s.defectType}_${s.stem}.tiff`));
  }
  const bad = ds3d.test[2];
  const png = await Deno.readFile(bad.rgbPath);
  await Deno.writeFile(join(dir, "rgb", "broken.png"), png.slice(0, Math.floor(png.length / 2))); // truncated: header intact
  await Deno.copyFile(bad.xyzPath!, join(dir, "xyz", "broken.tiff"));
  const out = join(base, "folder-corrupt-out");
  const lines: string[] = [];
  await rejectsWith(() => scoreCommand(["--model", model3d, "--folder", dir, "--out", out], {} as never, (l) => lines.push(l)), ScoreInputError, "2 scored, 1 failed");
  const failedLines = lines.filter((l) => l.includes("broken.png"));
  assertEquals(failedLines.length, 1, lines.join("\n"));
  assert(/broken\.png {2}unreadable: cannot read the image \(.*corrupt PNG/.test(failedLines[0]), failedLines[0]);
  assertEquals(lines.filter((l) => /score [0-9.e-]+\s+normalised/.test(l)).length, 2);
  const summary = JSON.parse(await Deno.readTextFile(join(out, "scores.json")));
  assertEquals(summary.images.length, 2);
  assertEquals(summary.failed.map((f: { image: string; status: string }) => [f.image, f.status]), [[join(dir, "rgb", "broken.png"), "unreadable"]]);
}});

Deno.test({ name: "score: a model.json from before the weights record (v1) still loads, with a one-line note that the weights cannot be verified", ...opts, fn: async () => {
  const copy = await copyModel(model3d, "v1");
  const { trained_weights_sha256: _, ...card } = JSON.parse(await Deno.readTextFile(join(copy, "model.json")));
  await Deno.writeTextFile(join(copy, "model.json"), JSON.stringify({ ...card, version: 1 }));
  const m = await openScoringModel(copy);
  try {
    assertEquals(m.notes.length, 1);
    assert(/model\.json v1 records no SHA-256 of the trained weights, so they cannot be verified/.test(m.notes[0]), m.notes[0]);
  } finally {
    m.dispose();
  }
}});
