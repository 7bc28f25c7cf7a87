import { join } from "node:path";
import { assert, assertClose, assertEquals, assertThrows } from "../assert.ts";
import { compareWithPaper, meanRow } from "../../lib/results/compare.ts";
import { loadRuns } from "../../lib/results/store.ts";
import { keyString, type PaperKey } from "../../lib/results/paper_numbers.ts";
import { bootstrapAurocReplicates, percentileInterval } from "../../lib/metrics/bootstrap.ts";
import { deriveSeed } from "../../lib/util/random.ts";
import { images, tempRoot, writeFakeRun } from "./_runs.ts";

/** Bagel test images of one seed: same paths and labels, scores (and AUROC) differ by seed. */
const bagelImages = (seed: number) => images(12, 8, 0.3 + 0.1 * seed, seed);

const TABLE3_CLASSES = ["bagel", "cable_gland", "carrot", "cookie", "dowel", "foam", "peach", "potato", "rope", "tire"];

/** Table 3 key for an AST run (what a notebook would pass). */
const table3 = (r: Record<string, unknown>): PaperKey | null =>
  r.class === "skip" ? null : { table: "3", class: String(r.class), mode: r.mode as PaperKey["mode"], variant: "ast", metric: "image_auroc" };

/** bagel depth x 3 seeds (same images, different scores), cookie depth, a perfect rope rgb run, one left out. */
async function fixture(): Promise<string> {
  const root = await tempRoot("ast-compare-");
  for (const seed of [0, 1, 2]) {
    await writeFakeRun(join(root, `bagel-depth-${seed}`), { className: "bagel", mode: "depth", seed, images: bagelImages(seed) });
  }
  await writeFakeRun(join(root, "cookie-depth-0"), { className: "cookie", mode: "depth", seed: 0, images: images(10, 10, 0.6) });
  await writeFakeRun(join(root, "rope-rgb-0"), { className: "rope", mode: "rgb", seed: 0, images: images(5, 5, 2) });
  await writeFakeRun(join(root, "skip-rgb-0"), { className: "skip", mode: "rgb", seed: 0, images: images(5, 5, 2) });
  return root;
}

Deno.test("compareWithPaper: ours over seeds, paper value and mark, delta, counts", async () => {
  const { runs } = loadRuns(await fixture());
  const table = compareWithPaper(runs, { key: table3, bootstrap: { resamples: 400 } });
  assertEquals(table.columns, ["table", "class", "mode", "variant", "metric", "ours", "ours_sd", "ci_lo", "ci_hi", "paper", "paper_mark", "delta", "n_seeds", "n_runs", "n_images"]);
  const rows = table.toRecords() as Record<string, unknown>[];
  // Sorted by mode (depth, rgb, combi) then class; the run mapped to null is left out.
  assertEquals(rows.map((r) => `${r.mode}/${r.class}`), ["depth/bagel", "depth/cookie", "rgb/rope"]);

  const bagelRuns = (runs.toRecords() as Record<string, unknown>[]).filter((r) => r.class === "bagel");
  const values = bagelRuns.map((r) => r.image_auroc_max as number);
  const mean = values.reduce((a, b) => a + b) / 3;
  const bagel = rows[0];
  assertClose([bagel.ours as number], [mean], { atol: 1e-15, rtol: 0 });
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / 2);
  assertClose([bagel.ours_sd as number], [sd], { atol: 1e-15, rtol: 0 });
  assert(sd > 0, "the fixture's seeds differ");
  assertEquals([bagel.paper, bagel.paper_mark, bagel.n_seeds, bagel.n_runs, bagel.n_images], [0.881, "copy", 3, 3, 20]);
  assertClose([bagel.delta as number], [mean - 0.881], { atol: 1e-15, rtol: 0 });
  assert((bagel.ci_lo as number) < mean && mean < (bagel.ci_hi as number), JSON.stringify(bagel));

  assertEquals([rows[1].paper, rows[1].n_seeds, rows[1].ours_sd], [0.957, 1, null]);
  // Perfect separation: every resample scores 1.
  assertEquals([rows[2].ours, rows[2].ci_lo, rows[2].ci_hi, rows[2].paper, rows[2].paper_mark], [1, 1, 1, 0.992, "unverified"]);
  assertClose([rows[2].delta as number], [1 - 0.992], { atol: 1e-15, rtol: 0 });
});

Deno.test("compareWithPaper: the seeds' interval pools paired per-resample AUROCs", async () => {
  const { runs } = loadRuns(await fixture());
  const table = compareWithPaper(runs, { key: table3, bootstrap: { resamples: 300, seed: 5 } });
  const bagel = (table.toRecords() as Record<string, unknown>[])[0];
  // Same test images in every seed -> one resample stream for the group; average, then percentiles.
  const id = keyString({ table: "3", class: "bagel", mode: "depth", variant: "ast", metric: "image_auroc" });
  const sum = new Float64Array(300);
  for (const seed of [0, 1, 2]) {
    const im = bagelImages(seed); // paths img000.. in this order, so already sorted by path
    const rep = bootstrapAurocReplicates(im.map(([, s]) => s), im.map(([l]) => l), { resamples: 300, seed: deriveSeed(5, id) });
    rep.forEach((v, i) => (sum[i] += v));
  }
  const expected = percentileInterval(sum.map((v) => v / 3));
  assertClose([bagel.ci_lo as number, bagel.ci_hi as number], [expected.lo, expected.hi], { atol: 1e-12, rtol: 0 });
});

