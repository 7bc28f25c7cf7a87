/**
 * Calibration: this implementation against the official AST code on the same test images, over
 * several seeds each. Reads per-seed run folders of both, prints a per-seed table and the
 * difference (official - ours) of the seed-mean image AUROC (max and mean scoring) and pixel
 * AUROC with 95 % bootstrap intervals (test images resampled, stratified by label, the same draw
 * for both; seeds resampled independently per implementation), and writes it all as JSON.
 *
 *   deno run -A tools/calibration/compare.ts --official DIR --ours DIR [--out FILE.json]
 *        [--resamples 2000] [--seed 0] [--bins 1000] [--label NAME]
 *
 * --ours DIR: sub-folders that are runs of `deno task ast run` (metrics.json, scores.parquet,
 * maps.safetensors). --official DIR: sub-folders written by tools/calibration/official_driver.py
 * (scores.json, maps.safetensors with the maps and the official ground truth). Images are matched
 * by defect type and file name. Default --out: results/calibration/<label>.json.
 */
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import pl from "nodejs-polars";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { auroc } from "../../lib/metrics/roc.ts";
import { readGroundTruth } from "../../lib/run/inputs.ts";
import { bootstrapDifference, type DifferenceResult, histogramAuroc, meanSd, pixelHistograms, type PixelHistograms, weightedAuroc } from "./stats.ts";

interface Run {
  implementation: "official" | "ours";
  dir: string;
  seed: number;
  seconds: number | null;
  reported: { image_auroc_max: number; image_auroc_mean: number; pixel_auroc: number };
  /** image key -> index in this run's order */
  keys: string[];
  labels: number[];
  scoreMax: number[];
  scoreMean: number[];
  /** [N, side, side] in this run's order, when saved */
  maps: Float32Array | null;
  side: number;
  /** official runs: the ground truth its evaluation used */
  gt: Float32Array | null;
  /** ours: mask file per image (undefined for good images) */
  maskPaths: (string | undefined)[] | null;
}

const imageKey = (defectType: string, path: string) => `${defectType}/${basename(path)}`;

function subdirs(root: string): string[] {
  return [...Deno.readDirSync(root)].filter((e) => e.isDirectory).map((e) => join(root, e.name)).sort();
}

const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};

async function loadMaps(path: string, name: string): Promise<{ data: Float32Array; side: number } | null> {
  if (!exists(path)) return null;
  const t = (await readSafetensors(path)).tensors.get(name);
  if (!t) return null;
  return { data: t.data as Float32Array, side: t.shape[1] };
}

async function loadOurs(root: string): Promise<Run[]> {
  const runs: Run[] = [];
  for (const dir of subdirs(root)) {
    if (!exists(join(dir, "metrics.json")) || !exists(join(dir, "scores.parquet"))) continue;
    const m = JSON.parse(await Deno.readTextFile(join(dir, "metrics.json")));
    const df = pl.readParquet(join(dir, "scores.parquet"));
    const paths = df.getColumn("path").toArray() as string[];
    const types = df.getColumn("defect_type").toArray() as string[];
    const maps = await loadMaps(join(dir, "maps.safetensors"), "anomaly_maps");
    runs.push({
      implementation: "ours",
      dir,
      seed: m.seed,
      seconds: m.seconds ?? null,
      reported: { image_auroc_max: m.image_auroc_max, image_auroc_mean: m.image_auroc_mean, pixel_auroc: m.pixel_auroc },
      keys: paths.map((p, i) => imageKey(types[i], p)),
      labels: (df.getColumn("label").toArray() as number[]).map(Number),
      scoreMax: df.getColumn("score_max").toArray() as number[],
      scoreMean: df.getColumn("score_mean").toArray() as number[],
      maps: maps?.data ?? null,
      side: maps?.side ?? 0,
      gt: null,
      // MVTec 3D-AD: test/<type>/rgb/<stem>.png -> test/<type>/gt/<stem>.png
      maskPaths: paths.map((p, i) => {
        if (types[i] === "good") return undefined;
        const mp = join(dirname(dirname(p)), "gt", basename(p));
        return exists(mp) ? mp : undefined;
      }),
    });
  }
  return runs;
}

