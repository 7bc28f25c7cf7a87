/**
 * Score new images with a trained model folder: image score, normalised score, verdict against
 * the model's threshold, and the anomaly map. Inputs are checked against what the model was
 * trained on (image size, channels, depth present) with one-line errors naming file and fix.
 * Writing results goes anywhere but the model folder.
 */
import * as tf from "@tensorflow/tfjs-core";
import { basename, extname, join, relative, resolve } from "node:path";
import type { RuntimeOptions } from "../config/runtime.ts";
import { ImageError, readImage } from "../io/images.ts";
import { readXyzTiff, TiffError } from "../io/tiff.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import type { Threshold, ThresholdRule } from "../metrics/threshold.ts";
import type { ImageResults } from "../models/ast.ts";
import { mapOutSize } from "../models/scoring.ts";
import { cardOverlayScale, cardThreshold, type ModelCard, normalisedScore, type OverlayScale, readModelCard } from "../results/model_card.ts";
import { writeJsonAtomic } from "../results/run_files.ts";
import type { InputFiles } from "../types.ts";
import { anomalyMapFigure, svgToPng } from "../viz/mod.ts";
import { type FeatureSet, InputError } from "./inputs.ts";
import { readDepthImage } from "./depth_image.ts";
import { loadTrainedModel, type TrainedModel } from "./trained.ts";
import { tempSibling } from "../util/fs.ts";

/** Why an image got no score: the per-image status `score --folder` lists (never "ok"). */
export type ScoreStatus = "unreadable" | "wrong input" | "no foreground" | "non-finite score";

export class ScoreInputError extends Error {
  constructor(message: string, readonly status: ScoreStatus = "wrong input") {
    super(message);
  }
}

/** An input that was not scored, and why (one line naming the file). */
export interface ScoreFailure {
  image: string;
  depth?: string;
  status: ScoreStatus;
  /** the reason; names the file when it is not the image (e.g. its depth map) */
  detail: string;
}

/** One line per failure: `IMAGE  STATUS: DETAIL`. */
export function failureLine(f: ScoreFailure): string {
  return `${f.image}  ${f.status}: ${f.detail}`;
}

/**
 * An image to score and, for 3D models, its xyz point map. A depth-only model scores a point map
 * alone: then `image` is the point map too (depthOnlyInput), and outputs name it.
 */
export type ScoreInput = InputFiles;

/** The input of a depth-only model scored from its point map alone. */
export const depthOnlyInput = (depth: string): ScoreInput => ({ image: depth, depth });

/** A depth model's input without an RGB image: nothing to read but the point map. */
const isDepthOnly = (input: { image: string; depth?: string }) => input.depth !== undefined && input.image === input.depth;

export interface ScoredImage {
  image: string;
  depth?: string;
  /** max of the anomaly map (the paper's image score) */
  score: number;
  /** mean of the anomaly map */
  score_mean: number;
  /** (score - mean normal score) / std of normal scores; null without normal images */
  normalised: number | null;
  /** score > threshold; null without a threshold */
  defective: boolean | null;
  /** [side * side] anomaly map (student-teacher distance, bicubic-upsampled) */
  map: Float32Array;
  side: number;
  /** [mapLen * mapLen] soft foreground mask (3D models), for the outline */
  foreground: Float32Array | null;
  mapLen: number;
}

export interface ScoringModel {
  model: TrainedModel;
  card: ModelCard;
  threshold: Threshold | null;
  /** the colour scale of every overlay (model.json's, fixed at training); null: each overlay its own */
  overlayScale: OverlayScale | null;
  /** things to tell the user before scoring (e.g. weights that cannot be verified) */
  notes: string[];
  dispose(): void;
}

/** A model folder ready to score; `rule` re-chooses the threshold from the stored normal scores. */
export async function openScoringModel(
  runDir: string,
  o: { rule?: ThresholdRule; weights?: string; runtime?: RuntimeOptions } = {},
): Promise<ScoringModel> {
  const card = await readModelCard(runDir);
  const model = await loadTrainedModel(runDir, { weights: o.weights, runtime: o.runtime });
  const threshold = o.rule ? cardThreshold(card.normal_scores, o.rule) : card.threshold;
  // from the card, never from a re-chosen threshold: overlays of one model always compare
  const overlay = cardOverlayScale(card, model.config.scoring, runDir);
  const notes = overlay.note ? [...model.notes, overlay.note] : model.notes;
  return { model, card, threshold, overlayScale: overlay.scale, notes, dispose: () => model.dispose() };
}

