/**
 * OpenMP settings shared by the native libraries that run on libgomp (oneDNN, the fused
 * kernels): read once, when the first of them loads, so they must be set before any dlopen.
 * The user's own values (BackendOptions.nativeEnv, read from the environment at the entry point)
 * are kept; only the missing ones are set, in this process's environment, where libgomp reads them.
 */
import type { BackendOptions } from "../../config/runtime.ts";
import { withPermission } from "../../util/permission.ts";

/** OpenMP / OpenBLAS variables as the user set them. */
export type NativeEnv = NonNullable<BackendOptions["nativeEnv"]>;

/** OMP_NUM_THREADS as set here (the first library to load decides; libgomp reads it once). */
let threadsSetHere: string | undefined;

/**
 * OMP_NUM_THREADS = threads unless the user set it. libgomp's idle threads spin ~300k
 * iterations by default; between primitives the wasm backend's own threads need those cores.
 * Measured on training steps (student h256 / teacher h64): default spin 1.5x slower
 * convolutions; passive 738 / 818-888 ms; GOMP_SPINCOUNT=10000 723-747 / 784-787 ms.
 */
export function prepareOpenMp(threads: number | undefined, user: NativeEnv = {}): void {
  withPermission("--allow-env", "(sets OMP_NUM_THREADS and GOMP_SPINCOUNT for the native libraries)", () => {
    if (threads && !user.OMP_NUM_THREADS && threadsSetHere === undefined) {
      Deno.env.set("OMP_NUM_THREADS", String(threads));
      threadsSetHere = String(threads);
    }
    if (!user.OMP_WAIT_POLICY && !user.GOMP_SPINCOUNT) Deno.env.set("GOMP_SPINCOUNT", "10000");
  });
}

/** OMP_NUM_THREADS as libgomp sees it (the user's, else prepareOpenMp's); 0 when unset. */
export function openMpThreadsSetting(user: NativeEnv = {}): number {
  return Number(user.OMP_NUM_THREADS ?? threadsSetHere ?? 0);
}
