/**
 * The native convolution libraries the wasm backend's conv kernels can run on (kernels.ts):
 * oneDNN (onednn.ts, preferred) or OpenBLAS im2col + SGEMM (conv.ts), chosen by
 * `loadConvolutionLibrary`. Buffers are tfjs-layout Float32Arrays (NHWC, HWIO); outputs are
 * overwritten entirely.
 */
import type { Blas } from "./openblas.ts";
import { loadOpenBlas } from "./openblas.ts";
import { type ConvGeometry, conv2dBackpropFilter, conv2dBackpropInput, conv2dForward } from "./conv.ts";
import { OneDnnBlockCopy, OneDnnConvolutions, OneDnnEltwise } from "./onednn.ts";

export interface ConvolutionLibrary {
  /** e.g. "oneDNN 2.6.3", "OpenBLAS 0.3.21 SkylakeX" */
  readonly name: string;
  threads(): number;
  forward(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array): void;
  /** y = conv(x, w) + bias in one pass, where the library can (saves a full pass over y) */
  forwardBias?(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array, y: Float32Array): void;
  backwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  /** depthwise forward (filter [kh, kw, C, multiplier]; g computed with depthwise = true), bias optional */
  depthwiseForward?(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array, bias?: Float32Array): void;
  backwardWeights(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
}

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
 * `prefer` (or env AST_NATIVE_CONV=onednn|openblas) first, then the other; oneDNN by default.
 * The convolutions run `threads` threads.
 */
export function loadConvolutionLibrary(threads: number, prefer?: ConvolutionChoice): LoadedLibraries {
  const reasons: string[] = [];
  const { blas, reason } = loadOpenBlas();
  if (blas) blas.setThreads(threads);
  else reasons.push(reason ?? "OpenBLAS unavailable");
  // (the OpenBLAS thread count is set again below once the convolution library is known)
  const order: ConvolutionChoice[] = prefer === "openblas" ? ["openblas", "onednn"] : ["onednn", "openblas"];
  for (const choice of order) {
    if (choice === "openblas" && blas) return { convolutions: openBlasConvolutions(blas), blas, onednn: null, reasons };
    if (choice === "onednn") {
      try {
        const convolutions = OneDnnConvolutions.load({ threads });
        // OpenBLAS then only runs the memory-bound SGEMV reductions: one thread, so that its
        // spinning workers do not take the cores oneDNN's threads need.
        blas?.setThreads(1);
        return { convolutions, blas, onednn: { eltwise: OneDnnEltwise.on(convolutions), copy: OneDnnBlockCopy.on(convolutions) }, reasons };
      } catch (err) {
        reasons.push(String((err as Error)?.message ?? err).split("\n")[0]);
      }
    }
  }
  return { convolutions: null, blas, onednn: null, reasons };
}
