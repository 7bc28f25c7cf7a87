/**
 * The paper's Figure 2 as a 1D toy (AST, Rudolph et al., WACV 2023): ONE teacher, a fixed MLP
 * with one hidden layer and random weights (never trained), and two students trained to regress
 * the teacher's output on a training interval of the input only:
 *   - symmetric student: the teacher's architecture (one hidden layer of the same width);
 *   - asymmetric student: an MLP with THREE hidden layers.
 * Outside the training interval, the paper argues, the symmetric student shares the teacher's
 * inductive bias and keeps matching it (a small distance: anomalies go unnoticed) while the
 * asymmetric student departs from it (a large distance: anomalies detected). This module measures
 * |student - teacher| inside and outside the interval per seed; whether the claim holds is the
 * notebook's result (notebooks/07_figure2_toy_1d.ipynb), not something the code assumes.
 *
 * What the paper fixes: one teacher MLP with one hidden layer and random weights, the symmetric
 * student with the same architecture, the asymmetric student with three hidden layers, training
 * on an interval. What it does not state, and is chosen here (all options below):
 *   - width 32 for every hidden layer (teacher, symmetric student, each of the asymmetric
 *     student's three layers), tanh activations, linear output layer;
 *   - weights of every network drawn as PyTorch's default nn.Linear init (uniform in
 *     +-1/sqrt(fan_in)); the teacher and the two students each get their own seed stream;
 *   - training interval [-1, 1], shown on [-3, 3]; 64 training inputs uniform in the interval;
 *   - full-batch Adam (lr 1e-2, PyTorch defaults otherwise, no weight decay) on the MSE between
 *     student and teacher outputs at the training inputs, 1000 steps.
 * Both students are trained in ONE loop over a shared loss (the sum of the two MSEs): their
 * parameters are disjoint and Adam works per coordinate, so each trains exactly as it would alone.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../train/register_gradients.ts";
import { Adam } from "../train/adam.ts";
import { deriveSeed, mulberry32 } from "../util/random.ts";
import { type Activation, createMlp, type Mlp, mlpForward, type MlpSpec, parameterShapes } from "./mlp.ts";

export interface ToyOptions {
  seed?: number;
  /** Interval the students are trained on (the "normal" inputs). */
  trainRange?: [number, number];
  /** Interval the outputs are reported on; contains trainRange with room on at least one side. */
  xRange?: [number, number];
  /** Training inputs, drawn uniformly in trainRange (seeded). */
  nTrain?: number;
  /** Hidden width of the teacher and the symmetric student (one hidden layer each). */
  width?: number;
  /** Hidden width of each of the asymmetric student's hidden layers. */
  asymmetricWidth?: number;
  /** Hidden layers of the asymmetric student (the paper: 3). */
  asymmetricLayers?: number;
  activation?: Activation;
  /** Full-batch Adam steps. */
  steps?: number;
  lr?: number;
  /** Points of the evenly spaced reporting grid over xRange. */
  gridSize?: number;
}

export const TOY_DEFAULTS: Readonly<Required<ToyOptions>> = {
  seed: 0,
  trainRange: [-1, 1],
  xRange: [-3, 3],
  nTrain: 64,
  width: 32,
  asymmetricWidth: 32,
  asymmetricLayers: 3,
  activation: "tanh",
  steps: 1000,
  lr: 1e-2,
  gridSize: 301,
};

/** The three networks' architectures for the options. */
export function toyArchitectures(o: Required<ToyOptions>): { teacher: MlpSpec; symmetric: MlpSpec; asymmetric: MlpSpec } {
  const teacher: MlpSpec = { dims: [1, o.width, 1], activation: o.activation };
  return {
    teacher,
    symmetric: { dims: [...teacher.dims], activation: teacher.activation },
    asymmetric: { dims: [1, ...Array(o.asymmetricLayers).fill(o.asymmetricWidth), 1], activation: o.activation },
  };
}

