import { assert, assertClose, assertEquals, assertThrows } from "../assert.ts";
import { bootstrapAuroc, bootstrapAurocReplicates, bootstrapMean, percentileInterval } from "../../lib/metrics/bootstrap.ts";
import { auroc } from "../../lib/metrics/roc.ts";
import { mulberry32 } from "../../lib/util/random.ts";
import { pairCountAuroc, seededRandom } from "./_reference.ts";

/** Overlapping classes: anomalies shifted up by `shift`, optional ties from rounding. */
function data(n: number, seed: number, { shift = 0.8, anomalyShare = 0.4, round = 0 } = {}) {
  const rnd = seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
  const labels: number[] = [], scores: number[] = [];
  for (let i = 0; i < n; i++) {
    const l = i < Math.round(n * anomalyShare) ? 1 : 0;
    const s = gauss() + shift * l;
    labels.push(l);
    scores.push(round ? Math.round(s * round) / round : s);
  }
  return { scores, labels };
}

/**
 * The documented resamples, materialised: negatives then positives, each drawn with replacement
 * from its own class in input order, with one mulberry32(seed) stream.
 */
function* resamples(scores: number[], labels: number[], count: number, seed: number): Generator<{ s: number[]; l: number[] }> {
  const neg = scores.flatMap((s, i) => (labels[i] ? [] : [s]));
  const pos = scores.flatMap((s, i) => (labels[i] ? [s] : []));
  const rng = mulberry32(seed);
  for (let r = 0; r < count; r++) {
    const s: number[] = [], l: number[] = [];
    for (let j = 0; j < neg.length; j++) s.push(neg[Math.floor(rng() * neg.length)]), l.push(0);
    for (let j = 0; j < pos.length; j++) s.push(pos[Math.floor(rng() * pos.length)]), l.push(1);
    yield { s, l };
  }
}

Deno.test("bootstrapAurocReplicates: each replicate is the exact AUROC of the stratified resample it draws", () => {
  // Re-draw each resample and score it by brute-force pair counting.
  for (const round of [0, 2]) { // continuous and heavily tied scores
    const { scores, labels } = data(23, 5 + round, { round });
    const reps = bootstrapAurocReplicates(scores, labels, { resamples: 50, seed: 11 });
    let r = 0;
    for (const { s, l } of resamples(scores, labels, reps.length, 11)) {
      assertClose([reps[r]], [pairCountAuroc(s, l)], { atol: 1e-12, rtol: 0, what: `round ${round} replicate ${r}` });
      assertClose([reps[r]], [auroc(s, l)], { atol: 1e-12, rtol: 0, what: `round ${round} replicate ${r} vs auroc` });
      r++;
    }
  }
});

Deno.test("bootstrapAuroc: estimate is auroc(); interval contains it and is a proper interval", () => {
  const { scores, labels } = data(100, 1);
  const r = bootstrapAuroc(scores, labels, { seed: 3 });
  assertEquals(r.estimate, auroc(scores, labels));
  assert(r.lo < r.estimate && r.estimate < r.hi, JSON.stringify(r));
  assert(r.lo > 0.5 && r.hi < 1, `a 0.8 sd shift on 100 images is neither chance nor perfect: ${JSON.stringify(r)}`);
});

Deno.test("bootstrapAuroc: deterministic per seed, different across seeds", () => {
  const { scores, labels } = data(60, 2);
  const a = bootstrapAuroc(scores, labels, { seed: 7 });
  assertEquals(bootstrapAuroc(scores, labels, { seed: 7 }), a);
  const b = bootstrapAuroc(scores, labels, { seed: 8 });
  assert(a.lo !== b.lo || a.hi !== b.hi, "another seed should draw other resamples");
});

Deno.test("bootstrapAuroc: interval shrinks with more test images", () => {
  const width = (n: number) => {
    const { scores, labels } = data(n, 4);
    const r = bootstrapAuroc(scores, labels, { seed: 1 });
    return r.hi - r.lo;
  };
  const small = width(40), large = width(1000);
  // Width ~ 1/sqrt(n): 25x the images should give about a fifth of the width; ask for < half.
  assert(large < small / 2, `width ${large} at n=1000 vs ${small} at n=40`);
});

