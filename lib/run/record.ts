/**
 * Stage 7, record: the run's results as the files of lib/results — per-image scores, anomaly
 * maps, the model card (what scoring new images needs) and metrics.json, written last.
 */
import type { BackendInfo } from "../backend/backend.ts";
import { convolutionPrecisionReport } from "../backend/precision.ts";
import type { AstConfig } from "../config/ast_config.ts";
import type { MvtecDataset } from "../data/mvtec.ts";
import { datasetNotes, hasDefectMasks } from "../data/open.ts";
import { join } from "node:path";
import { readImage } from "../io/images.ts";
import { readXyzTiff } from "../io/tiff.ts";
import type { AstModel } from "../models/ast.ts";
import { INPUT_SIZE_RULE, type InputSpec, MODEL_FORMAT, MODEL_FORMAT_VERSION, type ModelCard, normalScores, overlayScaleFor } from "../results/model_card.ts";
import { exists, RUN_FILES } from "../results/run_files.ts";
import { sha256File } from "../util/sha256.ts";
import { provenance } from "../results/provenance.ts";
import { memorySummary, type RunRecord, summariseScores, writeRunResults } from "../results/record.ts";
import type { EpochReport, Mode, Sample } from "../types.ts";
import type { Evaluation } from "./evaluate.ts";
import type { RunBackbone } from "./features.ts";
import type { SplitDataset } from "./split.ts";

export interface RecordInputs {
  out: string;
  className: string;
  cfg: AstConfig;
  split: SplitDataset;
  backbone: RunBackbone;
  backend: BackendInfo;
  model: AstModel;
  evaluation: Evaluation;
  history: EpochReport[];
  /** wall seconds of the whole run (earlier invocations included) and per stage of this one */
  seconds: number;
  timing: Omit<RunRecord["timing"], "inference_ms_per_image">;
  /** the run whose teacher was reused, if any */
  teacherFrom?: string;
  /** checkpoint/ stays after the record is complete (--keep-checkpoints); else run.ts removes it */
  keepCheckpoints?: boolean;
}

/** What the model expects as input (checked when scoring new images). */
async function inputSpec(sample: Sample, mode: Mode): Promise<InputSpec> {
  const img = await readImage(sample.rgbPath);
  // every image of the class has this size (lib/data/image_sizes.ts, checked on open)
  const spec: InputSpec = { width: img.width, height: img.height, channels: img.channels, size_rule: INPUT_SIZE_RULE };
  if (mode !== "rgb" && sample.xyzPath) {
    const xyz = await readXyzTiff(sample.xyzPath);
    spec.depth = { width: xyz.width, height: xyz.height };
  }
  return spec;
}

/**
 * SHA-256 of the trained-weights files scoring loads (teacher, and student when there is one),
 * so a changed or damaged file is caught on load (lib/run/trained.ts) instead of scoring NaN.
 */
export async function trainedWeightsDigests(runDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of [RUN_FILES.teacher, RUN_FILES.student]) {
    const path = join(runDir, name);
    if (await exists(path)) out[name] = await sha256File(path);
  }
  return out;
}

function modelCard(r: RecordInputs, dataset: MvtecDataset, input: InputSpec, weights: Record<string, string>, configDigest: string): ModelCard {
  const { cfg, backbone: { name, info }, evaluation: ev, split } = r;
  return {
    format: MODEL_FORMAT,
    version: MODEL_FORMAT_VERSION,
    created: new Date().toISOString(),
    class: r.className,
    mode: cfg.mode,
    layout: dataset.layout,
    features: {
      backbone: name,
      ...(info?.layer ? { layer: String(info.layer) } : {}),
      ...(info?.weights_sha256 ? { weights_sha256: String(info.weights_sha256) } : {}),
      ...(info?.input_size ? { input_size: Number(info.input_size) } : {}),
    },
    input,
    pos_enc: cfg.posEnc,
    foreground_mask: cfg.evalMask,
    map_side: ev.outSize,
    normal_scores: ev.validationScores && split.normalSource ? normalScores(ev.validationScores.scoreMax, split.normalSource) : null,
    threshold: ev.threshold,
    trained_weights_sha256: weights,
    config_sha256: configDigest,
    overlay_scale: overlayScaleFor(ev.threshold, cfg.scoring),
  };
}

/** metrics.json's precision and precision_isa: what the convolutions ran in (lib/backend/precision.ts). */
function precisionRecord(): Pick<RunRecord, "precision" | "precision_isa"> {
  const { precision, isa } = convolutionPrecisionReport();
  return { precision, precision_isa: isa };
}

async function runRecord(r: RecordInputs, dataset: MvtecDataset): Promise<RunRecord> {
  const { cfg, backbone: { name, info, resolved }, evaluation: ev } = r;
  const notes = datasetNotes(dataset), masks = hasDefectMasks(dataset);
  return {
    ...ev.metrics,
    backend: r.backend.name,
    threads: r.backend.threads,
    ...precisionRecord(),
    seconds: r.seconds,
    class: r.className,
    mode: cfg.mode,
    preset: cfg.preset,
    backbone: name,
    ...(resolved?.note ? { backbone_note: resolved.note } : {}),
    ...(info?.layer ? { backbone_layer: String(info.layer) } : {}),
    ...(info ? { backbone_input_size: Number(info.input_size) } : {}),
    ...(info?.weights_sha256 ? { backbone_weights_sha256: String(info.weights_sha256) } : {}),
    epochs: { teacher: cfg.teacher.epochs, student: cfg.student.epochs },
    seed: cfg.seed,
    layout: dataset.layout,
    n_train: dataset.train.length,
    n_test: dataset.test.length,
    ...(notes.length || !masks ? { dataset_notes: [...notes, ...(masks ? [] : ["no defect masks: image-level metrics only"])] } : {}),
    validation_scores: ev.validationScores ? summariseScores(ev.validationScores.scoreMax) : null,
    threshold: ev.threshold,
    threshold_report: ev.thresholdReport,
    normal_source: r.split.normalSource,
    teacher_nll: ev.teacherNll,
    ...(r.teacherFrom ? { teacher_from: r.teacherFrom } : {}),
    params: r.model.paramCounts(),
    memory: memorySummary(r.history),
    checkpoints: r.keepCheckpoints ? "kept" : "removed",
    timing: { ...r.timing, inference_ms_per_image: ev.inferenceMs },
    provenance: await provenance(r.backend),
  };
}

export async function recordRun(r: RecordInputs): Promise<RunRecord> {
  const { evaluation: ev } = r;
  const dataset = r.split.dataset;
  const record = await runRecord(r, dataset);
  await writeRunResults(r.out, {
    scores: ev.samples.map((s, i) => ({
      path: s.rgbPath,
      defect_type: s.defectType,
      label: s.label,
      score_max: ev.results.scoreMax[i],
      score_mean: ev.results.scoreMean[i],
      ...(ev.teacherScores ? { teacher_nll_max: ev.teacherScores.scoreMax[i], teacher_nll_mean: ev.teacherScores.scoreMean[i] } : {}),
    })),
    maps: { data: ev.results.maps, n: ev.samples.length, side: ev.outSize },
    card: modelCard(r, dataset, await inputSpec(dataset.train[0], r.cfg.mode), await trainedWeightsDigests(r.out), await sha256File(join(r.out, RUN_FILES.config))),
    record,
  });
  return record;
}
