/**
 * The exact command to score with a trained model, as the user would type it: with the prefix
 * they launched us with (`npx -y deno@X task` when Deno came from npm through npx, else
 * `deno task`), paths relative to the project when inside it, shell-quoted when needed.
 */
import { isAbsolute, relative } from "node:path";
import type { Mode } from "../types.ts";

/**
 * `npx -y deno@<version> task` when this Deno binary lives in npx's cache (`.../_npx/<hash>/...`:
 * launched as `npx -y deno@X task ...`), else `deno task`.
 */
export function taskPrefix(execPath: string = Deno.execPath(), version: string = Deno.version.deno): string {
  return /[/\\]_npx[/\\]/.test(execPath) ? `npx -y deno@${version} task` : "deno task";
}

/** A word for sh: as is when plain, else in single quotes. */
export function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `path` relative to `cwd` when it lies inside it (shorter to read and type), else absolute. */
export function shownPath(path: string, cwd: string = Deno.cwd()): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

export interface ScoreHint {
  model: string;
  mode: Mode;
  /** a real image and point map to score (the model's mode says which it takes) */
  image: string;
  depth?: string;
}

/** `<prefix> ast score --model M (--depth D | --image I [--depth D])`: a depth model takes the point map alone. */
export function scoreCommandLine(h: ScoreHint, prefix: string = taskPrefix(), cwd?: string): string {
  const p = (s: string) => shellWord(shownPath(s, cwd));
  const inputs = h.mode === "depth" ? ["--depth", p(h.depth!)] : ["--image", p(h.image), ...(h.mode === "combi" ? ["--depth", p(h.depth!)] : [])];
  return [prefix, "ast", "score", "--model", p(h.model), ...inputs].join(" ");
}
