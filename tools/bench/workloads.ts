/**
 * The benchmark workloads of the speed issue (issue 5), built from the project's real model
 * code, and how each is timed:
 *  - training steps run through the engine's own `trainLoop` (tf.variableGrads + Adam.apply +
 *    BatchNorm running-stat updates) on a data set of exactly one batch, so one epoch = one
 *    step and the engine's per-epoch `seconds` is the step time;
 *  - extraction runs one image per call and reads the result back;
 *  - scoring (score_workload.ts) runs one new image per call through features + teacher +
 *    student + anomaly map, results read back.
 * Each workload: warm-up step(s), then as many timed steps as fit a time budget (bounded below
 * and above); the reported time is the median.
 */
import * as tf from "@tensorflow/tfjs-core";
import "../../lib/train/register_gradients.ts";
import { trainLoop } from "../../lib/train/engine.ts";
import { Adam, REFERENCE_ADAM } from "../../lib/train/adam.ts";
import { AstModel } from "../../lib/models/ast.ts";
import type { FlowConfig } from "../../lib/models/teacher_flow.ts";
import type { ParameterStore } from "../../lib/models/parameters.ts";
import type { ConfigPatch } from "../../lib/config/patch.ts";
import { resolveConfig } from "../../lib/config/resolve.ts";
import { DEFAULT_RUNTIME, type RuntimeOptions } from "../../lib/config/runtime.ts";
import { EfficientNetB5 } from "../../lib/features/efficientnet/model.ts";
import { backboneSpec, locateWeights, missingWeightsMessage } from "../../lib/features/backbones.ts";
import { syntheticImage } from "./measure_extraction.ts";
import { DEFAULT_SHARED_DIR, effnetB5BenchWeights } from "./effnet_weights.ts";
import { prepareScore, type ScoreWorkload } from "./score_workload.ts";
import { type HostWorkload, prepareHost } from "./host_workloads.ts";
import {
  effnetB5ForwardFlops,
  flowForwardFlops,
  kernelFlops,
  studentForwardFlops,
  TRAIN_STEP_FACTOR,
} from "./flops.ts";

interface Base {
  name: string;
  /**
   * issue 5's constant (PyTorch 1.13 CPU, 2 threads, measured once, NOT in the bench's run): kept
   * as the row's `reference_ms_issue5` only; the bench compares with same-run PyTorch
   * (torch_reference.py). null when there is none.
   */
  referenceMs: number | null;
}

export interface StudentWorkload extends Base {
  kind: "student";
  batch: number;
  side: number;
  channels: number;
  hidden: number;
  nBlocks: number;
  posEncDim: number;
}

/** A teacher step: the flow's own config plus the batch shape. */
export interface TeacherWorkload extends Base, FlowConfig {
  kind: "teacher";
  batch: number;
  side: number;
}

export interface EffnetWorkload extends Base {
  kind: "effnet";
  inputSize: number;
  upToBlock: number;
  /** use ../shared's fixture weights when present (else seeded random ones) */
  fixtureWeights: boolean;
}

export interface MobilenetWorkload extends Base {
  kind: "mobilenet";
  /** feature-map side (input = stride x mapLen) */
  mapLen: number;
}

export type { HostWorkload, ScoreWorkload };
export type Workload = StudentWorkload | TeacherWorkload | EffnetWorkload | MobilenetWorkload | ScoreWorkload | HostWorkload;

/** RGB+3D training input of the table: 368 channels, batch 8, 24x24, PE 32. */
const TRAIN = { batch: 8, side: 24, channels: 368, posEncDim: 32 } as const;
const FLOW = { nBlocks: 4, kernelSizes: [3, 3, 3, 5], clamp: 1.9 } as const;

