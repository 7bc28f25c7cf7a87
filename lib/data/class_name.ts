/**
 * A class name is one plain folder name under the data root: `--class a/b`, `..`, `.`, an
 * absolute path, a backslash or NUL would put the class (and a default run folder named after
 * it) somewhere else than `ROOT/NAME`.
 */
export const CLASS_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** Why `name` is not a plain class name, or null when it is. */
export function classNameProblem(name: string): string | null {
  if (CLASS_NAME_PATTERN.test(name)) return null;
  return `--class must be a plain folder name (letters, digits, '.', '_', '+', '-'; not starting with '.' or '-'), got ${JSON.stringify(name)}`;
}
