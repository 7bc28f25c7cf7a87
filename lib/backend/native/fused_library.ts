/**
 * The fused kernels' native implementation: fused_kernels.c, compiled on first use with the
 * system C compiler (BackendOptions.compiler = `$CC`, else `cc`) for this CPU (-O3
 * -march=native, OpenMP, glibc's vector math) into a cache directory, then loaded through Deno
 * FFI. Like PyTorch's C++ extensions built at load time: no binary in the repository, and one
 * compile (~1 s) per source version and machine. Without a compiler (or with nativeFused false,
 * AST_NATIVE_FUSED=0) `loadFusedLibrary` says why and the wasm backend keeps the composed ops.
 *
 * Cache: BackendOptions.nativeCacheDir ($AST_NATIVE_CACHE, else $XDG_CACHE_HOME/ast-lab/native,
 * else ~/.cache/ast-lab/native; lib/config/runtime.ts), else (no runtime options: a library
 * caller, a test) the project's data/cache/native, so a process never recompiles a library an
 * earlier one built. A folder that cannot be made (read-only home) gives way to the per-user
 * `<tempDir>/ast-lab-<uid>/native`, reused by later processes. The file name carries a hash of
 * the source, the flags and the CPU's flags. Written to a temporary name and renamed: concurrent
 * first runs do not see a half-written library.
 *
 * Code is loaded from private folders only (issue 14): the cache folder must be ours and not
 * writable by group/others (lib/util/private_dir.ts; else a one-line refusal). Each build records
 * the library's SHA-256 in `<name>.so.sha256`; before dlopen (which runs the file's constructors)
 * the bytes must be a regular file of ours whose SHA-256 matches it, else the file is removed
 * and rebuilt, and a line says so. The folder being private, the sidecar is trustworthy.
 *
 * No -ffast-math: linked into a shared library it would switch the whole process to
 * flush-to-zero; the flags below allow the vector math without that.
 */
import type { BackendOptions } from "../../config/runtime.ts";
import type { FusedMath } from "../js/fused_math.ts";
import { prepareOpenMp } from "./openmp.ts";
import { cpuFlags } from "./cpu_flags.ts";
import { projectPath } from "../../util/project.ts";
import { join } from "node:path";
import { PermissionNeeded, withPermission } from "../../util/permission.ts";
import { currentUid, defaultTempDir, ensurePrivateDir, UnsafeFolderError, userTempDir } from "../../util/private_dir.ts";
import { tempSibling } from "../../util/fs.ts";
import { sha256Hex } from "../../util/sha256.ts";

const SOURCE = new URL("./fused_kernels.c", import.meta.url);
const SOURCE_PATH = decodeURIComponent(SOURCE.pathname); // a file path (spaces etc. decoded)
const FLAGS = ["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-fopenmp", "-fPIC", "-shared"];

const I = "i64" as const, B = "buffer" as const, F = "f32" as const, D = "f64" as const, V = "void" as const;
const SYMBOLS = {
  ast_fused_version: { parameters: [], result: "i32" },
  ast_coupling_forward: { parameters: [I, I, B, B, I, I, F, B, I, B], result: V },
  ast_coupling_backward: { parameters: [I, I, B, B, I, I, F, B, I, B, B, B, I, I], result: V },
  ast_gather_channels: { parameters: [I, I, B, I, I, B, B, I, I], result: V },
  ast_scatter_channels: { parameters: [I, I, B, I, I, B, B, I], result: V },
  ast_copy_clip: { parameters: [I, I, B, I, I, B, I, I, F, F, B, I, I], result: V },
  ast_channel_moments: { parameters: [I, I, B, B, B], result: "i32" },
  ast_bn_leaky_forward: { parameters: [I, I, B, B, B, B, B, F, B], result: V },
  ast_bn_leaky_backward: { parameters: [I, I, B, B, B, B, B, B, F, B, B, B], result: "i32" },
  ast_swish: { parameters: [I, B, B], result: V },
  ast_swish_means: { parameters: [I, I, I, B, B, B], result: "i32" },
  ast_swish_bf16: { parameters: [I, B, B], result: V },
  ast_swish_means_bf16: { parameters: [I, I, I, B, B, B], result: "i32" },
  ast_activation_inplace: { parameters: [I, B, "i32", F], result: V },
  ast_replicate_pad: { parameters: [I, I, I, I, I, B, B], result: V },
  ast_replicate_pad_grad: { parameters: [I, I, I, I, I, B, B], result: V },
  ast_adam_step: { parameters: [I, B, B, B, B, B, B, B, D, D, D, D, D, D], result: V },
} as const;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** FNV-1a, 32 bit: a stable file name for a (source, flags, CPU) combination. */
function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** The settings the library's build and load take from BackendOptions. */
export type FusedLibraryOptions = Pick<BackendOptions, "nativeFused" | "nativeCacheDir" | "compiler" | "nativeEnv" | "tempDir">;

const CACHE_WHAT = "native kernel cache";

/**
 * The private cache folder (created 0700 when missing). One that cannot be made gives way to
 * the per-user temporary one (`fellBack` says why); an unsafe one is refused (UnsafeFolderError).
 */