/** The networks and inputs of one seed, before training. Tensors: call `disposeSetup`. */
export interface ToySetup {
  options: Required<ToyOptions>;
  /** Frozen: a constant tensor, not a variable; nothing trains it. */
  teacher: Mlp;
  symmetric: Mlp;
  asymmetric: Mlp;
  trainX: number[];
  /** Evenly spaced grid over xRange. */
  x: number[];
  /** Whether each grid point lies in trainRange (ends included). */
  inside: boolean[];
}

export function resolveOptions(options: ToyOptions = {}): Required<ToyOptions> {
  const o: Required<ToyOptions> = { ...TOY_DEFAULTS, ...options };
  const [lo, hi] = o.trainRange, [a, b] = o.xRange;
  if (!(lo < hi) || !(a <= lo && hi <= b) || !(a < lo || hi < b)) {
    throw new RangeError(`toy: xRange [${o.xRange}] must contain trainRange [${o.trainRange}] with room outside it`);
  }
  for (const k of ["nTrain", "width", "asymmetricWidth", "asymmetricLayers", "steps"] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1) throw new RangeError(`toy: ${k} must be an integer >= 1, got ${o[k]}`);
  }
  if (!Number.isInteger(o.gridSize) || o.gridSize < 2) throw new RangeError(`toy: gridSize must be an integer >= 2, got ${o.gridSize}`);
  return o;
}

/** Seeded networks, training inputs and grid for one seed. */
export function toySetup(options: ToyOptions = {}): ToySetup {
  const o = resolveOptions(options);
  const [lo, hi] = o.trainRange, [a, b] = o.xRange;
  const pointRng = mulberry32(deriveSeed(o.seed, "train-x"));
  const trainX = Array.from({ length: o.nTrain }, () => lo + (hi - lo) * pointRng());
  const x = Array.from({ length: o.gridSize }, (_, i) => a + ((b - a) * i) / (o.gridSize - 1));
  const inside = x.map((v) => v >= lo && v <= hi);
  if (!inside.some(Boolean) || inside.every(Boolean)) throw new RangeError("toy: grid too coarse for trainRange");
  const arch = toyArchitectures(o);
  return {
    options: o,
    teacher: createMlp(arch.teacher, deriveSeed(o.seed, "teacher"), false),
    symmetric: createMlp(arch.symmetric, deriveSeed(o.seed, "symmetric-student"), true),
    asymmetric: createMlp(arch.asymmetric, deriveSeed(o.seed, "asymmetric-student"), true),
    trainX,
    x,
    inside,
  };
}

export function disposeSetup(s: ToySetup): void {
  tf.dispose([s.teacher.theta, s.symmetric.theta, s.asymmetric.theta]);
}

/** Each student's MSE on the training inputs before the first and after the last step. */
export interface FitLoss {
  first: number;
  last: number;
}

/**
 * Trains both students in place (full-batch Adam, `options.steps` steps) to regress the
 * teacher's outputs at the training inputs. The teacher is only read.
 */
