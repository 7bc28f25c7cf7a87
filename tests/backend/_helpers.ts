/**
 * Runs the same tensor program on the cpu backend (reference) and on wasm, compares values and
 * gradients, and checks that wasm memory returns to where it was (no leaked intermediates).
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { assertClose } from "../assert.ts";
import { nativeConvolutionsActive, restoreWasmConvolutions, useNativeConvolutions } from "../../lib/backend/native/kernels.ts";
import { loadConvolutionLibrary } from "../../lib/backend/native/library.ts";
import { COUPLING_HALF } from "../../lib/ops/coupling_half.ts";
import { useFused } from "../../lib/ops/fused_switch.ts";

/** Workers of the threaded wasm build live for the whole process: tests opt out of sanitizers. */
export const WASM_TEST = { sanitizeOps: false, sanitizeResources: false } as const;

let ready: Promise<void> | null = null;
/** initBackend with wasm (the other settings from the environment, AST_THREADS etc.), plus the cpu reference. */
export function setup(): Promise<void> {
  ready ??= (async () => {
    const info = await initBackend({ ...runtimeFromEnv().backend, prefer: "wasm" });
    if (info.name !== "wasm") throw new Error(`wasm backend expected, got ${JSON.stringify(info)}`);
    await tf.setBackend("cpu"); // initialise the reference once
    await tf.setBackend("wasm");
  })();
  return ready;
}

/** Deterministic N(0,1)-ish numbers (mulberry32 + Box-Muller). */
export function randn(size: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = Math.max(uniform(), 1e-12), v = uniform();
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  return out;
}

export interface InputSpec {
  shape: number[];
  /** default: randn with the input's position as seed offset */
  values?: Float32Array;
}

/** Results of one backend: [output values, gradient of each input]. */
export type Run = { out: Float32Array; grads: Float32Array[] };

/**
 * f's value and its gradients w.r.t. every input (against a seeded random upstream gradient) on
 * `backendName`; throws when tensors leak.
 */
export async function runOn(
  backendName: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: InputSpec[], seed: number, withGrads: boolean,
): Promise<Run> {
  await tf.setBackend(backendName);
  const before = tf.engine().backend.numDataIds();
  const xs = inputs.map((spec, i) => tf.tensor(spec.values ?? randn(tf.util.sizeFromShape(spec.shape), seed + 101 * i), spec.shape));
  const y = tf.tidy(() => f(...xs)); // tidy: constants made inside f are released
  const dy = tf.tensor(randn(y.size, seed + 7777), y.shape); // random upstream gradient
  const grads = withGrads ? tf.tidy(() => tf.grads(f)(xs, dy)) : [];
  const out = (await y.data()) as Float32Array;
  const gradData = await Promise.all(grads.map((g) => g.data() as Promise<Float32Array>));
  tf.dispose([...xs, y, dy, ...grads]);
  const after = tf.engine().backend.numDataIds();
  if (after !== before) throw new Error(`${backendName}: ${after - before} tensors leaked`);
  return { out, grads: gradData };
}

export interface Tolerance {
  /** relative to the largest |expected| of each compared array (absolute floor) */
  atolScale?: number;
  rtol?: number;
}

/**
 * f's value and its gradients w.r.t. every input on wasm must match cpu:
 * |wasm - cpu| <= atolScale * max(1, max|cpu|)  or  <= rtol * |cpu|, elementwise.
 */
export async function compareWithCpu(
  what: string,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: InputSpec[],
  { atolScale = 1e-5, rtol = 1e-4, seed = 1, grads = true }: Tolerance & { seed?: number; grads?: boolean } = {},
): Promise<void> {
  await setup();
  const ref = await runOn("cpu", f, inputs, seed, grads);
  const got = await runOn("wasm", f, inputs, seed, grads);
  const check = (a: Float32Array, b: Float32Array, label: string) => {
    let scale = 1;
    for (const v of b) scale = Math.max(scale, Math.abs(v));
    assertClose(a, b, { atol: atolScale * scale, rtol, what: `${what}: ${label}` });
  };
  check(got.out, ref.out, "value");
  got.grads.forEach((g, i) => check(g, ref.grads[i], `grad of input ${i}`));
}

/** The convolution implementations of the wasm backend the tests cover. */
export const CONV_IMPLS = ["onednn", "openblas", "wasm"] as const;
export type ConvImpl = (typeof CONV_IMPLS)[number];

/**
 * Runs fn with the wasm backend's convolutions as `impl`: "onednn" or "openblas" (returns false,
 * without running, where that library does not load) or "wasm" (its own XNNPACK-based kernels).
 * The previous state is restored after.
 */
export async function withConvolutions(impl: ConvImpl, fn: () => Promise<void>): Promise<boolean> {
  await setup();
  const before = nativeConvolutionsActive();
  if (impl === "wasm") restoreWasmConvolutions();
  else {
    const loaded = loadConvolutionLibrary(navigator.hardwareConcurrency || 1, impl, runtimeFromEnv().backend.nativeEnv);
    if (!loaded.convolutions || !loaded.convolutions.name.toLowerCase().startsWith(impl)) return false;
    useNativeConvolutions(loaded.convolutions, loaded.blas, loaded.onednn);
  }
  try {
    await fn();
  } finally {
    if (before) useNativeConvolutions(before.lib, before.blas, before.onednn);
    else restoreWasmConvolutions();
  }
  return true;
}

/** The backends whose fused kernels are checked: cpu always, wasm where the native library loaded. */
export async function fusedBackends(): Promise<string[]> {
  await setup();
  const out: string[] = [];
  for (const b of ["cpu", "wasm"]) {
    await tf.setBackend(b);
    if (useFused(COUPLING_HALF)) out.push(b);
  }
  await tf.setBackend("wasm");
  return out;
}
