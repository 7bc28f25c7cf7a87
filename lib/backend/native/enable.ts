/**
 * Turns on the native kernels of the wasm backend (kernels.ts) when a library loads: oneDNN
 * convolutions by default, OpenBLAS im2col + SGEMM otherwise (BackendOptions.nativeConv:
 * AST_NATIVE_CONV=onednn|openblas picks, AST_NATIVE_CONV=0 keeps the wasm backend's own, which
 * lib/backend/backend.ts decides). When neither loads it reports why and the wasm backend keeps
 * its own (XNNPACK) convolutions.
 */
import { type ConvolutionChoice, loadConvolutionLibrary } from "./library.ts";
import { useNativeConvolutions } from "./kernels.ts";
import type { NativeEnv } from "./openmp.ts";

export type NativeInit = { ok: true; library: string } | { ok: false; reason: string };

export function enableNativeConvolutions(threads: number, prefer?: ConvolutionChoice, nativeEnv: NativeEnv = {}): NativeInit {
  const { convolutions, blas, onednn, reasons } = loadConvolutionLibrary(threads, prefer, nativeEnv);
  if (!convolutions) return { ok: false, reason: reasons.join("; ") || "no native library" };
  useNativeConvolutions(convolutions, blas, onednn);
  return { ok: true, library: `${convolutions.name}, ${convolutions.threads()} threads${blas ? "" : " (reductions: wasm)"}` };
}
