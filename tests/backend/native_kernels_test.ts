/**
 * The wasm backend with oneDNN / OpenBLAS convolutions (FFI, lib/backend/native/) against the
 * plain cpu backend: values and gradients over shapes, strides, paddings, dilations, fused bias +
 * activation. A library that is absent is skipped with a message (.ci/run and
 * lib/backend/native/install.sh install both).
 */
import * as tf from "@tensorflow/tfjs-core";
import { coreTypeFromFlags, loadOpenBlas } from "../../lib/backend/native/openblas.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { type ConvImpl, withConvolutions } from "./_helpers.ts";
import { mulberry32 } from "../../lib/util/random.ts";
import { assert, assertEquals } from "../assert.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const { blas, reason } = loadOpenBlas(runtimeFromEnv().backend.nativeEnv);
if (!blas) console.warn(`SKIP: native kernel tests (${reason})`);
const ignore = !blas;

function rand(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** Runs `fn` on `backend`, returns its outputs' values; the project's backend is restored by the caller. */
async function on(backend: string, fn: () => tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(fn);
  const data = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
  tf.dispose(outs);
  return data;
}

function assertClose(got: Float32Array, want: Float32Array, what: string): void {
  assertEquals(got.length, want.length, `${what}: length`);
  let maxErr = 0, scale = 0;
  for (let i = 0; i < got.length; i++) {
    maxErr = Math.max(maxErr, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  assert(maxErr <= 1e-5 * Math.max(1, scale), `${what}: max abs error ${maxErr} (scale ${scale})`);
}

interface Case {
  x: [number, number, number, number];
  f: [number, number, number, number];
  strides: number | [number, number];
  pad: "same" | "valid" | [[number, number], [number, number], [number, number], [number, number]];
  dilations?: number;
}

const CASES: Case[] = [
  { x: [2, 7, 6, 3], f: [3, 3, 3, 5], strides: 1, pad: "same" },
  { x: [2, 9, 8, 4], f: [3, 3, 4, 6], strides: 2, pad: "valid" },
  { x: [1, 8, 7, 5], f: [3, 3, 5, 4], strides: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 11, 10, 3], f: [5, 5, 3, 7], strides: 2, pad: "same" },
  { x: [3, 5, 5, 8], f: [1, 1, 8, 6], strides: 1, pad: "valid" }, // pointwise fast path
  { x: [2, 6, 6, 4], f: [1, 1, 4, 3], strides: [2, 1], pad: "same" },
  { x: [1, 12, 12, 40], f: [3, 3, 40, 48], strides: 1, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] }, // student-like
];

function native(impl: ConvImpl, fn: () => Promise<void>): () => Promise<void> {
  return async () => {
    if (!(await withConvolutions(impl, fn))) console.warn(`SKIP: ${impl} not loadable`);
  };
}

for (const impl of ["onednn", "openblas"] as const) {
Deno.test({ name: `wasm + ${impl} conv2d: values and gradients (x, filter) match the cpu backend`, ...opts, fn: native(impl, async () => {
    for (const c of CASES) {
      const xs = rand(size(c.x), 1), fs = rand(size(c.f), 2);
      const compute = () => {
        const x = tf.tensor4d(xs, c.x), f = tf.tensor4d(fs, c.f);
        const conv = (a: tf.Tensor, b: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.pad);
        const y = conv(x, f);
        const dy = tf.tensor(rand(y.size, 3), y.shape);
        const [dx, df] = tf.grads(conv)([x, f], dy);
        return [y, dx, df];
      };
      const want = await on("cpu", compute);
      const got = await on("wasm", compute);
      const what = `x [${c.x}] f [${c.f}] strides ${c.strides} pad ${JSON.stringify(c.pad)}`;
      ["y", "dx", "dfilter"].forEach((n, i) => assertClose(got[i], want[i], `${impl} ${what}: ${n}`));
    }
  }) });

Deno.test({ name: `wasm + ${impl} conv2d: dilation 2 forward; fused conv with bias + relu / leakyrelu / sigmoid`, ...opts, fn: native(impl, async () => {
    const xs = rand(2 * 10 * 9 * 3, 4), fs = rand(3 * 3 * 3 * 4, 5), bs = rand(4, 6);
    const compute = () => {
      const x = tf.tensor4d(xs, [2, 10, 9, 3]), f = tf.tensor4d(fs, [3, 3, 3, 4]), b = tf.tensor1d(bs);
      return [
        tf.conv2d(x, f, 1, "same", "NHWC", 2),
        tf.fused.conv2d({ x, filter: f, strides: 1, pad: "same", bias: b, activation: "relu" }),
        tf.fused.conv2d({ x, filter: f, strides: 2, pad: "valid", bias: b, activation: "leakyrelu", leakyreluAlpha: 0.1 }),
        tf.fused.conv2d({ x, filter: f, strides: 1, pad: "valid", activation: "sigmoid" }),
      ];
    };
    const want = await on("cpu", compute);
    const got = await on("wasm", compute);
    ["dilated", "fused relu", "fused leakyrelu", "fused sigmoid"].forEach((n, i) => assertClose(got[i], want[i], `${impl} ${n}`));
  }) });
}

Deno.test({ name: "wasm + onednn depthwise conv (plain and fused bias + activation, strides, explicit pads, dilation, multiplier 2): values and gradients match cpu", ...opts, fn: native("onednn", async () => {
  type Pad = "same" | "valid" | [[number, number], [number, number], [number, number], [number, number]];
  const cases: { x: [number, number, number, number]; k: number; mult: number; strides: number; pad: Pad; dil?: number }[] = [
    { x: [2, 9, 8, 5], k: 3, mult: 1, strides: 1, pad: "same" },
    { x: [1, 12, 11, 16], k: 5, mult: 1, strides: 2, pad: "same" },
    { x: [1, 10, 10, 7], k: 3, mult: 1, strides: 2, pad: [[0, 0], [0, 1], [1, 0], [0, 0]] }, // EfficientNet's asymmetric pads
    { x: [2, 7, 7, 3], k: 3, mult: 2, strides: 1, pad: "valid" },
    { x: [1, 11, 9, 4], k: 3, mult: 1, strides: 1, pad: "same", dil: 2 },
  ];
  for (const c of cases) {
    const xs = rand(size(c.x), 11), fs = rand(c.k * c.k * c.x[3] * c.mult, 12), bs = rand(c.x[3] * c.mult, 13);
    const compute = () => {
      const x = tf.tensor4d(xs, c.x), f = tf.tensor4d(fs, [c.k, c.k, c.x[3], c.mult]), b = tf.tensor1d(bs);
      const dw = (a: tf.Tensor, w: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, w as tf.Tensor4D, c.strides, c.pad as "same", "NHWC", c.dil ?? 1);
      const y = dw(x, f);
      // (tfjs has no depthwise gradient with dilation > 1)
      const [dx, df] = c.dil ? [y, y] : tf.grads(dw)([x, f], tf.tensor(rand(y.size, 14), y.shape));
      const fused = tf.fused.depthwiseConv2d({ x, filter: f, strides: c.strides, pad: c.pad as "same", dilations: c.dil ?? 1, bias: b, activation: "relu6" });
      const biasOnly = tf.fused.depthwiseConv2d({ x, filter: f, strides: c.strides, pad: c.pad as "same", dilations: c.dil ?? 1, bias: b });
      return [y, dx, df, fused, biasOnly];
    };
    const want = await on("cpu", compute);
    const got = await on("wasm", compute);
    const what = `x [${c.x}] k ${c.k} x${c.mult} strides ${c.strides} pad ${JSON.stringify(c.pad)} dilation ${c.dil ?? 1}`;
    ["y", "dx", "dfilter", "fused bias + relu6", "fused bias"].forEach((n, i) => assertClose(got[i], want[i], `onednn depthwise ${what}: ${n}`));
  }
}) });

Deno.test({ name: "wasm backend: native convolutions on by default, AST_NATIVE_CONV=openblas|0 choose; same training step (subprocess)", ignore, ...opts, fn: async () => {
  const code = `
    import * as tf from "@tensorflow/tfjs-core";
    import { initBackend } from "./lib/backend/backend.ts";
    import { runtimeFromEnv } from "./lib/config/runtime.ts";
    import { AsymmetricStudent } from "./lib/models/student.ts";
    const info = await initBackend(runtimeFromEnv().backend);
    const s = AsymmetricStudent.create({ channels: 6, hidden: 8, nBlocks: 1, leakySlope: 0.01, posEncDim: 0 }, 0);
    const x = tf.randomNormal([2, 5, 5, 6], 0, 1, "float32", 1);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(s.forward(x, null, true).out)), [...s.params.trainable.values()]);
    const norms = await Promise.all(Object.values(grads).map((g) => tf.norm(g).data()));
    console.log(JSON.stringify({ name: info.name, convolutions: info.convolutions ?? null, note: info.note ?? null, loss: (await value.data())[0], norms: norms.map((n) => n[0]) }));
  `;
  const run = async (env: Record<string, string>) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", code],
      cwd: new URL("../..", import.meta.url),
      env: { AST_BACKEND: "wasm", AST_THREADS: "1", NO_COLOR: "1", ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  };
  const own = await run({ AST_NATIVE_CONV: "0" });
  assertEquals(own.name, "wasm");
  assertEquals(own.convolutions, null);
  const byDefault = await run({});
  assert(/^(oneDNN|OpenBLAS)/.test(String(byDefault.convolutions)), `convolutions: ${byDefault.convolutions}`);
  const openblas = await run({ AST_NATIVE_CONV: "openblas" });
  const typo = await run({ AST_NATIVE_CONV: "openblass" });
  assert(/unknown AST_NATIVE_CONV "openblass"/.test(String(typo.note)), `note: ${typo.note}`);
  assertEquals(typo.convolutions, byDefault.convolutions);
  assert(String(openblas.convolutions).startsWith("OpenBLAS"), `convolutions: ${openblas.convolutions}`);
  for (const r of [byDefault, openblas]) {
    assertEquals(r.name, "wasm");
    assert(Math.abs(r.loss - own.loss) <= 1e-5 * Math.max(1, Math.abs(own.loss)), `${r.convolutions}: loss ${r.loss} vs ${own.loss}`);
    assertEquals(r.norms.length, 12); // weight + bias of conv1, l1, l2, bn1, bn2, conv2
    r.norms.forEach((n: number, i: number) => assert(Math.abs(n - own.norms[i]) <= 1e-4 * Math.max(1, own.norms[i]), `${r.convolutions} grad ${i}: ${n} vs ${own.norms[i]}`));
  }
} });

Deno.test("native: OpenBLAS core type from CPU flags (virtual CPUs report no model)", () => {
  assertEquals(coreTypeFromFlags(new Set(["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"])), "SkylakeX");
  assertEquals(coreTypeFromFlags(new Set(["avx2", "fma"])), "Haswell");
  assertEquals(coreTypeFromFlags(new Set(["sse2"])), null);
});

Deno.test({ name: "wasm + oneDNN elementwise: exp / tanh / sigmoid values and gradients match cpu, edge values included; log stays exact", ...opts, fn: native("onednn", async () => {
  const values = Float32Array.from(rand(2 * 3 * 4 * 5, 21), (v) => v * 6);
  values.set([0, -0, 88, -100, 1e-30, 20, -20], 0);
  const positive = values.map((v) => Math.abs(v) + 1e-3);
  // log is not replaced (oneDNN's is less accurate): identical to cpu
  const edge = Float32Array.from([0, -1, Infinity, -Infinity, NaN, 1e-38]);
  const cases: [string, (x: tf.Tensor) => tf.Tensor, Float32Array][] = [
    ["exp", (x) => tf.exp(x), values],
    ["log", (x) => tf.log(x), positive],
    ["tanh", (x) => tf.tanh(x), values],
    ["sigmoid", (x) => tf.sigmoid(x), values],
  ];
  for (const [name, f, v] of cases) {
    const compute = () => {
      const x = tf.tensor(v, [2, 3, 4, 5]);
      const dy = tf.tensor(rand(v.length, 22), [2, 3, 4, 5]);
      return [f(x), tf.grad(f)(x, dy)];
    };
    const want = await on("cpu", compute), got = await on("wasm", compute);
    const tol = name === "log" ? 1e-7 : 2e-6;
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < want[i].length; j++) {
        const w = want[i][j], g = got[i][j];
        const ok = Number.isFinite(w) ? Math.abs(g - w) <= tol * Math.max(1, Math.abs(w)) : Object.is(g, w) || (Number.isNaN(w) && Number.isNaN(g));
        assert(ok, `${name} ${i ? "gradient" : "value"}[${j}] (x=${v[j]}): ${g} vs ${w}`);
      }
    }
  }
  // special values: log(0) = -inf, log(-1) = NaN, exp(+-inf), NaN stays NaN
  for (const [name, f] of [["exp", tf.exp], ["log", tf.log], ["tanh", tf.tanh], ["sigmoid", tf.sigmoid]] as const) {
    const [w] = await on("cpu", () => [f(tf.tensor(edge))]);
    const [g] = await on("wasm", () => [f(tf.tensor(edge))]);
    for (let j = 0; j < edge.length; j++) {
      assert(Object.is(g[j], w[j]) || (Number.isNaN(g[j]) && Number.isNaN(w[j])) || Math.abs(g[j] - w[j]) <= 1e-6, `${name}(${edge[j]}): ${g[j]} vs ${w[j]}`);
    }
  }
}) });

