/**
 * AST Lab's fused kernels (lib/backend/js/ on a FusedMath; the ops they implement: lib/ops/,
 * tested in tests/ops/fused_ops_test.ts): the cpu backend has them as JS loops, the wasm backend
 * runs the native library compiled from fused_kernels.c where it builds; the native loops equal
 * the JS ones on raw arrays; the library is built on first use into its cache and falls back or
 * rebuilds when it cannot be.
 */
import { assert, assertEquals } from "../assert.ts";
import { fusedBackends, randn } from "./_helpers.ts";
import { jsFusedMath } from "../../lib/backend/js/fused_math.ts";
import { loadFusedLibrary } from "../../lib/backend/native/fused_library.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const native = loadFusedLibrary(navigator.hardwareConcurrency || 1, runtimeFromEnv().backend);
if (!native.math) console.warn(`SKIP: native fused kernels on wasm (${native.reason})`);
/** Under CI the native kernels must build (.ci/run installs the compiler). */
const requireNative = Deno.env.get("CI") != null;


Deno.test({ name: "fused kernels: native library builds and loads (required under CI)", ...opts, fn: async () => {
  if (requireNative) assert(native.math, `native fused kernels unavailable under CI: ${native.reason}`);
  const backends = await fusedBackends();
  assert(backends.includes("cpu"), "cpu backend has the JS fused kernels");
  if (native.math) assert(backends.includes("wasm"), "wasm backend runs the native fused kernels");
}});

Deno.test({ name: "native fused loops = JS loops on raw arrays (incl. NaN, +-Inf and huge logits; Adam; in-place activations; edge padding)", ignore: !native.math, ...opts, fn: () => {
  const m = native.math!;
  const P = 37, n = 19, xs = n + 5, k = 1.9 * 0.636;
  const o = randn(P * 2 * n, 1).map((v) => v * 4);
  o[3] = NaN, o[4] = Infinity, o[5] = -Infinity, o[6] = 1e30;
  const x = randn(P * xs, 2), dy = randn(P * (n + 2), 3), dls = randn(P, 4);
  const run = (impl: typeof m) => {
    const y = new Float32Array(P * (n + 2)), ls = new Float32Array(P), dout = new Float32Array(P * 2 * n), dx = new Float32Array(P * xs).fill(7);
    impl.couplingForward(P, n, o, x, xs, 2, k, y, n + 2, ls);
    impl.couplingBackward(P, n, o, x, xs, 2, k, dy, n + 2, dls, dout, dx, xs, 2);
    const moments = [new Float32Array(xs), new Float32Array(xs)];
    impl.channelMoments(P, xs, x, moments[0], moments[1]);
    const inv = moments[1].map((v) => 1 / Math.sqrt(v + 1e-5)), w = randn(xs, 8), b = randn(xs, 9);
    const bnY = new Float32Array(P * xs), bnDx = new Float32Array(P * xs), dw = new Float32Array(xs), db = new Float32Array(xs);
    impl.bnLeakyForward(P, xs, x, moments[0], inv, w, b, 0.01, bnY);
    impl.bnLeakyBackward(P, xs, x, bnY, randn(P * xs, 10), moments[0], inv, w, 0.01, bnDx, dw, db);
    const clipped = new Float32Array(P * xs).fill(3), clipGrad = new Float32Array(P * xs).fill(3);
    impl.copyClip(P, n, x, xs, 1, null, 0, 0, -0.5, 0.7, clipped, xs, 4);
    impl.copyClip(P, n, x, xs, 1, dy, n + 2, 2, -0.5, 0.7, clipGrad, xs, 4);
    const adam = [new Float32Array(P * xs), new Float32Array(P * xs), new Float32Array(P * xs)];
    impl.adamStep(x, randn(P * xs, 11), randn(P * xs, 12), randn(P * xs, 13).map(Math.abs), adam[0], adam[1], adam[2], {
      stepSize: 1e-3, bc2Sqrt: 0.3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 1e-2,
    });
    const acts = (["relu", "relu6", "leakyrelu"] as const).map((kind) => {
      const a = o.map((v) => v * 3); // NaN, +-Inf and values beyond 6 included
      impl.activationInPlace(a, kind, 0.1);
      return a;
    });
    // edge padding by 2 of a 1-row, a 1-column and a general map, and its gradient
    const pads = ([[2, 1, 5, 3], [1, 4, 1, 2], [2, 5, 4, 3]] as [number, number, number, number][]).flatMap((shape) => {
      const [n, h, w, c] = shape, big = n * (h + 4) * (w + 4) * c;
      const padded = new Float32Array(big), grad = new Float32Array(n * h * w * c).fill(9);
      impl.replicatePad(shape, 2, x.subarray(0, n * h * w * c), padded);
      impl.replicatePadGrad(shape, 2, randn(big, 15), grad);
      return [padded, grad];
    });
    return {
      y, ls, dout, dx, mean: moments[0], variance: moments[1], bnY, bnDx, dw, db, clipped, clipGrad,
      adamP: adam[0], adamM: adam[1], adamV: adam[2], relu: acts[0], relu6: acts[1], leaky: acts[2],
      ...Object.fromEntries(pads.map((a, i) => [`pad${i}`, a])),
    };
  };
  const a = run(m), b = run(jsFusedMath);
  for (const key of Object.keys(a) as (keyof typeof a)[]) {
    const got = a[key], want = b[key];
    for (let i = 0; i < got.length; i++) {
      const g = got[i], w = want[i];
      if (Number.isNaN(w)) assert(Number.isNaN(g), `${key}[${i}]: ${g}, expected NaN`);
      else if (!Number.isFinite(w)) assert(g === w, `${key}[${i}]: ${g}, expected ${w}`);
      else assert(Math.abs(g - w) <= 2e-5 * Math.max(1, Math.abs(w)), `${key}[${i}]: native ${g}, JS ${w}`);
    }
  }
}});

