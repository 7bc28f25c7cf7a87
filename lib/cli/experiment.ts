/**
 * `deno task experiment NAME|all [--scale demo|cpu|paper] [--seeds 0,1] [--dry-run] [--keep-going]`
 * runs an experiment's grid (experiments/*.ts): cells already recorded under results/runs are
 * reused, interrupted ones resume, and the index goes to results/experiments/NAME/SCALE.json.
 */
import { parseArgs } from "node:util";
import { EXPERIMENTS, experiment } from "../../experiments/mod.ts";
import { initBackend } from "../backend/backend.ts";
import { runtimeFromEnv } from "../config/runtime.ts";
import { runGrid, type Scale, SCALES, scaleFromEnv } from "../experiment/grid.ts";
import { UsageError } from "./args.ts";

const USAGE = "usage: deno task experiment NAME|all [--scale demo|cpu|paper] [--seeds 0,1,...] [--dry-run] [--keep-going]";

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        scale: { type: "string" },
        seeds: { type: "string" },
        "dry-run": { type: "boolean" },
        "keep-going": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) {
    console.log(`${USAGE}\nexperiments: ${Object.keys(EXPERIMENTS).join(", ")}`);
    return values.help ? 0 : 2;
  }
  const scale = (values.scale ?? scaleFromEnv()) as Scale;
  if (!SCALES.includes(scale)) throw new UsageError(`--scale must be one of ${SCALES.join(", ")}, got '${values.scale}'`);
  const seeds = values.seeds?.split(",").map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`--seeds must be comma-separated integers, got '${values.seeds}'`);
    return Number(s);
  });
  const names = positionals[0] === "all" ? Object.keys(EXPERIMENTS) : positionals;
  if (!values["dry-run"]) await initBackend(runtimeFromEnv().backend); // as the environment asks; first call wins
  let failed = 0;
  for (const name of names) {
    const cells = await runGrid(experiment(name), scale, { seeds, dryRun: values["dry-run"], continueOnError: values["keep-going"] });
    failed += cells.filter((c) => c.status === "failed" && !values["dry-run"]).length;
    const counts = Object.entries(Object.groupBy(cells, (c) => c.status)).map(([k, v]) => `${v!.length} ${k}`).join(", ");
    console.log(`${name}: ${counts}`);
  }
  return failed ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(`experiment: error: ${(e as Error).message?.split("\n")[0] ?? e}`);
    if (e instanceof UsageError) console.error(USAGE);
    Deno.exit(e instanceof UsageError ? 2 : 1);
  }
}
