import { join } from "node:path";
import { runExperiment } from "../../lib/run/run.ts";
import { assert, assertEquals } from "../assert.ts";
import { TINY_SETS, tinyMvtecAd } from "./_tiny.ts";
import pl from "nodejs-polars";
import { auroc } from "../../lib/metrics/roc.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};

/** Your own data: good/ and defective/ folders, no MVTec layout. */
async function folderFromTinyAd(withMasks: boolean): Promise<string> {
  const ad = join(await tinyMvtecAd(4), "tex");
  const root = await Deno.makeTempDir();
  const cls = join(root, "parts");
  await Deno.mkdir(join(cls, "good"), { recursive: true });
  await Deno.mkdir(join(cls, "defective"), { recursive: true });
  for (const split of ["train", "test"]) {
    for (const e of Deno.readDirSync(join(ad, split, "good"))) await Deno.copyFile(join(ad, split, "good", e.name), join(cls, "good", `${split}_${e.name}`));
  }
  for (const e of Deno.readDirSync(join(ad, "test", "blob"))) await Deno.copyFile(join(ad, "test", "blob", e.name), join(cls, "defective", e.name));
  if (withMasks) {
    await Deno.mkdir(join(cls, "masks"));
    for (const e of Deno.readDirSync(join(ad, "ground_truth", "blob"))) await Deno.copyFile(join(ad, "ground_truth", "blob", e.name), join(cls, "masks", e.name));
  }
  return root;
}

Deno.test({ name: "run: a plain folder of good and defective images, without masks: image metrics only, said so", ...opts, fn: async () => {
  const root = await folderFromTinyAd(false);
  const lines: string[] = [];
  const { metrics } = await runExperiment({
    data: root, className: "parts", mode: "rgb", epochs: 1, backbone: "raw-patch",
    out: join(root, "run"), sets: TINY_SETS, log: (l) => lines.push(l),
  });
  assertEquals(metrics.layout, "mvtecad");
  const scores = pl.readParquet(join(root, "run", "scores.parquet"));
  assertEquals(metrics.image_auroc_max, auroc(scores.getColumn("score_max").toArray() as number[], scores.getColumn("label").toArray() as number[]));
  assertEquals(metrics.pixel_auroc, null);
  assertEquals(metrics.aupro, null);
  assert(metrics.dataset_notes!.some((n) => n.includes("image-level metrics only")), "the record says why pixel metrics are missing");
  assert(lines.some((l) => l.includes("no defect masks")), "the log says so too");
  assert(metrics.validation_scores !== null, "held-apart good images are scored");
}});

Deno.test({ name: "run: a plain folder with masks gives pixel metrics", ...opts, fn: async () => {
  const root = await folderFromTinyAd(true);
  const { metrics } = await runExperiment({
    data: root, className: "parts", mode: "rgb", epochs: 1, backbone: "raw-patch",
    out: join(root, "run"), sets: TINY_SETS, log: quiet,
  });
  assert(typeof metrics.pixel_auroc === "number" && typeof metrics.aupro === "number", "pixel metrics computed");
  // the same images and model without masks: identical image-level results
  const noMasks = await runExperiment({
    data: await folderFromTinyAd(false), className: "parts", mode: "rgb", epochs: 1, backbone: "raw-patch",
    out: join(root, "run-no-masks"), sets: TINY_SETS, log: quiet,
  });
  assertEquals(noMasks.metrics.image_auroc_max, metrics.image_auroc_max);
}});
