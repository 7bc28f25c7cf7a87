/**
 * `deno task clean [--dry-run] [--all]`: frees the disk the project's own tools filled, and says how
 * much. By default only what is regenerated on demand: generated data, caches, demo results and
 * what the test command's notebook stage writes. Run records (results/runs: your trained models),
 * experiment indexes and scored images go only with --all. Committed files (data/pretrained,
 * results/bench, results/calibration) are never touched. Each path is printed with its size, then
 * the total; --dry-run prints the same and deletes nothing.
 */
import { parseArgs } from "node:util";
import { join, relative, resolve } from "node:path";
import { diskUsage, formatBytes } from "../util/disk_usage.ts";
import { PROJECT_ROOT } from "../util/project.ts";
import { parseErrorLine, UsageError } from "./args.ts";

export const CLEAN_USAGE = "usage: deno task clean [--dry-run] [--all]";

export interface CleanTarget {
  /** relative to the project root */
  path: string;
  what: string;
  /** removed only with --all (things a user may want to keep) */
  all?: boolean;
}

export const CLEAN_TARGETS: readonly CleanTarget[] = [
  { path: "data/generated", what: "generated dataset (demo, tests, notebooks)" },
  { path: "data/testbeds", what: "generated ablation testbeds" },
  { path: "data/own_example", what: "notebook 09's example folder (made from the generated dataset)" },
  { path: "data/cache", what: "caches: image features, native kernel builds" },
  { path: "results/demo", what: "demo runs" },
  { path: "results/notebooks", what: "executed notebooks (test command, deno task notebooks)" },
  { path: "results/figures", what: "figures the notebooks save" },
  { path: "results/runs", what: "run records: trained models, experiment cells", all: true },
  { path: "results/experiments", what: "experiment indexes", all: true },
  { path: "results/scores", what: "scored images (deno task ast score)", all: true },
];

export interface CleanEntry extends CleanTarget {
  bytes: number;
}

export interface CleanOptions {
  dryRun?: boolean;
  all?: boolean;
}

/** The targets present under `root`, with their sizes (nothing is removed). */
export async function cleanPlan(root: string, o: Pick<CleanOptions, "all"> = {}): Promise<CleanEntry[]> {
  const out: CleanEntry[] = [];
  for (const t of CLEAN_TARGETS) {
    if (t.all && !o.all) continue;
    const full = join(root, t.path);
    try {
      await Deno.lstat(full);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      throw e;
    }
    out.push({ ...t, bytes: await diskUsage(full) });
  }
  return out;
}

/** Remove (or with dryRun list) the targets under `root`; one line per path, then the total. */
export async function cleanProject(root: string, o: CleanOptions = {}, log: (line: string) => void = console.log): Promise<CleanEntry[]> {
  const plan = await cleanPlan(root, o);
  // paths as the project names them (data/cache, ...), whatever folder the command runs in
  const shown = (p: string) => relative(root, p) || p;
  if (plan.length && resolve(root) !== resolve(Deno.cwd())) log(`in ${root}:`);
  const width = Math.max(0, ...plan.map((e) => shown(join(root, e.path)).length));
  for (const e of plan) {
    const full = join(root, e.path);
    // a symlink is removed as a link: what it points to stays
    if (!o.dryRun) await Deno.remove(full, { recursive: true });
    log(`${o.dryRun ? "would remove" : "removed"} ${shown(full).padEnd(width)}  ${formatBytes(e.bytes).padStart(9)}  ${e.what}`);
  }
  const total = plan.reduce((a, e) => a + e.bytes, 0);
  if (!plan.length) log("nothing to clean");
  else log(`${o.dryRun ? "would free" : "freed"} ${formatBytes(total)} in ${plan.length} folder${plan.length > 1 ? "s" : ""}`);
  if (!o.all) log("kept: results/runs, results/experiments, results/scores (--all removes them too)");
  return plan;
}

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { "dry-run": { type: "boolean" }, all: { type: "boolean" }, root: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError(parseErrorLine(e as Error));
  }
  if (values.help) {
    console.log(CLEAN_USAGE);
    return 0;
  }
  // --root: another checkout (tests use a temporary one); default this project
  await cleanProject(resolve(values.root ?? PROJECT_ROOT), { dryRun: values["dry-run"], all: values.all });
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    const denied = e instanceof Deno.errors.PermissionDenied || (e as Error).name === "NotCapable";
    const msg = (e as Error).message?.split("\n")[0] ?? String(e);
    console.error(`clean: error: ${denied ? `needs write access: ${msg}` : msg}`);
    if (e instanceof UsageError) console.error(CLEAN_USAGE);
    Deno.exit(e instanceof UsageError ? 2 : 1);
  }
}
