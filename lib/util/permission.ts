/**
 * A missing Deno permission is a one-line error naming the flag, never a quiet fall-back to a
 * slower path (issue 14: without --allow-env the backend choice silently became cpu, 60x slower).
 * `withPermission` turns Deno's own refusal (Deno.errors.NotCapable) into `PermissionNeeded`;
 * callers that otherwise fall back on errors (lib/backend/backend.ts) let it through.
 */

/** A Deno permission the program needs and was not given; the message names the flag. */
export class PermissionNeeded extends Error {
  override name = "PermissionNeeded";
  constructor(readonly flag: string, why: string) {
    super(`needs ${flag} ${why}`);
  }
}

/** True for Deno's refusal of an operation the process has no permission for. */
export function isPermissionRefusal(err: unknown): boolean {
  return err instanceof Deno.errors.NotCapable;
}

/** Runs `fn`; a permission refusal inside becomes PermissionNeeded(flag, why). Other errors pass. */
export function withPermission<T>(flag: string, why: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (isPermissionRefusal(err)) throw new PermissionNeeded(flag, why);
    throw err;
  }
}

/**
 * Refuses, before anything is created, a folder this process may not write (an `--out` outside
 * the task's --allow-write list): one line naming the folder and the flag, instead of Deno's
 * refusal of whichever parent folder the recursive mkdir reached first.
 */
export function requireWritable(path: string, what: string): void {
  let state: Deno.PermissionState;
  try {
    state = Deno.permissions.querySync({ name: "write", path }).state;
  } catch {
    return; // no permission API: the write itself will say
  }
  if (state !== "granted") {
    throw new PermissionNeeded(`--allow-write=${path}`, `for ${what} ${path} (the deno task writes results, data, ~/.cache/ast-lab and /tmp only; run deno run with that flag to write elsewhere)`);
  }
}