function cacheDir(opts: FusedLibraryOptions): { dir: string; fellBack?: string } {
  const dir = opts.nativeCacheDir ?? projectPath("data", "cache", "native");
  try {
    return { dir: ensurePrivateDir(dir, { what: CACHE_WHAT, fix: "or set AST_NATIVE_CACHE to a folder only you can write" }) };
  } catch (err) {
    if (err instanceof UnsafeFolderError || err instanceof PermissionNeeded) throw err;
    // an OS refusal (read-only home, a file in the way): the per-user temporary folder
    const temp = userTempDir(opts.tempDir ?? defaultTempDir(), "native", CACHE_WHAT);
    return { dir: temp, fellBack: `${dir} unusable (${String((err as Error)?.message ?? err).split("\n")[0]}), using ${temp}` };
  }
}


/** What is wrong with the library at `path` (null: it may be loaded). Reads exactly the bytes checked. */
export function libraryProblem(path: string): string | null {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "missing";
    throw err;
  }
  if (info.isSymlink) return "is a symbolic link";
  if (!info.isFile) return "is not a regular file";
  const uid = currentUid(`checks who owns ${path} before loading it`);
  if (uid !== null && info.uid !== uid) return `is owned by uid ${info.uid}, not by you (uid ${uid})`;
  let recorded: string;
  try {
    recorded = Deno.readTextFileSync(`${path}.sha256`).trim();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "has no recorded SHA-256 (no .sha256 beside it)";
    throw err;
  }
  return sha256Hex(Deno.readFileSync(path)) === recorded ? null : "does not match its recorded SHA-256";
}