Deno.test("compareWithPaper: other metrics and columns, no bootstrap, missing paper value", async () => {
  const { runs } = loadRuns(await fixture());
  // Table 4 has one pixel AUROC for RGB+3D (mean over classes); depth runs have none there.
  const pixel = compareWithPaper(runs, {
    key: (r) => ({ table: "4", class: "mean", mode: r.mode as PaperKey["mode"], variant: "ast", metric: "pixel_auroc" }),
  });
  const rows = pixel.toRecords() as Record<string, unknown>[];
  assertEquals(rows.map((r) => [r.mode, r.ours, r.ci_lo, r.paper, r.delta, r.n_runs, r.n_images]), [
    ["depth", 0.9, null, null, null, 4, null],
    ["rgb", 0.9, null, 0.95, 0.9 - 0.95, 2, null],
  ]);
  // Mean-score AUROC, intervals switched off.
  const meanScore = compareWithPaper(runs, { key: table3, ours: "image_auroc_mean", bootstrap: false });
  assertEquals(meanScore.getColumn("ci_lo").toArray(), [null, null, null]);
  assertEquals(meanScore.getColumn("ours").toArray()[2], 1);
  assertThrows(() => compareWithPaper(runs, { key: table3, ours: "no_such_column" }), /no column 'no_such_column'/);
});

Deno.test("compareWithPaper: runs with a null metric are not averaged", async () => {
  const root = await tempRoot("ast-compare-");
  await writeFakeRun(join(root, "a"), { className: "bagel", mode: "depth", seed: 0, images: images(5, 5, 2) });
  await writeFakeRun(join(root, "b"), { className: "bagel", mode: "depth", seed: 1, images: images(5, 5, 2), metrics: { image_auroc_max: null } });
  const { runs } = loadRuns(root);
  const row = (compareWithPaper(runs, { key: table3 }).toRecords() as Record<string, unknown>[])[0];
  assertEquals([row.ours, row.n_runs, row.n_seeds, row.ci_lo, row.n_images], [1, 1, 1, 1, 10]);
});

Deno.test("meanRow: mean over classes per mode; paper's own mean only when every class is shown", async () => {
  const root = await fixture();
  const { runs } = loadRuns(root);
  const withBoot = compareWithPaper(runs, { key: table3, bootstrap: { resamples: 200 }, keepReplicates: true });
  assertEquals(withBoot.columns.at(-1), "boot");
  const out = meanRow(withBoot);
  const rows = out.toRecords() as Record<string, unknown>[];
  assertEquals(rows.map((r) => `${r.mode}/${r.class}`), ["depth/bagel", "depth/cookie", "depth/mean", "rgb/rope", "rgb/mean"]);
  const [bagel, cookie, depthMean] = rows;
  assertClose([depthMean.ours as number], [((bagel.ours as number) + (cookie.ours as number)) / 2], { atol: 1e-15, rtol: 0 });
  // Two of ten classes: the paper side is the mean of the two paper values, not the stated 83.3.
  assertClose([depthMean.paper as number], [(0.881 + 0.957) / 2], { atol: 1e-15, rtol: 0 });
  assertEquals([depthMean.paper_mark, depthMean.n_seeds, depthMean.n_runs, depthMean.n_images], ["mean(copy)", 1, 4, 40]);
  assertClose([depthMean.delta as number], [(depthMean.ours as number) - (depthMean.paper as number)], { atol: 1e-15, rtol: 0 });
  // Interval of the mean from the averaged replicates of both classes.
  const avg = (bagel.boot as number[]).map((v, i) => (v + (cookie.boot as number[])[i]) / 2);
  const ci = percentileInterval(avg);
  assertEquals([depthMean.ci_lo, depthMean.ci_hi], [ci.lo, ci.hi]);
  assert((depthMean.ci_hi as number) - (depthMean.ci_lo as number) < (bagel.ci_hi as number) - (bagel.ci_lo as number), "averaging two classes narrows the interval here");
  // Without replicates the mean row has no interval.
  const plain = meanRow(compareWithPaper(runs, { key: table3, bootstrap: { resamples: 50 } }));
  assertEquals(plain.columns.includes("boot"), false);
  assertEquals((plain.toRecords() as Record<string, unknown>[])[2].ci_lo, null);
});

Deno.test("meanRow: with all ten Table 3 classes the paper side is the stated mean and mark", async () => {
  const root = await tempRoot("ast-compare-");
  for (const [i, c] of TABLE3_CLASSES.entries()) {
    await writeFakeRun(join(root, c), { className: c, mode: "combi", seed: 0, images: images(6, 6, 0.3 + i / 20, i) });
  }
  const { runs } = loadRuns(root);
  const out = meanRow(compareWithPaper(runs, { key: table3, bootstrap: false }));
  const mean = (out.toRecords() as Record<string, unknown>[]).at(-1)!;
  assertEquals([mean.class, mean.mode, mean.paper, mean.paper_mark, mean.n_runs], ["mean", "combi", 0.937, "text", 10]);
  const ours = (runs.getColumn("image_auroc_max").toArray() as number[]).reduce((a, b) => a + b) / 10;
  assertClose([mean.ours as number, mean.delta as number], [ours, ours - 0.937], { atol: 1e-12, rtol: 0 });
});
