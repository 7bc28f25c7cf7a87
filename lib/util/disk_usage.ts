/**
 * Bytes a file or folder takes (its files' sizes, symlinks counted as links, never followed), and
 * sizes in words: what removing checkpoints and `deno task clean` report.
 */
import { join } from "node:path";

/** Total size of the files under `path` (0 when absent); symlinks are not followed. */
export async function diskUsage(path: string): Promise<number> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return 0;
    throw e;
  }
  if (!info.isDirectory) return info.size;
  let total = 0;
  for await (const entry of Deno.readDir(path)) total += await diskUsage(join(path, entry.name));
  return total;
}

/** 1536 -> "1.5 KB", 62914560 -> "60.0 MB" (powers of 1024, as du -h). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = bytes, u = 0;
  while (v >= 1024 && u < units.length - 1) (v /= 1024, u++);
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}
