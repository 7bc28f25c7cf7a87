import { runExperiment } from "../lib/run/run.ts";
import { tinyMvtec3d, TINY_SETS } from "../tests/run/_tiny.ts";
import { join } from "node:path";
const root = await tinyMvtec3d();
for (const epochs of [2, 4]) for (const seed of [0, 1, 2, 3]) {
  const out = join(await Deno.makeTempDir(), "r");
  const t0 = performance.now();
  const { metrics: m } = await runExperiment({ data: root, className: "puck", mode: "depth", epochs, seed, out, sets: TINY_SETS, log: () => {} });
  console.log(epochs, seed, m.image_auroc_max?.toFixed(3), m.image_auroc_mean?.toFixed(3), m.pixel_auroc?.toFixed(3), JSON.stringify(m.per_defect_type), m.teacher_nll?.image_auroc_max?.toFixed(3), ((performance.now()-t0)/1000).toFixed(1));
}
