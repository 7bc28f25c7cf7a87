/**
 * Stages 4 and 5, fit teacher and fit student: the training engine on the model's objectives,
 * with a resumable checkpoint every `checkpointEvery` epochs, history.json and state.json after
 * each epoch, and the final weights (official state-dict names) when a phase ends. A phase whose
 * final weights exist is loaded, not retrained (resume after it finished).
 */
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { type AstConfig, teacherConfigKey, withDefaults } from "../config/ast_config.ts";
import { writeSafetensors } from "../io/safetensors.ts";
import type { AstModel } from "../models/ast.ts";
import type { ParameterStore } from "../models/parameters.ts";
import { stateDict } from "../models/state_dict.ts";
import { type RunConfigFile, writeEpochProgress } from "../results/record.ts";
import { exists, readJson, RUN_FILES } from "../results/run_files.ts";
import { Adam } from "../train/adam.ts";
import { type CheckpointMeta, loadCheckpoint, saveCheckpoint } from "../train/checkpoint.ts";
import { type EpochReport, type LoopOptions, type TrainData, trainLoop } from "../train/engine.ts";
import type { FeatureSet } from "./inputs.ts";
import type { RunLog } from "../types.ts";
import { failpoint } from "../util/failpoint.ts";

/** Where and how a run trains: its folder, config, history so far and progress hooks. */
export interface TrainingRun {
  out: string;
  cfg: AstConfig;
  log: RunLog;
  /** epochs recorded so far (history.json; a resumed run continues it) */
  history: EpochReport[];
  /** wall seconds of this run before `started` (earlier invocations) */
  elapsedBefore: number;
  /** performance.now() when this invocation started */
  started: number;
  onEpoch?: (r: EpochReport) => void;
}

/** The training images as tensors (the caller disposes them): features and, when trained with it, the mask. */
export function trainingTensors(train: FeatureSet, cfg: AstConfig): TrainData {
  const n = train.files.length;
  return {
    x: tf.tensor4d(train.x, [n, train.side, train.side, train.channels]),
    masks: cfg.trainMask && train.masks ? tf.tensor4d(train.masks, [n, train.side, train.side, 1]) : null,
  };
}

export async function fitTeacher(model: AstModel, data: TrainData, run: TrainingRun): Promise<void> {
  await fitPhase("teacher", model.teacher.params, run.cfg.teacher.epochs, data, run, (x, m) => model.teacherLoss(x, m));
}

/**
 * Reuse another run's trained teacher: copy its teacher weights into this run, after checking
 * that it trained the very teacher this run would (same teacher-side config, data, class and
 * image features). `fitTeacher` then finds them and skips training. Returns false when this run
 * already has its teacher (resumed), true when it was copied.
 */
export async function adoptTeacher(from: string, run: { out: string; cfg: AstConfig; log: (l: string) => void }, own: RunConfigFile): Promise<boolean> {
  const target = join(run.out, RUN_FILES.teacher);
  if (await exists(target)) return false;
  const source = join(from, RUN_FILES.teacher);
  if (!(await exists(source))) throw new Error(`teacher to reuse: ${source} not found (has that run finished its teacher?)`);
  const theirs = await readJson<RunConfigFile>(join(from, RUN_FILES.config));
  const differs = [
    teacherConfigKey(withDefaults(theirs.config)) !== teacherConfigKey(run.cfg) && "teacher-side config",
    (theirs.data !== own.data || theirs.class !== own.class) && "data or class",
    (theirs.backbone !== own.backbone || theirs.weights_sha256 !== own.weights_sha256 || theirs.backbone_layer !== own.backbone_layer) && "image features",
  ].filter(Boolean);
  if (differs.length) throw new Error(`teacher to reuse from ${from}: its ${differs.join(", ")} differ from this run's; it is not the teacher this run would train`);
  await Deno.copyFile(source, target);
  run.log(`teacher: reused from ${from} (same seed and teacher config: the teacher this run would train)`);
  return true;
}

/** The teacher is frozen: its output is the student's regression target. */
export async function fitStudent(model: AstModel, data: TrainData, run: TrainingRun): Promise<void> {
  if (!model.student) return;
  await fitPhase("student", model.student.params, run.cfg.student.epochs, data, run, (x, m, updates) => model.studentLoss(x, m, updates));
}

async function fitPhase(
  phase: "teacher" | "student",
  params: ParameterStore,
  epochs: number,
  data: TrainData,
  run: TrainingRun,
  loss: LoopOptions["loss"],
): Promise<void> {
  const { out, cfg, log } = run;
  const finalPath = join(out, phase === "teacher" ? RUN_FILES.teacher : RUN_FILES.student);
  const ckptDir = join(out, RUN_FILES.checkpointDir);
  const ckptPath = join(ckptDir, `${phase}.safetensors`);
  if (await exists(finalPath)) {
    await loadCheckpoint(finalPath, params, null);
    log(`${phase}: trained weights found, skipping training`);
    return;
  }
  await Deno.mkdir(ckptDir, { recursive: true });
  const optimizer = new Adam(cfg.adam, params.trainable);
  let start = 0;
  if (await exists(ckptPath)) {
    start = (await loadCheckpoint(ckptPath, params, optimizer)).epoch;
    log(`${phase}: resuming after epoch ${start}`);
  }
  // Epochs recorded after the checkpoint (an interruption between two checkpoints) are trained
  // again: drop them, so history.json lists each epoch once.
  const kept = run.history.filter((h) => h.phase !== phase || h.epoch <= start);
  run.history.splice(0, run.history.length, ...kept);
  await trainLoop(data, {
    phase,
    epochs,
    startEpoch: start,
    batchSize: Math.min(cfg.batchSize, data.x.shape[0]),
    seed: cfg.seed,
    params,
    optimizer,
    loss,
    onEpoch: async (r) => {
      if (r.epoch % cfg.checkpointEvery === 0 || r.epoch === r.epochs) {
        const meta: CheckpointMeta = { phase, epoch: r.epoch, adamStep: optimizer.step };
        await saveCheckpoint(ckptPath, params, optimizer, meta);
        failpoint(`${phase}:after-checkpoint`);
      }
      await recordEpoch(r, run);
    },
  });
  failpoint(`${phase}:before-final-weights`);
  await writeSafetensors(finalPath, await stateDict(params), { phase, epochs: String(epochs), format: "AST state dict (PyTorch layout)" });
  failpoint(`${phase}:after-final-weights`);
  optimizer.dispose();
}

/** Progress line, resident memory (it should stay flat: tensors are disposed per step), history.json. */
async function recordEpoch(r: EpochReport, run: TrainingRun): Promise<void> {
  const rssMb = Math.round(Deno.memoryUsage().rss / 2 ** 20);
  // the phase's wall time so far: its recorded epochs (a resumed run's earlier ones too) and this one
  const elapsedSeconds = run.history.reduce((s, h) => s + (h.phase === r.phase ? h.seconds : 0), r.seconds);
  const loss = `loss ${r.loss.toFixed(5)}`;
  run.log(`${r.phase} epoch ${r.epoch}/${r.epochs}  ${loss}  ${r.seconds.toFixed(1)} s  rss ${rssMb} MB`, {
    label: `${r.phase} epoch`,
    done: r.epoch,
    total: r.epochs,
    elapsedSeconds,
    detail: loss,
  });
  run.history.push({ ...r, rss_mb: rssMb });
  await writeEpochProgress(run.out, run.history, run.elapsedBefore + (performance.now() - run.started) / 1000);
  run.onEpoch?.(r);
}
