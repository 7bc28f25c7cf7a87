/**
 * OpenBLAS through Deno FFI: single-precision GEMM on Float32Arrays (row-major), plus its
 * thread-count control. Debian's libopenblas0-pthread (see install.sh). `loadOpenBlas()`
 * returns null, with the reason, when the library is absent: callers fall back to the plain JS
 * kernels. Without --allow-ffi (or --allow-env for OPENBLAS_CORETYPE) it throws PermissionNeeded.
 */
import type { NativeEnv } from "./openmp.ts";
import { isPermissionRefusal, PermissionNeeded } from "../../util/permission.ts";
import { cpuFlags } from "./cpu_flags.ts";

const CANDIDATES = [
  "libopenblas.so.0",
  "libopenblas.so",
  "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
];

const SYMBOLS = {
  // void cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
  cblas_sgemm: {
    parameters: ["i32", "i32", "i32", "i32", "i32", "i32", "f32", "buffer", "i32", "buffer", "i32", "f32", "buffer", "i32"],
    result: "void",
  },
  // void cblas_sgemv(order, trans, M, N, alpha, A, lda, x, incx, beta, y, incy)
  cblas_sgemv: {
    parameters: ["i32", "i32", "i32", "i32", "f32", "buffer", "i32", "buffer", "i32", "f32", "buffer", "i32"],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_get_config: { parameters: [], result: "pointer" },
} as const;

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

export interface Blas {
  /** where it was loaded from and how it was built (OpenBLAS' own config string) */
  readonly library: string;
  readonly config: string;
  threads(): number;
  setThreads(n: number): void;
  /**
   * C[M,N] = alpha * op(A) @ op(B) + beta * C, row-major; op(A) is [M,K] (A stored [K,M] when
   * transA), op(B) is [K,N] (B stored [N,K] when transB). Leading dimensions default to packed.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: Float32Array,
    b: Float32Array,
    beta: number,
    c: Float32Array,
    ld?: { a?: number; b?: number; c?: number },
  ): void;
  /** y[M] = alpha * A[M,N] @ x[N] (or y[N] = alpha * A^T @ x[M] when trans), A row-major packed. */
  sgemv(trans: boolean, m: number, n: number, a: Float32Array, x: Float32Array, y: Float32Array, alpha?: number): void;
}

let cached: { blas: Blas | null; reason?: string } | null = null;

/**
 * OpenBLAS' DYNAMIC_ARCH picks its kernels from the CPU model; on virtual CPUs reporting a
 * generic model ("Intel Xeon Processor") 0.3.21 falls back to Prescott (SSE3) kernels, ~5x slower
 * than its AVX-512 ones (measured: 27 vs 135 GFLOP/s). Choose from the CPU flags instead, unless
 * the user set OPENBLAS_CORETYPE. Must happen before dlopen (the library reads it at load), so
 * it is set in this process's environment.
 */
export function coreTypeFromFlags(flags: Set<string>): string | null {
  if (["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].every((f) => flags.has(f))) return "SkylakeX";
  if (flags.has("avx2") && flags.has("fma")) return "Haswell";
  return null;
}

function chooseCoreType(user: NativeEnv): void {
  if (user.OPENBLAS_CORETYPE) return;
  const core = coreTypeFromFlags(cpuFlags()); // null when unknown: the library's own detection
  try {
    if (core) Deno.env.set("OPENBLAS_CORETYPE", core);
  } catch (err) {
    if (isPermissionRefusal(err)) throw new PermissionNeeded("--allow-env", "(sets OPENBLAS_CORETYPE before loading OpenBLAS)");
    throw err;
  }
}

/**
 * The library, loaded once; null and a reason when unavailable. `nativeEnv`: the user's
 * OPENBLAS_CORETYPE, kept when set (BackendOptions.nativeEnv).
 */
export function loadOpenBlas(nativeEnv: NativeEnv = {}): { blas: Blas | null; reason?: string } {
  if (cached) return cached;
  const errors: string[] = [];
  chooseCoreType(nativeEnv);
  for (const path of CANDIDATES) {
    try {
      const lib = Deno.dlopen(path, SYMBOLS);
      cached = { blas: wrap(lib, path) };
      return cached;
    } catch (err) {
      // Missing permission is the same for every candidate, and an error, not "not installed".
      if (isPermissionRefusal(err)) throw new PermissionNeeded("--allow-ffi", "to load the native libraries (OpenBLAS, oneDNN, the fused kernels)");
      errors.push(`${path}: ${String((err as Error)?.message ?? err).split("\n")[0]}`);
    }
  }
  cached = { blas: null, reason: `OpenBLAS not loadable (${errors[errors.length - 1] ?? "no candidates"}); run lib/backend/native/install.sh` };
  return cached;
}

function wrap(lib: Deno.DynamicLibrary<typeof SYMBOLS>, path: string): Blas {
  const s = lib.symbols;
  const cfgPtr = s.openblas_get_config();
  const config = cfgPtr ? new Deno.UnsafePointerView(cfgPtr).getCString() : "";
  return {
    library: path,
    config,
    threads: () => s.openblas_get_num_threads(),
    setThreads: (n) => s.openblas_set_num_threads(n),
    sgemm(transA, transB, m, n, k, alpha, a, b, beta, c, ld = {}) {
      const lda = ld.a ?? (transA ? m : k);
      const ldb = ld.b ?? (transB ? k : n);
      const ldc = ld.c ?? n;
      // Bounds checks: a bad size would make the library read or write outside the arrays.
      const need = (rows: number, cols: number, l: number) => (rows - 1) * l + cols;
      if (m === 0 || n === 0) return;
      if (a.length < need(transA ? k : m, transA ? m : k, lda)) throw new RangeError("sgemm: A too small");
      if (b.length < need(transB ? n : k, transB ? k : n, ldb)) throw new RangeError("sgemm: B too small");
      if (c.length < need(m, n, ldc)) throw new RangeError("sgemm: C too small");
      s.cblas_sgemm(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    },
    sgemv(trans, m, n, a, x, y, alpha = 1) {
      if (m === 0 || n === 0) return;
      if (a.length < m * n) throw new RangeError("sgemv: A too small");
      if (x.length < (trans ? m : n)) throw new RangeError("sgemv: x too small");
      if (y.length < (trans ? n : m)) throw new RangeError("sgemv: y too small");
      s.cblas_sgemv(ROW_MAJOR, trans ? TRANS : NO_TRANS, m, n, alpha, a, n, x, 1, 0, y, 1);
    },
  };
}
