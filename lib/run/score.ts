/**
 * Score new images with a trained model folder: image score, normalised score, verdict against
 * the model's threshold, and the anomaly map. Inputs are checked against what the model was
 * trained on (image size, channels, depth present) with one-line errors naming file and fix.
 * Writing results goes anywhere but the model folder.
 */
import * as tf from "@tensorflow/tfjs-core";
import { basename, extname, join, relative, resolve } from "node:path";
import type { RuntimeOptions } from "../config/runtime.ts";
import { readImage } from "../io/images.ts";
import { readXyzTiff } from "../io/tiff.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import type { Threshold, ThresholdRule } from "../metrics/threshold.ts";
import { mapOutSize } from "../models/scoring.ts";
import { cardThreshold, type ModelCard, normalisedScore, readModelCard } from "../results/model_card.ts";
import { writeJsonAtomic } from "../results/run_files.ts";
import type { InputFiles } from "../types.ts";
import { anomalyMapFigure, svgToPng } from "../viz/mod.ts";
import { loadTrainedModel, type TrainedModel } from "./trained.ts";

export class ScoreInputError extends Error {}

/** An image to score and, for 3D models, its xyz point map. */
export type ScoreInput = InputFiles;

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
  return { model, card, threshold, dispose: () => model.dispose() };
}

const IMAGE_EXT = new Set([".png", ".jpg", ".jpeg"]);
const needsDepth = (card: ModelCard) => card.mode !== "rgb";

/** The inputs of a folder: images directly in it, or `rgb/` + `xyz/` pairs by file stem (3D). */
export function folderInputs(dir: string, card: ModelCard): ScoreInput[] {
  const list = (d: string) => {
    try {
      return [...Deno.readDirSync(d)].filter((e) => e.isFile).map((e) => e.name).sort();
    } catch {
      return null;
    }
  };
  const rgb = list(join(dir, "rgb")), xyz = list(join(dir, "xyz"));
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
  let img;
  try {
    img = await readImage(input.image);
  } catch (e) {
    throw new ScoreInputError(`${input.image}: cannot read the image (${(e as Error).message.split("\n")[0]}); expected PNG or JPEG`);
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
  if (needsDepth(card)) {
    if (!input.depth) {
      throw new ScoreInputError(`${input.image}: this is a ${card.mode} model and needs the depth: pass --depth XYZ.tiff (or a folder with rgb/ and xyz/ sub-folders)`);
    }
    let map;
    try {
      map = await readXyzTiff(input.depth);
    } catch (e) {
      throw new ScoreInputError(`${input.depth}: cannot read the xyz point map (${(e as Error).message.split("\n")[0]}); expected a float32 3-channel TIFF`);
    }
    const d = want.depth;
    if (d && (map.width !== d.width || map.height !== d.height)) {
      throw new ScoreInputError(`${input.depth}: ${map.width}x${map.height} point map, the model was trained on ${d.width}x${d.height}; resize or crop it`);
    }
  } else if (input.depth) {
    throw new ScoreInputError(`${input.depth}: an RGB model uses no depth; leave out --depth`);
  }
}

/** Score inputs (checked first, all of them, so a bad file fails before any work). */
export async function scoreInputs(
  m: ScoringModel,
  inputs: ScoreInput[],
  onProgress?: (done: number, total: number) => void,
): Promise<ScoredImage[]> {
  if (!inputs.length) throw new ScoreInputError("nothing to score");
  for (const input of inputs) await checkInput(input, m.card);
  const out: ScoredImage[] = [];
  const cfg = m.model.config;
  const side = mapOutSize(cfg.mapLen);
  // Batches keep memory flat on large folders.
  const batch = 8;
  for (let b = 0; b < inputs.length; b += batch) {
    const part = inputs.slice(b, b + batch);
    const f = await m.model.features(part);
    const r = m.model.score(f);
    const cells = cfg.mapLen * cfg.mapLen;
    part.forEach((input, i) => {
      const score = r.scoreMax[i];
      out.push({
        image: input.image,
        ...(input.depth ? { depth: input.depth } : {}),
        score,
        score_mean: r.scoreMean[i],
        normalised: normalisedScore(score, m.card.normal_scores),
        defective: m.threshold ? score > m.threshold.value : null,
        map: r.maps.slice(i * side * side, (i + 1) * side * side),
        side,
        foreground: f.masks ? f.masks.slice(i * cells, (i + 1) * cells) : null,
        mapLen: cfg.mapLen,
      });
    });
    onProgress?.(Math.min(b + batch, inputs.length), inputs.length);
  }
  return out;
}

/** The anomaly map over the input image, with a colour bar (and the foreground outline for 3D). */
export async function scoredFigure(s: ScoredImage, threshold: Threshold | null): Promise<string> {
  const image = await readImage(s.image);
  const verdict = s.defective === null ? "" : s.defective ? " DEFECTIVE" : " ok";
  // Colour range from 0 to the larger of the threshold and the map's max: a normal part stays dark.
  let vmax = threshold ? threshold.value : 0;
  for (const v of s.map) vmax = Math.max(vmax, v);
  const outline = s.foreground ? Uint8Array.from(s.foreground, (v) => (v > 0.5 ? 1 : 0)) : undefined;
  // The outline is at feature-map resolution: resample to the map side for the contour.
  const outlineMap = outline ? upsampleNearest(outline, s.mapLen, s.side) : undefined;
  return anomalyMapFigure(
    { data: image.data, width: image.width, height: image.height, channels: image.channels as 1 | 3 | 4 },
    { data: s.map, width: s.side, height: s.side },
    {
      title: `${basename(s.image)}: score ${s.score.toPrecision(4)}${threshold ? ` (threshold ${threshold.value.toPrecision(4)})` : ""}${verdict}`,
      vmin: 0,
      vmax,
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

/** Per image: `<stem>.map.safetensors` (float32 map + scores) and `<stem>.overlay.png`; plus scores.json. */
export async function writeScoreOutputs(outDir: string, m: ScoringModel, scored: ScoredImage[]): Promise<{ files: string[] }> {
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
    await writeSafetensors(mapPath, { anomaly_map: { shape: [s.side, s.side], data: s.map, dtype: "F32" } }, {
      image: s.image,
      score: String(s.score),
      normalised: String(s.normalised),
      threshold: String(m.threshold?.value ?? ""),
      defective: String(s.defective),
      model: m.model.runDir,
    });
    const pngPath = join(outDir, `${stem}.overlay.png`);
    const tmp = `${pngPath}.tmp-${Deno.pid}`;
    await Deno.writeFile(tmp, svgToPng(await scoredFigure(s, m.threshold), { scale: 1.5 }));
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
    });
  }
  await writeJsonAtomic(join(outDir, "scores.json"), {
    model: m.model.runDir,
    threshold: m.threshold,
    normal_scores: m.card.normal_scores ? { source: m.card.normal_scores.source, n: m.card.normal_scores.n, mean: m.card.normal_scores.mean, std: m.card.normal_scores.std } : null,
    images: rows,
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
    const svg = await scoredFigure(s, m.threshold);
    return { ...s, mapTensor: tf.tensor2d(s.map, [s.side, s.side]), threshold: m.threshold, svg, png: svgToPng(svg) };
  } finally {
    m.dispose();
  }
}