const IMAGE_EXT = new Set([".png", ".jpg", ".jpeg"]);
const needsDepth = (card: ModelCard) => card.mode !== "rgb";

/**
 * The inputs of a folder: images directly in it, or `rgb/` + `xyz/` pairs by file stem (3D), or
 * for a depth model `xyz/` alone.
 */
export function folderInputs(dir: string, card: ModelCard): ScoreInput[] {
  const list = (d: string) => {
    try {
      return [...Deno.readDirSync(d)].filter((e) => e.isFile).map((e) => e.name).sort();
    } catch {
      return null;
    }
  };
  const rgb = list(join(dir, "rgb")), xyz = list(join(dir, "xyz"));
  // a depth model needs no RGB: xyz/ alone is scored point map by point map
  if (xyz && !rgb && card.mode === "depth") {
    const maps = xyz.filter((n) => /\.tiff?$/i.test(n)).map((n) => depthOnlyInput(join(dir, "xyz", n)));
    if (!maps.length) throw new ScoreInputError(`--folder ${dir}: no .tiff point maps in ${join(dir, "xyz")}`);
    return maps;
  }
  if (rgb && xyz) {
    const byStem = new Map(xyz.filter((n) => /\.tiff?$/i.test(n)).map((n) => [n.replace(/\.tiff?$/i, ""), join(dir, "xyz", n)]));
    return rgb.filter((n) => IMAGE_EXT.has(extname(n).toLowerCase())).map((n) => {
      const depth = byStem.get(n.slice(0, -extname(n).length));
      return { image: join(dir, "rgb", n), ...(depth ? { depth } : {}) };
    });
  }
  const files = list(dir);
  if (!files) throw new ScoreInputError(`--folder ${dir}: not a readable folder`);
  const images = files.filter((n) => IMAGE_EXT.has(extname(n).toLowerCase())).map((n) => ({ image: join(dir, n) }));
  if (!images.length) throw new ScoreInputError(`--folder ${dir}: no PNG/JPEG images in it${needsDepth(card) ? " (a 3D model expects rgb/ and xyz/ sub-folders)" : ""}`);
  return images;
}

/** Check one input against the model's expectations: one line naming the file and the fix. */
async function checkInput(input: ScoreInput, card: ModelCard): Promise<void> {
  if (isDepthOnly(input) && card.mode !== "depth") {
    throw new ScoreInputError(`${input.depth}: this is a ${card.mode} model and needs the image too: pass --image FILE (only a depth model scores from --depth alone)`);
  }
  if (!isDepthOnly(input)) await checkImage(input, card);
  await checkDepth(input, card);
}

/** The image: readable, the trained size and colour. */
async function checkImage(input: ScoreInput, card: ModelCard): Promise<void> {
  let img;
  try {
    img = await readImage(input.image);
  } catch (e) {
    throw new ScoreInputError(`${input.image}: cannot read the image (${(e as Error).message.split("\n")[0]}); expected PNG or JPEG`, "unreadable");
  }
  const want = card.input;
  if (img.width !== want.width || img.height !== want.height) {
    throw new ScoreInputError(
      `${input.image}: ${img.width}x${img.height} pixels, but the model was trained on ${want.width}x${want.height} images; resize or crop to ${want.width}x${want.height} (or retrain on images of this size)`,
    );
  }
  const gray = (c: number) => c === 1 || c === 2;
  if (gray(img.channels) !== gray(want.channels)) {
    throw new ScoreInputError(
      `${input.image}: ${img.channels} channel${img.channels > 1 ? "s" : ""}, but the model was trained on ${gray(want.channels) ? "grayscale" : "colour"} images; convert it to ${gray(want.channels) ? "grayscale" : "RGB"}`,
    );
  }
}

