import { runExperiment } from "../lib/run/run.ts";
import { generateDataset } from "../lib/data/synthetic.ts";
import { join } from "node:path";
const root = await Deno.makeTempDir();
await generateDataset({ root, seed: 0, size: Number(Deno.args[0] ?? 128), counts: { train: 16, validation: 2, testGood: 6, defects: { dent: 3, bump: 3, hole: 3, crack: 3, color: 0 } } });
const sets = Deno.args[2] ? Deno.args[2].split(" ") : ["mapLen=8", "teacher.hidden=16", "student.hidden=32", "student.nBlocks=1"];
for (const seed of [0, 1, 2]) {
  const out = join(await Deno.makeTempDir(), "r");
  const t0 = performance.now();
  const { metrics: m } = await runExperiment({ data: root, className: "puck", mode: "depth", epochs: Number(Deno.args[1] ?? 8), seed, out, sets, log: () => {} });
  console.log(seed, m.image_auroc_max?.toFixed(3), m.image_auroc_mean?.toFixed(3), m.pixel_auroc?.toFixed(3), JSON.stringify(m.per_defect_type), "teacher", m.teacher_nll?.image_auroc_max?.toFixed(3), ((performance.now()-t0)/1000).toFixed(1) + " s");
}
