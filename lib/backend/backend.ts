/**
 * Decides and prepares the tfjs backend for the whole program (call once, early):
 *   tfjs-node-gpu -> tfjs-node -> wasm (training kernels + threads + native kernels) -> cpu.
 *
 * Settings come as BackendOptions (lib/config/runtime.ts: entry points build them from the
 * environment with `runtimeFromEnv()`; nothing here reads environment variables). Choice:
 * `opts.prefer` > that order. Threads: `opts.threads` > all logical cores. A requested backend
 * that cannot load (not installed, no compiler) falls back along the order, and `note` says why;
 * a missing Deno permission (PermissionNeeded: one line naming the flag) or an unsafe folder to
 * load code from (UnsafeFolderError) is thrown instead, never traded for a slower backend or
 * fewer threads. tfjs-node(-gpu) are optional:
 * they are tried only when the import map (deno.json) names them, because importing an unmapped
 * `npm:` specifier would download and install it at run time (and still fail here: its native
 * addon is fetched by an install script).
 *
 * lib/backend/ holds the backend choice (this file) and kernel implementations, by kind:
 *   js/      kernels written in JS for wasm and cpu (the fused ops' kernels on a FusedMath, edge
 *            padding, ClipByValue's gradient, Adam's step) and the JS loops behind them;
 *   wasm/    the wasm backend's training kernels, faster replacements and its threads in Deno;
 *   native/  kernels on native libraries through Deno FFI (oneDNN, OpenBLAS, the compiled
 *            fused_kernels.c).
 * It may import lib/ops (kernel names, attributes, gradient registration), lib/config and
 * lib/util; lib/ops never imports it. Models, features and training use lib/ops.
 *
 * Everything registers into the one tfjs-core instance `import * as tf from "@tensorflow/tfjs-core"`
 * gives: the backend packages resolve `@tensorflow/tfjs-core` to the same npm package folder.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
import type { BackendOptions } from "../config/runtime.ts";
import { registerTrainingGradients } from "../ops/training_gradients.ts";
import { registerOpGradients } from "../ops/op_gradients.ts";
import { registerWasmTrainingKernels } from "./wasm/training_kernels.ts";
import { registerWasmFastKernels } from "./wasm/fast_kernels.ts";
import { MAX_WASM_THREADS, useThreadedWasm } from "./wasm/threads.ts";
import { registerReplicatePadKernels } from "./js/replicate_pad_kernels.ts";
import { registerClipGradKernel } from "./js/clip_grad_kernel.ts";
import { registerAdamKernel } from "./js/adam_kernel.ts";
import { registerFusedKernels } from "./js/fused_kernels.ts";
import { jsFusedMath } from "./js/fused_math.ts";
import { enableNativeConvolutions } from "./native/enable.ts";
import { loadFusedLibrary } from "./native/fused_library.ts";
import { PermissionNeeded } from "../util/permission.ts";
import { UnsafeFolderError } from "../util/private_dir.ts";
import { quietTfjs } from "./tfjs_warnings.ts";

export type { BackendOptions };

export type BackendName = "tensorflow" | "tensorflow-gpu" | "wasm" | "cpu" | "webgpu";

export interface BackendInfo {
  name: BackendName;
  /** Threads the backend computes with (tfjs-node: its intra-op pool, reported as the core count). */
  threads: number;
  /** wasm only: SIMD build in use. */
  simd?: boolean;
  /**
   * wasm only: the library computing convolutions when not the backend's own (e.g. "oneDNN
   * 2.6.3, 2 threads"). oneDNN where it loads, else OpenBLAS; nativeConv (AST_NATIVE_CONV) =
   * onednn|openblas picks, "0" keeps the backend's own.
   */
  convolutions?: string;
  /**
   * wasm only: "native" when the fused kernels (coupling half, channel permutation split, join +
   * clip, BatchNorm + LeakyReLU, swish; ops in lib/ops/, kernels in lib/backend/js/) and Adam's
   * loop run compiled code; absent: composed tfjs ops and Adam in JS (the note says why).
   * nativeFused false (AST_NATIVE_FUSED=0) turns them off.
   */
  fusedKernels?: string;
  /** Why the result differs from what was asked (fallbacks, thread caps). */
  note?: string;
}

