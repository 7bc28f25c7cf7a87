/**
 * tfjs' console warnings once a backend is chosen. tfjs' cpu backend prints a six-line "install
 * our node backend" banner on its first use whenever the platform looks like Node.js (Deno does),
 * once per process: tests, notebooks and `AST_BACKEND=cpu` runs showed it though tfjs-node cannot
 * install here (it needs a native download). tfjs' only switch for it is production mode: the
 * `PROD` flag gates `backend_util.warn`/`log` (the banner, "backend/kernel already registered",
 * "backend X failed to initialise") and nothing else in tfjs 4.22 (core, cpu, wasm, layers,
 * converter). initBackend sets it after the choice, so a backend that fails to initialise still
 * gets tfjs' reason printed.
 */
import * as tf from "@tensorflow/tfjs-core";

/** Turns tfjs' own console warnings and logs off for the rest of the process (idempotent). */
export function quietTfjs(): void {
  tf.env().set("PROD", true);
}
