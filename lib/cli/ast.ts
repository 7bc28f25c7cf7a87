/**
 * `deno task ast <command>`: the command line the outside checks use (docs/CLI_CONTRACT.md).
 *   run  --data ROOT --class NAME --mode depth|rgb|combi [--preset demo|cpu|paper|reference-small]
 *        [--epochs N] [--seed N] [--out DIR] [--resume] [--set key=value]... [--config FILE]
 *        [--backbone NAME]
 * Errors are one line on stderr and a non-zero exit.
 */
import { parseArgs } from "node:util";
import { runExperiment } from "../experiment/run.ts";
import type { Mode, PresetName } from "../experiment/config.ts";

const USAGE = `usage: deno task ast run --data ROOT --class NAME --mode depth|rgb|combi
         [--preset demo|cpu|paper|reference-small] [--epochs N] [--seed N] [--out DIR] [--resume]
         [--set key=value]... [--config FILE] [--backbone NAME]`;

export class UsageError extends Error {}

function intOption(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`);
  return Number(v);
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command !== "run") throw new UsageError(`unknown command '${command}' (expected: run)`);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        data: { type: "string" },
        class: { type: "string" },
        mode: { type: "string" },
        preset: { type: "string" },
        epochs: { type: "string" },
        seed: { type: "string" },
        out: { type: "string" },
        resume: { type: "boolean" },
        set: { type: "string", multiple: true },
        config: { type: "string" },
        backbone: { type: "string" },
        weights: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
  const v = parsed.values;
  if (!v.data) throw new UsageError("--data ROOT is required");
  if (!v.class) throw new UsageError("--class NAME is required");
  if (!v.mode || !["depth", "rgb", "combi"].includes(v.mode)) {
    throw new UsageError(`--mode must be depth, rgb or combi${v.mode ? `, got '${v.mode}'` : ""}`);
  }
  if (v.preset && !["demo", "cpu", "paper", "reference-small"].includes(v.preset)) {
    throw new UsageError(`--preset must be demo, cpu, paper or reference-small, got '${v.preset}'`);
  }
  if (v.weights) throw new UsageError("--weights: pretrained backbones are not available in this build (raw-patch only)");
  const { out, metrics } = await runExperiment({
    data: v.data,
    className: v.class,
    mode: v.mode as Mode,
    preset: (v.preset ?? "demo") as PresetName,
    epochs: intOption("epochs", v.epochs, 1),
    seed: intOption("seed", v.seed),
    out: v.out,
    resume: v.resume,
    sets: v.set,
    configFile: v.config,
    backbone: v.backbone,
  });
  const f = (x: unknown) => (typeof x === "number" ? x.toFixed(4) : "n/a");
  console.log(
    `done: image AUROC max ${f(metrics.image_auroc_max)}, mean ${f(metrics.image_auroc_mean)}, pixel AUROC ${f(metrics.pixel_auroc)}, AUPRO ${f(metrics.aupro)}, ${metrics.seconds.toFixed(1)} s -> ${out}`,
  );
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    const msg = (e as Error).message?.split("\n")[0] ?? String(e);
    console.error(`ast: error: ${msg}`);
    if (e instanceof UsageError) console.error(USAGE.split("\n")[0]);
    if (Deno.env.get("AST_DEBUG")) console.error(e);
    Deno.exit(e instanceof UsageError ? 2 : 1);
  }
}
