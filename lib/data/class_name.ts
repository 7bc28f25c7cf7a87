/**
 * A class name is one plain folder name under the data root: `--class a/b`, `..`, `.`, an
 * absolute path, a backslash or NUL would put the class (and a default run folder named after
 * it) somewhere else than `ROOT/NAME`.
 */
// letters and digits of any script (a user's own classes: "Käse", "part 7"), inner spaces
export const CLASS_NAME_PATTERN = /^[\p{L}\p{N}](?:[\p{L}\p{N} ._+-]*[\p{L}\p{N}._+-])?$/u;

/** Why `name` is not a plain class name, or null when it is. */
export function classNameProblem(name: string): string | null {
  if (CLASS_NAME_PATTERN.test(name)) return null;
  return `--class must be a plain folder name (letters, digits, inner spaces, '.', '_', '+', '-'; starting with a letter or digit), got ${JSON.stringify(name)}`;
}
