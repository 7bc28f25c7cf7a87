/**
 * The check an array task makes before it trains (the sbatch script has already checked Deno,
 * the project and the results store): that this node computes as fast as the one the grid was
 * planned on. Without oneDNN/OpenBLAS or a C compiler a node would silently fall back to kernels
 * several times slower and occupy its allocation for days; that is refused here with one line
 * naming what is missing and how to opt out (AST_NATIVE_CONV=0, AST_NATIVE_FUSED=0,
 * AST_BACKEND=cpu say "run without it").
 */
import { type BackendInfo, initBackend } from "../backend/backend.ts";
import type { RuntimeOptions } from "../config/runtime.ts";
import { hostname } from "../experiment/cell_lock.ts";

export class NodeEnvironmentError extends Error {}

/** Initialise the backend and refuse what the user did not choose; the one-line description. */
export async function checkNodeEnvironment(runtime: RuntimeOptions): Promise<string> {
  const b = runtime.backend;
  const info: BackendInfo = await initBackend(b);
  const node = `node ${runtime.slurm?.node ?? hostname()}`;
  const why = info.note ? `: ${info.note}` : "";
  if (info.name === "cpu" && b.prefer !== "cpu") {
    throw new NodeEnvironmentError(`${node}: only the plain JS cpu backend loaded${why} (set AST_BACKEND=cpu to accept it)`);
  }
  if (info.name === "wasm" && b.nativeConv !== "0" && !info.convolutions) {
    throw new NodeEnvironmentError(`${node}: no native convolution library${why}; install libdnnl2 or libopenblas0 on the nodes, or set AST_NATIVE_CONV=0 to run without (several times slower)`);
  }
  if (info.name === "wasm" && b.nativeFused !== false && info.fusedKernels !== "native") {
    throw new NodeEnvironmentError(`${node}: the fused kernels are not native${why}; install a C compiler (gcc) on the nodes or share the native cache (AST_NATIVE_CACHE), or set AST_NATIVE_FUSED=0 to run without`);
  }
  return `${node}: backend ${info.name} x${info.threads}${info.convolutions ? `, convolutions ${info.convolutions}` : ""}${info.fusedKernels ? `, fused kernels ${info.fusedKernels}` : ""}`;
}