Deno.test({ name: "fused kernels: built on first use into the cache; no compiler, AST_NATIVE_FUSED=0, a damaged build or an unwritable cache fall back or rebuild (subprocess)", ignore: !native.math, ...opts, fn: async () => {
  const code = `
    import * as tf from "@tensorflow/tfjs-core";
    import { initBackend } from "./lib/backend/backend.ts";
    import { runtimeFromEnv } from "./lib/config/runtime.ts";
    import { TeacherFlow } from "./lib/models/teacher_flow.ts";
    const info = await initBackend(runtimeFromEnv().backend);
    const t = TeacherFlow.create({ channels: 6, hidden: 8, nBlocks: 2, kernelSizes: [3], clamp: 1.9, posEncDim: 0 }, 0);
    for (const [name, v] of t.params.trainable) if (name.endsWith("gamma")) v.assign(tf.fill([1], 0.5));
    const x = tf.randomNormal([2, 5, 5, 6], 0, 1, "float32", 1);
    const { value, grads } = tf.variableGrads(() => { const r = t.forward(x, null); return tf.mean(tf.sub(tf.sum(tf.square(r.z), 3), r.logDet)); }, [...t.params.trainable.values()]);
    const norms = await Promise.all(Object.values(grads).map((g) => tf.norm(g).data()));
    console.log(JSON.stringify({ fused: info.fusedKernels ?? null, note: info.note ?? null, loss: (await value.data())[0], norms: norms.map((n) => n[0]) }));
  `;
  const cache = await Deno.makeTempDir({ prefix: "ast-fused-cache-" });
  const run = async (env: Record<string, string>) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", code],
      cwd: new URL("../..", import.meta.url),
      env: { AST_BACKEND: "wasm", AST_THREADS: "1", NO_COLOR: "1", AST_NATIVE_CACHE: cache, TMPDIR: cache, ...env },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert(out.success, new TextDecoder().decode(out.stderr));
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  };
  try {
    const noCompiler = await run({ CC: "/nonexistent/cc" });
    assertEquals(noCompiler.fused, null);
    assert(/fused kernels unavailable: no C compiler/.test(String(noCompiler.note)), `note: ${noCompiler.note}`);
    const off = await run({ AST_NATIVE_FUSED: "0" });
    assertEquals(off.fused, null);
    assert(/AST_NATIVE_FUSED=0/.test(String(off.note)), `note: ${off.note}`);
    const built = await run({});
    assertEquals(built.fused, "native");
    const files = [...Deno.readDirSync(cache)].map((e) => e.name).sort();
    assert(files.length === 2 && /^libast_fused-[0-9a-f]{8}\.so$/.test(files[0]) && files[1] === `${files[0]}.sha256`, `cache holds ${files}`);
    // a damaged build is replaced
    await Deno.writeTextFile(`${cache}/${files[0]}`, "not a library");
    const rebuilt = await run({});
    assertEquals(rebuilt.fused, "native");
    // a cache directory that cannot be made (here: below a file) gives way to the per-user temporary one
    const notADir = `${cache}/plain-file`;
    await Deno.writeTextFile(notADir, "");
    const elsewhere = await run({ AST_NATIVE_CACHE: `${notADir}/native` });
    assertEquals(elsewhere.fused, "native");
    for (const r of [built, rebuilt, elsewhere]) {
      assert(Math.abs(r.loss - off.loss) <= 1e-5 * Math.max(1, Math.abs(off.loss)), `loss ${r.loss} vs composed ${off.loss}`);
      r.norms.forEach((n: number, i: number) => assert(Math.abs(n - off.norms[i]) <= 1e-4 * Math.max(1, off.norms[i]), `grad ${i}: ${n} vs ${off.norms[i]}`));
    }
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
}});