/** The point map of a 3D model's input (present, readable, the trained size); none for RGB models. */
async function checkDepth(input: ScoreInput, card: ModelCard): Promise<void> {
  if (needsDepth(card)) {
    if (!input.depth) {
      throw new ScoreInputError(`${input.image}: this is a ${card.mode} model and needs the depth: pass --depth XYZ.tiff (or a folder with rgb/ and xyz/ sub-folders)`);
    }
    let map;
    try {
      map = await readXyzTiff(input.depth);
    } catch (e) {
      throw new ScoreInputError(`${input.depth}: cannot read the xyz point map (${(e as Error).message.split("\n")[0]}); expected a float32 3-channel TIFF`, "unreadable");
    }
    const d = card.input.depth;
    if (d && (map.width !== d.width || map.height !== d.height)) {
      throw new ScoreInputError(`${input.depth}: ${map.width}x${map.height} point map, the model was trained on ${d.width}x${d.height}; resize or crop it`);
    }
  } else if (input.depth) {
    throw new ScoreInputError(`${input.depth}: an RGB model uses no depth; leave out --depth`);
  }
}

/** Errors of one input's files (decoders, checks): a failure of that input, not of the command. */
const isInputError = (e: unknown) => e instanceof ScoreInputError || e instanceof InputError || e instanceof ImageError || e instanceof TiffError;

function failure(input: ScoreInput, status: ScoreStatus, message: string): ScoreFailure {
  const line = message.split("\n")[0];
  // the image leads the listed line: drop it from the reason, keep any other file's name
  const detail = line.startsWith(`${input.image}: `) ? line.slice(input.image.length + 2) : line;
  return { image: input.image, ...(input.depth ? { depth: input.depth } : {}), status, detail };
}

/**
 * Score each input on its own terms: an input that cannot be read, does not fit the model, has
 * no foreground (3D models with a foreground mask) or gets a non-finite score is a failure with
 * its reason, and the others are still scored. Never reports such an input as scored.
 */
export async function scoreEach(
  m: ScoringModel,
  inputs: ScoreInput[],
  onProgress?: (done: number, total: number) => void,
  o: { failFast?: boolean } = {},
): Promise<{ scored: ScoredImage[]; failed: ScoreFailure[] }> {
  if (!inputs.length) throw new ScoreInputError("nothing to score");
  const scored: ScoredImage[] = [], failed: ScoreFailure[] = [];
  const fail = (f: ScoreFailure) => {
    if (o.failFast) throw new ScoreInputError(failureLine(f), f.status);
    failed.push(f);
  };
  const ok: ScoreInput[] = [];
  for (const input of inputs) {
    try {
      await checkInput(input, m.card);
      ok.push(input);
    } catch (e) {
      if (!isInputError(e)) throw e;
      fail(failure(input, (e as ScoreInputError).status ?? "unreadable", (e as Error).message));
    }
  }
  const scoreBatch = async (part: ScoreInput[]): Promise<void> => {
    let f: FeatureSet, r: ImageResults;
    try {
      f = await m.model.features(part);
      r = m.model.score(f);
    } catch (e) {
      if (!isInputError(e)) throw e;
      // one bad file spoils its batch: score the batch's inputs one by one to find it
      if (part.length > 1) for (const input of part) await scoreBatch([input]);
      else fail(failure(part[0], "unreadable", (e as Error).message));
      return;
    }
    const cfg = m.model.config;
    const side = mapOutSize(cfg.mapLen), cells = cfg.mapLen * cfg.mapLen;
    part.forEach((input, i) => {
      const foreground = f.masks ? f.masks.slice(i * cells, (i + 1) * cells) : null;
      if (foreground && !foreground.some((v) => v > 0)) {
        return fail(failure(input, "no foreground", `${input.depth ?? input.image}: no valid foreground pixel (an empty or all-zero point map, or nothing stands out of the background plane); the model scores the object only, so there is nothing to score`));
      }
      const score = r.scoreMax[i];
      const map = r.maps.slice(i * side * side, (i + 1) * side * side);
      if (!Number.isFinite(score) || !Number.isFinite(r.scoreMean[i]) || !map.every(Number.isFinite)) {
        return fail(failure(input, "non-finite score", `${input.image}: score ${score}: the anomaly map holds NaN or infinite values (non-finite trained weights or input); no verdict`));
      }
      scored.push({
        image: input.image,
        ...(input.depth ? { depth: input.depth } : {}),
        score,
        score_mean: r.scoreMean[i],
        normalised: normalisedScore(score, m.card.normal_scores),
        defective: m.threshold ? score > m.threshold.value : null,
        map,
        side,
        foreground,
        mapLen: cfg.mapLen,
      });
    });
  };
  // Batches keep memory flat on large folders.
  const batch = 8;
  for (let b = 0; b < ok.length; b += batch) {
    await scoreBatch(ok.slice(b, b + batch));
    onProgress?.(Math.min(b + batch, ok.length), ok.length);
  }
  return { scored, failed };
}

