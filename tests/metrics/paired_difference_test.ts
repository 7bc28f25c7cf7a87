import { assert, assertClose, assertEquals, assertThrows } from "../assert.ts";
import { pairedAurocDifference, seedStd } from "../../lib/metrics/paired_difference.ts";
import { auroc } from "../../lib/metrics/roc.ts";
import { mulberry32 } from "../../lib/util/random.ts";
import { seededRandom } from "./_reference.ts";

/** Test labels (40 % anomalous) and a scorer whose anomalies sit `shift` higher, plus noise. */
function scorer(n: number, seed: number) {
  const rnd = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const labels = Array.from({ length: n }, (_, i) => (i < Math.round(0.4 * n) ? 1 : 0));
  // a per-image "difficulty" both scorings share: what pairing removes
  const difficulty = labels.map(() => gauss());
  const scores = (shift: number, s: number) => {
    const r = seededRandom(s);
    const g = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return labels.map((l, i) => difficulty[i] + shift * l + 0.5 * g());
  };
  return { labels, scores };
}

Deno.test("paired difference: the estimate is the mean over seeds of the AUROC differences", () => {
  const { labels, scores } = scorer(60, 1);
  const seeds = [0, 1, 2].map((s) => ({ seed: s, reference: scores(1.5, 10 + s), variant: scores(0.5, 20 + s) }));
  const d = pairedAurocDifference(labels, seeds, { resamples: 200 });
  const perSeed = seeds.map((s) => auroc(s.variant, labels) - auroc(s.reference, labels));
  assertEquals(d.perSeed, perSeed);
  assertClose([d.estimate], [perSeed.reduce((a, b) => a + b) / 3], { atol: 1e-12, rtol: 0 });
  assertEquals([d.nSeeds, d.nImages], [3, 60]);
  assert(d.lo <= d.estimate && d.estimate <= d.hi, `estimate ${d.estimate} outside [${d.lo}, ${d.hi}]`);
});

Deno.test("paired difference: a clearly worse variant gets an interval below zero, identical scorings [0, 0]", () => {
  const { labels, scores } = scorer(80, 2);
  const seeds = [0, 1, 2].map((s) => ({ seed: s, reference: scores(2, 10 + s), variant: scores(0.3, 20 + s) }));
  const worse = pairedAurocDifference(labels, seeds);
  assert(worse.hi < 0, `interval [${worse.lo}, ${worse.hi}] should exclude 0`);
  const same = pairedAurocDifference(labels, seeds.map((s) => ({ ...s, variant: s.reference })));
  assertEquals([same.estimate, same.lo, same.hi], [0, 0, 0]);
});

Deno.test("paired difference: two draws of the same scorer are not distinguishable", () => {
  const { labels, scores } = scorer(50, 3);
  const seeds = [0, 1, 2].map((s) => ({ seed: s, reference: scores(1, 10 + s), variant: scores(1, 30 + s) }));
  const d = pairedAurocDifference(labels, seeds);
  assert(d.lo < 0 && d.hi > 0, `interval [${d.lo}, ${d.hi}] should contain 0`);
});

Deno.test("paired difference: the replicates are AUROCs of materialised resamples (weights = counts)", () => {
  // One seed and one resample: redo the documented draw by hand and compare.
  const { labels, scores } = scorer(30, 4);
  const reference = scores(1, 5), variant = scores(0.8, 6);
  const neg = labels.flatMap((l, i) => (l ? [] : [i])), pos = labels.flatMap((l, i) => (l ? [i] : []));
  const rng = mulberry32(7);
  const idx = [...neg.map(() => neg[Math.floor(rng() * neg.length)]), ...pos.map(() => pos[Math.floor(rng() * pos.length)])];
  rng(); // the seed draw (one seed: always index 0)
  const lab = idx.map((i) => labels[i]);
  const expected = auroc(idx.map((i) => variant[i]), lab) - auroc(idx.map((i) => reference[i]), lab);
  const d = pairedAurocDifference(labels, [{ seed: 0, reference, variant }], { resamples: 1, seed: 7 });
  assertClose([d.lo], [expected], { atol: 1e-12, rtol: 0 });
  assertClose([d.hi], [expected], { atol: 1e-12, rtol: 0 });
});

Deno.test("paired difference: pairing narrows the interval when images share difficulty", () => {
  // Same scorers; the unpaired alternative would resample the two scorings independently.
  const { labels, scores } = scorer(60, 5);
  const seeds = [0, 1, 2].map((s) => ({ seed: s, reference: scores(1, 10 + s), variant: scores(0.6, 20 + s) }));
  const d = pairedAurocDifference(labels, seeds);
  assert(d.hi - d.lo < 0.25, `paired interval width ${d.hi - d.lo}`);
});

Deno.test("paired difference: clear errors for one class, mismatched lengths, no seeds", () => {
  assertThrows(() => pairedAurocDifference([1, 1, 1], [{ seed: 0, reference: [1, 2, 3], variant: [1, 2, 3] }]), Error, "both classes");
  assertThrows(() => pairedAurocDifference([0, 1, 1], [{ seed: 0, reference: [1, 2], variant: [1, 2, 3] }]));
  assertThrows(() => pairedAurocDifference([0, 1], []), Error, "no seeds");
});

Deno.test("seedStd: sample standard deviation, 0 for one seed", () => {
  assertEquals(seedStd([0.5]), 0);
  assertClose([seedStd([1, 2, 3, 4])], [Math.sqrt(5 / 3)], { atol: 1e-12, rtol: 0 });
});