const BACKEND_NAMES: readonly BackendName[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu", "webgpu"];
/** The automatic order; webgpu is opt-in (software adapters are slower than wasm). */
const AUTO_ORDER: readonly BackendName[] = ["tensorflow-gpu", "tensorflow", "wasm", "cpu"];
const OPTIONAL_PACKAGES: Partial<Record<BackendName, string>> = {
  "tensorflow-gpu": "@tensorflow/tfjs-node-gpu",
  "tensorflow": "@tensorflow/tfjs-node",
  "webgpu": "@tensorflow/tfjs-backend-webgpu",
};

let current: BackendInfo | null = null;
let pending: Promise<BackendInfo> | null = null;

/** The backend chosen by initBackend, or null before it has finished. */
export function backendInfo(): BackendInfo | null {
  return current;
}

/**
 * Chooses, initialises and returns the backend. Idempotent: later calls return the first result
 * (whatever options they pass). Without options: the automatic order, all logical cores, oneDNN
 * convolutions, the native fused kernels compiled into the project's data/cache/native.
 */
export function initBackend(opts: BackendOptions = {}): Promise<BackendInfo> {
  if (pending == null) {
    pending = chooseAndInit(opts).then(
      (info) => (current = info),
      (err) => {
        pending = null; // allow a retry after e.g. a permission fix
        throw err;
      },
    );
  }
  return pending;
}

/** Errors the user must fix (a permission flag, an unsafe folder): never a reason to fall back. */
function mustStop(err: unknown): boolean {
  return err instanceof PermissionNeeded || err instanceof UnsafeFolderError;
}

function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split("\n")[0].slice(0, 200);
}

interface Attempt {
  info?: BackendInfo;
  failure?: string;
}

async function chooseAndInit(opts: BackendOptions): Promise<BackendInfo> {
  await registerTrainingGradients();
  registerOpGradients(); // after tfjs' own: ClipByValue's replaces tfjs' definition
  registerReplicatePadKernels();
  registerClipGradKernel();
  registerAdamKernel();
  registerFusedKernels("cpu", jsFusedMath);
  const notes: string[] = [];

  const requested = opts.prefer;
  let order: BackendName[] = [...AUTO_ORDER];
  if (requested && requested !== "auto") {
    if ((BACKEND_NAMES as readonly string[]).includes(requested)) {
      const r = requested as BackendName;
      order = [r, ...AUTO_ORDER.filter((n) => n !== r)];
    } else {
      notes.push(`unknown backend "${requested}" ignored`);
    }
  }
  const threads = resolveThreads(opts.threads, notes);

  for (const name of order) {
    const attempt = await tryBackend(name, threads, opts);
    if (attempt.info) {
      quietTfjs(); // after the choice: failures above keep tfjs' reasons (tfjs_warnings.ts)
      const allNotes = [...notes, ...(attempt.info.note ? [attempt.info.note] : [])];
      return { ...attempt.info, ...(allNotes.length ? { note: allNotes.join("; ") } : {}) };
    }
    // Absent optional packages are the normal case in auto mode: only report asked-for ones.
    if (name === requested) notes.push(`${name} unavailable (${attempt.failure})`);
  }
  throw new Error(`no tfjs backend could be initialised: ${notes.join("; ")}`);
}

function resolveThreads(raw: number | string | undefined, notes: string[]): number {
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  if (raw == null) return cores;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    notes.push(`invalid thread count "${raw}", using ${cores}`);
    return cores;
  }
  return n;
}

