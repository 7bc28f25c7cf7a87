/**
 * Figures of one finished run folder, for notebooks and reports: loss curves (history.json),
 * image-level ROC (scores.parquet) and anomaly maps over the input images (maps.safetensors).
 */
import { join, resolve } from "node:path";
import { openAnyDataset } from "../data/open.ts";
import { readGroundTruth } from "../run/inputs.ts";
import { readImage } from "../io/images.ts";
import { readSafetensors } from "../io/safetensors.ts";
import { auroc, rocCurve } from "../metrics/mod.ts";
import { readJson, readScoresParquet, RUN_FILES } from "../results/run_files.ts";
import type { EpochReport } from "../types.ts";
import { anomalyMapFigure, gridFigure, lineChart, type VegaLiteSpec } from "../viz/mod.ts";

/** Teacher and student training loss per epoch (two charts: their scales differ). */
export async function lossCurves(runDir: string): Promise<VegaLiteSpec[]> {
  const { epochs } = await readJson<{ epochs: EpochReport[] }>(join(runDir, RUN_FILES.history));
  return (["teacher", "student"] as const).flatMap((phase) => {
    const rows = epochs.filter((e) => e.phase === phase);
    if (!rows.length) return [];
    return [lineChart([{ name: `${phase} loss`, x: rows.map((r) => r.epoch), y: rows.map((r) => r.loss) }], {
      title: phase === "teacher" ? "Teacher: negative log-likelihood per pixel" : "Student: distance to the teacher",
      xLabel: "epoch",
      yLabel: "training loss",
    })];
  });
}

/** Image-level ROC curve of a run (max of the anomaly map as the image score). */
export function imageRoc(runDir: string, name: string, column: "score_max" | "score_mean" | "teacher_nll_max" = "score_max") {
  const df = readScoresParquet(runDir);
  const scores = df.getColumn(column).toArray() as number[];
  const labels = (df.getColumn("label").toArray() as number[]).map(Number);
  const c = rocCurve(scores, labels);
  return { name, fpr: c.fpr, tpr: c.tpr, auc: auroc(scores, labels) };
}

export interface MapPick {
  /** how many images (spread over good and each defect type, highest scores first within a type) */
  count?: number;
  /** only these defect types */
  types?: string[];
  columns?: number;
}

/** A finished run's test images with their maps: paths, defect types, image scores, the maps tensor. */
export async function scoredTestImages(runDir: string) {
  const df = readScoresParquet(runDir);
  const maps = (await readSafetensors(join(runDir, RUN_FILES.maps))).tensors.get("anomaly_maps");
  if (!maps) throw new Error(`${runDir}/${RUN_FILES.maps}: no anomaly_maps tensor`);
  return {
    paths: df.getColumn("path").toArray() as string[],
    defectTypes: df.getColumn("defect_type").toArray() as string[],
    scores: df.getColumn("score_max").toArray() as number[],
    maps,
    side: maps.shape[1],
  };
}

/**
 * Which test images to show: one per type in turn (good first), highest score first within a
 * type, so a few panels show normal and defective parts.
 */
export function pickTestImages(defectTypes: string[], scores: number[], count: number, types?: string[]): number[] {
  const byType = Map.groupBy(defectTypes.map((t, i) => ({ t, i })).filter((x) => !types || types.includes(x.t)), (x) => x.t);
  const order = [...byType.keys()].sort((a, b) => (a === "good" ? -1 : b === "good" ? 1 : a < b ? -1 : 1));
  const lists = order.map((t) => byType.get(t)!.map((x) => x.i).sort((a, b) => scores[b] - scores[a]));
  const picked: number[] = [];
  for (let round = 0; picked.length < count && lists.some((l) => l[round] !== undefined); round++) {
    for (const l of lists) if (picked.length < count && l[round] !== undefined) picked.push(l[round]);
  }
  return picked;
}

/** Anomaly maps of a run's test images over the inputs, with the ground-truth contour. */
export async function anomalyMapGrid(runDir: string, { count = 4, types, columns = 2 }: MapPick = {}): Promise<string> {
  const { paths, defectTypes, scores: scoreMax, maps, side } = await scoredTestImages(runDir);
  const picked = pickTestImages(defectTypes, scoreMax, count, types);
  // One colour range for all panels so they can be compared.
  let vmax = 0;
  for (const i of picked) for (let k = 0; k < side * side; k++) vmax = Math.max(vmax, maps.data[i * side * side + k]);
  const masks = await testMaskPaths(runDir);
  const figs: string[] = [];
  for (const i of picked) {
    const image = await readImage(paths[i]);
    const maskPath = masks.get(resolve(paths[i]));
    const gt = maskPath ? await readGroundTruth(maskPath, side) : undefined;
    figs.push(anomalyMapFigure(
      { data: image.data, width: image.width, height: image.height, channels: image.channels as 1 | 3 | 4 },
      { data: Float32Array.from(maps.data.subarray(i * side * side, (i + 1) * side * side)), width: side, height: side },
      { title: `${defectTypes[i]} (score ${scoreMax[i].toFixed(3)})`, vmin: 0, vmax, gtMask: gt, panelSize: 200, colorLabel: "anomaly score (student-teacher distance)" },
    ));
  }
  return await gridFigure(figs, { columns });
}

/** Mask files of a run's test images by (resolved) image path, from the dataset the run recorded. */
async function testMaskPaths(runDir: string): Promise<Map<string, string>> {
  const rec = await readJson<{ data: string; class: string }>(join(runDir, RUN_FILES.config));
  const ds = await openAnyDataset(rec.data, rec.class);
  return new Map(ds.test.filter((t) => t.maskPath).map((t) => [resolve(t.rgbPath), t.maskPath!]));
}
