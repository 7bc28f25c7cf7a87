/** Small file-system helpers shared across the project. */

/** Whether anything exists at `path` (file, folder or link target). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A unique temporary name beside `path` for write-then-rename: process id plus random bytes, so
 * two writers of one file (two processes, or two promises in one process, or two hosts sharing a
 * results folder) never write into the same temporary file.
 */
export function tempSibling(path: string): string {
  return `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
}
