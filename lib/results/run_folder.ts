/**
 * Claiming a run folder: the folder is created exclusively (non-recursive mkdir of the final
 * folder), so two runs can never write into the same record. The default name has one-second
 * resolution; on a clash the claim retries with milliseconds and a pid + random suffix.
 */
import { dirname, join } from "node:path";
import { requireWritable } from "../util/permission.ts";

/** `<UTC time to the second>-<class>-<mode>`, e.g. 20261206T131949Z-puck-depth. */
export function defaultRunName(className: string, mode: string, now = new Date()): string {
  return `${compactTime(now)}-${className}-${mode}`;
}

function compactTime(d: Date, millis = false): string {
  const iso = d.toISOString().replace(/[-:]/g, "");
  return millis ? iso.replace(/\.(\d+)Z$/, "$1Z") : iso.replace(/\.\d+Z$/, "Z");
}

/** A name that differs from `baseName` and from other processes' retries (ms time, pid, random). */
function uniqueVariant(baseName: string): string {
  const random = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0");
  return `${baseName}-${compactTime(new Date(), true).slice(-10, -1)}-${Deno.pid}${random}`;
}

/** Create exactly `path` (its parent must exist); false when something is already there. */
async function createExclusive(path: string): Promise<boolean> {
  try {
    await Deno.mkdir(path); // non-recursive: fails when it exists, which is the point
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  }
}

/**
 * Create a new run folder under `parent` named `baseName`, or a unique variant of it when that
 * name is taken (another run started in the same second). Returns the folder created.
 */
export async function claimRunFolder(parent: string, baseName: string, attempts = 20): Promise<string> {
  requireWritable(join(parent, baseName), "the run folder");
  await Deno.mkdir(parent, { recursive: true });
  let path = join(parent, baseName);
  for (let i = 0; i < attempts; i++) {
    if (await createExclusive(path)) return path;
    path = join(parent, uniqueVariant(baseName));
  }
  throw new Error(`${parent}: could not create a new run folder named like ${baseName} (${attempts} attempts)`);
}

/** Create exactly `path` (an explicit --out); an existing one is refused, as run folders are immutable. */
export async function claimExactFolder(path: string, refusal: () => Error): Promise<string> {
  requireWritable(path, "the run folder");
  await Deno.mkdir(dirname(path), { recursive: true });
  if (!(await createExclusive(path))) throw refusal();
  return path;
}
