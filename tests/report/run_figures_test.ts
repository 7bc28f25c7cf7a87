import { join } from "node:path";
import { runExperiment } from "../../lib/run/run.ts";
import { anomalyMapGrid, imageRoc, lossCurves } from "../../lib/report/run_figures.ts";
import { assert, assertEquals } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d, tinyMvtecAd } from "../run/_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};

Deno.test({ name: "run figures: loss curves, ROC and anomaly maps with ground-truth contours (3D-AD and AD layouts)", ...opts, fn: async () => {
  const out3d = join(await Deno.makeTempDir(), "run");
  await runExperiment({ data: await tinyMvtec3d(5), className: "puck", mode: "depth", epochs: 2, out: out3d, sets: TINY_SETS, log: quiet });
  assertEquals((await lossCurves(out3d)).length, 2);
  const roc = imageRoc(out3d, "tiny");
  assert(roc.auc >= 0 && roc.auc <= 1 && roc.fpr.length === roc.tpr.length, "a ROC curve");
  const good = await anomalyMapGrid(out3d, { count: 1, types: ["good"] });
  assert(!good.includes("ground truth"), "no contour for a good image");
  const hole = await anomalyMapGrid(out3d, { count: 1, types: ["hole"] });
  assert(hole.includes("ground truth"), "the defect's mask is found and drawn (MVTec 3D-AD gt/)");

  const outAd = join(await Deno.makeTempDir(), "run");
  await runExperiment({ data: await tinyMvtecAd(5), className: "tex", mode: "rgb", backbone: "raw-patch", epochs: 1, out: outAd, sets: TINY_SETS, log: quiet });
  assert((await anomalyMapGrid(outAd, { count: 1, types: ["blob"] })).includes("ground truth"), "MVTec AD ground_truth/ masks too");
}});
