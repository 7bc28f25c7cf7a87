/**
 * The paper's Figure 2 as a 1D toy: does |teacher(x) - student(x)| grow outside the region the
 * student was fit on? (AST, Rudolph et al., WACV 2023.)
 *
 * The flow teacher is a monotone (hence invertible) 1D map trained by maximum likelihood on the
 * training points, as AST's teacher is. Every student is the same MLP (1 -> hidden -> hidden -> 1)
 * with the same initialisation, regressing its teacher with MSE on the training points only.
 *   - asymmetric pair: teacher = the flow, student = the MLP.
 *   - symmetric pair: teacher = an MLP of the student's architecture (other init). Either
 *     "distilled" (default): the teacher MLP is first fit to the flow on the training points,
 *     as a conventional student-teacher teacher is distilled from a pretrained network. Inside
 *     the region both pairs then show the student the same function, so the teacher's
 *     architecture is the only difference. Or "random": a frozen randomly initialised MLP.
 *
 * What it shows (seeds 0..9, wasm backend; cpu agrees to a few %; re-run with `toyRatioTable`).
 * ratio = mean distance outside / inside; relative = mean outside distance / teacher's spread
 * inside. "wins" = seeds where the asymmetric pair scores higher.
 *   defaults (distilled, tanh, 400 steps): ratio wins 10/10 (sym 9-112, median ~22; asym
 *     23-164, median ~113); relative wins 10/10 (sym 0.02-0.32, asym 0.31-1.01). The symmetric
 *     student's curve stays near its teacher outside, the asymmetric one departs, as in Fig. 2.
 *   steps 200: 10/10 and 10/10. steps 800: ratio 7/10, relative 9/10; the ratio depends on how
 *     well each student fits inside, which keeps improving with steps, so compare at equal steps.
 *   relu MLPs (distilled): 9/10 and 9/10, with small margins. xRange [-2,2]: 10/10, 10/10.
 *   symmetricTeacher "random": ratio 9/10 but relative only 6/10 (tanh) and 2/10 (relu). A
 *     random teacher's shape outside the region is not fixed by its values inside, so a student
 *     of the same architecture does not follow it there either: this variant does NOT robustly
 *     reproduce the figure, and the distilled one was chosen as default after seeing that.
 *   In every setting the symmetric distance still grows outside (ratio >= 4.5): "follows its
 *     teacher" is relative, not exact; the claim is only that it grows less. With the largest
 *     inside distance as threshold, both pairs flag most outside grid points (defaults: sym
 *     0.46-1.00, asym 0.83-1.00, asym higher for 7/10 seeds): on this noise-free toy the
 *     symmetric pair is weaker, not useless.
 * These numbers were measured when the module was written; the tests check the mechanics
 * (determinism, shapes, losses decreasing, small inside distances), not the effect.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "../train/register_gradients.ts";
import { Adam } from "../train/adam.ts";
import { deriveSeed, mulberry32 } from "../util/random.ts";

export type Activation = "tanh" | "relu";
export type SymmetricTeacher = "distilled" | "random";

export interface ToyOptions {
  seed?: number;
  /** Region the models are fit on (the "normal" data). */
  trainRange?: [number, number];
  /** Region the outputs are reported on; must contain trainRange with room on a side. */
  xRange?: [number, number];
  /** Training points, drawn uniformly in trainRange. */
  nTrain?: number;
  /** Full-batch Adam steps for each fit. */
  steps?: number;
  /** Width of the two hidden layers of every MLP. */
  hidden?: number;
  activation?: Activation;
  symmetricTeacher?: SymmetricTeacher;
  /** Layers of the flow teacher. */
  flowLayers?: number;
  /** tanh units per flow layer. */
  flowUnits?: number;
  /** Points of the reported grid over xRange. */
  gridSize?: number;
  lr?: number;
}

export interface FitLoss {
  first: number;
  last: number;
}

export interface PairResult {
  teacher: number[];
  student: number[];
  /** |teacher - student| on the grid. */
  distance: number[];
  meanInside: number;
  meanOutside: number;
  /** meanOutside / meanInside. */
  ratio: number;
  /** meanOutside / standard deviation of the teacher's outputs on the grid inside the region. */
  relativeOutside: number;
  /** Fraction of outside grid points whose distance exceeds every inside distance. */
  outsideAboveInsideMax: number;
  /** Student MSE on the training points before and after fitting. */
  studentLoss: FitLoss;
}

