/**
 * One AST run end to end, as its named stages: resolve -> split -> features -> fit teacher ->
 * fit student -> evaluate -> record, written as an immutable record under `out`
 * (lib/results/record.ts). Each stage is a function a notebook can call on its own; this file
 * only chains them and times them. Checkpoints make an interrupted run resumable; the record is
 * complete once metrics.json exists, and then its checkpoint/ is removed (unless keepCheckpoints).
 */
import * as tf from "@tensorflow/tfjs-core";
import { resolve } from "node:path";
import { initBackend } from "../backend/backend.ts";
import { setConvolutionPrecision } from "../backend/precision.ts";
import { configPrecision } from "../config/ast_config.ts";
import { AstModel } from "../models/ast.ts";
import { readHistory, removeCheckpoints, type RunRecord, writeRunConfig } from "../results/record.ts";
import { RUN_FILES } from "../results/run_files.ts";
import { formatBytes } from "../util/disk_usage.ts";
import { evaluateRun } from "./evaluate.ts";
import { extractFeatures, runBackbone } from "./features.ts";
import { adoptTeacher, fitStudent, fitTeacher, trainingTensors, type TrainingRun } from "./fit.ts";
import { recordRun } from "./record.ts";
import { claimRunOut, resolveRun, type RunOptions } from "./resolve.ts";
import { holdApartNormals } from "./split.ts";
import { armFailpoints } from "../util/failpoint.ts";

export interface RunResult {
  out: string;
  metrics: RunRecord;
}

/** Wall seconds since the last lap. */
function stopwatch() {
  let t = performance.now();
  return () => {
    const now = performance.now(), s = (now - t) / 1000;
    t = now;
    return s;
  };
}

export async function runExperiment(o: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const run = await resolveRun(o);
  const { cfg, log } = run;
  armFailpoints(run.runtime.failpoints ?? []);
  const split = holdApartNormals(run.dataset, cfg, log);
  const { dataset } = split;
  const backend = await initBackend(run.runtime.backend);
  // the convolutions' precision (config `precision`), before any convolution: backbone and flows
  const precision = setConvolutionPrecision(configPrecision(cfg));
  if (precision.note) log(`note: ${precision.note}`);
  else if (precision.precision === "bf16") log(`convolutions in bf16 (${precision.isa}); weights, optimizer, normalisation and losses in fp32`);
  const backbone = await runBackbone(run);
  // The raw-pixel stand-in is said loudly: its numbers are not those of a pretrained network.
  if (backbone.resolved?.note) log(`${backbone.resolved.backbone.name === "raw-patch" ? "WARNING" : "note"}: ${backbone.resolved.note}`);
  const configFile = {
    config: cfg,
    data: resolve(o.data),
    class: o.className,
    layout: dataset.layout,
    ...backbone.record,
    ...(o.teacherFrom ? { teacher_from: resolve(o.teacherFrom) } : {}),
  };
  const desc = backbone.resolved ? `${backbone.resolved.backbone.description}${backbone.info?.input_size ? `, ${backbone.info.input_size} px input` : ""}` : backbone.name;
  log(`AST ${cfg.mode} on ${dataset.classDir} (${dataset.layout}): ${dataset.train.length} train, ${dataset.validation.length} validation, ${dataset.test.length} test; backend ${backend.name} x${backend.threads}; features ${desc === backbone.name ? backbone.name : `${backbone.name} (${desc})`}`);

  const lap = stopwatch();
  const features = await extractFeatures(run, split, backbone, precision.precision);
  const featuresSeconds = lap();
  const model = AstModel.create(cfg, features.train.channels, cfg.seed);
  try {
    // Every input has been read and checked (dataset, config, backbone and weights, the images
    // themselves): only now the run folder is created, exclusively, with config.json at once.
    const out = await claimRunOut(run);
    if (!run.resume) await writeRunConfig(out, configFile);
    const training: TrainingRun = { out, cfg, log, history: await readHistory(out), elapsedBefore: run.state.elapsedBefore, started, onEpoch: o.onEpoch };
    const data = trainingTensors(features.train, cfg);
    let teacherSeconds: number;
    try {
      if (o.teacherFrom) await adoptTeacher(configFile.teacher_from!, training, configFile);
      await fitTeacher(model, data, training);
      teacherSeconds = lap();
      await fitStudent(model, data, training);
    } finally {
      tf.dispose([data.x, data.masks ?? []].flat());
    }
    const studentSeconds = lap();
    log("evaluating");
    const evaluation = await evaluateRun(model, features, dataset, cfg);
    const evaluateSeconds = lap();
    const metrics = await recordRun({
      out,
      className: o.className,
      cfg,
      split,
      backbone,
      backend,
      model,
      evaluation,
      history: training.history,
      seconds: run.state.elapsedBefore + (performance.now() - started) / 1000,
      teacherFrom: configFile.teacher_from,
      timing: { features_s: featuresSeconds, teacher_s: teacherSeconds, student_s: studentSeconds, evaluate_s: evaluateSeconds },
      keepCheckpoints: o.keepCheckpoints,
    });
    // the record is complete: its checkpoints are only dead weight now (metrics.json says which)
    if (!o.keepCheckpoints) {
      const freed = await removeCheckpoints(out);
      if (freed) log(`removed ${RUN_FILES.checkpointDir}/ (${formatBytes(freed)}; --keep-checkpoints keeps it)`);
    }
    return { out, metrics };
  } finally {
    model.dispose();
  }
}
