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
