/**
 * `--resume` continues a run with the config it recorded. Arguments that would give a different
 * run (another --data, --class, --mode, --epochs, --seed, --set, --config, --preset, --backbone,
 * --layer) are refused, naming the first field that differs, instead of being used or dropped
 * silently.
 */
import { resolve } from "node:path";
import { type AstConfig, withDefaults } from "../config/ast_config.ts";
import type { RunConfigFile } from "../results/record.ts";
import type { DatasetLayout } from "../types.ts";

/** The run options this check reads (RunOptions of lib/run/resolve.ts has them all). */
export interface ResumeArguments {
  data: string;
  className: string;
  mode: string;
  preset?: string;
  epochs?: number;
  seed?: number;
  sets?: string[];
  configFile?: string;
  backbone?: string;
  layer?: string;
  weights?: string;
  variant?: unknown;
}

/** Options that change the effective config; given with --resume they must reproduce the recorded one. */
export function givesConfig(o: ResumeArguments): boolean {
  return o.preset !== undefined || o.epochs !== undefined || o.seed !== undefined || !!o.sets?.length ||
    o.configFile !== undefined || o.backbone !== undefined || o.layer !== undefined || o.weights !== undefined || o.variant !== undefined;
}

/** The first field (dotted, in the recorded config's order) whose value differs, or null. */
export function firstConfigDifference(recorded: AstConfig, given: AstConfig, ignore: ReadonlySet<string> = new Set()): { field: string; recorded: unknown; given: unknown } | null {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const r = recorded as unknown as Record<string, unknown>, g = given as unknown as Record<string, unknown>;
  for (const key of new Set([...Object.keys(r), ...Object.keys(g)])) {
    if (ignore.has(key)) continue;
    const a = r[key], b = g[key];
    const nested = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
    if (nested(a) && nested(b)) {
      const ra = a as Record<string, unknown>, gb = b as Record<string, unknown>;
      for (const sub of new Set([...Object.keys(ra), ...Object.keys(gb)])) {
        if (!ignore.has(`${key}.${sub}`) && !same(ra[sub], gb[sub])) return { field: `${key}.${sub}`, recorded: ra[sub], given: gb[sub] };
      }
    } else if (!same(a, b)) {
      return { field: key, recorded: a, given: b };
    }
  }
  return null;
}

const show = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));
const refusal = (field: string, recorded: unknown, given: unknown) =>
  `--resume: ${field} differs: recorded ${show(recorded)}, given ${show(given)} (a resumed run keeps its recorded config)`;

/**
 * Why the given options do not describe the recorded run, or null when they do. `newRunConfig`
 * computes the effective config exactly as a new run would (runConfig); it is called only when
 * a config-changing option was given.
 */
export async function resumeMismatch<O extends ResumeArguments>(
  o: O,
  saved: RunConfigFile,
  layout: DatasetLayout,
  newRunConfig: (o: O, layout: DatasetLayout) => Promise<AstConfig>,
): Promise<string | null> {
  if (resolve(o.data) !== saved.data) return refusal("data", saved.data, resolve(o.data));
  if (o.className !== saved.class) return refusal("class", saved.class, o.className);
  const recorded = withDefaults(saved.config);
  if (o.mode !== recorded.mode) return refusal("mode", recorded.mode, o.mode);
  if (!givesConfig(o)) return null;
  const given = await newRunConfig(o, layout);
  // --weights may point at the same weights moved elsewhere: their checksum is compared
  // with the recorded one when the backbone loads (lib/run/features.ts), not their path.
  const ignore = new Set(o.weights !== undefined ? ["weights", "backboneFallback"] : []);
  const d = firstConfigDifference(recorded, given, ignore);
  return d ? refusal(d.field, d.recorded, d.given) : null;
}
