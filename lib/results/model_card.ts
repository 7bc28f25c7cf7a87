/**
 * `model.json`: what a run folder needs, beside the weights and config.json, to score new images
 * on its own: the input the model expects (image size, channels, depth), the image features
 * (backbone, layer, weights checksum), and the scores of held-apart normal images with the
 * decision threshold chosen from them. Written by training, read by scoring; versioned so a
 * folder from an incompatible version is refused with a clear message.
 */
import { join } from "node:path";
import { exists, readJson, writeJsonAtomic } from "./run_files.ts";
import type { Mode } from "../types.ts";
import { sampleStd } from "../metrics/sample_std.ts";
import { chooseThreshold, type Threshold, type ThresholdRule } from "../metrics/threshold.ts";

export const MODEL_CARD_FILE = "model.json";
export const MODEL_FORMAT = "ast-lab-model";
/**
 * major.minor: a reader takes every minor of its major (minors only add fields). 1.1 added
 * `trained_weights_sha256` and `input.size_rule`; a 1.0 card still reads, its weights unverified.
 * 1.2 added `overlay_scale`; older cards get the same rule from their recorded threshold.
 */
export const MODEL_FORMAT_VERSION = 1.2;
const MODEL_FORMAT_MAJOR = Math.floor(MODEL_FORMAT_VERSION);

/** The rule the model's input size follows (lib/data/image_sizes.ts), stated in the card. */
export const INPUT_SIZE_RULE =
  "one size: all images of the class (train, validation, test) share width x height, checked when the dataset is opened; scoring refuses images of another size (no silent resize)";

export interface InputSpec {
  /** size and channels of the training images (RGB files; for depth mode the RGB beside the xyz) */
  width: number;
  height: number;
  channels: number;
  /** xyz point-map size, for depth and combi models */
  depth?: { width: number; height: number };
  /** how images of other sizes are treated (INPUT_SIZE_RULE; since 1.1) */
  size_rule?: string;
}

export interface NormalScores {
  /** where the held-apart normal images came from */
  source: "validation" | "train-holdout" | "folder-holdout";
  n: number;
  /** image scores (max of the anomaly map) of those images */
  values: number[];
  mean: number;
  /** sample standard deviation (n - 1; lib/metrics/sample_std.ts) */
  std: number;
}

export interface ModelCard {
  format: typeof MODEL_FORMAT;
  version: number;
  created: string;
  class: string;
  mode: Mode;
  /** MVTec layout the model was trained on ("mvtec3d" | "mvtecad") */
  layout: string;
  features: { backbone: string; layer?: string; weights_sha256?: string; input_size?: number };
  input: InputSpec;
  pos_enc: boolean;
  foreground_mask: boolean;
  map_side: number;
  normal_scores: NormalScores | null;
  threshold: Threshold | null;
  /** SHA-256 of each trained-weights file of the folder that scoring loads, by file name (since 1.1) */
  trained_weights_sha256?: Record<string, string>;
  /** SHA-256 of the folder's config.json (the effective config scoring rebuilds the model from; since 1.1) */
  config_sha256?: string;
  /** the colour scale of every overlay this model draws (since 1.2; null: none could be fixed) */
  overlay_scale?: OverlayScale | null;
}

/**
 * The colour range of a model's overlays, fixed when it is trained so overlays of two images
 * compare: 0 to OVERLAY_SCALE_THRESHOLDS x the decision threshold. A quantile of the held-apart
 * normal maps' pixels was the other candidate, but its 99th percentile is about half the highest
 * normal image score on the demo models (1.7 vs 3.6), so every normal image would show saturated
 * spots; at twice the threshold a normal image peaks near mid-scale and a defect goes to the top.
 */
export interface OverlayScale {
  min: number;
  max: number;
  /** how max was chosen, in words (written beside the colour bar) */
  basis: string;
}

export const OVERLAY_SCALE_THRESHOLDS = 2;

/**
 * The overlay scale for a model scoring with `scoring` and this threshold, or null: without
 * held-apart normals (no threshold) or for teacher-NLL maps (they can be negative everywhere,
 * no zero to anchor at) each overlay keeps its own range.
 */
export function overlayScaleFor(threshold: Threshold | null, scoring: string): OverlayScale | null {
  if (!threshold || !(threshold.value > 0) || scoring !== "student") return null;
  return {
    min: 0,
    max: OVERLAY_SCALE_THRESHOLDS * threshold.value,
    basis: `${OVERLAY_SCALE_THRESHOLDS} x the decision threshold ${threshold.value.toPrecision(4)} (held-apart normal images)`,
  };
}

/** A card's overlay scale; a card before 1.2 gets the same rule from its recorded threshold, with a note. */
export function cardOverlayScale(card: ModelCard, scoring: string, runDir: string): { scale: OverlayScale | null; note: string | null } {
  if (card.overlay_scale !== undefined) return { scale: card.overlay_scale, note: null };
  const scale = overlayScaleFor(card.threshold, scoring);
  const how = scale ? `${scale.basis}, as training would record it` : "each overlay's own range";
  return { scale, note: `note: ${runDir}: ${MODEL_CARD_FILE} v${card.version} records no overlay colour scale: overlays use ${how}` };
}

export class ModelCardError extends Error {}

export function normalScores(values: ArrayLike<number>, source: NormalScores["source"]): NormalScores {
  const v = Array.from(values);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { source, n: v.length, values: v, mean, std: sampleStd(v) };
}

/** The threshold for a card's normal scores under a rule (null without normal images). */
export function cardThreshold(normal: NormalScores | null, rule: ThresholdRule): Threshold | null {
  return normal && normal.n ? chooseThreshold(normal.values, rule) : null;
}

/** (score - mean of normal scores) / their std: how many normal spreads above normal. */
export function normalisedScore(score: number, normal: NormalScores | null): number | null {
  if (!normal || normal.n < 2 || !(normal.std > 0)) return null;
  return (score - normal.mean) / normal.std;
}

export async function writeModelCard(runDir: string, card: ModelCard): Promise<void> {
  await writeJsonAtomic(join(runDir, MODEL_CARD_FILE), card);
}

export async function readModelCard(runDir: string): Promise<ModelCard> {
  const path = join(runDir, MODEL_CARD_FILE);
  if (!(await exists(path))) {
    throw new ModelCardError(
      `${runDir}: no ${MODEL_CARD_FILE}: not a finished model folder, or one from an incompatible (older) version; retrain it with this version (deno task ast run ...)`,
    );
  }
  const card = await readJson<ModelCard>(path);
  if (card.format !== MODEL_FORMAT || typeof card.version !== "number" || Math.floor(card.version) !== MODEL_FORMAT_MAJOR) {
    throw new ModelCardError(
      `${path}: model format ${card.format ?? "?"} v${card.version ?? "?"}, this version reads ${MODEL_FORMAT} v${MODEL_FORMAT_MAJOR}.x; retrain with this version`,
    );
  }
  return card;
}

/** Why a card's trained weights cannot be verified (a card older than 1.1), or null. */
export function unverifiedWeightsNote(card: Pick<ModelCard, "version" | "trained_weights_sha256"> | null, runDir: string): string | null {
  if (card?.trained_weights_sha256) return null;
  const what = card ? `${MODEL_CARD_FILE} v${card.version}` : `no ${MODEL_CARD_FILE}`;
  return `note: ${runDir}: ${what} records no SHA-256 of the trained weights, so they cannot be verified (retrain to record it)`;
}
