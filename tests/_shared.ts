/**
 * Locates `../shared` (conformance fixtures, sample data, weights). Tests that need it are
 * registered with `ignore: !SHARED` and say so once, clearly; they never copy its files.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const candidate = Deno.env.get("AST_SHARED_DIR") ??
  resolve(join(fileURLToPath(new URL(".", import.meta.url)), "..", "..", "shared"));

function exists(p: string): boolean {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of the shared folder, or null when it is absent. */
export const SHARED: string | null = exists(join(candidate, "fixtures")) ? candidate : null;

let warned = false;
/** `ignore` flag for Deno.test; prints the skip reason once. */
export function needsShared(): boolean {
  if (!SHARED && !warned) {
    warned = true;
    console.warn(`SKIP: ${candidate} not found: fixture/conformance tests are skipped (set AST_SHARED_DIR to run them)`);
  }
  return !SHARED;
}

export function sharedPath(...parts: string[]): string {
  if (!SHARED) throw new Error("shared folder not available");
  return join(SHARED, ...parts);
}
