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