/** The workloads, in table order. */
export function defaultWorkloads(): Workload[] {
  return [
    { kind: "student", name: "student_h256", referenceMs: 881, ...TRAIN, hidden: 256, nBlocks: 4 },
    { kind: "student", name: "student_h1024", referenceMs: 11_500, ...TRAIN, hidden: 1024, nBlocks: 4 },
    { kind: "teacher", name: "teacher_h64", referenceMs: 681, ...TRAIN, ...FLOW, kernelSizes: [...FLOW.kernelSizes], hidden: 64 },
    { kind: "teacher", name: "teacher_h1024", referenceMs: 13_900, ...TRAIN, ...FLOW, kernelSizes: [...FLOW.kernelSizes], hidden: 1024 },
    { kind: "effnet", name: "effnet_b5_768", referenceMs: 1720, inputSize: 768, upToBlock: 35, fixtureWeights: true },
    { kind: "mobilenet", name: "mobilenet_v2", referenceMs: null, mapLen: 24 },
    { kind: "score", name: "score_demo", referenceMs: null, preset: "demo", imageSize: 200, fixtureWeights: true },
    { kind: "score", name: "score_paper", referenceMs: null, preset: "paper", imageSize: 800, fixtureWeights: true },
    { kind: "host", name: "metrics_mvtec", task: "metrics", referenceMs: null },
    { kind: "host", name: "depth_800", task: "depth", referenceMs: null },
  ];
}

export interface TimingOptions {
  /** untimed steps first (kernel setup, weight packing, allocator growth) */
  warmup: number;
  minSteps: number;
  maxSteps: number;
  /** timed steps are added while they fit this budget (judged from the last warm-up step) */
  budgetSeconds: number;
  /** called after every step (warm-up included) with its ms, for progress output */
  onStep?: (ms: number, warmup: boolean) => void;
  /**
   * score workloads: also time the network part alone, interleaved with the whole steps (default
   * true; profile.ts turns it off, so that its kernel totals are the whole steps')
   */
  networkPart?: boolean;
}

export const DEFAULT_TIMING: TimingOptions = { warmup: 1, minSteps: 2, maxSteps: 7, budgetSeconds: 40 };

export interface Measured {
  msPerStep: number;
  /** FLOPs of one step (analytic; see flops.ts) */
  flops: number;
  /** all timed steps, ms */
  stepsMs: number[];
  note?: string;
  /** one step = one image scored (the record adds images/s) */
  perImage?: boolean;
  /** resident memory of the process that measured it, MB (isolated runs) */
  rssMb?: number;
  /** the oneDNN implementations the convolutions used (bench.ts measureAtPrecision) */
  onednnImpls?: string;
  /** score workloads: the median and steps of the network part alone (ScoreBench.networkStep) */
  networkMsPerStep?: number;
  networkStepsMs?: number[];
}

export type Outcome = Measured | { skipped: string };