async function loadOfficial(root: string): Promise<Run[]> {
  const runs: Run[] = [];
  for (const dir of subdirs(root)) {
    if (!exists(join(dir, "scores.json"))) continue;
    const s = JSON.parse(await Deno.readTextFile(join(dir, "scores.json")));
    const imgs = s.images as { path: string; defect_type: string; label: number; score_max: number; score_mean: number }[];
    const maps = await loadMaps(join(dir, "maps.safetensors"), "anomaly_maps");
    const gt = await loadMaps(join(dir, "maps.safetensors"), "ground_truth");
    runs.push({
      implementation: "official",
      dir,
      seed: s.seed,
      seconds: s.seconds ?? null,
      reported: { image_auroc_max: s.image_auroc_max, image_auroc_mean: s.image_auroc_mean, pixel_auroc: s.pixel_auroc },
      keys: imgs.map((r) => imageKey(r.defect_type, r.path)),
      labels: imgs.map((r) => (r.label ? 1 : 0)),
      scoreMax: imgs.map((r) => r.score_max),
      scoreMean: imgs.map((r) => r.score_mean),
      maps: maps?.data ?? null,
      side: maps?.side ?? 0,
      gt: gt?.data ?? null,
      maskPaths: null,
    });
  }
  return runs;
}

/** Reorder a run's per-image arrays to the common key order. */
function reorder<T>(run: Run, keys: string[], values: T[]): T[] {
  const at = new Map(run.keys.map((k, i) => [k, i]));
  return keys.map((k) => {
    const i = at.get(k);
    if (i === undefined) throw new Error(`${run.dir}: no test image ${k}`);
    return values[i];
  });
}

function reorderMaps(run: Run, keys: string[], data: Float32Array): Float32Array {
  const per = run.side * run.side;
  const at = new Map(run.keys.map((k, i) => [k, i]));
  const out = new Float32Array(keys.length * per);
  keys.forEach((k, j) => {
    const i = at.get(k)!;
    out.set(data.subarray(i * per, (i + 1) * per), j * per);
  });
  return out;
}

