/**
 * The metrics at MVTec scale (50 images x 192x192 = 1.8M pixels) against references that are
 * independent of lib/metrics (tests/metrics/_reference.ts: the built-in sort and plain counting).
 * Large inputs take other paths than the small random cases of roc / f1 / pro tests (radix sort
 * passes, long runs of equal scores, sums over millions of pixels). Timings: `deno task bench`.
 */
import { assertClose, assertEquals } from "../assert.ts";
import { aupro, auroc, f1Max, proCurve } from "../../lib/metrics/mod.ts";
import {
  bruteForceF1,
  bruteForceProCurve,
  fewLevelsProCurve,
  integrateUpTo,
  pairCountAuroc,
  seededRandom,
  sortedAuroc,
  sortedF1Max,
} from "./_reference.ts";

const images = 50, width = 192, height = 192, pixels = width * height;

/** Noise maps, anomalous pixels (a few rectangles in every other image) shifted up by 0.5. */
function mvtecScale() {
  const random = seededRandom(99);
  const maps: Float32Array[] = [], masks: Uint8Array[] = [];
  for (let img = 0; img < images; img++) {
    const mask = new Uint8Array(pixels), map = new Float32Array(pixels);
    if (img % 2 === 0) {
      for (let d = 0; d < 3; d++) {
        const x0 = Math.floor(random() * 170), y0 = Math.floor(random() * 170);
        const w = 4 + Math.floor(random() * 20), h = 4 + Math.floor(random() * 20);
        for (let y = y0; y < Math.min(height, y0 + h); y++) for (let x = x0; x < Math.min(width, x0 + w); x++) mask[y * width + x] = 1;
      }
    }
    for (let p = 0; p < pixels; p++) map[p] = random() + (mask[p] ? 0.5 : 0);
    maps.push(map);
    masks.push(mask);
  }
  const scores = new Float32Array(images * pixels), labels = new Uint8Array(images * pixels);
  for (let img = 0; img < images; img++) {
    scores.set(maps[img], img * pixels);
    labels.set(masks[img], img * pixels);
  }
  return { maps, masks, scores, labels };
}

const data = mvtecScale();

Deno.test("the large-input references agree with the naive ones on small tied and continuous inputs", () => {
  const random = seededRandom(5);
  for (let trial = 0; trial < 20; trial++) {
    const tied = trial % 2 === 0, w = 6, h = 5, n = 3;
    const masks = Array.from({ length: n }, (_, i) => Uint8Array.from({ length: w * h }, () => (i === 0 || random() < 0.5) && random() < 0.3 ? 1 : 0));
    masks[1][0] = 0;
    const maps = masks.map((m) => Float32Array.from(m, (v) => (tied ? Math.floor(random() * 4) : random()) + v * random()));
    const scores = maps.flatMap((m) => Array.from(m)), labels = masks.flatMap((m) => Array.from(m));
    if (!labels.includes(1)) continue;
    assertClose([sortedAuroc(scores, labels)], [pairCountAuroc(scores, labels)], { atol: 1e-12, rtol: 0, what: `trial ${trial} auroc` });
    const f1s = bruteForceF1(scores, labels), best = Math.max(...f1s.map((r) => r.f1));
    assertEquals(sortedF1Max(scores, labels), { f1: best, threshold: f1s.find((r) => r.f1 === best)!.threshold }, `trial ${trial} f1`);
    if (tied) {
      const a = fewLevelsProCurve(maps, masks, w, h), b = bruteForceProCurve(maps, masks, w, h);
      assertClose(a.fpr, b.fpr, { atol: 1e-12, rtol: 0, what: `trial ${trial} fpr` });
      assertClose(a.pro, b.pro, { atol: 1e-12, rtol: 0, what: `trial ${trial} pro` });
    }
  }
});

Deno.test("auroc and f1Max on 1.8M pixels (float32 scores, some equal) = sorted-class references", () => {
  const { scores, labels } = data;
  // 1.8M float32 draws of [0, 1.5) repeat values: the tie handling runs at this scale too
  const sorted = Float32Array.from(scores).sort();
  assertEquals(sorted.some((v, i) => i > 0 && v === sorted[i - 1]), true, "some equal scores");
  assertClose([auroc(scores, labels)], [sortedAuroc(scores, labels)], { atol: 1e-12, rtol: 0, what: "auroc" });
  const f = f1Max(scores, labels), want = sortedF1Max(scores, labels);
  assertClose([f.f1], [want.f1], { atol: 1e-12, rtol: 0, what: "f1" });
  assertEquals(f.threshold, want.threshold);
});

Deno.test("aupro and the PRO curve on 50 x 192 x 192 maps with 97 score levels = per-region histogram reference", () => {
  // quantised to 1/64: every level is shared by many normal pixels and several regions
  const maps = data.maps.map((m) => m.map((v) => Math.round(v * 64) / 64));
  const reference = fewLevelsProCurve(maps, data.masks, width, height);
  assertEquals(reference.fpr.length, 1 + 97);
  const curve = proCurve(maps, data.masks, width, height);
  // the lib sums 1 / region size per pixel over 1.8M pixels, the reference counts: 1e-9
  assertClose(curve.fpr, reference.fpr, { atol: 1e-12, rtol: 0, what: "fpr" });
  assertClose(curve.pro, reference.pro, { atol: 1e-9, rtol: 0, what: "pro" });
  for (const limit of [0.3, 0.05]) {
    const expected = integrateUpTo(reference.fpr, reference.pro, limit) / limit;
    assertClose([aupro(maps, data.masks, width, height, { fprLimit: limit })], [expected], { atol: 1e-9, rtol: 0, what: `aupro@${limit}` });
  }
});
