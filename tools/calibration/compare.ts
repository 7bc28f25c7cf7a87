/**
 * Calibration: this implementation against the official AST code on the same test images, over
 * several seeds each. Reads per-seed run folders of both, prints a per-seed table and the
 * difference (official - ours) of the seed-mean image AUROC (max and mean scoring) and pixel
 * AUROC with 95 % bootstrap intervals (test images resampled, stratified by label, the same draw
 * for both; seeds resampled independently per implementation), and writes it all as JSON.
 *
 *   deno run -A tools/calibration/compare.ts --official DIR --ours DIR [--out FILE.json]
 *        [--resamples 2000] [--seed 0] [--bins 1000] [--label NAME] [--name-a official --name-b ours]
 *
 * Either folder may hold runs of either kind (e.g. ours before and after a fix: --official
 * ours-after --ours ours-before --name-a after --name-b before); the difference is always the
 * first minus the second.
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

/** Runs of either kind in the sub-folders of `root`: official_driver.py output or our run folders. */
async function loadAny(root: string): Promise<Run[]> {
  const runs = [...(await loadOfficial(root)), ...(await loadOurs(root))];
  return runs.sort((x, y) => x.seed - y.seed);
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      official: { type: "string" },
      ours: { type: "string" },
      "name-a": { type: "string", default: "official" },
      "name-b": { type: "string", default: "ours" },
      out: { type: "string" },
      label: { type: "string", default: "calibration" },
      resamples: { type: "string", default: "2000" },
      seed: { type: "string", default: "0" },
      bins: { type: "string", default: "1000" },
    },
  });
  if (!values.official || !values.ours) {
    console.error(
      "usage: deno run -A tools/calibration/compare.ts --official DIR --ours DIR [--name-a official --name-b ours] [--out FILE] [--label NAME] [--resamples N] [--seed N] [--bins N]",
    );
    return 2;
  }
  const resamples = Number(values.resamples), bootSeed = Number(values.seed), bins = Number(values.bins);
  const nameA = values["name-a"]!, nameB = values["name-b"]!;
  // A (--official) and B (--ours); either folder may hold runs of either kind (e.g. ours before
  // and after a fix), the difference is always A - B.
  const A = await loadAny(values.official);
  const B = await loadAny(values.ours);
  if (!A.length || !B.length) throw new Error(`need runs in both folders: ${A.length} in ${values.official}, ${B.length} in ${values.ours}`);
  const all = [...A, ...B];
  const group = new Map<Run, string>([...A.map((r) => [r, nameA] as [Run, string]), ...B.map((r) => [r, nameB] as [Run, string])]);
  const keys = [...A[0].keys].sort();
  const labels = reorder(A[0], keys, A[0].labels);
  for (const r of all) {
    if (r.keys.length !== keys.length) throw new Error(`${r.dir}: ${r.keys.length} test images, ${A[0].dir} has ${keys.length}`);
    const l = reorder(r, keys, r.labels).map((v) => (v ? 1 : 0));
    if (l.some((v, i) => v !== labels[i])) throw new Error(`${r.dir}: labels differ from ${A[0].dir}`);
  }

  // Image AUROC per run on a weighted image resample (common key order).
  const scoresOf = (r: Run, which: "scoreMax" | "scoreMean") => reorder(r, keys, r[which]);
  const image = (which: "scoreMax" | "scoreMean") => {
    const a = A.map((r) => scoresOf(r, which)), b = B.map((r) => scoresOf(r, which));
    return bootstrapDifference(labels, a.length, b.length, (k, w) => weightedAuroc(a[k], labels, w), (k, w) => weightedAuroc(b[k], labels, w), {
      resamples,
      seed: bootSeed,
    });
  };

  // Pixel AUROC: every run's maps against the same ground truth, each of two binarisations of the
  // bilinearly resized mask: "official" (> 0, the official evaluation, and ours since the
  // calibration) and "half" (> 0.5, ours before it). From the mask files when a run of ours
  // names them, else the official driver's saved ground truth ("official" only).
  const withMaps = all.every((r) => r.maps);
  let pixel: Record<string, unknown> | null = null;
  const pixelPerRun = new Map<Run, Record<string, number>>();
  if (withMaps) {
    const side = A[0].side;
    const withPaths = all.find((r) => r.maskPaths);
    const withGt = all.find((r) => r.gt);
    const gtFromFiles = async (threshold: number) => {
      const maskPaths = reorder(withPaths!, keys, withPaths!.maskPaths!);
      const out = new Float32Array(keys.length * side * side);
      for (let i = 0; i < keys.length; i++) out.set(await readGroundTruth(maskPaths[i], side, threshold), i * side * side);
      return out;
    };
    const gts: Record<string, Uint8Array> = {};
    let agreement: number | null = null;
    if (withPaths) {
      const gt0 = await gtFromFiles(0);
      gts.official = labelsOf(gt0);
      gts.half = labelsOf(await gtFromFiles(0.5));
      if (withGt) {
        const g = labelsOf(reorderMaps(withGt, keys, withGt.gt!));
        let same = 0;
        for (let k = 0; k < g.length; k++) if (g[k] === gts.official[k]) same++;
        agreement = same / g.length;
      }
    } else if (withGt) {
      gts.official = labelsOf(reorderMaps(withGt, keys, withGt.gt!));
    }
    const hist: Record<string, { a: PixelHistograms[]; b: PixelHistograms[] }> = {};
    for (const g of Object.keys(gts)) hist[g] = { a: [], b: [] };
    for (const r of all) {
      const maps = reorderMaps(r, keys, r.maps!);
      const row: Record<string, number> = {};
      for (const g of Object.keys(gts)) {
        row[`pixel_auroc_gt_${g}`] = auroc(maps, gts[g]);
        hist[g][group.get(r) === nameA && A.includes(r) ? "a" : "b"].push(pixelHistograms(maps, Float32Array.from(gts[g]), keys.length, bins));
      }
      pixelPerRun.set(r, row);
    }
    const diff = (g: string) => {
      const h = hist[g];
      const res = bootstrapDifference(labels, h.a.length, h.b.length, (k, w) => histogramAuroc(h.a[k], w), (k, w) => histogramAuroc(h.b[k], w), {
        resamples,
        seed: bootSeed,
      });
      // point estimates from the exact AUROCs; the binned replicates shifted by the binning offset
      const ex = (runs: Run[]) => meanSd(runs.map((r) => pixelPerRun.get(r)![`pixel_auroc_gt_${g}`])).mean;
      const shift = ex(A) - ex(B) - res.difference.estimate;
      for (const iv of [res.difference, res.difference_seeds_only, res.difference_images_only]) {
        iv.estimate += shift;
        iv.lo += shift;
        iv.hi += shift;
        iv.excludes_zero = iv.lo > 0 || iv.hi < 0;
      }
      return res;
    };
    pixel = {
      ground_truth_note: "gt_official: mask bilinear-resized to the map side, then > 0 (the official DefectDataset; ours since the calibration); gt_half: > 0.5 (ours before it)",
      gt_official_from_files_vs_official_driver_agreement: agreement,
      gt_pixels_positive: Object.fromEntries(Object.entries(gts).map(([g, l]) => [g, l.reduce((s, v) => s + v, 0)])),
      bins,
      ...Object.fromEntries(Object.keys(gts).map((g) => [`gt_${g}`, diff(g)])),
    };
  }

  const rowOf = (r: Run) => ({
    implementation: group.get(r)!,
    kind: r.implementation,
    seed: r.seed,
    dir: r.dir,
    ...r.reported,
    ...(pixelPerRun.get(r) ?? {}),
    seconds: r.seconds,
  });
  const perRun = [...A.map(rowOf), ...B.map(rowOf)];
  const summary = (runs: Run[]) => {
    const rows = runs.map(rowOf) as unknown as Record<string, number | string | null>[];
    const out: Record<string, unknown> = {};
    for (const k of ["image_auroc_max", "image_auroc_mean", "pixel_auroc", "pixel_auroc_gt_official", "pixel_auroc_gt_half", "seconds"]) {
      if (rows.every((r) => typeof r[k] === "number")) out[k] = meanSd(rows.map((r) => r[k] as number));
    }
    return out;
  };
  const fmt = (iv: DifferenceResult["difference"]) =>
    `${iv.estimate >= 0 ? "+" : ""}${iv.estimate.toFixed(4)} [${iv.lo.toFixed(4)}, ${iv.hi.toFixed(4)}]${iv.excludes_zero ? " excludes 0" : ""}`;
  const result = {
    label: values.label,
    created: new Date().toISOString(),
    a: { name: nameA, folder: values.official },
    b: { name: nameB, folder: values.ours },
    n_test_images: keys.length,
    n_anomalous: labels.reduce((s, v) => s + v, 0),
    bootstrap: {
      resamples,
      seed: bootSeed,
      level: 0.95,
      images: "stratified by label, the same draw for both",
      seeds: "with replacement, independently per implementation",
    },
    per_run: perRun,
    summary: { [nameA]: summary(A), [nameB]: summary(B) },
    difference_a_minus_b: {
      image_auroc_max: image("scoreMax"),
      image_auroc_mean: image("scoreMean"),
      ...(pixel ? { pixel } : {}),
    },
  };
  const out = values.out ?? join("results", "calibration", `${values.label}.json`);
  await Deno.mkdir(dirname(out), { recursive: true });
  await Deno.writeTextFile(out, JSON.stringify(result, null, 1) + "\n");

  console.log("| implementation | seed | image AUROC max | image AUROC mean | pixel AUROC (reported) | pixel AUROC (GT > 0) | pixel AUROC (GT > 0.5) | seconds |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const r of perRun) {
    const p = (k: string) => {
      const v = (r as Record<string, unknown>)[k] as number | undefined;
      return v !== undefined ? v.toFixed(3) : "-";
    };
    console.log(
      `| ${r.implementation} | ${r.seed} | ${r.image_auroc_max.toFixed(3)} | ${r.image_auroc_mean.toFixed(3)} | ${r.pixel_auroc.toFixed(3)} | ${p("pixel_auroc_gt_official")} | ${
        p("pixel_auroc_gt_half")
      } | ${r.seconds === null ? "-" : r.seconds.toFixed(0)} |`,
    );
  }
  for (const name of [nameA, nameB]) {
    const s = result.summary[name] as Record<string, { mean: number; sd: number; n: number }>;
    console.log(`${name}: ${Object.entries(s).map(([k, v]) => `${k} ${v.mean.toFixed(4)} +- ${v.sd.toFixed(4)}`).join(", ")} (n=${s.image_auroc_max.n})`);
  }
  const d = result.difference_a_minus_b;
  console.log(`${nameA} - ${nameB}, 95% bootstrap (images + seeds):`);
  console.log(`  image AUROC max : ${fmt(d.image_auroc_max.difference)}   seeds only ${fmt(d.image_auroc_max.difference_seeds_only)}`);
  console.log(`  image AUROC mean: ${fmt(d.image_auroc_mean.difference)}   seeds only ${fmt(d.image_auroc_mean.difference_seeds_only)}`);
  if (pixel) {
    for (const g of ["official", "half"]) {
      const iv = pixel[`gt_${g}`] as DifferenceResult | undefined;
      if (iv) console.log(`  pixel AUROC (GT ${g === "official" ? "> 0" : "> 0.5"}): ${fmt(iv.difference)}   seeds only ${fmt(iv.difference_seeds_only)}`);
    }
  }
  console.log(`-> ${out}`);
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
