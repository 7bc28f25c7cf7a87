/**
 * Multithreaded wasm (the threaded SIMD XNNPACK build) under Deno.
 *
 * tfjs never enables it in Node-like runtimes, and forcing it fails: the pthread worker comes
 * from a blob URL (Deno's worker_threads rejects it: ERR_WORKER_PATH) and the worker script
 * assigns `location`, which is read-only in Deno's worker global. Also the C++ side caps the
 * pool at logical cores / 2 (1 on a 2-core machine). The route here:
 *   1. write the worker script to a real file, minus the `location` assignment, in the per-user
 *      private folder `<tempDir>/ast-lab-<uid>/tfjs-wasm-<version>` (mode 0700, checked by
 *      lib/util/private_dir.ts: nobody else can plant or swap the file; issue 14), and re-read
 *      it just before handing its path to emscripten;
 *   2. instantiate the emscripten factory ourselves with that file and the package's own main
 *      script/`.wasm` paths, while `os.cpus()` reports 2 x the wanted thread count, so the
 *      C++ cap equals what we ask for;
 *   3. hand the module to tfjs's BackendWasm, then `unref()` the pool workers so a finished
 *      Deno program (or `deno test`) still exits.
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfwasm from "@tensorflow/tfjs-backend-wasm";
// The emscripten factory of the threaded build and the worker source (CommonJS modules).
// @ts-types="./out_types.d.ts"
import threadedFactoryModule from "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js";
// @ts-types="./out_types.d.ts"
import workerSourceModule from "@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PermissionNeeded, withPermission } from "../../util/permission.ts";
import { defaultTempDir, userTempDir } from "../../util/private_dir.ts";
import { tempSibling } from "../../util/fs.ts";

/** tfjs's C++ side pre-creates 8 pthread workers and never uses more. */
export const MAX_WASM_THREADS = 8;
const INIT_TIMEOUT_MS = 30_000;

// deno-lint-ignore no-explicit-any
type EmscriptenModule = any;
type EmscriptenFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

