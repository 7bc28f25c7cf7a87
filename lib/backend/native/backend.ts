/**
 * Opt-in `native` backend (AST_BACKEND=native): cpu backend + OpenBLAS convolutions via FFI.
 * Used by lib/backend/backend.ts; when the library is absent it reports why and the caller
 * falls back along its usual order.
 */
import * as tf from "@tensorflow/tfjs-core";
import { loadOpenBlas } from "./openblas.ts";
import { NATIVE_BACKEND, registerNativeBackend } from "./kernels.ts";

export type NativeInit = { ok: true; threads: number; library: string } | { ok: false; reason: string };

export async function initNativeBackend(threads: number): Promise<NativeInit> {
  const { blas, reason } = loadOpenBlas();
  if (!blas) return { ok: false, reason: reason ?? "OpenBLAS unavailable" };
  blas.setThreads(threads);
  registerNativeBackend(blas);
  if (!(await tf.setBackend(NATIVE_BACKEND))) return { ok: false, reason: "native backend failed to initialise" };
  return { ok: true, threads: blas.threads(), library: `${blas.library} (${blas.config.trim()})` };
}
