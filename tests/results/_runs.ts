/** Synthetic run folders (config.json, metrics.json, scores.parquet) written the way run.ts does. */
import { join } from "node:path";
import { presetConfig } from "../../lib/config/presets.ts";
import type { Mode } from "../../lib/types.ts";
import { RUN_FILES, type ScoreRow, writeJsonAtomic, writeScoresParquet } from "../../lib/results/run_files.ts";
import { auroc } from "../../lib/metrics/roc.ts";

export interface FakeRun {
  className: string;
  mode: Mode;
  seed: number;
  /** [label, score] per test image; paths are img000.png ... in this order */
  images: [number, number][];
  /** fields merged over the generated metrics.json (e.g. pixel_auroc: null) */
  metrics?: Record<string, unknown>;
  /** fields merged over the generated config (the `config` object of config.json) */
  config?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  /** false: stop before metrics.json, like an interrupted run */
  complete?: boolean;
}

/** Writes one run folder at `dir` (created) and returns it. */
export async function writeFakeRun(dir: string, r: FakeRun): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const config = { ...presetConfig("demo", r.mode, "mvtec3d"), seed: r.seed, ...(r.config ?? {}) };
  await writeJsonAtomic(join(dir, RUN_FILES.config), { config, data: "/data", class: r.className, layout: "mvtec3d", backbone: "raw-patch" });
  const rows: ScoreRow[] = r.images.map(([label, score], i) => ({
    path: `img${String(i).padStart(3, "0")}.png`,
    defect_type: label ? "dent" : "good",
    label,
    score_max: score,
    score_mean: score / 2,
  }));
  await writeScoresParquet(dir, rows);
  if (r.complete === false) return dir;
  const labels = rows.map((x) => x.label), max = rows.map((x) => x.score_max);
  await writeJsonAtomic(join(dir, RUN_FILES.metrics), {
    image_auroc_max: auroc(max, labels),
    image_auroc_mean: auroc(rows.map((x) => x.score_mean), labels),
    pixel_auroc: 0.9,
    aupro: 0.8,
    f1_max: 0.75,
    per_defect_type: { dent: auroc(max, labels) },
    backend: "cpu",
    threads: 2,
    seconds: 12.5,
    class: r.className,
    mode: r.mode,
    preset: "demo",
    backbone: "raw-patch",
    epochs: { teacher: config.teacher.epochs, student: config.student.epochs },
    seed: r.seed,
    layout: "mvtec3d",
    n_train: 10,
    n_test: rows.length,
    validation_scores: { n: 4, mean: 1.5, std: 0.25, min: 1, median: 1.5, q95: 2, q99: 2.1, max: 2.2 },
    provenance: { git_commit: "abc", deno: "2.9.6", date: "2026-12-01T00:00:00.000Z" },
    ...(r.metrics ?? {}),
  });
  if (r.tags) await writeJsonAtomic(join(dir, "tags.json"), r.tags);
  return dir;
}

/** Images with `nNeg` normals at 0..1 and `nPos` anomalies shifted by `shift` (deterministic). */
export function images(nNeg: number, nPos: number, shift: number, offset = 0): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < nNeg; i++) out.push([0, ((i * 7 + offset) % nNeg) / nNeg]);
  for (let i = 0; i < nPos; i++) out.push([1, ((i * 5 + offset) % nPos) / nPos + shift]);
  return out;
}

const made: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const d of made) {
    try {
      Deno.removeSync(d, { recursive: true });
    } catch { /* already gone */ }
  }
});

/** A fresh temp folder, removed when the test module finishes. */
export async function tempRoot(prefix: string): Promise<string> {
  const d = await Deno.makeTempDir({ prefix });
  made.push(d);
  return d;
}
