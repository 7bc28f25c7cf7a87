import { auroc } from "../../lib/metrics/roc.ts";
import { mulberry32 } from "../../lib/util/random.ts";
import { bootstrapDifference, histogramAuroc, meanSd, pixelHistograms, stratifiedImageWeights, weightedAuroc } from "../../tools/calibration/stats.ts";
import { assert, assertEquals } from "../assert.ts";

const assertAlmostEquals = (a: number, b: number, tol: number) => assert(Math.abs(a - b) <= tol, `${a} vs ${b} (tolerance ${tol})`);

const rng = mulberry32(4);
const labels = Array.from({ length: 30 }, (_, i) => (i < 10 ? 0 : 1));
const scores = labels.map((l) => l * 0.5 + rng());

Deno.test("weighted AUROC: all ones = exact AUROC; a multiplicity = the materialised resample", () => {
  assertAlmostEquals(weightedAuroc(scores, labels, labels.map(() => 1)), auroc(scores, labels), 1e-12);
  const w = stratifiedImageWeights(labels, mulberry32(1));
  assertEquals(w.reduce((s, v) => s + v, 0), 30);
  assertEquals(w.slice(0, 10).reduce((s, v) => s + v, 0), 10); // stratified: class counts kept
  const s2: number[] = [], l2: number[] = [];
  w.forEach((k, i) => {
    for (let j = 0; j < k; j++) (s2.push(scores[i]), l2.push(labels[i]));
  });
  assertAlmostEquals(weightedAuroc(scores, labels, w), auroc(s2, l2), 1e-12);
});

Deno.test("pixel histograms: binned pooled AUROC close to the exact one, image weights honoured", () => {
  const images = 6, per = 400;
  const maps = new Float32Array(images * per), gt = new Float32Array(images * per);
  for (let k = 0; k < maps.length; k++) {
    gt[k] = rng() < 0.1 ? 1 : 0;
    maps[k] = gt[k] * 0.7 + rng();
  }
  const h = pixelHistograms(maps, gt, images, 1000);
  assertAlmostEquals(histogramAuroc(h, new Float64Array(images).fill(1)), auroc(maps, gt), 2e-3);
  const w = new Float64Array([2, 0, 1, 0, 0, 1]);
  const ms: number[] = [], gs: number[] = [];
  w.forEach((k, i) => {
    for (let j = 0; j < k; j++) for (let p = 0; p < per; p++) (ms.push(maps[i * per + p]), gs.push(gt[i * per + p]));
  });
  assertAlmostEquals(histogramAuroc(h, w), auroc(ms, gs), 2e-3);
});

Deno.test("bootstrap difference: same implementation twice -> interval around 0; a real shift is found", () => {
  const runs = [0, 1, 2, 3, 4].map((s) => {
    const r = mulberry32(100 + s);
    return labels.map((l) => l * 0.4 + r());
  });
  const same = bootstrapDifference(labels, 5, 5, (k, w) => weightedAuroc(runs[k], labels, w), (k, w) => weightedAuroc(runs[k], labels, w), { resamples: 300 });
  assertEquals(same.difference.estimate, 0);
  assertEquals(same.difference.excludes_zero, false);
  const better = runs.map((r) => r.map((v, i) => v + labels[i] * 2)); // perfect separation
  const d = bootstrapDifference(labels, 5, 5, (k, w) => weightedAuroc(better[k], labels, w), (k, w) => weightedAuroc(runs[k], labels, w), { resamples: 300 });
  assertEquals(d.difference.excludes_zero, true);
  assertEquals(d.difference.lo > 0, true);
  const m = meanSd([1, 2, 3]);
  assertEquals([m.mean, m.sd, m.n], [2, 1, 3]);
});
