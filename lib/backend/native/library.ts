/**
 * The native convolution libraries the wasm backend's conv kernels can run on (kernels.ts):
 * oneDNN (onednn/conv.ts, preferred) or OpenBLAS im2col + SGEMM (im2col_conv.ts), chosen by
 * `loadConvolutionLibrary`. Buffers are tfjs-layout Float32Arrays (NHWC, HWIO); outputs are
 * overwritten entirely.
 */
import type { Blas } from "./openblas.ts";
import { loadOpenBlas } from "./openblas.ts";
import { conv2dBackpropFilter, conv2dBackpropInput, conv2dForward } from "./im2col_conv.ts";
import { OneDnnConvolutions } from "./onednn/conv.ts";
import { OneDnnEltwise } from "./onednn/eltwise.ts";
import { OneDnnBlockCopy } from "./onednn/reorder.ts";
import type { NativeEnv } from "./openmp.ts";
import type { ConvolutionLibrary } from "./convolution_library.ts";
import { PermissionNeeded } from "../../util/permission.ts";

export type { ConvolutionLibrary };

/** im2col + SGEMM on OpenBLAS as a ConvolutionLibrary. */
export function openBlasConvolutions(blas: Blas): ConvolutionLibrary {
  const version = blas.config.trim().split(/\s+/).slice(0, 2).join(" ");
  const core = blas.config.match(/DYNAMIC_ARCH\s+(?:NO_AFFINITY\s+)?(\S+)/)?.[1];
  return {
    name: `${version}${core ? ` ${core}` : ""}`,
    threads: () => blas.threads(),
    forward: (g, x, w, y) => conv2dForward(blas, x, w, g, y),
    backwardData: (g, dy, w, dx) => conv2dBackpropInput(blas, dy, w, g, dx),
    backwardWeights: (g, x, dy, dw) => conv2dBackpropFilter(blas, x, dy, g, dw),
  };
}

export type ConvolutionChoice = "onednn" | "openblas";

export interface OneDnnExtras {
  eltwise: OneDnnEltwise;
  copy: OneDnnBlockCopy;
}

export interface LoadedLibraries {
  /** null: none loadable (the reasons say why) */
  convolutions: ConvolutionLibrary | null;
  /** OpenBLAS also serves the SGEMV reductions; null when absent */
  blas: Blas | null;
  /** oneDNN's elementwise functions and block copies, when oneDNN is the convolution library */
  onednn: OneDnnExtras | null;
  reasons: string[];
}

/**
 * `prefer` (BackendOptions.nativeConv, AST_NATIVE_CONV=onednn|openblas) first, then the other;
 * oneDNN by default. The convolutions run `threads` threads. `nativeEnv`: the user's OpenMP /
 * OpenBLAS settings (BackendOptions.nativeEnv), kept by the loaders.
 */
export function loadConvolutionLibrary(threads: number, prefer?: ConvolutionChoice, nativeEnv: NativeEnv = {}): LoadedLibraries {
  const reasons: string[] = [];
  const { blas, reason } = loadOpenBlas(nativeEnv);
  if (blas) blas.setThreads(threads);
  else reasons.push(reason ?? "OpenBLAS unavailable");
  // (the OpenBLAS thread count is set again below once the convolution library is known)
  const order: ConvolutionChoice[] = prefer === "openblas" ? ["openblas", "onednn"] : ["onednn", "openblas"];
  for (const choice of order) {
    if (choice === "openblas" && blas) return { convolutions: openBlasConvolutions(blas), blas, onednn: null, reasons };
    if (choice === "onednn") {
      try {
        const convolutions = OneDnnConvolutions.load({ threads, nativeEnv });
        // OpenBLAS then only runs the memory-bound SGEMV reductions: one thread, so that its
        // spinning workers do not take the cores oneDNN's threads need.
        blas?.setThreads(1);
        return { convolutions, blas, onednn: { eltwise: OneDnnEltwise.on(convolutions), copy: OneDnnBlockCopy.on(convolutions) }, reasons };
      } catch (err) {
        if (err instanceof PermissionNeeded) throw err; // not "not installed": the caller must stop
        reasons.push(String((err as Error)?.message ?? err).split("\n")[0]);
      }
    }
  }
  return { convolutions: null, blas, onednn: null, reasons };
}