/**
 * Score inputs, all or nothing (checked first, all of them, so a bad file fails before any
 * work): the first failure is a ScoreInputError with its one line. For folders with some bad
 * files use scoreEach.
 */
export async function scoreInputs(
  m: ScoringModel,
  inputs: ScoreInput[],
  onProgress?: (done: number, total: number) => void,
): Promise<ScoredImage[]> {
  return (await scoreEach(m, inputs, onProgress, { failFast: true })).scored;
}

/**
 * The map as drawn: values below 0 (the bicubic upsampling's overshoot beside a peak; distances
 * are never negative) shown as 0. The written map (.map.safetensors) keeps them.
 */
export function displayMap(map: Float32Array): Float32Array {
  return map.map((v) => (v < 0 ? 0 : v));
}

/** The colour range of one overlay: the model's fixed scale, else (no held-apart normals) this map's own. */
export function overlayRange(s: Pick<ScoredImage, "map">, threshold: Threshold | null, scale: OverlayScale | null): { vmin: number; vmax: number; label: string } {
  if (scale) return { vmin: scale.min, vmax: scale.max, label: `anomaly score, scale fixed for this model: 0 to ${scale.basis}; below 0 shown as 0` };
  // 0 to the larger of the threshold and the map's max: a normal part stays dark
  let vmax = threshold ? threshold.value : 0;
  for (const v of s.map) vmax = Math.max(vmax, v);
  return { vmin: 0, vmax, label: "anomaly score, scale of this image only (0 to its max); below 0 shown as 0" };
}

/** The anomaly map over the input image, with a colour bar (and the foreground outline for 3D). */
export async function scoredFigure(s: ScoredImage, threshold: Threshold | null, scale: OverlayScale | null = null): Promise<string> {
  // a depth-only input has no RGB image: the map goes over the point map drawn as grayscale
  const image = isDepthOnly(s) ? await readDepthImage(s.depth!) : await readImage(s.image);
  const verdict = s.defective === null ? "" : s.defective ? " DEFECTIVE" : " ok";
  const { vmin, vmax, label } = overlayRange(s, threshold, scale);
  const outline = s.foreground ? Uint8Array.from(s.foreground, (v) => (v > 0.5 ? 1 : 0)) : undefined;
  // The outline is at feature-map resolution: resample to the map side for the contour.
  const outlineMap = outline ? upsampleNearest(outline, s.mapLen, s.side) : undefined;
  return anomalyMapFigure(
    { data: image.data, width: image.width, height: image.height, channels: image.channels as 1 | 3 | 4 },
    { data: displayMap(s.map), width: s.side, height: s.side },
    {
      title: `${basename(s.image)}: score ${s.score.toPrecision(4)}${threshold ? ` (threshold ${threshold.value.toPrecision(4)})` : ""}${verdict}`,
      vmin,
      vmax,
      colorLabel: label,
      ...(threshold ? { barMark: { value: threshold.value, label: "threshold" } } : {}),
      ...(outlineMap ? { outline: outlineMap } : {}),
    },
  );
}

function upsampleNearest(mask: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to * to);
  for (let y = 0; y < to; y++) {
    for (let x = 0; x < to; x++) out[y * to + x] = mask[Math.floor((y * from) / to) * from + Math.floor((x * from) / to)];
  }
  return out;
}

/**
 * Refuse an output folder inside the model folder (scoring never alters a model) or one that
 * already holds results (earlier scores are never overwritten).
 */
