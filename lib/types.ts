/**
 * Types and name lists shared across lib/: a leaf module (imports nothing), so data, preprocess,
 * features, models, config and results can all use them without importing each other.
 */

/** What the model sees: image features, unshuffled depth, or both (features first). */
export type Mode = "depth" | "rgb" | "combi";
export const MODES: readonly Mode[] = ["depth", "rgb", "combi"];

/** Config presets (lib/config/presets.ts). */
export type PresetName = "demo" | "cpu" | "paper" | "reference-small";
export const PRESETS: readonly PresetName[] = ["demo", "cpu", "paper", "reference-small"];

/** Dataset layouts: MVTec 3D-AD (rgb + xyz per sample) or MVTec AD (images only). */
export type DatasetLayout = "mvtec3d" | "mvtecad";
export type Split = "train" | "validation" | "test";

/** One image of a dataset: where its files are and what it is. */
export interface Sample {
  split: Split;
  /** Sub-folder name: "good" or the defect type. */
  defectType: string;
  /** 0 good, 1 defect. */
  label: 0 | 1;
  /** File name without extension, e.g. "000". */
  stem: string;
  rgbPath: string;
  /** MVTec 3D-AD only. */
  xyzPath?: string;
  /** Defect samples only; good samples have an all-zero mask. */
  maskPath?: string;
}

/** The files of one model input: an image and, for 3D models, its xyz point map. */
export interface InputFiles {
  image: string;
  /** xyz point map (TIFF) for depth / combi models */
  depth?: string;
}

/** A sample's input files. */
export function sampleInputFiles(s: Sample): InputFiles {
  return { image: s.rgbPath, ...(s.xyzPath ? { depth: s.xyzPath } : {}) };
}

/**
 * An image as float32 values, channels last (HWC): what both preprocessing paths return
 * (lib/preprocess/rgb.ts: a backbone's input; lib/preprocess/depth.ts: unshuffled depth).
 */
export interface HwcImage {
  data: Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** One training epoch, as the engine reports it and history.json records it. */
export interface EpochReport {
  phase: string;
  /** 1-based */
  epoch: number;
  epochs: number;
  loss: number;
  seconds: number;
  /** live tensors after the epoch: flat across epochs when nothing leaks */
  numTensors: number;
  /** resident memory of the process after the epoch, MB (added by the run that records it) */
  rss_mb?: number;
}

/**
 * A counted step of a long phase (features of a split, epochs of teacher or student), sent with
 * its plain log line so a terminal can show the phase as one updating line
 * (lib/report/terminal_progress.ts) while plain loggers print the line and ignore this.
 */
export interface Progress {
  /** the phase, also what identifies its line: "features train (depth)", "teacher epoch" */
  label: string;
  done: number;
  total: number;
  /** wall seconds the phase has taken so far */
  elapsedSeconds: number;
  /** shown after the count, e.g. "loss 0.12345" */
  detail?: string;
}

/** A run's log: every call is one plain line; counted steps also pass their Progress. */
export type RunLog = (line: string, progress?: Progress) => void;
