import { join } from "node:path";
import { runExperiment } from "../../lib/run/run.ts";
import { anomalyMapGrid, imageRoc, lossCurves } from "../../lib/report/run_figures.ts";
import { readJson, readScoresParquet, RUN_FILES } from "../../lib/results/run_files.ts";
import { assert, assertClose, assertEquals } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d, tinyMvtecAd } from "../run/_tiny.ts";
import { pairCountAuroc } from "../metrics/_reference.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};

Deno.test({ name: "run figures: loss curves, ROC and anomaly maps with ground-truth contours (3D-AD and AD layouts)", ...opts, fn: async () => {
  const out3d = join(await Deno.makeTempDir(), "run");
  await runExperiment({ data: await tinyMvtec3d(5), className: "puck", mode: "depth", epochs: 2, out: out3d, sets: TINY_SETS, log: quiet });
  assertEquals((await lossCurves(out3d)).length, 2);
  // The ROC of the run's image scores (max of each map): its AUC is the pair-count AUROC of the
  // scores.parquet columns and the run's recorded image_auroc_max, and the area under its curve.
  const roc = imageRoc(out3d, "tiny");
  const df = readScoresParquet(out3d);
  const scores = df.getColumn("score_max").toArray() as number[], labels = (df.getColumn("label").toArray() as number[]).map(Number);
  assertEquals([labels.filter((l) => l === 0).length, labels.filter((l) => l === 1).length], [3, 6], "3 good, 6 defective test images");
  const { image_auroc_max } = await readJson<{ image_auroc_max: number }>(join(out3d, RUN_FILES.metrics));
  assertClose([roc.auc, roc.auc], [pairCountAuroc(scores, labels), image_auroc_max], { atol: 1e-12, rtol: 0, what: "image AUROC" });
  const n = roc.fpr.length;
  assert(n === roc.tpr.length && n >= 2 && roc.fpr[0] === 0 && roc.tpr[0] === 0 && roc.fpr[n - 1] === 1 && roc.tpr[n - 1] === 1, "curve from (0,0) to (1,1)");
  let area = 0;
  for (let i = 1; i < n; i++) {
    assert(roc.fpr[i] >= roc.fpr[i - 1] && roc.tpr[i] >= roc.tpr[i - 1], `ROC point ${i} goes back`);
    area += (roc.fpr[i] - roc.fpr[i - 1]) * (roc.tpr[i] + roc.tpr[i - 1]) / 2;
  }
  assertClose([area], [roc.auc], { atol: 1e-12, rtol: 0, what: "area under the plotted curve" });
  const good = await anomalyMapGrid(out3d, { count: 1, types: ["good"] });
  assert(!good.includes("ground truth"), "no contour for a good image");
  const hole = await anomalyMapGrid(out3d, { count: 1, types: ["hole"] });
  assert(hole.includes("ground truth"), "the defect's mask is found and drawn (MVTec 3D-AD gt/)");

  const outAd = join(await Deno.makeTempDir(), "run");
  await runExperiment({ data: await tinyMvtecAd(5), className: "tex", mode: "rgb", backbone: "raw-patch", epochs: 1, out: outAd, sets: TINY_SETS, log: quiet });
  assert((await anomalyMapGrid(outAd, { count: 1, types: ["blob"] })).includes("ground truth"), "MVTec AD ground_truth/ masks too");
}});
