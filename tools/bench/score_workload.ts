/**
 * Scoring a new image end to end (issue: "images/s for scoring at the demo and paper
 * configurations, features included"): one MVTec 3D-AD-style sample per call through the
 * project's own path, `buildInputs` (RGB decode + preprocessing + backbone, xyz TIFF depth
 * preprocessing) then `AstModel.score` (teacher, student, distance, upsampled map, image score,
 * read back). The models have the preset's combi shapes with random weights: speed does not
 * depend on trained values. The images come from the synthetic generator, written to a temp dir.
 * `scoreTorchSpec` gives tools/bench/torch_reference.py the same shapes for its PyTorch version.
 */
import { join } from "node:path";
import { generateDataset } from "../../lib/data/synthetic.ts";
import { openDataset } from "../../lib/data/mvtec.ts";
import { type DecodedImage, readImage } from "../../lib/io/images.ts";
import { resolveConfig } from "../../lib/config/resolve.ts";
import {
  backboneRecord,
  backboneSpec,
  efficientNetBlock,
  locateWeights,
  rawPatchBackbone,
  type ResolvedBackbone,
  resolveBackbone,
} from "../../lib/features/backbones.ts";
import { RAW_PATCH_FACTOR, RAW_PATCH_RECIPE } from "../../lib/features/raw_patch.ts";
import { MOBILENET_V2_DEFAULT_LAYER, MOBILENET_V2_RECIPE } from "../../lib/features/mobilenet_v2.ts";
import { EFFICIENTNET_RECIPE, strideAtBlock } from "../../lib/features/efficientnet/backbone.ts";
import { B5_BLOCKS } from "../../lib/features/efficientnet/architecture.ts";
import type { RgbRecipe } from "../../lib/preprocess/rgb.ts";
import { mapOutSize } from "../../lib/models/scoring.ts";
import { DEPTH_CHANNELS } from "../../lib/preprocess/depth.ts";
import { effnetB5ForwardFlops, flowForwardFlops, studentForwardFlops } from "./flops.ts";
import { AstModel, type ImageResults } from "../../lib/models/ast.ts";
import { scoringInput } from "../../lib/run/evaluate.ts";
import { buildInputs, type FeatureSet, inputChannels, setImageFeatures } from "../../lib/run/inputs.ts";
import { type InputFiles, type PresetName, sampleInputFiles } from "../../lib/types.ts";
import { effnetB5BenchWeightsFile } from "./effnet_weights.ts";
import type { BenchEnv } from "./workloads.ts";

export interface ScoreWorkload {
  kind: "score";
  name: string;
  /** issue 5 had no constant for this path (the same-run PyTorch reference: scoreTorchSpec) */
  referenceMs: null;
  /** config preset, in combi mode on MVTec 3D-AD */
  preset: PresetName;
  /** side of the synthetic RGB/xyz images (MVTec 3D-AD's are ~800 px) */
  imageSize: number;
  /** `key=value` config overrides (tests use tiny networks) */
  overrides?: string[];
  /** stand-in for missing EfficientNet-B5 weights: ../shared's fixture if present, else seeded random */
  fixtureWeights: boolean;
}

/**
 * A prepared scoring workload: `step` scores the next image from its files; `networkStep` does
 * the part tools/bench/torch_reference.py's PyTorch step also does (backbone resize and
 * normalisation, backbone, teacher, student, map, scores) on an image decoded and a point map
 * preprocessed beforehand, so the PyTorch ratios compare like with like; `dispose` frees
 * everything.
 */
export interface ScoreBench {
  /** both return the image's scores (max and mean of its map), for tests */
  step(): Promise<ImageResults>;
  networkStep(): Promise<ImageResults>;
  note: string;
  dispose(): Promise<void>;
}

/** Test images the steps cycle through, so timing is not one file's. */
const COUNTS = { train: 1, validation: 0, testGood: 3, defects: { dent: 1, bump: 1, hole: 1, crack: 0, color: 0 } };

/**
 * The preset's backbone as a run resolves it; for EfficientNet-B5 without real weights (the
 * paper preset would refuse), the effnet_b5_768 workload's stand-in weights through the same
 * loader, so resize, normalisation and network are the real ones.
 */