export function checkOutDir(outDir: string, modelDir: string): void {
  const rel = relative(resolve(modelDir), resolve(outDir));
  if (rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"))) {
    throw new ScoreInputError(`--out ${outDir} is inside the model folder ${modelDir}; scoring never writes there: choose another folder`);
  }
  let entries: Deno.DirEntry[] = [];
  try {
    entries = [...Deno.readDirSync(outDir)];
  } catch {
    return; // absent: it will be created
  }
  if (entries.length) throw new ScoreInputError(`--out ${outDir} already holds results; choose a new folder (earlier scores are never overwritten)`);
}

/**
 * Per scored image: `<stem>.map.safetensors` (float32 map + scores) and `<stem>.overlay.png`;
 * plus scores.json (scored images, and the failed ones with status and reason).
 */
export async function writeScoreOutputs(outDir: string, m: ScoringModel, scored: ScoredImage[], failed: ScoreFailure[] = []): Promise<{ files: string[] }> {
  checkOutDir(outDir, m.model.runDir);
  await Deno.mkdir(outDir, { recursive: true });
  const files: string[] = [];
  const used = new Map<string, number>();
  const rows = [];
  for (const s of scored) {
    // Same stem twice (rgb/000.png from two folders): number the later ones.
    let stem = basename(s.image, extname(s.image));
    const k = used.get(stem) ?? 0;
    used.set(stem, k + 1);
    if (k) stem = `${stem}_${k}`;
    const mapPath = join(outDir, `${stem}.map.safetensors`);
    const range = overlayRange(s, m.threshold, m.overlayScale);
    await writeSafetensors(mapPath, { anomaly_map: { shape: [s.side, s.side], data: s.map, dtype: "F32" } }, {
      image: s.image,
      score: String(s.score),
      normalised: String(s.normalised),
      threshold: String(m.threshold?.value ?? ""),
      defective: String(s.defective),
      model: m.model.runDir,
      overlay_vmin: String(range.vmin),
      overlay_vmax: String(range.vmax),
    });
    const pngPath = join(outDir, `${stem}.overlay.png`);
    const tmp = tempSibling(pngPath);
    await Deno.writeFile(tmp, svgToPng(await scoredFigure(s, m.threshold, m.overlayScale), { scale: 1.5 }));
    await Deno.rename(tmp, pngPath);
    files.push(mapPath, pngPath);
    rows.push({
      image: s.image,
      ...(s.depth ? { depth: s.depth } : {}),
      score: s.score,
      score_mean: s.score_mean,
      normalised: s.normalised,
      defective: s.defective,
      map: basename(mapPath),
      overlay: basename(pngPath),
      overlay_range: [range.vmin, range.vmax],
    });
  }
  await writeJsonAtomic(join(outDir, "scores.json"), {
    model: m.model.runDir,
    threshold: m.threshold,
    overlay_scale: m.overlayScale,
    normal_scores: m.card.normal_scores ? { source: m.card.normal_scores.source, n: m.card.normal_scores.n, mean: m.card.normal_scores.mean, std: m.card.normal_scores.std } : null,
    images: rows,
    failed,
  });
  files.push(join(outDir, "scores.json"));
  return { files };
}

export interface ScoreImageResult extends ScoredImage {
  /** the anomaly map as a tensor [side, side] (the caller disposes it) */
  mapTensor: tf.Tensor2D;
  threshold: Threshold | null;
  /** the map over the input image with a colour bar, as SVG and PNG */
  svg: string;
  png: Uint8Array;
}

/**
 * One call for notebooks: score one image file with a model folder and get the numbers, the map
 * as a tensor and the figure. Opens and releases the model each time; for many images use
 * openScoringModel + scoreInputs.
 */
export async function scoreImageFile(
  runDir: string,
  input: ScoreInput,
  o: { rule?: ThresholdRule; weights?: string; runtime?: RuntimeOptions } = {},
): Promise<ScoreImageResult> {
  const m = await openScoringModel(runDir, o);
  try {
    const [s] = await scoreInputs(m, [input]);
    const svg = await scoredFigure(s, m.threshold, m.overlayScale);
    return { ...s, mapTensor: tf.tensor2d(s.map, [s.side, s.side]), threshold: m.threshold, svg, png: svgToPng(svg) };
  } finally {
    m.dispose();
  }
}