export function fitStudents(s: ToySetup): { symmetric: FitLoss; asymmetric: FitLoss } {
  const { steps, lr } = s.options;
  const students = [s.symmetric, s.asymmetric];
  const vars = students.map((m) => m.theta as tf.Variable);
  const xs = tf.tensor2d(s.trainX, [s.trainX.length, 1]);
  const target = tf.tidy(() => mlpForward(s.teacher.spec, s.teacher.theta, xs));
  const losses = (thetas: tf.Tensor[]) => students.map((m, i) => tf.mean(tf.squaredDifference(mlpForward(m.spec, thetas[i] as tf.Tensor1D, xs), target)));
  const lossValues = () => tf.tidy(() => losses(vars).map((l) => l.dataSync()[0]));
  const opt = new Adam({ lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, new Map(vars.map((v, i) => [`s${i}`, v])));
  const valueAndGrads = tf.valueAndGrads((...thetas: tf.Tensor[]) => tf.addN(losses(thetas)) as tf.Scalar);
  try {
    const first = lossValues();
    for (let step = 0; step < steps; step++) {
      const { value, grads } = valueAndGrads(vars);
      opt.apply(new Map(grads.map((g, i) => [`s${i}`, g])));
      tf.dispose([value, ...grads]);
    }
    const last = lossValues();
    return { symmetric: { first: first[0], last: last[0] }, asymmetric: { first: first[1], last: last[1] } };
  } finally {
    opt.dispose();
    tf.dispose([xs, target]);
  }
}

/** One network's outputs on the grid. */
export function outputsOn(m: Mlp, x: number[]): number[] {
  return tf.tidy(() => Array.from(mlpForward(m.spec, m.theta, tf.tensor2d(x, [x.length, 1])).dataSync()));
}

export interface StudentResult {
  /** Student output on the grid. */
  output: number[];
  /** |student - teacher| on the grid. */
  distance: number[];
  /** Mean distance over the grid points inside trainRange. */
  meanInside: number;
  /** Mean distance over the grid points outside trainRange (both sides pooled). */
  meanOutside: number;
  loss: FitLoss;
  /** Parameter shapes, [w0, b0, w1, b1, ...]. */
  shapes: number[][];
}

export interface ToyResult {
  options: Required<ToyOptions>;
  x: number[];
  inside: boolean[];
  trainX: number[];
  teacher: { output: number[]; shapes: number[][] };
  symmetric: StudentResult;
  asymmetric: StudentResult;
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Mean |student - teacher| inside and outside the region, from the curves and the inside mask. */
export function regionDistances(teacher: number[], student: number[], inside: boolean[]): { distance: number[]; meanInside: number; meanOutside: number } {
  if (teacher.length !== student.length || teacher.length !== inside.length) throw new Error("regionDistances: lengths differ");
  const distance = teacher.map((t, i) => Math.abs(t - student[i]));
  return {
    distance,
    meanInside: mean(distance.filter((_, i) => inside[i])),
    meanOutside: mean(distance.filter((_, i) => !inside[i])),
  };
}

/** Teacher and both trained students for one seed. Deterministic per seed and backend. */
export function toyRegression1d(options: ToyOptions = {}): ToyResult {
  const s = toySetup(options);
  try {
    const loss = fitStudents(s);
    const teacher = outputsOn(s.teacher, s.x);
    const student = (m: Mlp, l: FitLoss): StudentResult => {
      const output = outputsOn(m, s.x);
      return { output, ...regionDistances(teacher, output, s.inside), loss: l, shapes: parameterShapes(m.spec) };
    };
    return {
      options: s.options,
      x: s.x,
      inside: s.inside,
      trainX: s.trainX,
      teacher: { output: teacher, shapes: parameterShapes(s.teacher.spec) },
      symmetric: student(s.symmetric, loss.symmetric),
      asymmetric: student(s.asymmetric, loss.asymmetric),
    };
  } finally {
    disposeSetup(s);
  }
}

/** One row per seed: the summary numbers the notebook tabulates. */
export interface ToySeedRow {
  seed: number;
  symmetricInside: number;
  symmetricOutside: number;
  asymmetricInside: number;
  asymmetricOutside: number;
}

/** `toyRegression1d` for each seed (same other options). */
export function toyRegressionSeeds(seeds: number[], options: ToyOptions = {}): ToyResult[] {
  return seeds.map((seed) => toyRegression1d({ ...options, seed }));
}

export function toySeedRow(r: ToyResult): ToySeedRow {
  return {
    seed: r.options.seed,
    symmetricInside: r.symmetric.meanInside,
    symmetricOutside: r.symmetric.meanOutside,
    asymmetricInside: r.asymmetric.meanInside,
    asymmetricOutside: r.asymmetric.meanOutside,
  };
}
