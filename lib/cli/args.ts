/** Shared command-line helpers: a usage error (exit 2) and strict option parsing. */
import { parseArgs, type ParseArgsConfig } from "node:util";

export class UsageError extends Error {}

export function intOption(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return Number(v);
}

/** parseArgs with strict options, no positionals; its errors become one-line UsageErrors. */
export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
}
