/**
 * Paths inside the project, independent of the working folder: notebooks run with `notebooks/`
 * as their working folder, the CLI with the project root, and both must find the same `data/`
 * and `results/`.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (the folder holding deno.json). */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts);
}

/** `../shared` beside the project (the shared data of this workplace), or null when absent. */
export function sharedDir(): string | null {
  const dir = join(PROJECT_ROOT, "..", "shared");
  try {
    return Deno.statSync(dir).isDirectory ? dir : null;
  } catch {
    return null;
  }
}
