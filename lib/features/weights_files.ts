/**
 * Where pretrained weights live and how they are identified. Without `--weights`, a backbone's
 * weights are looked up under `$AST_WEIGHTS_DIR` (else the project's `data/weights`);
 * every run records the SHA-256 of the files it used, so results name their exact weights.
 */
import { projectPath } from "../util/project.ts";
import { createHash } from "node:crypto";
import { basename, join, resolve } from "node:path";

/** Env var naming the folder that holds all backbones' weights (docs/CLI_CONTRACT.md). */
export const WEIGHTS_DIR_ENV = "AST_WEIGHTS_DIR";
/** Used when $AST_WEIGHTS_DIR is unset: a project-local folder (not committed). */
export const DEFAULT_WEIGHTS_DIR = projectPath("data", "weights");


/**
 * The weights root: `weightsDir` (the runtime's, from `$AST_WEIGHTS_DIR`; relative to the working
 * folder), else the project's `data/weights`.
 */
export function weightsRoot(weightsDir?: string): { dir: string; fromEnv: boolean } {
  return weightsDir ? { dir: resolve(weightsDir), fromEnv: true } : { dir: resolve(DEFAULT_WEIGHTS_DIR), fromEnv: false };
}

export async function pathKind(path: string): Promise<"file" | "dir" | null> {
  try {
    const s = await Deno.stat(path);
    return s.isDirectory ? "dir" : s.isFile ? "file" : null;
  } catch {
    return null;
  }
}

const digestMemo = new Map<string, string>();

/** SHA-256 (hex) of one file; memoised per (path, size, mtime) for the process. */
export async function sha256File(path: string): Promise<string> {
  const st = await Deno.stat(path);
  const memoKey = `${resolve(path)}|${st.size}|${st.mtime?.getTime() ?? 0}`;
  const hit = digestMemo.get(memoKey);
  if (hit) return hit;
  const hex = createHash("sha256").update(await Deno.readFile(path)).digest("hex") as string;
  digestMemo.set(memoKey, hex);
  return hex;
}

/**
 * Checksum of a set of weight files: for one file its SHA-256; for several, the SHA-256 of the
 * `sha256sum`-style manifest "<hex>  <basename>\n" sorted by name (so it is reproducible with
 * `sha256sum model.json weights.bin | sort -k2 | sha256sum` on the command line).
 */
export async function weightsChecksum(paths: string[]): Promise<string> {
  if (paths.length === 1) return await sha256File(paths[0]);
  const lines: string[] = [];
  for (const p of paths) lines.push(`${await sha256File(p)}  ${basename(p)}\n`);
  lines.sort((a, b) => (a.slice(66) < b.slice(66) ? -1 : a.slice(66) > b.slice(66) ? 1 : 0));
  return createHash("sha256").update(lines.join("")).digest("hex") as string;
}

/** The weight files at a path: the file itself, or the files directly in a folder (sorted). */
export async function weightFilesAt(path: string): Promise<string[]> {
  if ((await pathKind(path)) === "file") return [path];
  const out: string[] = [];
  for await (const e of Deno.readDir(path)) if (e.isFile) out.push(join(path, e.name));
  return out.sort();
}

/** weightsChecksum of a weights file or folder: depends on the contents only, not on where they are. */
export async function weightsChecksumAt(path: string): Promise<string> {
  return await weightsChecksum(await weightFilesAt(path));
}