async function benchBackbone(
  name: string,
  fallback: boolean,
  tmp: string,
  fixture: boolean,
  env: BenchEnv,
): Promise<{ resolved: ResolvedBackbone; note?: string }> {
  const weightsDir = env.runtime.weightsDir;
  if (name === "efficientnet-b5" && !(await locateWeights(backboneSpec(name), undefined, weightsDir))) {
    const { path, source } = await effnetB5BenchWeightsFile(35, tmp, fixture, env.sharedDir);
    const resolved = await resolveBackbone({ name, weights: path, weightsDir });
    return { resolved, note: `real weights absent: stand-in weights (${source === "random" ? "seeded random" : "fixture, random values"})` };
  }
  const resolved = await resolveBackbone({ name, fallback, weightsDir });
  return { resolved, note: resolved.note };
}

export async function prepareScore(w: ScoreWorkload, env: BenchEnv): Promise<ScoreBench> {
  const cfg = resolveConfig({ preset: w.preset, mode: "combi", layout: "mvtec3d", sets: w.overrides });
  const tmp = await Deno.makeTempDir({ prefix: "ast-bench-score-" });
  const made: { dispose(): void }[] = [];
  try {
    await generateDataset({ root: join(tmp, "data"), className: "puck", seed: 0, size: w.imageSize, counts: COUNTS });
    const inputs: InputFiles[] = (await openDataset(join(tmp, "data"), "puck")).test.map(sampleInputFiles);
    const { resolved, note } = await benchBackbone(cfg.backbone, cfg.backboneFallback, tmp, w.fixtureWeights, env);
    const backbone = resolved.backbone;
    if (backbone.dispose) made.push({ dispose: () => backbone.dispose!() });
    const channels = inputChannels(cfg.mode, backbone);
    const model = AstModel.create(cfg, channels, 0);
    made.push(model);

    const inputOptions = {
      mode: cfg.mode,
      mapLen: cfg.mapLen,
      backbone,
      useMask: cfg.trainMask || cfg.evalMask,
      preprocess: cfg.preprocess,
      cache: null, // a new image is never in the cache
    };
    let next = 0;
    const step = async () => {
      const input = inputs[next++ % inputs.length];
      const f = await buildInputs([input], inputOptions);
      // dataSync inside: the score and map are read back
      return model.score(scoringInput(f, cfg), cfg.batchSize);
    };
    // networkStep's inputs: each image decoded, and its depth channels and mask computed, once
    const prepared: { image: DecodedImage; features: FeatureSet }[] = [];
    for (const input of inputs) {
      prepared.push({ image: await readImage(input.image, { toRgb: true }), features: await buildInputs([input], inputOptions) });
    }
    let nextPrepared = 0;
    const networkStep = async () => {
      const { image, features } = prepared[nextPrepared++ % prepared.length];
      const imageFeatures = await backbone.extract(image, cfg.mapLen);
      const x = features.x.slice();
      setImageFeatures(x, imageFeatures, backbone.channels, channels);
      return model.score(scoringInput({ ...features, x }, cfg), cfg.batchSize);
    };
    const bb = backboneRecord(backbone, cfg.mapLen);
    const noteText = [
      `${w.preset} combi: ${bb.backbone}${bb.layer ? ` ${bb.layer}` : ""} at ${bb.input_size} px, ${channels} ch, map ${cfg.mapLen}, ` +
      `teacher h${cfg.teacher.hidden}, student ${model.student ? `h${cfg.student.hidden}x${cfg.student.nBlocks}` : "none"}; ` +
      `${w.imageSize} px images (${inputs.length} cycled), features + score per image`,
      ...(note ? [note] : []),
    ].join("; ");
    return {
      step,
      networkStep,
      note: noteText,
      dispose: async () => {
        for (const m of made.splice(0)) m.dispose();
        await Deno.remove(tmp, { recursive: true });
      },
    };
  } catch (e) {
    for (const m of made) m.dispose();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * The backbone a score workload's run uses, by name, without loading it: the config's, or
 * raw-patch when a preset that may fall back (demo: mobilenet_v2) finds no weights, as
 * `resolveBackbone` decides. EfficientNet-B5 never falls back here (`benchBackbone` stands in
 * weights), so the PyTorch reference builds the network our row timed.
 */
export async function scoreBackboneName(w: ScoreWorkload, weightsDir?: string): Promise<string> {
  const cfg = resolveConfig({ preset: w.preset, mode: "combi", layout: "mvtec3d", sets: w.overrides });
  if (!cfg.backboneFallback || cfg.backbone === "efficientnet-b5") return cfg.backbone;
  const spec = backboneSpec(cfg.backbone);
  return spec.weights && !(await locateWeights(spec, undefined, weightsDir)) ? rawPatchBackbone.name : cfg.backbone;
}

/** How torch_reference.py resizes and normalises for each of our RGB recipes (lib/preprocess/rgb.ts). */
const TORCH_RECIPES: Record<RgbRecipe, { resize: "bilinear-antialias" | "area"; normalise: "imagenet" | "unit-range" }> = {
  "pil-bilinear-imagenet": { resize: "bilinear-antialias", normalise: "imagenet" },
  "area-imagenet": { resize: "area", normalise: "imagenet" },
  "area-unit-range": { resize: "area", normalise: "unit-range" },
};

interface TorchBackbone {
  backbone: string;
  /** EfficientNet-B5 block / Keras MobileNetV2 block_N; null for raw-patch */
  backboneBlock: number | null;
  backboneInput: number;
  backboneChannels: number;
  recipe: RgbRecipe;
  /** forward conv FLOPs; null: not counted analytically (MobileNetV2) */
  flops: number | null;
}

/** The backbone's shapes at `mapLen`, or null when torch_reference.py has no equivalent (another MobileNetV2 layer). */
function torchBackbone(name: string, layer: string | null, mapLen: number): TorchBackbone | null {
  switch (name) {
    case "raw-patch":
      return { backbone: name, backboneBlock: null, backboneInput: RAW_PATCH_FACTOR * mapLen, backboneChannels: rawPatchBackbone.channels, recipe: RAW_PATCH_RECIPE, flops: 0 };
    case "mobilenet_v2": {
      // torchvision's mobilenet_v2(width_mult=0.35) has Keras' channel rounding; only the default cut is mapped
      if ((layer ?? MOBILENET_V2_DEFAULT_LAYER) !== MOBILENET_V2_DEFAULT_LAYER) return null;
      const spec = backboneSpec(name);
      const block = Number(/^block_(\d+)_add$/.exec(MOBILENET_V2_DEFAULT_LAYER)![1]);
      return { backbone: name, backboneBlock: block, backboneInput: spec.inputSize(mapLen), backboneChannels: spec.channels, recipe: MOBILENET_V2_RECIPE, flops: null };
    }
    case "efficientnet-b5": {
      const block = efficientNetBlock(layer ?? "block35");
      const input = strideAtBlock(block) * mapLen;
      return {
        backbone: name,
        backboneBlock: block,
        backboneInput: input,
        backboneChannels: B5_BLOCKS[block].outChannels,
        recipe: EFFICIENTNET_RECIPE,
        flops: effnetB5ForwardFlops(input, block),
      };
    }
    default:
      return null;
  }
}

/**
 * The score workload as torch_reference.py's "score" kind reads it: the resolved combi config's
 * shapes (backbone cut, input size and recipe, depth channels, map, PE, teacher, student, mask,
 * map size) and flops.ts's forward conv GFLOPs (null with MobileNetV2, not counted here). `backbone`:
 * the one the run uses (scoreBackboneName). Null when PyTorch has no equivalent (a symmetric flow
 * student, a MobileNetV2 layer other than the default).
 */
export function scoreTorchSpec(w: ScoreWorkload, backbone?: string): Record<string, unknown> | null {
  const cfg = resolveConfig({ preset: w.preset, mode: "combi", layout: "mvtec3d", sets: w.overrides });
  const b = torchBackbone(backbone ?? cfg.backbone, backbone && backbone !== cfg.backbone ? null : cfg.layer, cfg.mapLen);
  const withStudent = cfg.scoring === "student";
  if (!b || (withStudent && cfg.student.kind !== "asymmetric")) return null;
  const { recipe, flops, ...shapes } = b;
  const channels = b.backboneChannels + DEPTH_CHANNELS;
  const posEncDim = cfg.posEnc ? cfg.posEncDim : 0;
  const teacher = { hidden: cfg.teacher.hidden, nBlocks: cfg.teacher.nBlocks, kernelSizes: [...cfg.teacher.kernelSizes], clamp: cfg.teacher.clamp };
  const student = withStudent ? { hidden: cfg.student.hidden, nBlocks: cfg.student.nBlocks, leakySlope: cfg.student.leakySlope } : null;
  const net = flowForwardFlops({ channels, posEncDim, ...teacher }, 1, cfg.mapLen) +
    (student ? studentForwardFlops({ channels, posEncDim, ...student }, 1, cfg.mapLen) : 0);
  return {
    ...w,
    ...shapes,
    ...TORCH_RECIPES[recipe],
    depthChannels: DEPTH_CHANNELS,
    mapLen: cfg.mapLen,
    posEncDim,
    teacher,
    student,
    evalMask: cfg.evalMask,
    outSize: mapOutSize(cfg.mapLen),
    analytic_gflops: flops == null ? null : (flops + net) / 1e9,
  };
}