Deno.test({ name: "wasm + oneDNN block copies: split and concat on every axis (sizes with 0 and -1), values and gradients match cpu", ...opts, fn: native("onednn", async () => {
  const x = rand(3 * 4 * 5 * 6, 31);
  for (const [axis, sizes] of [[3, [2, 4]], [3, [5, 0, 1]], [2, [1, -1, 1]], [1, 2], [0, [1, 2]]] as const) {
    const compute = () => {
      const t = tf.tensor4d(x, [3, 4, 5, 6]);
      const f = (u: tf.Tensor) => tf.concat(tf.split(u, sizes as unknown as number[], axis).reverse(), axis);
      const dy = tf.tensor4d(rand(x.length, 32), [3, 4, 5, 6]);
      return [f(t), tf.grad(f)(t, dy)];
    };
    const want = await on("cpu", compute), got = await on("wasm", compute);
    assertEquals(Array.from(got[0]), Array.from(want[0]), `split/concat axis ${axis} ${JSON.stringify(sizes)}: value`);
    assertEquals(Array.from(got[1]), Array.from(want[1]), `split/concat axis ${axis} ${JSON.stringify(sizes)}: gradient`);
  }
  // concat of three inputs with different widths, and an int32 concat (the wasm kernel's)
  const [a] = await on("wasm", () => [tf.concat([tf.ones([2, 3, 1]), tf.zeros([2, 3, 2]), tf.fill([2, 3, 3], 2)], 2)]);
  const [b] = await on("cpu", () => [tf.concat([tf.ones([2, 3, 1]), tf.zeros([2, 3, 2]), tf.fill([2, 3, 3], 2)], 2)]);
  assertEquals(Array.from(a), Array.from(b));
  const [i32] = await on("wasm", () => [tf.cast(tf.concat([tf.tensor2d([[1], [2]], [2, 1], "int32"), tf.tensor2d([[3], [4]], [2, 1], "int32")], 1), "float32")]);
  assertEquals(Array.from(i32), [1, 3, 2, 4]);
}) });

