/** File helpers for the data tests: every file under a folder, a file written with its folders, a temp folder removed afterwards. */
import { join, relative } from "node:path";
import { encodePng } from "../../lib/io/images.ts";

/** Every file below `dir`, by relative path, with its bytes. */
export async function allFiles(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else out.set(relative(dir, p), await Deno.readFile(p));
    }
  };
  await walk(dir);
  return out;
}

/** Runs `fn` with a fresh temp folder, removed afterwards. */
export async function withTemp(fn: (dir: string) => Promise<void>, prefix = "ast_test_") {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Writes `bytes` to `path`, creating its folders. */
export async function put(path: string, bytes: Uint8Array): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeFile(path, bytes);
}

/** A gray PNG of `w` x `h` filled with `fill`. */
export const grayPng = (w: number, h: number, fill = 128) => encodePng({ width: w, height: h, channels: 1, data: new Uint8Array(w * h).fill(fill) });
