/**
 * Which experiment a name on the command line means: the exact name, else a unique prefix
 * (said out loud, so `table5` never silently runs something else), else a usage error listing
 * the candidates (ambiguous prefix) or every name (unknown).
 */
import { UsageError } from "./args.ts";

export interface NameMatch {
  name: string;
  /** the name was a unique prefix of `name` (the command reports it) */
  byPrefix: boolean;
}

export function matchExperimentName(given: string, names: readonly string[]): NameMatch {
  if (names.includes(given)) return { name: given, byPrefix: false };
  const candidates = given ? names.filter((n) => n.startsWith(given)) : [];
  if (candidates.length === 1) return { name: candidates[0], byPrefix: true };
  if (candidates.length > 1) throw new UsageError(`experiment '${given}' is ambiguous: ${candidates.join(", ")}`);
  throw new UsageError(`unknown experiment '${given}' (experiments: ${names.join(", ")}, or all)`);
}

/** The line the command prints for a prefix match. */
export const prefixNote = (given: string, m: NameMatch) => `'${given}' -> ${m.name} (unique prefix)`;
