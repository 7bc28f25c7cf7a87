/**
 * The files of one run record: effective config, per-image scores (parquet), per-epoch losses,
 * anomaly maps, metrics. Everything is written atomically (temp + rename); `metrics.json` is
 * written last and marks the run complete.
 */
import pl from "nodejs-polars";
import { join } from "node:path";
import { exists, tempSibling } from "../util/fs.ts";

export { exists };

export const RUN_FILES = {
  config: "config.json",
  metrics: "metrics.json",
  scores: "scores.parquet",
  history: "history.json",
  state: "state.json",
  maps: "maps.safetensors",
  teacher: "teacher.safetensors",
  student: "student.safetensors",
  checkpointDir: "checkpoint",
} as const;

export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = tempSibling(path);
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

export async function readJson<T>(path: string): Promise<T> {
  try {
    return JSON.parse(await Deno.readTextFile(path)) as T;
  } catch (e) {
    throw new Error(`${path}: cannot read JSON (${(e as Error).message})`);
  }
}

export interface ScoreRow {
  path: string;
  defect_type: string;
  label: number;
  score_max: number;
  score_mean: number;
  /** the teacher's NLL as the image score (max / mean over the map), when the run has a student */
  teacher_nll_max?: number;
  teacher_nll_mean?: number;
}

export async function writeScoresParquet(dir: string, rows: ScoreRow[]): Promise<void> {
  const df = pl.DataFrame([
    pl.Series("path", rows.map((r) => r.path), pl.Utf8),
    pl.Series("defect_type", rows.map((r) => r.defect_type), pl.Utf8),
    pl.Series("label", rows.map((r) => r.label), pl.Int32),
    pl.Series("score_max", rows.map((r) => r.score_max), pl.Float64),
    pl.Series("score_mean", rows.map((r) => r.score_mean), pl.Float64),
    ...(rows.length && rows.every((r) => r.teacher_nll_max !== undefined)
      ? [
        pl.Series("teacher_nll_max", rows.map((r) => r.teacher_nll_max!), pl.Float64),
        pl.Series("teacher_nll_mean", rows.map((r) => r.teacher_nll_mean!), pl.Float64),
      ]
      : []),
  ]);
  const path = join(dir, RUN_FILES.scores);
  const tmp = tempSibling(path);
  df.writeParquet(tmp);
  await Deno.rename(tmp, path);
}

export function readScoresParquet(dir: string): pl.DataFrame {
  return pl.readParquet(join(dir, RUN_FILES.scores));
}

