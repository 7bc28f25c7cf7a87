/**
 * A run's record, file by file (names in run_files.ts): `config.json` first (effective config,
 * data, features: what --resume needs), `history.json` + `state.json` after every epoch, the
 * trained weights, then `scores.parquet`, `maps.safetensors`, `model.json` and, last,
 * `metrics.json`, which marks the record complete. Every file is written atomically.
 */
import { join } from "node:path";
import type { AstConfig } from "../config/ast_config.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import type { Metrics } from "../metrics/run_metrics.ts";
import type { Threshold, ThresholdReport } from "../metrics/threshold.ts";
import type { EpochReport, Mode, PresetName } from "../types.ts";
import { type ModelCard, writeModelCard } from "./model_card.ts";
import type { provenance } from "./provenance.ts";
import { readJson, RUN_FILES, type ScoreRow, writeJsonAtomic, writeScoresParquet } from "./run_files.ts";
import { failpoint } from "../util/failpoint.ts";
import { sampleStd } from "../metrics/sample_std.ts";
import { diskUsage } from "../util/disk_usage.ts";

/** What config.json records about the image features, so --resume and scoring use the very same. */
export interface FeatureRecord {
  backbone: string;
  backbone_layer?: string;
  weights_sha256?: string;
  weights_path?: string;
}

/** config.json. */
export interface RunConfigFile extends FeatureRecord {
  config: AstConfig;
  data: string;
  class: string;
  layout: string;
  /** the run whose trained teacher this run reused instead of training its own (a grid's student variants) */
  teacher_from?: string;
}

/** What metrics.json holds (docs/CLI_CONTRACT.md). */
export interface RunRecord extends Metrics {
  backend: string;
  threads: number;
  /**
   * what the convolutions ran in ("bf16" only where config `precision` asked for it and it could
   * run, lib/backend/precision.ts) and on which kernels (oneDNN: e.g. "bf16 via
   * brgconv:avx512_core_bf16, ..."; else the library's name; null: the backend's own). Absent in
   * runs recorded before issue 17 (all fp32).
   */
  precision?: "fp32" | "bf16";
  precision_isa?: string | null;
  seconds: number;
  class: string;
  mode: Mode;
  preset: PresetName;
  backbone: string;
  backbone_note?: string;
  /** network layer, input side and SHA-256 of the weight files, for pretrained backbones */
  backbone_layer?: string;
  backbone_input_size?: number;
  backbone_weights_sha256?: string;
  epochs: { teacher: number; student: number };
  seed: number;
  layout: string;
  n_train: number;
  n_test: number;
  /** what the loader noticed (ignored files, no masks, ...) */
  dataset_notes?: string[];
  validation_scores: ScoreSummary | null;
  /** decision threshold from held-apart normal scores (null without them), and what it means */
  threshold: Threshold | null;
  /** precision / recall / FPR at that threshold on the labelled test images, and the F1-max threshold */
  threshold_report: ThresholdReport | null;
  /** where the held-apart normal images came from */
  normal_source: string | null;
  /** the teacher's own NLL as the anomaly score, from the same run (Table 5/6/7 "teacher" rows) */
  teacher_nll: Metrics | null;
  /** the run whose trained teacher this run reused (bit for bit the teacher it would have trained) */
  teacher_from?: string;
  /** trainable parameter counts */
  params: { teacher: number; student: number };
  /** resident memory (MB) over the training epochs: peak, and first vs last epoch of each phase */
  memory: ReturnType<typeof memorySummary>;
  /**
   * what happens to checkpoint/ once this file is written: "removed" (default: a finished run
   * needs only its final weights) or "kept" (--keep-checkpoints)
   */
  checkpoints: "kept" | "removed";
  /** wall seconds per stage of this invocation; inference = teacher+student scoring per test image, features excluded */
  timing: { features_s: number; teacher_s: number; student_s: number; evaluate_s: number; inference_ms_per_image: number };
  provenance: Awaited<ReturnType<typeof provenance>>;
}

