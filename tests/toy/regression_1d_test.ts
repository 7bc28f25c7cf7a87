/**
 * The 1D toy of the paper's Figure 2, on the cpu backend: the setup's mechanics (determinism,
 * frozen teacher, architectures, fit inside the region, which grid points count as outside).
 * Which student departs more outside the region is the notebook's RESULT and is not asserted.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { quietTfjs } from "../../lib/backend/tfjs_warnings.ts";
import { hiddenLayers, mlpForward, parameterShapes } from "../../lib/toy/mlp.ts";
import {
  fitStudents,
  regionDistances,
  TOY_DEFAULTS,
  toyArchitectures,
  type ToyResult,
  toyRegression1d,
  toySetup,
} from "../../lib/toy/regression_1d.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

quietTfjs(); // cpu backend without initBackend: no "install our node backend" banner

const QUICK = { steps: 30, gridSize: 41, nTrain: 16, width: 8, asymmetricWidth: 8 };

let full: ToyResult | null = null;
/** One run with the default options, shared by the tests that need trained students. */
async function defaultRun(): Promise<ToyResult> {
  await tf.setBackend("cpu");
  full ??= toyRegression1d({ seed: 0 });
  return full;
}

Deno.test("toy 1d: same seed gives identical results, another seed differs", async () => {
  await tf.setBackend("cpu");
  const a = toyRegression1d({ ...QUICK, seed: 3 });
  const b = toyRegression1d({ ...QUICK, seed: 3 });
  assertEquals(a, b);
  const c = toyRegression1d({ ...QUICK, seed: 4 });
  assert(c.trainX[0] !== a.trainX[0], "training inputs should depend on the seed");
  assert(c.teacher.output[0] !== a.teacher.output[0], "the teacher should depend on the seed");
  assert(c.symmetric.output[0] !== a.symmetric.output[0] && c.asymmetric.output[0] !== a.asymmetric.output[0], "students should depend on the seed");
});

Deno.test("toy 1d: the teacher is frozen: not a variable, and unchanged by training", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  const s = toySetup({ ...QUICK, seed: 5 });
  assert(!(s.teacher.theta instanceof tf.Variable), "teacher parameters must not be a tf.Variable");
  assert(s.symmetric.theta instanceof tf.Variable && s.asymmetric.theta instanceof tf.Variable, "students must be variables");
  const teacher0 = Array.from(s.teacher.theta.dataSync());
  const sym0 = Array.from(s.symmetric.theta.dataSync());
  fitStudents(s);
  assertEquals(Array.from(s.teacher.theta.dataSync()), teacher0);
  assert(Array.from(s.symmetric.theta.dataSync()).some((v, i) => v !== sym0[i]), "the symmetric student should have trained");
  // the teacher is the seed's fresh random MLP, as before any training
  const again = toySetup({ ...QUICK, seed: 5 });
  assertEquals(Array.from(again.teacher.theta.dataSync()), teacher0);
  tf.dispose([s.teacher.theta, s.symmetric.theta, s.asymmetric.theta, again.teacher.theta, again.symmetric.theta, again.asymmetric.theta]);
  assertEquals(tf.memory().numTensors, before);
});

Deno.test("toy 1d: the reported teacher curve is the untrained teacher's output", async () => {
  await tf.setBackend("cpu");
  const r = toyRegression1d({ ...QUICK, seed: 2 });
  const s = toySetup({ ...QUICK, seed: 2 });
  const want = tf.tidy(() => Array.from(mlpForward(s.teacher.spec, s.teacher.theta, tf.tensor2d(r.x, [r.x.length, 1])).dataSync()));
  tf.dispose([s.teacher.theta, s.symmetric.theta, s.asymmetric.theta]);
  assertEquals(r.teacher.output, want);
});

Deno.test("toy 1d: symmetric student = the teacher's architecture; asymmetric = three hidden layers", async () => {
  await tf.setBackend("cpu");
  for (const width of [8, 32]) {
    const o = { ...TOY_DEFAULTS, width, asymmetricWidth: width };
    const arch = toyArchitectures(o);
    assertEquals(hiddenLayers(arch.teacher), 1);
    assertEquals(arch.symmetric, arch.teacher);
    assertEquals(parameterShapes(arch.symmetric), [[1, width], [width], [width, 1], [1]]);
    assertEquals(hiddenLayers(arch.asymmetric), 3);
    assertEquals(parameterShapes(arch.asymmetric), [[1, width], [width], [width, width], [width], [width, width], [width], [width, 1], [1]]);
  }
  const r = await defaultRun();
  assertEquals(r.symmetric.shapes, r.teacher.shapes);
  assertEquals(r.teacher.shapes.length, 4, "one hidden layer: two weight matrices, two biases");
  assertEquals(r.asymmetric.shapes.length, 8, "three hidden layers: four weight matrices, four biases");
  const s = toySetup({ seed: 0 });
  assertEquals(s.symmetric.theta.size, s.teacher.theta.size);
  assertEquals(s.asymmetric.theta.size, 2 * 32 + 2 * (32 * 32 + 32) + 32 + 1);
  tf.dispose([s.teacher.theta, s.symmetric.theta, s.asymmetric.theta]);
});