function labelsOf(gt: Float32Array): Uint8Array {
  return Uint8Array.from(gt, (v) => (v > 0 ? 1 : 0));
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      official: { type: "string" },
      ours: { type: "string" },
      out: { type: "string" },
      label: { type: "string", default: "calibration" },
      resamples: { type: "string", default: "2000" },
      seed: { type: "string", default: "0" },
      bins: { type: "string", default: "1000" },
    },
  });
  if (!values.official || !values.ours) {
    console.error("usage: deno run -A tools/calibration/compare.ts --official DIR --ours DIR [--out FILE] [--label NAME] [--resamples N] [--seed N] [--bins N]");
    return 2;
  }
  const resamples = Number(values.resamples), bootSeed = Number(values.seed), bins = Number(values.bins);
  const official = await loadOfficial(values.official);
  const ours = await loadOurs(values.ours);
  if (!official.length || !ours.length) throw new Error(`need runs of both: ${official.length} official, ${ours.length} ours`);
  const keys = [...official[0].keys].sort();
  const labels = reorder(official[0], keys, official[0].labels);
  for (const r of [...official, ...ours]) {
    const l = reorder(r, keys, r.labels).map((v) => (v ? 1 : 0));
    if (l.some((v, i) => v !== labels[i])) throw new Error(`${r.dir}: labels differ from ${official[0].dir}`);
    if (r.keys.length !== keys.length) throw new Error(`${r.dir}: ${r.keys.length} test images, ${official[0].dir} has ${keys.length}`);
  }

  // Image AUROC per run on a weighted image resample (common key order).
  const scoresOf = (r: Run, which: "scoreMax" | "scoreMean") => reorder(r, keys, r[which]);
  const image = (which: "scoreMax" | "scoreMean") => {
    const a = official.map((r) => scoresOf(r, which)), b = ours.map((r) => scoresOf(r, which));
    return bootstrapDifference(labels, a.length, b.length, (k, w) => weightedAuroc(a[k], labels, w), (k, w) => weightedAuroc(b[k], labels, w), {
      resamples,
      seed: bootSeed,
    });
  };

  // Pixel AUROC: both implementations' maps against the same ground truth, each of the two
  // binarisations (official: bilinear resize then > 0; ours so far: > 0.5).
  const withMaps = official.every((r) => r.maps && r.gt) && ours.every((r) => r.maps);
  let pixel: Record<string, unknown> | null = null;
  const pixelPerRun = new Map<Run, Record<string, number>>();
  if (withMaps) {
    const side = official[0].side;
    const gtOfficial = reorderMaps(official[0], keys, official[0].gt!);
    const maskPaths = reorder(ours[0], keys, ours[0].maskPaths!);
    const gtFromFiles = async (threshold: number) => {
      const out = new Float32Array(keys.length * side * side);
      for (let i = 0; i < keys.length; i++) out.set(await readGroundTruth(maskPaths[i], side, threshold), i * side * side);
      return out;
    };
    const gt0 = await gtFromFiles(0), gt05 = await gtFromFiles(0.5);
    let agree = 0;
    for (let k = 0; k < gt0.length; k++) if ((gt0[k] > 0) === (gtOfficial[k] > 0)) agree++;
    const lab = { official: labelsOf(gtOfficial), ours: labelsOf(gt05) };
    const hist: Record<string, { a: PixelHistograms[]; b: PixelHistograms[] }> = { official: { a: [], b: [] }, ours: { a: [], b: [] } };
    for (const r of [...official, ...ours]) {
      const maps = reorderMaps(r, keys, r.maps!);
      const row: Record<string, number> = {};
      for (const g of ["official", "ours"] as const) {
        row[`pixel_auroc_gt_${g}`] = auroc(maps, lab[g]);
        hist[g][r.implementation === "official" ? "a" : "b"].push(pixelHistograms(maps, Float32Array.from(lab[g]), keys.length, bins));
      }
      pixelPerRun.set(r, row);
    }
    const diff = (g: "official" | "ours") => {
      const h = hist[g];
      const res = bootstrapDifference(labels, h.a.length, h.b.length, (k, w) => histogramAuroc(h.a[k], w), (k, w) => histogramAuroc(h.b[k], w), {
        resamples,
        seed: bootSeed,
      });
      // point estimates from the exact AUROCs
      const ex = (impl: "official" | "ours") => meanSd([...pixelPerRun].filter(([r]) => r.implementation === impl).map(([, v]) => v[`pixel_auroc_gt_${g}`])).mean;
      const shift = ex("official") - ex("ours") - res.difference.estimate;
      for (const iv of [res.difference, res.difference_seeds_only, res.difference_images_only]) {
        iv.estimate += shift;
        iv.lo += shift;
        iv.hi += shift;
        iv.excludes_zero = iv.lo > 0 || iv.hi < 0;
      }
      return res;
    };
    pixel = {
      ground_truth_note: "official: mask bilinear-resized to the map side, then > 0 (its DefectDataset); ours: > 0.5",
      gt_official_vs_mask_files_gt0_agreement: agree / gt0.length,
      gt_pixels_positive: { official: lab.official.reduce((s, v) => s + v, 0), ours: lab.ours.reduce((s, v) => s + v, 0) },
      bins,
      gt_official: diff("official"),
      gt_ours: diff("ours"),
    };
  }

  const perRun = [...official, ...ours].sort((x, y) => (x.implementation < y.implementation ? -1 : x.implementation > y.implementation ? 1 : x.seed - y.seed))
    .map((r) => ({
      implementation: r.implementation,
      seed: r.seed,
      dir: r.dir,
      ...r.reported,
      ...(pixelPerRun.get(r) ?? {}),
      seconds: r.seconds,
    }));
  const summary = (impl: "official" | "ours") => {
    const rows = perRun.filter((r) => r.implementation === impl) as Record<string, number | string | null>[];
    const out: Record<string, unknown> = {};
    for (const k of ["image_auroc_max", "image_auroc_mean", "pixel_auroc", "pixel_auroc_gt_official", "pixel_auroc_gt_ours", "seconds"]) {
      if (rows.every((r) => typeof r[k] === "number")) out[k] = meanSd(rows.map((r) => r[k] as number));
    }
    return out;
  };
  const fmt = (iv: DifferenceResult["difference"]) => `${iv.estimate >= 0 ? "+" : ""}${iv.estimate.toFixed(4)} [${iv.lo.toFixed(4)}, ${iv.hi.toFixed(4)}]${iv.excludes_zero ? " excludes 0" : ""}`;
  const result = {
    label: values.label,
    created: new Date().toISOString(),
    n_test_images: keys.length,
    n_anomalous: labels.reduce((s, v) => s + v, 0),
    bootstrap: { resamples, seed: bootSeed, level: 0.95, images: "stratified by label, same draw for both", seeds: "with replacement, independently per implementation" },
    per_run: perRun,
    summary: { official: summary("official"), ours: summary("ours") },
    difference_official_minus_ours: {
      image_auroc_max: image("scoreMax"),
      image_auroc_mean: image("scoreMean"),
      ...(pixel ? { pixel } : {}),
    },
  };
  const out = values.out ?? join("results", "calibration", `${values.label}.json`);
  await Deno.mkdir(dirname(out), { recursive: true });
  await Deno.writeTextFile(out, JSON.stringify(result, null, 1) + "\n");

  console.log("| implementation | seed | image AUROC max | image AUROC mean | pixel AUROC (reported) | pixel AUROC (official GT) | seconds |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const r of perRun) {
    const p = (r as Record<string, unknown>).pixel_auroc_gt_official as number | undefined;
    console.log(`| ${r.implementation} | ${r.seed} | ${r.image_auroc_max.toFixed(3)} | ${r.image_auroc_mean.toFixed(3)} | ${r.pixel_auroc.toFixed(3)} | ${p !== undefined ? p.toFixed(3) : "-"} | ${r.seconds === null ? "-" : r.seconds.toFixed(0)} |`);
  }
  for (const impl of ["official", "ours"] as const) {
    const s = result.summary[impl] as Record<string, { mean: number; sd: number; n: number }>;
    console.log(`${impl}: ${Object.entries(s).map(([k, v]) => `${k} ${v.mean.toFixed(4)} +- ${v.sd.toFixed(4)}`).join(", ")} (n=${s.image_auroc_max.n})`);
  }
  const d = result.difference_official_minus_ours;
  console.log(`official - ours, 95% bootstrap (images + seeds):`);
  console.log(`  image AUROC max : ${fmt(d.image_auroc_max.difference)}   seeds only ${fmt(d.image_auroc_max.difference_seeds_only)}`);
  console.log(`  image AUROC mean: ${fmt(d.image_auroc_mean.difference)}   seeds only ${fmt(d.image_auroc_mean.difference_seeds_only)}`);
  if (pixel) {
    const po = pixel.gt_official as DifferenceResult, pu = pixel.gt_ours as DifferenceResult;
    console.log(`  pixel AUROC (official GT): ${fmt(po.difference)}   seeds only ${fmt(po.difference_seeds_only)}`);
    console.log(`  pixel AUROC (our GT)     : ${fmt(pu.difference)}`);
  }
  console.log(`-> ${out}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