export interface ToyResult {
  options: Required<ToyOptions>;
  /** Evenly spaced grid over xRange. */
  x: number[];
  /** Whether each grid point lies in trainRange. */
  inside: boolean[];
  trainX: number[];
  symmetric: PairResult & { teacherLoss: FitLoss | null };
  asymmetric: PairResult & { teacherNll: FitLoss };
}

export const TOY_DEFAULTS: Readonly<Required<ToyOptions>> = {
  seed: 0,
  trainRange: [-1, 1],
  xRange: [-3, 3],
  nTrain: 64,
  steps: 400,
  hidden: 32,
  activation: "tanh",
  symmetricTeacher: "distilled",
  flowLayers: 3,
  flowUnits: 8,
  gridSize: 400,
  lr: 1e-2,
};

/**
 * Parameters as one flat vector plus named shapes: one Adam update per step instead of one per
 * tensor. tfjs' per-op overhead, not arithmetic, is what costs time at this size.
 */
export interface FlatParams {
  theta: tf.Variable;
  shapes: Map<string, number[]>;
}

type Init = Map<string, { shape: number[]; data: number[] }>;

function pack(values: Init): FlatParams {
  const shapes = new Map<string, number[]>();
  const flat: number[] = [];
  for (const [name, { shape, data }] of values) {
    shapes.set(name, shape);
    flat.push(...data);
  }
  return { theta: tf.tidy(() => tf.variable(tf.tensor1d(flat))), shapes };
}

/** Named views into `theta` (a tensor argument, so gradients flow back to it). */
function unpack(theta: tf.Tensor1D, shapes: Map<string, number[]>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  let offset = 0;
  for (const [name, shape] of shapes) {
    const size = shape.reduce((a, b) => a * b, 1);
    out.set(name, tf.reshape(tf.slice(theta, offset, size), shape));
    offset += size;
  }
  return out;
}

function gaussian(rng: () => number): number {
  const u = Math.max(rng(), 1e-12), v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/**
 * k independent MLPs 1 -> hidden -> hidden -> 1 stacked on a leading axis (one init seed each),
 * PyTorch's default Linear init U(+-1/sqrt(fan_in)). Stacking runs several fits in the ops of
 * one; Adam is per coordinate, so each model trains exactly as it would alone.
 */
export function initMlpStack(hidden: number, seeds: number[]): FlatParams {
  const dims = [1, hidden, hidden, 1];
  const rngs = seeds.map((s) => mulberry32(s));
  const values: Init = new Map();
  for (let l = 0; l < 3; l++) {
    const bound = 1 / Math.sqrt(dims[l]);
    const draw = (n: number) => rngs.flatMap((rng) => Array.from({ length: n }, () => (2 * rng() - 1) * bound));
    // per model: all of w_l, then b_l (the order a single model's stream would use)
    const w = draw(dims[l] * dims[l + 1]);
    const b = draw(dims[l + 1]);
    values.set(`w${l}`, { shape: [seeds.length, dims[l], dims[l + 1]], data: w });
    values.set(`b${l}`, { shape: [seeds.length, 1, dims[l + 1]], data: b });
  }
  return pack(values);
}

/** x [n,1] -> [k,n,1]: every stacked MLP on the same inputs. */
export function mlpStackForward(p: FlatParams, theta: tf.Tensor1D, x: tf.Tensor2D, activation: Activation): tf.Tensor3D {
  const w = unpack(theta, p.shapes);
  const k = p.shapes.get("w0")![0];
  const act = activation === "tanh" ? tf.tanh : tf.relu;
  let h: tf.Tensor3D = tf.tile(tf.expandDims(x, 0), [k, 1, 1]);
  for (let l = 0; l < 3; l++) {
    h = tf.add(tf.matMul(h, w.get(`w${l}`) as tf.Tensor3D), w.get(`b${l}`)!);
    if (l < 2) h = act(h);
  }
  return h;
}

/**
 * Monotone flow: layer l maps y = e^s_l y + sum_i softplus(a_li) tanh(softplus(b_li) y + c_li) + d_l.
 * Every term is non-decreasing and e^s > 0, so dy/dx > 0: each layer, and the stack, is a
 * bijection of the real line with log|dy/dx| in closed form.
 */
export function initFlow(layers: number, units: number, seed: number): FlatParams {
  const rng = mulberry32(seed);
  const normal = (shape: number[], mean: number, std: number) => ({
    shape,
    data: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => mean + std * gaussian(rng)),
  });
  return pack(
    new Map([
      ["s", normal([layers, 1], 0, 0.1)],
      ["d", normal([layers, 1], 0, 0.1)],
      ["a", normal([layers, units], -1, 0.5)], // softplus(-1) ~ 0.31
      ["b", normal([layers, units], 0.5, 0.5)],
      ["c", normal([layers, units], 0, 1)],
    ]),
  );
}

