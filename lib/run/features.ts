/**
 * Stage 3, features: the run's image backbone (exactly the one a resumed run started with) and
 * the flow's inputs of the train, validation and test images (lib/run/inputs.ts; features of
 * pretrained backbones cached on disk).
 */
import type { Precision } from "../config/ast_config.ts";
import { backboneRecord, type ResolvedBackbone, resolveBackbone } from "../features/backbones.ts";
import { featureCacheDir } from "../features/feature_cache.ts";
import type { FeatureRecord } from "../results/record.ts";
import { exists } from "../results/run_files.ts";
import { sampleInputFiles } from "../types.ts";
import type { RunLog, Sample } from "../types.ts";
import { buildInputs, type FeatureSet } from "./inputs.ts";
import { type ResolvedRun, RunError } from "./resolve.ts";
import type { SplitDataset } from "./split.ts";

export interface RunBackbone {
  /** null in depth mode */
  resolved: ResolvedBackbone | null;
  /** its name, or "none (depth only)" */
  name: string;
  /** layer, input size, channels, weights checksum (backboneRecord), or null */
  info: Record<string, string | number> | null;
  /** what config.json records */
  record: FeatureRecord;
}

export interface RunFeatures {
  train: FeatureSet;
  validation: FeatureSet | null;
  test: FeatureSet;
}

/**
 * Exactly the backbone, layer and weights a run recorded in config.json (for --resume and for a
 * finished run loaded as a model): `weights` (--weights) else the recorded path when it still
 * exists, else the runtime's weights root. Different weights (by checksum) are `mismatch`'s error.
 */
export async function recordedBackbone(
  recorded: FeatureRecord,
  o: { weights?: string; weightsDir?: string },
  mismatch: (found: string | undefined, recorded: string | undefined) => Error,
): Promise<ResolvedBackbone> {
  const weights = o.weights ?? (recorded.weights_path && (await exists(recorded.weights_path)) ? recorded.weights_path : undefined);
  const resolved = await resolveBackbone({ name: recorded.backbone, weights, layer: recorded.backbone_layer, weightsDir: o.weightsDir });
  if ((resolved.backbone.weightsChecksum ?? "") !== (recorded.weights_sha256 ?? "")) {
    resolved.backbone.dispose?.();
    throw mismatch(resolved.backbone.weightsChecksum, recorded.weights_sha256);
  }
  return resolved;
}

/**
 * The image features of a run: the config's backbone, layer and weights (a preset's choice may
 * fall back to raw patches). On --resume, exactly the ones the run started with (recordedBackbone).
 */
export async function runBackbone(run: ResolvedRun): Promise<RunBackbone> {
  const { cfg, recorded, runtime } = run;
  let resolved: ResolvedBackbone | null = null;
  if (cfg.mode !== "depth" && recorded) {
    resolved = await recordedBackbone(recorded, { weights: run.options.weights, weightsDir: runtime.weightsDir }, (found, was) =>
      new RunError(`--resume: ${recorded.backbone} weights changed since the run started (sha256 ${found} != recorded ${was})`));
  } else if (cfg.mode !== "depth") {
    resolved = await resolveBackbone({
      name: cfg.backbone,
      fallback: cfg.backboneFallback,
      weights: cfg.weights ?? undefined,
      layer: cfg.layer ?? undefined,
      weightsDir: runtime.weightsDir,
    });
  }
  const name = resolved ? resolved.backbone.name : "none (depth only)";
  return {
    resolved,
    name,
    info: resolved ? backboneRecord(resolved.backbone, cfg.mapLen) : null,
    record: {
      backbone: name,
      ...(resolved?.backbone.layer ? { backbone_layer: resolved.backbone.layer } : {}),
      ...(resolved?.backbone.weightsChecksum ? { weights_sha256: resolved.backbone.weightsChecksum } : {}),
      ...(resolved?.weightsPath ? { weights_path: resolved.weightsPath } : {}),
    },
  };
}

/**
 * A progress reporter that logs at most ~10 lines per pass, each with its Progress (a pass's
 * elapsed time counts from the end of the previous pass, or from the reporter's creation).
 */
export function progressLine(what: string, log: RunLog, now: () => number = () => performance.now()) {
  let passStart = now(), currentPass: string | undefined, lastCall = passStart;
  return (done: number, total: number, pass?: string) => {
    const t = now();
    if (pass !== currentPass) [currentPass, passStart] = [pass, lastCall];
    lastCall = t;
    const step = Math.max(1, Math.ceil(total / 10));
    if (done !== total && done % step !== 0) return;
    const label = `${what}${pass ? ` (${pass})` : ""}`;
    log(`${label} ${done}/${total}`, { label, done, total, elapsedSeconds: (t - passStart) / 1000 });
  };
}

/**
 * The flow's inputs of every split; the backbone is released afterwards. `precision`: what the
 * convolutions run in (lib/backend/precision.ts); bf16 features have cache entries of their own.
 */
export async function extractFeatures(run: ResolvedRun, split: SplitDataset, backbone: RunBackbone, precision: Precision = "fp32"): Promise<RunFeatures> {
  const { cfg, options: o, log } = run;
  const b = backbone.resolved?.backbone ?? null;
  // Only pretrained networks are worth caching: the raw-patch embedding costs about a file read.
  const cacheDir = !b?.weightsChecksum ? null : o.featureCache === undefined ? featureCacheDir(run.runtime.featureCacheDir) : o.featureCache;
  const features = (samples: Sample[], what: string) =>
    buildInputs(samples.map(sampleInputFiles), {
      mode: cfg.mode,
      mapLen: cfg.mapLen,
      backbone: b,
      useMask: cfg.trainMask || cfg.evalMask,
      preprocess: cfg.preprocess,
      onProgress: progressLine(`features ${what}`, log),
      cache: cacheDir ? { dir: cacheDir, data: o.data, className: o.className, split: what, log, ...(precision === "bf16" ? { precision } : {}) } : null,
    });
  const { dataset } = split;
  try {
    const train = await features(dataset.train, "train");
    const validation = dataset.validation.length ? await features(dataset.validation, "validation") : null;
    const test = await features(dataset.test, "test");
    return { train, validation, test };
  } finally {
    b?.dispose?.(); // features are plain arrays from here on
  }
}