function removeLibrary(path: string): void {
  for (const p of [path, `${path}.sha256`]) {
    try {
      Deno.removeSync(p);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }
}

class NoCompiler extends Error {}

function compileTo(path: string, compiler: string): string {
  const tmp = tempSibling(path);
  let out: Deno.CommandOutput;
  try {
    out = withPermission(`--allow-run=${compiler}`, `to compile the fused kernels (${SOURCE_PATH}) on first use`, () =>
      new Deno.Command(compiler, { args: [...FLAGS, "-o", tmp, SOURCE_PATH, "-lm"], stdout: "piped", stderr: "piped" }).outputSync());
  } catch (err) {
    if (err instanceof PermissionNeeded) throw err;
    throw new NoCompiler(`no C compiler (${compiler}: ${(err as Error).message.split("\n")[0]}); apt-get install gcc`);
  }
  if (!out.success) {
    try {
      Deno.removeSync(tmp);
    } catch { /* nothing written */ }
    const msg = new TextDecoder().decode(out.stderr).trim().split("\n").slice(0, 3).join(" | ");
    throw new Error(`compiling ${SOURCE_PATH} failed: ${msg}`);
  }
  Deno.renameSync(tmp, path);
  // the sidecar after the rename: a library without one is never loaded
  const sidecar = `${path}.sha256`;
  const sidecarTmp = tempSibling(sidecar);
  Deno.writeTextFileSync(sidecarTmp, `${sha256Hex(Deno.readFileSync(path))}\n`);
  Deno.renameSync(sidecarTmp, sidecar);
  return path;
}

/** The cached library's file name: a hash of the source, the compiler, the flags and the CPU's flags. */
export function fusedLibraryName(compiler = "cc"): string {
  const source = Deno.readTextFileSync(SOURCE);
  return `libast_fused-${fnv1a([source, compiler, ...FLAGS, `flags\t\t: ${[...cpuFlags()].join(" ")}`].join("\n"))}.so`;
}

/** A built library ready to load, and what happened on the way (a fallback folder, a rebuild). */
export interface BuiltLibrary {
  path: string;
  notes: string[];
}

/**
 * Compiles the source unless a verified build is cached; returns the library's path, checked
 * (libraryProblem) just before returning. A cached file that fails the check is removed and
 * rebuilt, with a note (also printed: nothing from it was loaded).
 */
export function buildFusedLibrary(opts: FusedLibraryOptions = {}): BuiltLibrary {
  const compiler = opts.compiler || "cc";
  const name = fusedLibraryName(compiler);
  const { dir, fellBack } = cacheDir(opts);
  const notes = fellBack ? [`native kernel cache ${fellBack}`] : [];
  const path = join(dir, name);
  const why = `for the ${CACHE_WHAT} ${dir}`;
  return withPermission(`--allow-write=${dir}`, why, () => {
    const problem = libraryProblem(path);
    if (problem === null) return { path, notes };
    if (problem !== "missing") {
      const line = `${path} ${problem}: not loaded; removed and rebuilt`;
      console.warn(`ast-lab: ${line}`);
      notes.push(line);
      removeLibrary(path);
    }
    compileTo(path, compiler);
    const after = libraryProblem(path); // e.g. a concurrent build replaced it between rename and sidecar
    if (after !== null) throw new Error(`${path} ${after} right after building it`);
    return { path, notes };
  });
}

let loaded: { math: FusedMath | null; reason?: string; notes?: string[] } | null = null;

/**
 * The native FusedMath (built and loaded once per process); null and a reason when unavailable
 * (no compiler, nativeFused false). A missing permission (PermissionNeeded) or an unsafe cache
 * folder (UnsafeFolderError) is thrown: the caller must not quietly carry on without them.
 * `opts`: the backend's options (default: build with `cc` into the project's data/cache/native).
 */
export function loadFusedLibrary(threads: number, opts: FusedLibraryOptions = {}): { math: FusedMath | null; reason?: string; notes?: string[] } {
  if (loaded) return loaded;
  if (opts.nativeFused === false) return (loaded = { math: null, reason: "AST_NATIVE_FUSED=0" });
  try {
    prepareOpenMp(threads, opts.nativeEnv);
    let built = buildFusedLibrary(opts);
    const open = (path: string) => withPermission("--allow-ffi", `to load the fused kernels (${path})`, () => Deno.dlopen(path, SYMBOLS).symbols);
    let s: Symbols;
    try {
      s = open(built.path);
    } catch (err) {
      if (err instanceof PermissionNeeded) throw err;
      // verified but not loadable (e.g. a build cut short by a full disk): build once more
      removeLibrary(built.path);
      built = { ...buildFusedLibrary(opts), notes: [...built.notes, `${built.path} did not load: rebuilt`] };
      s = open(built.path);
    }
    if (s.ast_fused_version() !== 1) throw new Error(`${built.path}: unexpected version`);
    loaded = { math: wrap(s), ...(built.notes.length ? { notes: built.notes } : {}) };
  } catch (err) {
    if (err instanceof PermissionNeeded || err instanceof UnsafeFolderError) throw err;
    loaded = { math: null, reason: `fused kernels unavailable: ${String((err as Error)?.message ?? err).split("\n")[0]}` };
  }
  return loaded;
}

function check(status: number, what: string): void {
  if (status !== 0) throw new Error(`${what}: out of memory`);
}

function wrap(s: Symbols): FusedMath {
  // FFI i64 parameters take bigints
  const b = BigInt;
  return {
    name: "native",
    couplingForward: (P, n, o, x, xs, xo, k, y, ys, ls) => s.ast_coupling_forward(b(P), b(n), o, x, b(xs), b(xo), k, y, b(ys), ls),
    couplingBackward: (P, n, o, x, xs, xo, k, dy, dys, dls, dout, dx, dxs, dxo) =>
      s.ast_coupling_backward(b(P), b(n), o, x, b(xs), b(xo), k, dy, b(dys), dls, dout, dx, b(dxs), b(dxo)),
    gatherChannels: (P, n, src, ss, so, idx, out, os, oo) => s.ast_gather_channels(b(P), b(n), src, b(ss), b(so), idx, out, b(os), b(oo)),
    scatterChannels: (P, n, src, ss, so, idx, dst, ds) => s.ast_scatter_channels(b(P), b(n), src, b(ss), b(so), idx, dst, b(ds)),
    copyClip: (P, n, src, ss, so, dy, dys, dyo, lo, hi, out, os, oo) =>
      s.ast_copy_clip(b(P), b(n), src, b(ss), b(so), dy, b(dys), b(dyo), lo, hi, out, b(os), b(oo)),
    channelMoments: (P, C, x, mean, variance) => check(s.ast_channel_moments(b(P), b(C), x, mean, variance), "channel moments"),
    bnLeakyForward: (P, C, x, mean, invstd, w, bias, slope, y) => s.ast_bn_leaky_forward(b(P), b(C), x, mean, invstd, w, bias, slope, y),
    bnLeakyBackward: (P, C, x, y, dy, mean, invstd, w, slope, dx, dw, db) =>
      check(s.ast_bn_leaky_backward(b(P), b(C), x, y, dy, mean, invstd, w, slope, dx, dw, db), "BatchNorm gradient"),
    swish: (x, y) => s.ast_swish(b(x.length), x, y),
    swishMeans: (B, P, C, x, y, means) => check(s.ast_swish_means(b(B), b(P), b(C), x, y, means), "swish means"),
    swishBf16: (x, y16) => s.ast_swish_bf16(b(x.length), x, y16),
    swishMeansBf16: (B, P, C, x, y16, means) => check(s.ast_swish_means_bf16(b(B), b(P), b(C), x, y16, means), "swish means (bf16)"),
    activationInPlace: (y, kind, alpha) => s.ast_activation_inplace(b(y.length), y, kind === "relu" ? 0 : kind === "relu6" ? 1 : 2, alpha),
    replicatePad: ([n, h, w, c], pad, x, out) => s.ast_replicate_pad(b(n), b(h), b(w), b(c), b(pad), x, out),
    replicatePadGrad: ([n, h, w, c], pad, dy, dx) => s.ast_replicate_pad_grad(b(n), b(h), b(w), b(c), b(pad), dy, dx),
    adamStep: (p, g, m, v, op, om, ov, a) =>
      s.ast_adam_step(b(p.length), p, g, m, v, op, om, ov, a.stepSize, a.bc2Sqrt, a.beta1, a.beta2, a.eps, a.weightDecay),
  };
}