async function tryBackend(name: BackendName, threads: number, opts: BackendOptions): Promise<Attempt> {
  try {
    switch (name) {
      case "tensorflow-gpu":
      case "tensorflow":
        return await tryTfjsNode(name);
      case "webgpu":
        return await tryWebgpu();
      case "wasm":
        return await tryWasm(threads, opts);
      case "cpu":
        return (await tf.setBackend("cpu"))
          ? { info: { name: "cpu", threads: 1 } }
          : { failure: "cpu backend failed to initialise" };
    }
  } catch (err) {
    if (mustStop(err)) throw err;
    return { failure: firstLine(err) };
  }
}

/** Imports an optional package by its bare name: fails at once when deno.json does not map it. */
async function importOptional(specifier: string): Promise<void> {
  // A non-literal specifier keeps `deno check` / the module graph from requiring it.
  await import(specifier);
}

async function tryTfjsNode(name: "tensorflow" | "tensorflow-gpu"): Promise<Attempt> {
  try {
    await importOptional(OPTIONAL_PACKAGES[name]!);
  } catch (err) {
    return { failure: `${OPTIONAL_PACKAGES[name]} not importable: ${firstLine(err)}` };
  }
  // Both packages register their backend as "tensorflow".
  if (!(await tf.setBackend("tensorflow"))) return { failure: "tensorflow backend failed to initialise" };
  return { info: { name, threads: navigator.hardwareConcurrency || 1 } };
}

async function tryWebgpu(): Promise<Attempt> {
  if (!("gpu" in navigator)) return { failure: "navigator.gpu missing" };
  try {
    await importOptional(OPTIONAL_PACKAGES.webgpu!);
  } catch (err) {
    return { failure: `${OPTIONAL_PACKAGES.webgpu} not importable: ${firstLine(err)}` };
  }
  if (!(await tf.setBackend("webgpu"))) return { failure: "webgpu backend failed to initialise" };
  return { info: { name: "webgpu", threads: 1 } };
}

async function tryWasm(threads: number, opts: BackendOptions): Promise<Attempt> {
  registerWasmTrainingKernels(); // before init: replaced kernels keep the shipped setupFunc
  registerWasmFastKernels();
  const notes: string[] = [];
  const wanted = Math.min(threads, MAX_WASM_THREADS);
  if (threads > MAX_WASM_THREADS) notes.push(`threads capped at ${MAX_WASM_THREADS} (tfjs-wasm pool size)`);
  let threaded = false;
  if (wanted > 1) {
    try {
      await useThreadedWasm(wanted, opts.tempDir);
      threaded = true;
    } catch (err) {
      if (mustStop(err)) throw err;
      notes.push(`wasm threads unavailable, using 1 thread (${firstLine(err)})`);
    }
  }
  if (!threaded) {
    tfwasm.setThreadsCount(1);
    if (!(await tf.setBackend("wasm"))) return { failure: "wasm backend failed to initialise" };
  }
  const actual = tfwasm.getThreadsCount();
  if (threaded && actual !== wanted) notes.push(`asked ${wanted} threads, wasm runs ${actual}`);
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT") as boolean;
  let convolutions: string | undefined;
  const nativeChoice = opts.nativeConv;
  if (nativeChoice !== "0") {
    const prefer = nativeChoice === "openblas" || nativeChoice === "onednn" ? nativeChoice : undefined;
    if (nativeChoice && !prefer) notes.push(`unknown AST_NATIVE_CONV "${nativeChoice}" ignored (onednn, openblas or 0)`);
    const native = enableNativeConvolutions(threads, prefer, opts.nativeEnv);
    if (native.ok) convolutions = native.library;
    else notes.push(`convolutions: wasm's own (${native.reason})`);
  }
  const fused = loadFusedLibrary(threads, opts);
  if (fused.math) registerFusedKernels("wasm", fused.math);
  else notes.push(fused.reason!);
  notes.push(...(fused.notes ?? []));
  return {
    info: {
      name: "wasm",
      threads: actual,
      simd,
      ...(convolutions ? { convolutions } : {}),
      ...(fused.math ? { fusedKernels: fused.math.name } : {}),
      ...(notes.length ? { note: notes.join("; ") } : {}),
    },
  };
}