Deno.test("toy 1d: mlpForward is the textbook MLP (checked by hand on a 1-2-1 tanh net)", async () => {
  await tf.setBackend("cpu");
  // w0 = [1, -2], b0 = [0.5, 0], w1 = [[3], [1]], b1 = [-1]
  const theta = tf.tensor1d([1, -2, 0.5, 0, 3, 1, -1]);
  const x = [-1, 0, 0.7];
  const got = tf.tidy(() => Array.from(mlpForward({ dims: [1, 2, 1], activation: "tanh" }, theta, tf.tensor2d(x, [3, 1])).dataSync()));
  theta.dispose();
  const want = x.map((v) => 3 * Math.tanh(v + 0.5) + Math.tanh(-2 * v) - 1);
  got.forEach((g, i) => assert(Math.abs(g - want[i]) < 1e-5, `x=${x[i]}: ${g} vs ${want[i]}`));
});

Deno.test("toy 1d: both students fit the teacher inside the training region", async () => {
  const r = await defaultRun();
  const tIn = r.teacher.output.filter((_, i) => r.inside[i]);
  const m = tIn.reduce((a, b) => a + b, 0) / tIn.length;
  const spread = Math.sqrt(tIn.reduce((acc, t) => acc + (t - m) ** 2, 0) / tIn.length);
  for (const [name, st] of [["symmetric", r.symmetric], ["asymmetric", r.asymmetric]] as const) {
    assert(st.loss.last < st.loss.first / 100, `${name}: training MSE ${st.loss.first} -> ${st.loss.last}`);
    assert(st.meanInside < 0.02 * spread, `${name}: mean inside distance ${st.meanInside} vs teacher spread ${spread}`);
  }
});

Deno.test("toy 1d: inside/outside are the grid points in / not in trainRange, and the means are over them", async () => {
  await tf.setBackend("cpu");
  const r = toyRegression1d({ ...QUICK, seed: 1, trainRange: [-0.5, 1], xRange: [-2, 3] });
  assertEquals(r.x.length, 41);
  assertEquals([r.x[0], r.x[40]], [-2, 3]);
  assert(r.x.every((v, i) => i === 0 || v > r.x[i - 1]), "grid must increase");
  assertEquals(r.inside, r.x.map((v) => v >= -0.5 && v <= 1));
  assert(r.trainX.length === 16 && r.trainX.every((v) => v >= -0.5 && v <= 1), "training inputs lie in trainRange");
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  for (const st of [r.symmetric, r.asymmetric]) {
    assertEquals(st.distance, r.teacher.output.map((t, i) => Math.abs(t - st.output[i])));
    const outIdx = r.x.map((v, i) => (v < -0.5 || v > 1) ? i : -1).filter((i) => i >= 0);
    const inIdx = r.x.map((v, i) => (v >= -0.5 && v <= 1) ? i : -1).filter((i) => i >= 0);
    assertEquals(outIdx.length + inIdx.length, 41);
    assert(Math.abs(st.meanOutside - mean(outIdx.map((i) => st.distance[i]))) < 1e-12, "outside mean");
    assert(Math.abs(st.meanInside - mean(inIdx.map((i) => st.distance[i]))) < 1e-12, "inside mean");
  }
  // by hand: distances 1 (in), 3 (out), 5 (out) -> inside 1, outside 4
  assertEquals(regionDistances([0, 0, 0], [1, -3, 5], [true, false, false]), { distance: [1, 3, 5], meanInside: 1, meanOutside: 4 });
});

Deno.test("toy 1d: no leaked tensors; bad ranges and sizes are rejected", async () => {
  await tf.setBackend("cpu");
  const before = tf.memory().numTensors;
  toyRegression1d({ ...QUICK, seed: 7 });
  assertEquals(tf.memory().numTensors, before);
  assertThrows(() => toyRegression1d({ trainRange: [-1, 1], xRange: [-1, 1] }), RangeError);
  assertThrows(() => toyRegression1d({ trainRange: [-1, 1], xRange: [0, 3] }), RangeError);
  assertThrows(() => toyRegression1d({ trainRange: [1, -1] }), RangeError);
  assertThrows(() => toyRegression1d({ width: 0 }), RangeError);
  assertThrows(() => toyRegression1d({ steps: 1.5 }), RangeError);
});