/** x [n,1] -> z [n,1] and log|dz/dx| [n,1]. */
export function flowForward(p: FlatParams, theta: tf.Tensor1D, x: tf.Tensor2D): { z: tf.Tensor2D; logDet: tf.Tensor2D } {
  const w = unpack(theta, p.shapes);
  const scale = tf.unstack(tf.exp(w.get("s")!));
  const shift = tf.unstack(w.get("d")!);
  const a = tf.unstack(tf.softplus(w.get("a")!));
  const b = tf.unstack(tf.softplus(w.get("b")!));
  const c = tf.unstack(w.get("c")!);
  let z: tf.Tensor2D = x;
  let logDet: tf.Tensor2D = tf.zerosLike(x);
  for (let l = 0; l < scale.length; l++) {
    const t = tf.tanh(tf.add(tf.mul(z, b[l]), c[l])); // [n, units]
    const slope = tf.add(scale[l], tf.sum(tf.mul(tf.sub(1, tf.square(t)), tf.mul(a[l], b[l])), 1, true));
    logDet = tf.add(logDet, tf.log(slope));
    z = tf.add(tf.add(tf.mul(z, scale[l]), tf.sum(tf.mul(t, a[l]), 1, true)), shift[l]);
  }
  return { z, logDet };
}

/**
 * Full-batch Adam on the sum of `losses(theta)` (one loss per stacked model, shape [k]);
 * returns each model's loss before the first and after the last step.
 */