/** Progress that survives an interruption: wall seconds of earlier invocations. */
export interface RunState {
  elapsedBefore: number;
}

export async function writeRunConfig(out: string, file: RunConfigFile): Promise<void> {
  await writeJsonAtomic(join(out, RUN_FILES.config), file);
}

export async function readRunState(out: string): Promise<RunState> {
  return await readJson<RunState>(join(out, RUN_FILES.state)).catch(() => ({ elapsedBefore: 0 }));
}

/** The epochs recorded so far (empty for a new run). */
export async function readHistory(out: string): Promise<EpochReport[]> {
  return await readJson<{ epochs: EpochReport[] }>(join(out, RUN_FILES.history)).then((h) => h.epochs).catch(() => []);
}

/** After each epoch: the whole history and the elapsed wall time, so a resumed run continues both. */
export async function writeEpochProgress(out: string, history: EpochReport[], elapsedSeconds: number): Promise<void> {
  await writeJsonAtomic(join(out, RUN_FILES.history), { epochs: history });
  await writeJsonAtomic(join(out, RUN_FILES.state), { elapsedBefore: elapsedSeconds } satisfies RunState);
}

/** The evaluation's files, metrics.json last (it marks the record complete). */
export async function writeRunResults(
  out: string,
  r: { scores: ScoreRow[]; maps: { data: Float32Array; n: number; side: number }; card: ModelCard; record: RunRecord },
): Promise<void> {
  failpoint("record:start");
  await writeScoresParquet(out, r.scores);
  failpoint("record:after-scores");
  await writeSafetensors(join(out, RUN_FILES.maps), {
    anomaly_maps: { shape: [r.maps.n, r.maps.side, r.maps.side], data: r.maps.data, dtype: "F16" },
  }, { layout: "N,H,W", note: "bicubic-upsampled student-teacher distance maps of the test images, in scores.parquet order" });
  failpoint("record:after-maps");
  await writeModelCard(out, r.card);
  failpoint("record:before-metrics");
  await writeJsonAtomic(join(out, RUN_FILES.metrics), r.record);
}

/**
 * Once the record is complete (metrics.json written) the checkpoints have done their job: only an
 * interrupted run resumes from them, and a finished one loads its final weights. Removes the
 * run's checkpoint/ and returns the bytes freed (0 when there was none).
 */
export async function removeCheckpoints(out: string): Promise<number> {
  const dir = join(out, RUN_FILES.checkpointDir);
  const bytes = await diskUsage(dir);
  await Deno.remove(dir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  return bytes;
}

/** Resident memory over the epochs: it should stay flat over a run (tensors are disposed per step). */
export function memorySummary(history: EpochReport[]) {
  const rss = (r: EpochReport) => r.rss_mb;
  const phase = (name: string) => {
    const rows = history.filter((r) => r.phase === name && rss(r) !== undefined);
    return rows.length ? { first_epoch_mb: rss(rows[0])!, last_epoch_mb: rss(rows[rows.length - 1])!, peak_mb: Math.max(...rows.map((r) => rss(r)!)) } : null;
  };
  const all = history.map(rss).filter((v): v is number => v !== undefined);
  return { rss_peak_mb: all.length ? Math.max(...all) : null, teacher: phase("teacher"), student: phase("student") };
}

export interface ScoreSummary {
  n: number;
  mean: number;
  std: number;
  min: number;
  median: number;
  q95: number;
  q99: number;
  max: number;
}

/** Distribution of image scores (the held-apart normals'); `std` is the sample sd (n - 1), as in model.json and scores.json. */
export function summariseScores(v: Float32Array): ScoreSummary {
  const s = Float64Array.from(v).sort();
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const std = sampleStd(s);
  return { n: s.length, mean, std, min: s[0], median: q(0.5), q95: q(0.95), q99: q(0.99), max: s[s.length - 1] };
}
