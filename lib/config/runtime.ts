/**
 * Runtime options: everything about *this machine and invocation* that changes where files are
 * found or which kernels run, but never what a run computes (that is the AstConfig). Entry points
 * (lib/cli/, tools/, tests, notebooks) build it once with `runtimeFromEnv()` and pass it down;
 * this is the only module in lib/ that reads environment variables.
 *
 * | variable | field | meaning |
 * |---|---|---|
 * | AST_BACKEND | backend.prefer | tfjs backend: tensorflow-gpu, tensorflow, wasm, cpu, webgpu, auto |
 * | AST_THREADS | backend.threads | compute threads (default: SLURM_CPUS_PER_TASK inside a Slurm job, else all logical cores) |
 * | AST_NATIVE_CONV | backend.nativeConv | wasm convolutions: onednn, openblas, 0 = wasm's own |
 * | AST_NATIVE_FUSED | backend.nativeFused | 0 = no native fused kernels |
 * | AST_NATIVE_CACHE, XDG_CACHE_HOME, HOME | backend.nativeCacheDir | where fused_kernels.c is compiled to |
 * | CC | backend.compiler | C compiler for the fused kernels (default cc) |
 * | TMPDIR | backend.tempDir | where the wasm pthread worker file is written |
 * | OMP_NUM_THREADS, OMP_WAIT_POLICY, GOMP_SPINCOUNT, OPENBLAS_CORETYPE | backend.nativeEnv | the user's own settings for the native libraries (kept; the loaders only fill in what is unset) |
 * | AST_WEIGHTS_DIR | weightsDir | root of the pretrained backbones' weights (else data/weights) |
 * | AST_CACHE_DIR | featureCacheDir | image-feature cache root (`<dir>/features`; else data/cache/features) |
 * | AST_SCALE | scale | experiment scale notebooks run at: demo, cpu, paper |
 * | AST_RESULTS | resultsDir | the results store grids and notebooks read and write (else the project's results/; a cluster's shared folder) |
 * | SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID, SLURM_JOB_ID, SLURMD_NODENAME, SLURM_CPUS_PER_TASK | slurm | set by Slurm in a job: recorded in cell locks, and the thread count |
 * | AST_MVTEC_AD, AST_MVTEC3D | datasets | full MVTec AD / 3D-AD roots |
 * | AST_DEBUG | debug | print stack traces of errors |
 * | CI | ci | set (not "false"/"0") by CI services: plain progress lines even on a terminal |
 * | AST_FAILPOINT | failpoints | fault-injection tests only: names of lib/util/failpoint.ts places where the process dies |
 */
import { join, resolve } from "node:path";
import { isPermissionRefusal, PermissionNeeded } from "../util/permission.ts";

/** Settings of the tfjs backend and its native kernels (lib/backend/). */
export interface BackendOptions {
  /** a backend name, or "auto"/undefined for the automatic order */
  prefer?: string;
  /** compute threads; undefined = all logical cores; a non-integer string is reported and ignored */
  threads?: number | string;
  /** "onednn" | "openblas" | "0"; anything else is reported and ignored */
  nativeConv?: string;
  /** false: the fused kernels run as JS loops / composed ops, never compiled */
  nativeFused?: boolean;
  /** folder the compiled fused-kernel library is cached in (undefined: the project's data/cache/native) */
  nativeCacheDir?: string;
  /** C compiler command for the fused kernels */
  compiler?: string;
  /** folder for the wasm pthread worker file */
  tempDir?: string;
  /** OpenMP / OpenBLAS variables as the user set them (the native loaders set the missing ones) */
  nativeEnv?: Partial<Record<NativeEnvName, string>>;
}

export const NATIVE_ENV_NAMES = ["OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OPENBLAS_CORETYPE"] as const;
export type NativeEnvName = typeof NATIVE_ENV_NAMES[number];

export interface RuntimeOptions {
  backend: BackendOptions;
  /** root of the pretrained weights; undefined = the project's data/weights */
  weightsDir?: string;
  /** image-feature cache folder (already `<root>/features`); undefined = the project's data/cache/features */
  featureCacheDir?: string;
  /** experiment scale for notebooks (validated where it is used) */
  scale?: string;
  /** the results store (absolute); undefined = the project's results/ */
  resultsDir?: string;
  /** inside a Slurm job: its ids, as cell locks and the status view name them */
  slurm?: SlurmJob;
  /** roots of the full datasets, when the user has them */
  datasets: { mvtecAd?: string; mvtec3d?: string };
  debug: boolean;
  /** running under CI (env CI): progress as plain lines, never updated in place */
  ci?: boolean;
  /** fault-injection tests: failpoints to arm (lib/util/failpoint.ts) */
  failpoints?: string[];
}

/** The Slurm job this process runs in (lib/experiment/slurm/). */
export interface SlurmJob {
  /** "<array job>_<task>" for an array task, else the job id */
  job: string;
  node?: string;
  cpusPerTask?: number;
}