function fit(p: FlatParams, losses: (theta: tf.Tensor1D) => tf.Tensor1D, steps: number, lr: number): FitLoss[] {
  const opt = new Adam({ lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 }, new Map([["theta", p.theta]]));
  const valueAndGrad = tf.valueAndGrad((theta: tf.Tensor1D) => tf.sum(losses(theta)));
  const first = tf.tidy(() => Array.from(losses(p.theta as tf.Tensor1D).dataSync()));
  for (let step = 0; step < steps; step++) {
    const { value, grad } = valueAndGrad(p.theta as tf.Tensor1D);
    opt.apply(new Map([["theta", grad]]));
    tf.dispose([value, grad]);
  }
  const last = tf.tidy(() => Array.from(losses(p.theta as tf.Tensor1D).dataSync()));
  opt.dispose();
  return first.map((f, i) => ({ first: f, last: last[i] }));
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function pairResult(teacher: number[], student: number[], inside: boolean[], studentLoss: FitLoss): PairResult {
  const distance = teacher.map((t, i) => Math.abs(t - student[i]));
  const inD = distance.filter((_, i) => inside[i]);
  const outD = distance.filter((_, i) => !inside[i]);
  const meanInside = mean(inD), meanOutside = mean(outD);
  const maxInside = Math.max(...inD);
  const teacherIn = teacher.filter((_, i) => inside[i]);
  const m = mean(teacherIn);
  const spread = Math.sqrt(mean(teacherIn.map((t) => (t - m) ** 2)));
  return {
    teacher,
    student,
    distance,
    meanInside,
    meanOutside,
    ratio: meanOutside / meanInside,
    relativeOutside: meanOutside / spread,
    outsideAboveInsideMax: outD.filter((d) => d > maxInside).length / outD.length,
    studentLoss,
  };
}

/** Both pairs for one seed. Deterministic per seed and backend; ~1.5 s (wasm) to ~4 s (cpu) with defaults. */
export function toyRegression1d(options: ToyOptions = {}): ToyResult {
  const o: Required<ToyOptions> = { ...TOY_DEFAULTS, ...options };
  const [lo, hi] = o.trainRange, [a, b] = o.xRange;
  if (!(lo < hi) || !(a <= lo && hi <= b) || !(a < lo || hi < b)) {
    throw new RangeError(`toyRegression1d: xRange [${o.xRange}] must contain trainRange [${o.trainRange}] with room outside it`);
  }
  if (o.gridSize < 2 || o.nTrain < 1 || o.steps < 1) throw new RangeError("toyRegression1d: gridSize >= 2, nTrain >= 1, steps >= 1");
  const pointRng = mulberry32(deriveSeed(o.seed, "train-x"));
  const trainX = Array.from({ length: o.nTrain }, () => lo + (hi - lo) * pointRng());
  const x = Array.from({ length: o.gridSize }, (_, i) => a + ((b - a) * i) / (o.gridSize - 1));
  const inside = x.map((v) => v >= lo && v <= hi);
  if (!inside.some(Boolean) || inside.every(Boolean)) throw new RangeError("toyRegression1d: grid too coarse for trainRange");

  const distilled = o.symmetricTeacher === "distilled";
  const teacherSeed = deriveSeed(o.seed, "mlp-teacher"), studentSeed = deriveSeed(o.seed, "student");
  const xs = tf.tensor2d(trainX, [o.nTrain, 1]);
  const grid = tf.tensor2d(x, [o.gridSize, 1]);
  const flow = initFlow(o.flowLayers, o.flowUnits, deriveSeed(o.seed, "flow-teacher"));
  // Every MLP fit on the flow shares one stack: the asymmetric student, plus the symmetric
  // teacher when distilled. Both students start from the same init (studentSeed).
  const onFlow = initMlpStack(o.hidden, distilled ? [studentSeed, teacherSeed] : [studentSeed]);
  const randomTeacher = distilled ? null : initMlpStack(o.hidden, [teacherSeed]);
  const symStudent = initMlpStack(o.hidden, [studentSeed]);
  const run = (p: FlatParams, input: tf.Tensor2D) => mlpStackForward(p, p.theta as tf.Tensor1D, input, o.activation);
  const model = (p: FlatParams, j: number, input: tf.Tensor2D) => tf.squeeze(tf.slice(run(p, input), [j, 0, 0], [1, -1, -1]), [0]);
  const symTeacherOut = (input: tf.Tensor2D) => distilled ? model(onFlow, 1, input) : model(randomTeacher!, 0, input);
  const mse = (p: FlatParams, target: tf.Tensor) => (theta: tf.Tensor1D) =>
    tf.mean(tf.squaredDifference(mlpStackForward(p, theta, xs, o.activation), target), [1, 2]) as tf.Tensor1D;
  const onGrid = (f: () => tf.Tensor) => tf.tidy(() => Array.from(f().dataSync()));
  try {
    // AST's teacher objective: negative log-likelihood under N(0,1), constant dropped.
    const [teacherNll] = fit(flow, (theta) =>
      tf.tidy(() => {
        const { z, logDet } = flowForward(flow, theta, xs);
        return tf.reshape(tf.mean(tf.sub(tf.mul(tf.square(z), 0.5), logDet)), [1]);
      }), o.steps, o.lr);
    const flowTarget = tf.tidy(() => flowForward(flow, flow.theta as tf.Tensor1D, xs).z);
    const [asymLoss, distillLoss] = fit(onFlow, mse(onFlow, flowTarget), o.steps, o.lr);
    const symTarget = tf.tidy(() => symTeacherOut(xs));
    const [symLoss] = fit(symStudent, mse(symStudent, symTarget), o.steps, o.lr);
    tf.dispose([flowTarget, symTarget]);

    return {
      options: o,
      x,
      inside,
      trainX,
      symmetric: {
        ...pairResult(onGrid(() => symTeacherOut(grid)), onGrid(() => model(symStudent, 0, grid)), inside, symLoss),
        teacherLoss: distillLoss ?? null,
      },
      asymmetric: {
        ...pairResult(onGrid(() => flowForward(flow, flow.theta as tf.Tensor1D, grid).z), onGrid(() => model(onFlow, 0, grid)), inside, asymLoss),
        teacherNll,
      },
    };
  } finally {
    tf.dispose([xs, grid, flow.theta, onFlow.theta, symStudent.theta, ...(randomTeacher ? [randomTeacher.theta] : [])]);
  }
}

export interface RatioRow {
  seed: number;
  symmetric: { ratio: number; relativeOutside: number };
  asymmetric: { ratio: number; relativeOutside: number };
}

/** The per-seed summary the module doc quotes (a few seconds per seed). */
export function toyRatioTable(seeds: number[], options: ToyOptions = {}): RatioRow[] {
  return seeds.map((seed) => {
    const r = toyRegression1d({ ...options, seed });
    const pick = (p: PairResult) => ({ ratio: p.ratio, relativeOutside: p.relativeOutside });
    return { seed, symmetric: pick(r.symmetric), asymmetric: pick(r.asymmetric) };
  });
}
