/**
 * Scoring a new image end to end (issue: "images/s for scoring at the demo and paper
 * configurations, features included"): one MVTec 3D-AD-style sample per call through the
 * project's own path, `buildInputs` (RGB decode + preprocessing + backbone, xyz TIFF depth
 * preprocessing) then `AstModel.score` (teacher, student, distance, upsampled map, image score,
 * read back). The models have the preset's combi shapes with random weights: speed does not
 * depend on trained values. The images come from the synthetic generator, written to a temp dir.
 */
import { join } from "node:path";
import { generateDataset } from "../../lib/data/synthetic.ts";
import { openDataset } from "../../lib/data/mvtec.ts";
import { resolveConfig } from "../../lib/config/resolve.ts";
import { backboneRecord, backboneSpec, locateWeights, type ResolvedBackbone, resolveBackbone } from "../../lib/features/backbones.ts";
import { AstModel } from "../../lib/models/ast.ts";
import { scoringInput } from "../../lib/run/evaluate.ts";
import { buildInputs, inputChannels } from "../../lib/run/inputs.ts";
import { type InputFiles, type PresetName, sampleInputFiles } from "../../lib/types.ts";
import { effnetB5BenchWeightsFile } from "./effnet_weights.ts";
import type { BenchEnv } from "./workloads.ts";

export interface ScoreWorkload {
  kind: "score";
  name: string;
  /** no PyTorch reference exists for this path */
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

/** A prepared scoring workload: `step` scores the next image; `dispose` frees everything. */
export interface ScoreBench {
  step(): Promise<void>;
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

    let next = 0;
    const step = async () => {
      const input = inputs[next++ % inputs.length];
      const f = await buildInputs([input], {
        mode: cfg.mode,
        mapLen: cfg.mapLen,
        backbone,
        useMask: cfg.trainMask || cfg.evalMask,
        preprocess: cfg.preprocess,
        cache: null, // a new image is never in the cache
      });
      // dataSync inside: the score and map are read back
      model.score(scoringInput(f, cfg), cfg.batchSize);
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