Deno.test({ name: "oneDNN: after the primitive cache fills (100+ geometries) it starts over and results stay right (vs OpenBLAS)", ...opts, fn: async () => {
  const { OneDnnConvolutions } = await import("../../lib/backend/native/onednn/conv.ts");
  const { openBlasConvolutions } = await import("../../lib/backend/native/library.ts");
  const { sameGeometry } = await import("../../lib/backend/native/im2col_conv.ts");
  let dnnl;
  try {
    dnnl = OneDnnConvolutions.load({ threads: 1 });
  } catch (err) {
    console.warn(`SKIP: oneDNN not loadable (${(err as Error).message})`);
    return;
  }
  if (!blas) return console.warn(`SKIP: OpenBLAS not loadable (${reason})`);
  const ref = openBlasConvolutions(blas);
  for (let size = 1; size <= 110; size++) {
    const g = sameGeometry(1, size, 2, 3, 3);
    const x = rand(size * size * 2, size), w = rand(9 * 2 * 3, size + 1000);
    const a = new Float32Array(size * size * 3), b = new Float32Array(size * size * 3);
    dnnl.forward(g, x, w, a);
    if (size % 10 === 0 || size > 95) {
      ref.forward(g, x, w, b);
      assertClose(a, b, `size ${size}`);
    }
  }
} });
