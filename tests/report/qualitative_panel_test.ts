import { join } from "node:path";
import { runExperiment } from "../../lib/run/run.ts";
import { qualitativePanel } from "../../lib/report/qualitative_panel.ts";
import { gridProgress } from "../../lib/report/grid_progress.ts";
import { formatSeconds } from "../../lib/viz/progress.ts";
import { assert, assertEquals } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d, tinyMvtecAd } from "../run/_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};

Deno.test({ name: "qualitative panel: RGB, depth, ground truth and map per test image, one labelled colour scale", ...opts, fn: async () => {
  const out = join(await Deno.makeTempDir(), "run");
  await runExperiment({ data: await tinyMvtec3d(5), className: "puck", mode: "depth", epochs: 1, out, sets: TINY_SETS, log: quiet });
  const svg = await qualitativePanel(out, { count: 3 });
  for (const column of ["RGB", "depth", "ground truth", "anomaly map"]) assert(svg.includes(`>${column}</text>`), column);
  assert(svg.includes("anomaly score (student-teacher distance)"), "the colour bar says what it measures");
  // 3 rows x 4 columns; a good image has no mask: a placeholder instead of its ground truth
  assertEquals((svg.match(/<image /g) ?? []).length, 3 * 4 - 1);
  assert(svg.includes("normal: no defect"));
  assertEquals([...svg.matchAll(/font-size="12">(good|dent|bump|hole|crack|color)</g)].map((m) => m[1])[0], "good");

  // RGB-only data: no depth column content, said so
  const ad = join(await Deno.makeTempDir(), "run");
  await runExperiment({ data: await tinyMvtecAd(5), className: "tex", mode: "rgb", backbone: "raw-patch", epochs: 1, out: ad, sets: TINY_SETS, log: quiet });
  const rgbOnly = await qualitativePanel(ad, { count: 2 });
  assert(rgbOnly.includes("no depth"));
}});

Deno.test("grid progress outside Jupyter: warnings pass through, epoch lines are absorbed, each run ends in one result line", async () => {
  const printed: string[] = [], errors: string[] = [];
  const log = console.log, error = console.error;
  console.log = (l: string) => printed.push(l);
  console.error = (l: string) => errors.push(l);
  try {
    const p = gridProgress();
    p.log("  teacher epoch 1/4  loss 1.0  0.1 s  rss 10 MB");
    p.log("  WARNING: raw-patch features are not a pretrained network");
    await p.onCell("[1/2] x depth ast seed 0", "training");
    for (let e = 1; e <= 4; e++) p.onEpoch({ phase: "teacher", epoch: e, epochs: 4, loss: 1 / e, seconds: 0.1, numTensors: 0 }, "[1/2] x depth ast seed 0");
    await p.onCell("[1/2] x depth ast seed 0", "trained", { metrics: { image_auroc_max: 0.75, pixel_auroc: 0.9 } } as never);
    await p.onCell("[2/2] x depth ast seed 1", "failed", { message: "boom" } as never);
  } finally {
    console.log = log;
    console.error = error;
  }
  assertEquals(printed, ["WARNING: raw-patch features are not a pretrained network"]);
  const results = errors.filter((l) => / · (trained|failed)/.test(l));
  assertEquals(results.length, 2, errors.join("\n"));
  assert(/image AUROC 0\.750, pixel AUROC 0\.900/.test(results[0]), results[0]);
  assert(/boom/.test(results[1]));
  assert(errors.length <= 4, `throttled: ${errors.length} lines`);
  assertEquals([formatSeconds(12.4), formatSeconds(65), formatSeconds(NaN)], ["12 s", "1 min 05 s", "?"]);
});