function timedCount(lastWarmMs: number, t: TimingOptions): number {
  const fit = Math.floor((t.budgetSeconds * 1000) / Math.max(lastWarmMs, 1));
  return Math.min(t.maxSteps, Math.max(t.minSteps, fit));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs the engine's loop for warm-up + timed epochs of one batch each; returns timed ms. */
async function timeTraining(
  params: ParameterStore,
  x: tf.Tensor4D,
  masks: tf.Tensor4D | null,
  loss: (x: tf.Tensor4D, m: tf.Tensor4D | null, updates: [tf.Variable, tf.Tensor][]) => tf.Scalar,
  t: TimingOptions,
): Promise<number[]> {
  const optimizer = new Adam(REFERENCE_ADAM, params.trainable);
  const ms: number[] = [];
  const run = (from: number, to: number) =>
    trainLoop({ x, masks }, {
      phase: "bench",
      epochs: to,
      startEpoch: from,
      batchSize: x.shape[0],
      seed: 0,
      params,
      optimizer,
      loss,
      onEpoch: (r) => {
        ms.push(r.seconds * 1000);
        t.onStep?.(r.seconds * 1000, r.epoch <= Math.max(1, t.warmup));
      },
    });
  try {
    const warm = Math.max(1, t.warmup);
    await run(0, warm);
    const n = timedCount(ms[ms.length - 1], t);
    await run(warm, warm + n);
    return ms.slice(warm);
  } finally {
    optimizer.dispose();
  }
}

/**
 * The AST model (lib/models/ast.ts) a training workload times: the paper's combi config through
 * the one config path, with the workload's sizes as a variant.
 */
function workloadModel(w: { name: string; side: number; channels: number; posEncDim: number }, patch: ConfigPatch): AstModel {
  const cfg = resolveConfig({
    preset: "paper",
    mode: "combi",
    layout: "mvtec3d",
    variant: {
      name: w.name,
      patch: { mapLen: w.side, posEnc: w.posEncDim > 0, ...(w.posEncDim > 0 ? { posEncDim: w.posEncDim } : {}), ...patch },
    },
  });
  return AstModel.create(cfg, w.channels, 0);
}

async function measureStudent(w: StudentWorkload, t: TimingOptions): Promise<Measured> {
  // The student alone is timed, against a fixed random target: its teacher is a token one.
  const model = workloadModel(w, { student: { hidden: w.hidden, nBlocks: w.nBlocks, leakySlope: 0.01 }, teacher: { hidden: 8, nBlocks: 1 } });
  const shape: [number, number, number, number] = [w.batch, w.side, w.side, w.channels];
  const x = tf.randomNormal(shape, 0, 1, "float32", 1) as tf.Tensor4D;
  // A fixed random "teacher output" as the regression target.
  const target = tf.randomNormal(shape, 0, 1, "float32", 2) as tf.Tensor4D;
  try {
    const stepsMs = await timeTraining(model.student!.params, x, null, (xb, _m, updates) => model.studentLossAgainst(target, xb, null, updates), t);
    return { msPerStep: median(stepsMs), stepsMs, flops: TRAIN_STEP_FACTOR * studentForwardFlops(w, w.batch, w.side) };
  } finally {
    tf.dispose([x, target]);
    model.dispose();
  }
}

async function measureTeacher(w: TeacherWorkload, t: TimingOptions): Promise<Measured> {
  const model = workloadModel(w, {
    scoring: "teacher-nll",
    teacher: { hidden: w.hidden, nBlocks: w.nBlocks, kernelSizes: w.kernelSizes, clamp: w.clamp },
  });
  const x = tf.randomNormal([w.batch, w.side, w.side, w.channels], 0, 1, "float32", 1) as tf.Tensor4D;
  // 3D modes train with the foreground mask; all-foreground here (same work).
  const masks = tf.ones([w.batch, w.side, w.side, 1]) as tf.Tensor4D;
  try {
    const stepsMs = await timeTraining(model.teacher.params, x, masks, (xb, mb) => model.teacherLoss(xb, mb), t);
    return { msPerStep: median(stepsMs), stepsMs, flops: TRAIN_STEP_FACTOR * flowForwardFlops(w, w.batch, w.side) };
  } finally {
    tf.dispose([x, masks]);
    model.dispose();
  }
}

/** Generic: warm-up calls, then timed calls of an async step; ms per call. */
async function timeCalls(step: () => Promise<void>, t: TimingOptions): Promise<number[]> {
  let last = 0;
  for (let i = 0; i < Math.max(1, t.warmup); i++) {
    const t0 = performance.now();
    await step();
    last = performance.now() - t0;
    t.onStep?.(last, true);
  }
  const ms: number[] = [];
  const n = timedCount(last, t);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await step();
    ms.push(performance.now() - t0);
    t.onStep?.(ms[ms.length - 1], false);
  }
  return ms;
}

