/** Shared command-line helpers: a usage error (exit 2) and strict option parsing. */
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

/**
 * A whole-number option in min..max (digits only: no sign, exponent or fraction; a number past
 * `max` is refused rather than rounded, e.g. 99999999999999999999 or 1e23).
 */
export function intOption(name: string, v: string | undefined, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} must be an integer ${range}, got '${v}'`);
  return Number(v);
}

/**
 * node:util parseArgs' error as one line: with positionals allowed, an unknown option's message
 * goes on with advice quoting `'-- "--foo"` (unbalanced quotes); only its first sentence is kept.
 */
export function parseErrorLine(e: Error): string {
  return e.message.split("\n")[0].replace(/\. To specify a positional argument.*$/, "");
}

/** parseArgs with strict options, no positionals; its errors become one-line UsageErrors. */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError(parseErrorLine(e as Error));
  }
}
