/**
 * OpenMP settings shared by the native libraries that run on libgomp (oneDNN, the fused
 * kernels): read once, when the first of them loads, so they must be set before any dlopen.
 */

/**
 * OMP_NUM_THREADS = threads unless the user set it. libgomp's idle threads spin ~300k
 * iterations by default; between primitives the wasm backend's own threads need those cores.
 * Measured on training steps (student h256 / teacher h64): default spin 1.5x slower
 * convolutions; passive 738 / 818-888 ms; GOMP_SPINCOUNT=10000 723-747 / 784-787 ms.
 */
export function prepareOpenMp(threads?: number): void {
  if (threads && !Deno.env.get("OMP_NUM_THREADS")) Deno.env.set("OMP_NUM_THREADS", String(threads));
  if (!Deno.env.get("OMP_WAIT_POLICY") && !Deno.env.get("GOMP_SPINCOUNT")) Deno.env.set("GOMP_SPINCOUNT", "10000");
}