/** No environment: every default. Library functions use it when no runtime is passed. */
export const DEFAULT_RUNTIME: RuntimeOptions = Object.freeze({ backend: {}, datasets: {}, debug: false }) as RuntimeOptions;

/** The variables runtimeFromEnv reads, for the message when it may not (the table above). */
const READ_NAMES = "AST_BACKEND, AST_THREADS, AST_NATIVE_*, HOME, XDG_CACHE_HOME, TMPDIR, CC, OMP_NUM_THREADS, AST_WEIGHTS_DIR, AST_CACHE_DIR, ...";

/**
 * A variable, or undefined when unset or empty. Entry points only. Without --allow-env it throws
 * PermissionNeeded: guessing "unset" would silently pick the defaults (cpu instead of the
 * backend asked for, no native cache, /tmp instead of $TMPDIR).
 */
export function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch (err) {
    if (isPermissionRefusal(err)) throw new PermissionNeeded("--allow-env", `(reads ${READ_NAMES})`);
    throw err;
  }
}

/** The folder the fused kernels are compiled into: $AST_NATIVE_CACHE, else XDG / home cache. */
function nativeCacheDir(get: (name: string) => string | undefined): string | undefined {
  const explicit = get("AST_NATIVE_CACHE");
  if (explicit) return explicit;
  const xdg = get("XDG_CACHE_HOME"), home = get("HOME");
  if (xdg) return `${xdg}/ast-lab/native`;
  if (home) return `${home}/.cache/ast-lab/native`;
  return undefined;
}

/** Reads every variable in the table above, once. `get` replaces the environment (tests). */
export function runtimeFromEnv(get: (name: string) => string | undefined = envVar): RuntimeOptions {
  const nativeEnv: Partial<Record<NativeEnvName, string>> = {};
  for (const name of NATIVE_ENV_NAMES) {
    const v = get(name);
    if (v) nativeEnv[name] = v;
  }
  // Inside a Slurm allocation the task's CPUs, not the node's, unless AST_THREADS says otherwise.
  const threads = get("AST_THREADS") ?? get("SLURM_CPUS_PER_TASK");
  const results = get("AST_RESULTS");
  const arrayJob = get("SLURM_ARRAY_JOB_ID"), arrayTask = get("SLURM_ARRAY_TASK_ID"), jobId = get("SLURM_JOB_ID");
  const slurmJob = arrayJob && arrayTask ? `${arrayJob}_${arrayTask}` : jobId;
  const cpusPerTask = Number(get("SLURM_CPUS_PER_TASK"));
  const cacheRoot = get("AST_CACHE_DIR");
  const weights = get("AST_WEIGHTS_DIR");
  return {
    backend: {
      ...(get("AST_BACKEND") ? { prefer: get("AST_BACKEND") } : {}),
      ...(threads !== undefined ? { threads: /^\d+$/.test(threads) ? Number(threads) : threads } : {}),
      ...(get("AST_NATIVE_CONV") !== undefined ? { nativeConv: get("AST_NATIVE_CONV") } : {}),
      ...(get("AST_NATIVE_FUSED") === "0" ? { nativeFused: false } : {}),
      ...(nativeCacheDir(get) ? { nativeCacheDir: nativeCacheDir(get) } : {}),
      ...(get("CC") ? { compiler: get("CC") } : {}),
      ...(get("TMPDIR") ? { tempDir: get("TMPDIR") } : {}),
      nativeEnv,
    },
    ...(weights ? { weightsDir: resolve(weights) } : {}),
    ...(cacheRoot ? { featureCacheDir: resolve(join(cacheRoot, "features")) } : {}),
    ...(get("AST_SCALE") ? { scale: get("AST_SCALE") } : {}),
    ...(results ? { resultsDir: resolve(results) } : {}),
    ...(slurmJob
      ? { slurm: { job: slurmJob, ...(get("SLURMD_NODENAME") ? { node: get("SLURMD_NODENAME") } : {}), ...(cpusPerTask > 0 ? { cpusPerTask } : {}) } }
      : {}),
    datasets: {
      ...(get("AST_MVTEC_AD") ? { mvtecAd: get("AST_MVTEC_AD") } : {}),
      ...(get("AST_MVTEC3D") ? { mvtec3d: get("AST_MVTEC3D") } : {}),
    },
    debug: !!get("AST_DEBUG"),
    ...(isCi(get("CI")) ? { ci: true } : {}),
    ...(get("AST_FAILPOINT") ? { failpoints: get("AST_FAILPOINT")!.split(",").map((n) => n.trim()).filter(Boolean) } : {}),
  };
}

/** CI services set CI=true (GitHub, GitLab, ...); "false" or "0" mean not CI. */
function isCi(value: string | undefined): boolean {
  return !!value && value !== "false" && value !== "0";
}