function permitted(desc: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

function packageFile(subpath: string): string {
  return fileURLToPath(import.meta.resolve(`@tensorflow/tfjs-backend-wasm/${subpath}`));
}

function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/** The worker script as tfjs would put it in its blob, minus the read-only `location` write. */
function patchedWorkerSource(): string {
  const raw: string = (workerSourceModule as { wasmWorkerContents: string }).wasmWorkerContents;
  // tfjs escapes newlines before making the blob: the template literal turned "\n" into real ones.
  const escaped = raw.replace(/\n/g, "\\n");
  const patched = escaped.replace("location:{href:__filename},", "");
  if (patched === escaped) throw new Error("worker script layout changed (no `location` assignment found)");
  return patched;
}

/** The private folder the worker file is written to (created when missing). */
export function workerDir(tempDir: string): string {
  return userTempDir(tempDir, `tfjs-wasm-${tfwasm.version_wasm}`, "wasm worker folder");
}

/**
 * Writes the worker file into the private `workerDir(tempDir)` unless it is there with the
 * expected content; then reads it back and compares once more (what emscripten will load);
 * returns its path. `log` hears when a file with other content was replaced.
 */
export function writeWorkerFile(tempDir: string, log: (line: string) => void = console.warn): string {
  const source = patchedWorkerSource();
  const dir = workerDir(tempDir);
  return withPermission(`--allow-write=${dir}`, "for the wasm worker file (TMPDIR moves it)", () => {
    const path = join(dir, `pthread-worker-${fnv1a(source)}.cjs`);
    const current = readIfThere(path);
    if (current !== source) {
      if (current !== null) log(`ast-lab: ${path} differs from the expected worker script: replaced`);
      const tmp = tempSibling(path);
      Deno.writeTextFileSync(tmp, source, { mode: 0o600 });
      Deno.renameSync(tmp, path); // atomic: concurrent processes never see a half file
    }
    if (readIfThere(path) !== source) throw new Error(`${path} changed while being written; not loading it`);
    return path;
  });
}

function readIfThere(path: string): string | null {
  try {
    const info = Deno.lstatSync(path);
    if (!info.isFile) Deno.removeSync(path, { recursive: true }); // a symlink or folder in the way
    else return Deno.readTextFileSync(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return null;
}

/** Runs `fn` while os.cpus() reports `count` CPUs (read by the wasm module's C++ constructors). */
async function withReportedCpuCount<T>(count: number, fn: () => Promise<T>): Promise<T> {
  const osObject = os as unknown as { cpus: () => unknown[] };
  const realCpus = osObject.cpus;
  const fake = { model: "reported for tfjs-wasm thread cap", speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } };
  osObject.cpus = () => Array.from({ length: count }, () => fake);
  try {
    return await fn();
  } finally {
    osObject.cpus = realCpus;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Creates the threaded emscripten module (with its 8-worker pool) and the tfjs bridge functions. */
async function createThreadedModule(threads: number, tempDir: string): Promise<EmscriptenModule> {
  if (!permitted({ name: "read" })) {
    // Workers re-read the main script and the .wasm from node_modules.
    const wasmOut = packageFile("wasm-out/");
    if (!permitted({ name: "read", path: wasmOut })) throw new PermissionNeeded(`--allow-read=${wasmOut}`, "(the wasm threads' workers load it)");
  }
  const workerPath = writeWorkerFile(tempDir);
  const mainScript = packageFile("wasm-out/tfjs-backend-wasm-threaded-simd.js");
  const wasmBinary = packageFile("dist/tfjs-backend-wasm-threaded-simd.wasm");
  const factory = threadedFactoryModule as unknown as EmscriptenFactory;
  // The emscripten glue replaces globalThis.Worker with worker_threads' Worker; put Deno's back.
  const denoWorker = globalThis.Worker;
  let aborted: string | null = null;
  try {
    const module = await withReportedCpuCount(2 * Math.max(threads, navigator.hardwareConcurrency), () =>
      withTimeout(
        factory({
          locateFile: (path: string) => path.endsWith(".worker.js") ? workerPath : path.endsWith(".wasm") ? wasmBinary : path,
          mainScriptUrlOrBlob: mainScript,
          onAbort: (what: unknown) => {
            aborted = String(what);
          },
        }),
        INIT_TIMEOUT_MS,
        "threaded wasm init",
      )
    );
    if (aborted) throw new Error(`wasm aborted: ${aborted}`);
    module.tfjs = {
      init: module.cwrap("init", null, []),
      initWithThreadsCount: module.cwrap("init_with_threads_count", null, ["number"]),
      getThreadsCount: module.cwrap("get_threads_count", "number", []),
      registerTensor: module.cwrap("register_tensor", null, ["number", "number", "number"]),
      disposeData: module.cwrap("dispose_data", null, ["number"]),
      dispose: module.cwrap("dispose", null, []),
    };
    return module;
  } finally {
    globalThis.Worker = denoWorker;
  }
}

/** Pool workers keep the event loop alive; nothing waits on them asynchronously, so unref. */
function unrefWorkers(module: EmscriptenModule): void {
  const pthread = module.PThread;
  if (!pthread) return;
  for (const w of [...pthread.runningWorkers, ...pthread.unusedWorkers]) w?.unref?.();
}

/**
 * Makes `tf.setBackend("wasm")` use the threaded build with `threads` threads (capped at 8).
 * Must run before the wasm backend is first initialised. On failure throws, leaving the stock
 * (single-threaded SIMD) backend registration untouched; PermissionNeeded / UnsafeFolderError
 * when the worker file cannot be written safely. The worker file goes below `tempDir` (default /tmp).
 */
export async function useThreadedWasm(threads: number, tempDir: string = defaultTempDir()): Promise<void> {
  const wanted = Math.min(Math.max(1, Math.floor(threads)), MAX_WASM_THREADS);
  const module = await createThreadedModule(wanted, tempDir);
  const stockFactory = tf.engine().findBackendFactory("wasm");
  tfwasm.setThreadsCount(wanted);
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", () => {
    const backend = new tfwasm.BackendWasm(module);
    unrefWorkers(module); // the C++ init just started the pool threads
    return backend;
  }, 2);
  const ok = await tf.setBackend("wasm");
  if (!ok) {
    tf.removeBackend("wasm");
    if (stockFactory) tf.registerBackend("wasm", stockFactory, 2);
    throw new Error("threaded wasm backend failed to initialise");
  }
}