Deno.test("bootstrapAuroc: perfect separation gives [1, 1]; alpha widens or narrows the interval", () => {
  const r = bootstrapAuroc([0.1, 0.2, 0.3, 0.9, 1.0], [0, 0, 0, 1, 1]);
  assertEquals(r, { estimate: 1, lo: 1, hi: 1 });
  const { scores, labels } = data(80, 6);
  const wide = bootstrapAuroc(scores, labels, { alpha: 0.01, seed: 2 });
  const narrow = bootstrapAuroc(scores, labels, { alpha: 0.5, seed: 2 });
  assert(wide.lo < narrow.lo && narrow.hi < wide.hi, `${JSON.stringify(wide)} vs ${JSON.stringify(narrow)}`);
});

Deno.test("bootstrapAuroc: every resample keeps both classes, even with one anomaly", () => {
  // Unstratified resampling of 1 anomaly in 30 images would miss it ~1/e of the time and throw.
  const scores = Array.from({ length: 30 }, (_, i) => i), labels = scores.map((i) => (i === 20 ? 1 : 0));
  const reps = bootstrapAurocReplicates(scores, labels, { resamples: 200, seed: 1 });
  let r = 0;
  for (const { s, l } of resamples(scores, labels, 200, 1)) {
    assertEquals(l.filter((v) => v === 1).length, 1, `resample ${r} holds the anomaly`);
    // AUROC of one anomaly = the share of drawn normals scored below it
    assertEquals(reps[r], s.filter((v, i) => l[i] === 0 && v < 20).length / 29, `replicate ${r}`);
    r++;
  }
  assertThrows(() => bootstrapAuroc([1, 2], [0, 0]), /both classes/);
  assertThrows(() => bootstrapAuroc([1, 2], [0, 1], { resamples: 0 }), /resamples/);
  assertThrows(() => bootstrapAuroc([1, 2, 3], [0, 1]), /differ in length/);
});

Deno.test("bootstrapAuroc at its default size (1000 resamples of 100 tied scores): the interval is the 2.5 / 97.5 % quantiles of the resamples' pair-count AUROCs", () => {
  const { scores, labels } = data(100, 9, { round: 4 });
  const r = bootstrapAuroc(scores, labels);
  // every default resample scored from scratch, then numpy's linear quantile of the sorted values
  const reps = [...resamples(scores, labels, 1000, 0)].map(({ s, l }) => pairCountAuroc(s, l)).sort((a, b) => a - b);
  const quantile = (p: number) => {
    const h = (reps.length - 1) * p, i = Math.floor(h);
    return reps[i] + (h - i) * (reps[Math.min(i + 1, reps.length - 1)] - reps[i]);
  };
  assertClose([r.estimate, r.lo, r.hi], [pairCountAuroc(scores, labels), quantile(0.025), quantile(0.975)], { atol: 1e-12, rtol: 0, what: "estimate, lo, hi" });
});

Deno.test("bootstrapMean: estimate, containment, a single value, determinism", () => {
  const values = [0.9, 0.8, 0.95, 0.85, 0.7, 0.88];
  const r = bootstrapMean(values, { seed: 4 });
  assertClose([r.estimate], [values.reduce((a, b) => a + b) / values.length], { atol: 1e-15, rtol: 0 });
  assert(r.lo < r.estimate && r.estimate < r.hi && r.lo >= 0.7 && r.hi <= 0.95, JSON.stringify(r));
  assertEquals(bootstrapMean(values, { seed: 4 }), r);
  assertEquals(bootstrapMean([0.5]), { estimate: 0.5, lo: 0.5, hi: 0.5 });
  assertThrows(() => bootstrapMean([]), /no values/);
});

Deno.test("percentileInterval: linear interpolation between order statistics (numpy default)", () => {
  // 0..100: the 2.5 % and 97.5 % quantiles are exactly 2.5 and 97.5.
  const v = Array.from({ length: 101 }, (_, i) => 100 - i);
  assertEquals(percentileInterval(v), { lo: 2.5, hi: 97.5 });
  assertEquals(percentileInterval([3, 1, 2], 0.5), { lo: 1.5, hi: 2.5 });
});
