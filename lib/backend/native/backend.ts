/**
 * Turns on the OpenBLAS convolutions for the wasm backend (kernels.ts) when the library loads.
 * Used by lib/backend/backend.ts unless AST_NATIVE_CONV=0; when OpenBLAS is absent it reports
 * why and the wasm backend keeps its own (XNNPACK) convolutions.
 */
import { loadOpenBlas } from "./openblas.ts";
import { useNativeConvolutions } from "./kernels.ts";

export type NativeInit = { ok: true; threads: number; library: string } | { ok: false; reason: string };

export function enableNativeConvolutions(threads: number): NativeInit {
  const { blas, reason } = loadOpenBlas();
  if (!blas) return { ok: false, reason: reason ?? "OpenBLAS unavailable" };
  blas.setThreads(threads);
  useNativeConvolutions(blas);
  const version = blas.config.trim().split(/\s+/).slice(0, 2).join(" ");
  const core = blas.config.match(/DYNAMIC_ARCH\s+(?:NO_AFFINITY\s+)?(\S+)/)?.[1];
  return { ok: true, threads: blas.threads(), library: `${version}${core ? ` ${core}` : ""}` };
}
