import { assertClose, assertEquals, assertThrows } from "../assert.ts";
import { f1Max } from "../../lib/metrics/mod.ts";
import { bruteForceF1, seededRandom } from "./_reference.ts";

Deno.test("f1Max: hand case", () => {
  // t=0.9: P=1 R=.5 F1=2/3; t=0.8: .5/.5 -> .5; t=0.7: 2/3, 1 -> 0.8; t=0.6: .5, 1 -> 2/3.
  const best = f1Max([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]);
  assertClose([best.f1, best.precision, best.recall], [0.8, 2 / 3, 1], { atol: 1e-15 });
  assertEquals(best.threshold, 0.7);
});

Deno.test("f1Max: tied scores switch together", () => {
  // Score 1 holds one positive and two negatives: at t=1, TP=2 FP=2 -> F1 = 4/6;
  // at t=2, TP=1 FP=0 -> F1 = 2/3 too: ties in F1 resolve to the highest threshold.
  const best = f1Max([2, 1, 1, 1, 0], [1, 1, 0, 0, 0]);
  assertClose([best.f1], [2 / 3], { atol: 1e-15 });
  assertEquals(best.threshold, 2);
  assertEquals([best.precision, best.recall], [1, 0.5]);
});

Deno.test("f1Max: matches brute force over thresholds", () => {
  const random = seededRandom(3);
  for (let trial = 0; trial < 40; trial++) {
    const n = 1 + Math.floor(random() * 300);
    const tied = trial % 2 === 0;
    const labels = Array.from({ length: n }, () => (random() < 0.25 ? 1 : 0));
    labels[0] = 1;
    const scores = labels.map((l) => (tied ? Math.floor(random() * 6) : random()) + 0.5 * l * random());
    const reference = bruteForceF1(scores, labels);
    const bestReference = Math.max(...reference.map((r) => r.f1));
    const best = f1Max(scores, labels);
    assertClose([best.f1], [bestReference], { atol: 1e-12, rtol: 0, what: `trial ${trial} f1` });
    // The reported threshold must achieve the maximum, and be the highest threshold that does.
    const atThreshold = reference.find((r) => r.threshold === best.threshold)!;
    assertClose([atThreshold.f1], [bestReference], { atol: 1e-12, rtol: 0, what: `trial ${trial} f1 at threshold` });
    const higherBest = reference.filter((r) => r.threshold > best.threshold && r.f1 > bestReference - 1e-12);
    assertEquals(higherBest, [], `trial ${trial}: a higher threshold reaches the max`);
    // precision / recall consistent with the threshold.
    let tp = 0, fp = 0;
    for (let i = 0; i < n; i++) if (scores[i] >= best.threshold) labels[i] ? tp++ : fp++;
    const positives = labels.filter((l) => l).length;
    assertClose([best.precision, best.recall], [tp / (tp + fp), tp / positives], { atol: 1e-15 });
  }
});

Deno.test("f1Max: clear errors", () => {
  assertThrows(() => f1Max([1, 2], [0, 0]), /only one class present/);
  assertThrows(() => f1Max([1, 2], [1]), /differ in length/);
  assertThrows(() => f1Max([NaN, 2], [1, 0]), /NaN at index 0/);
  assertEquals(f1Max([1, 2], [1, 1]).f1, 1);
});
