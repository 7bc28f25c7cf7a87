import { assert, assertClose, assertEquals, assertThrows } from "../assert.ts";
import { auroc, rocCurve } from "../../lib/metrics/mod.ts";
import { pairCountAuroc, seededRandom } from "./_reference.ts";

Deno.test("auroc: hand cases", () => {
  // sklearn docs example: 3 of 4 (pos, neg) pairs ordered correctly.
  assertEquals(auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75);
  // Perfect, inverted, all tied.
  assertEquals(auroc([3, 2, 1, 0], [1, 1, 0, 0]), 1);
  assertEquals(auroc([0, 1, 2, 3], [1, 1, 0, 0]), 0);
  assertEquals(auroc([5, 5, 5, 5, 5], [1, 0, 1, 0, 0]), 0.5);
  // Tie between the positive and one negative: pairs (1 vs 1) = 0.5, (1 vs 0) = 1 -> 1.5 / 2.
  assertEquals(auroc([1, 1, 0], [1, 0, 0]), 0.75);
  // 0/255 masks and Float32Array inputs are accepted; -0 ties with +0.
  assertEquals(auroc(new Float32Array([0.5, -0, 0]), new Uint8Array([255, 0, 0])), 1);
  assertEquals(auroc([0, -0], [1, 0]), 0.5);
  // Infinite scores are ordinary extremes.
  assertEquals(auroc([Infinity, -Infinity, 0], [1, 0, 0]), 1);
});

Deno.test("auroc: matches brute-force pair counting on tied integer and continuous scores", () => {
  const random = seededRandom(7);
  for (let trial = 0; trial < 40; trial++) {
    const n = 2 + Math.floor(random() * 400);
    const tied = trial % 2 === 0;
    const scores = new Float64Array(n), labels = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      labels[i] = random() < 0.3 ? 1 : 0;
      // Positives shifted up a little so AUROC is away from 0.5 and not trivial.
      scores[i] = tied ? Math.floor(random() * 6) + (labels[i] && random() < 0.3 ? 1 : 0) : random() + 0.2 * labels[i];
    }
    labels[0] = 1;
    labels[1] = 0;
    assertClose([auroc(scores, labels)], [pairCountAuroc(scores, labels)], { atol: 1e-12, rtol: 0, what: `trial ${trial}` });
  }
});

Deno.test("rocCurve: hand cases like sklearn roc_curve(drop_intermediate=False)", () => {
  const a = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
  assertEquals(Array.from(a.fpr), [0, 0, 0.5, 0.5, 1]);
  assertEquals(Array.from(a.tpr), [0, 0.5, 0.5, 1, 1]);
  assertEquals(Array.from(a.thresholds), [Infinity, 0.8, 0.4, 0.35, 0.1]);

  // Ties cross together: one point per distinct score.
  const b = rocCurve([2, 1, 1, 1, 0], [1, 1, 0, 0, 0]);
  assertEquals(Array.from(b.thresholds), [Infinity, 2, 1, 0]);
  assertClose(b.fpr, [0, 0, 2 / 3, 1], { atol: 1e-15, what: "fpr" });
  assertEquals(Array.from(b.tpr), [0, 0.5, 1, 1]);
});

Deno.test("rocCurve: trapezoid area equals auroc", () => {
  const random = seededRandom(11);
  const n = 1000;
  const scores = Array.from({ length: n }, () => Math.floor(random() * 20));
  const labels = scores.map((s) => (random() < 0.2 + s / 40 ? 1 : 0));
  const { fpr, tpr } = rocCurve(scores, labels);
  let area = 0;
  for (let i = 1; i < fpr.length; i++) area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
  assertClose([area], [auroc(scores, labels)], { atol: 1e-12, rtol: 0 });
  assert(fpr[fpr.length - 1] === 1 && tpr[tpr.length - 1] === 1);
});

Deno.test("auroc/rocCurve: clear errors", () => {
  assertThrows(() => auroc([1, 2, 3], [0, 1]), /differ in length: 3 scores vs 2 labels/);
  assertThrows(() => auroc([], []), /empty/);
  assertThrows(() => auroc([1, 2], [0, 0]), /only one class present \(all 2 labels are negative/);
  assertThrows(() => rocCurve([1, 2], [1, 1]), /only one class present \(all 2 labels are positive/);
  assertThrows(() => auroc([1, NaN, 3], [0, 1, 0]), /NaN at index 1/);
  assertThrows(() => auroc([1, 2, 3], [0, NaN, 1]), /NaN label at index 1/);
});