/** timeCalls for `step`, with `paired` run (and timed) right after each warm-up and timed call of it. */
async function timeCallPairs(step: () => Promise<void>, paired: () => Promise<void>, t: TimingOptions): Promise<{ stepsMs: number[]; pairedMs: number[] }> {
  const timed = async (f: () => Promise<void>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  let last = 0;
  for (let i = 0; i < Math.max(1, t.warmup); i++) {
    const ms = await timed(step);
    t.onStep?.(ms, true);
    last = ms + await timed(paired);
  }
  const stepsMs: number[] = [], pairedMs: number[] = [];
  const n = timedCount(last, t);
  for (let i = 0; i < n; i++) {
    stepsMs.push(await timed(step));
    t.onStep?.(stepsMs[i], false);
    pairedMs.push(await timed(paired));
  }
  return { stepsMs, pairedMs };
}

async function measureEffnet(w: EffnetWorkload, t: TimingOptions, sharedDir: string): Promise<Measured> {
  const { tensors, source } = await effnetB5BenchWeights(w.upToBlock, w.fixtureWeights, sharedDir);
  const model = EfficientNetB5.fromReferenceWeights(tensors, { upToBlock: w.upToBlock, source });
  const x = tf.randomNormal([1, w.inputSize, w.inputSize, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  try {
    const stepsMs = await timeCalls(async () => {
      const out = model.forward(x, [w.upToBlock]);
      await out.get(w.upToBlock)!.data();
      tf.dispose([...out.values()]);
    }, t);
    return {
      msPerStep: median(stepsMs),
      stepsMs,
      flops: effnetB5ForwardFlops(w.inputSize, w.upToBlock),
      note: `weights: ${source === "random" ? "seeded random" : "fixture (random values)"}`,
    };
  } finally {
    x.dispose();
    model.dispose();
  }
}

async function measureMobilenet(w: MobilenetWorkload, t: TimingOptions, runtime: RuntimeOptions): Promise<Outcome> {
  const spec = backboneSpec("mobilenet_v2");
  const path = await locateWeights(spec, undefined, runtime.weightsDir);
  if (!path) return { skipped: missingWeightsMessage(spec, runtime.weightsDir) };
  const backbone = await spec.load(path, {});
  try {
    const side = backbone.inputSize ? backbone.inputSize(w.mapLen) : w.mapLen * (backbone.stride ?? 16);
    const image = syntheticImage(side);
    const step = async () => void await backbone.extract(image, w.mapLen);
    await step(); // build/pack before profiling
    // The graph comes from a layers model: count its conv/matmul FLOPs from the kernels it runs.
    const flops = await profiledFlops(step);
    const stepsMs = await timeCalls(step, t);
    return { msPerStep: median(stepsMs), stepsMs, flops, note: `${side}x${side} input, ${backbone.layer}; includes resize/normalise` };
  } finally {
    backbone.dispose?.();
  }
}

/** FLOPs of one call, counted from the conv/matmul kernels it runs (kernelFlops). */
async function profiledFlops(step: () => Promise<void>): Promise<number> {
  const profile = await tf.profile(step);
  return profile.kernels.reduce((s, k) => s + kernelFlops(k.name, k.inputShapes, k.outputShapes), 0);
}

async function measureScore(w: ScoreWorkload, t: TimingOptions, env: BenchEnv): Promise<Measured> {
  const bench = await prepareScore(w, env);
  try {
    await bench.step(); // build/pack before profiling
    // Backbone + teacher + student convs (plus the map's bicubic matmuls, <0.1%); the JS image/depth
    // preprocessing does no tfjs kernels and is not counted.
    const step = async () => void await bench.step(), networkStep = async () => void await bench.networkStep();
    const flops = await profiledFlops(step);
    if (t.networkPart === false) {
      const stepsMs = await timeCalls(step, t);
      return { msPerStep: median(stepsMs), stepsMs, flops, note: bench.note, perImage: true };
    }
    // the part PyTorch's reference does too, each of its steps right after a whole one, so that
    // both see the same warm-up and host load (onStep reports the whole steps)
    const { stepsMs, pairedMs: networkStepsMs } = await timeCallPairs(step, networkStep, t);
    return { msPerStep: median(stepsMs), stepsMs, flops, note: bench.note, perImage: true, networkMsPerStep: median(networkStepsMs), networkStepsMs };
  } finally {
    await bench.dispose();
  }
}

async function measureHost(w: HostWorkload, t: TimingOptions): Promise<Measured> {
  const { step, note, perImage } = prepareHost(w);
  const stepsMs = await timeCalls(step, t);
  return { msPerStep: median(stepsMs), stepsMs, flops: 0, note: `${note}; JS loops, no FLOP count`, perImage };
}

/**
 * What the entry point read for the workloads: where the EfficientNet-B5 fixture weights are
 * looked for (`$AST_SHARED_DIR`) and the runtime options (weights root, backend).
 */
export interface BenchEnv {
  sharedDir: string;
  runtime: RuntimeOptions;
}

export const DEFAULT_BENCH_ENV: BenchEnv = { sharedDir: DEFAULT_SHARED_DIR, runtime: DEFAULT_RUNTIME };

/** Times one workload on the active tfjs backend (initBackend first). */
export function measureWorkload(w: Workload, t: TimingOptions = DEFAULT_TIMING, env: BenchEnv = DEFAULT_BENCH_ENV): Promise<Outcome> {
  switch (w.kind) {
    case "student":
      return measureStudent(w, t);
    case "teacher":
      return measureTeacher(w, t);
    case "effnet":
      return measureEffnet(w, t, env.sharedDir);
    case "mobilenet":
      return measureMobilenet(w, t, env.runtime);
    case "score":
      return measureScore(w, t, env);
    case "host":
      return measureHost(w, t);
  }
}
