/**
 * `deno task ast <command>`: the command line the outside checks use (docs/CLI_CONTRACT.md).
 *   run  --data ROOT --class NAME --mode depth|rgb|combi [--preset demo|cpu|paper|reference-small]
 *        [--epochs N] [--seed N] [--out DIR] [--resume] [--set key=value]... [--config FILE]
 *        [--backbone NAME [--weights PATH] [--layer NAME]] [--no-feature-cache] [--keep-checkpoints]
 *   score --model RUN_DIR (--image FILE [--depth XYZ.tiff] | --depth XYZ.tiff | --folder DIR) [--out DIR]
 *        [--threshold fpr:F|quantile:Q] [--weights PATH]
 *   extract --backbone NAME [--weights PATH] [--layer NAME] --image IMG --out OUT.safetensors
 *        [--size PX | --map-len N] [--precision fp32|bf16]
 * Errors are one line on stderr and a non-zero exit (2 for usage errors).
 */
import { MAX_EPOCHS, MAX_SEED } from "../config/ast_config.ts";
import { runtimeFromEnv, type RuntimeOptions } from "../config/runtime.ts";
import { classNameProblem } from "../data/class_name.ts";
import { terminalLog } from "../report/terminal_progress.ts";
import { runExperiment } from "../run/run.ts";
import { type Mode, MODES, type PresetName, PRESETS } from "../types.ts";
import { intOption, parseOptions, UsageError } from "./args.ts";
import { EXTRACT_USAGE, extractCommand } from "./extract.ts";
import { SCORE_USAGE, scoreCommand } from "./score.ts";
import { shellWord, shownPath, taskPrefix } from "./score_hint.ts";

export { UsageError };

/** "a, b or c" */
const orList = (xs: readonly string[]) => `${xs.slice(0, -1).join(", ")} or ${xs[xs.length - 1]}`;

const USAGE = `usage: deno task ast run --data ROOT --class NAME --mode ${MODES.join("|")}
         [--preset ${PRESETS.join("|")}] [--epochs N] [--seed N] [--out DIR] [--resume]
         [--set key=value]... [--config FILE] [--backbone NAME [--weights PATH] [--layer NAME]]
         [--no-feature-cache] [--keep-checkpoints]
       ${SCORE_USAGE.replace(/^usage: /, "")}
       ${EXTRACT_USAGE.replace(/^usage: /, "")}`;

export async function main(argv: string[], runtime: RuntimeOptions = runtimeFromEnv()): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  if (command === "extract") return await extractCommand(rest, runtime);
  if (command === "score") return await scoreCommand(rest, runtime);
  if (command !== "run") throw new UsageError(`unknown command '${command}' (expected: run, score, extract)`);
  const v = parseOptions(rest, {
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
    layer: { type: "string" },
    "no-feature-cache": { type: "boolean" },
    "keep-checkpoints": { type: "boolean" },
  }).values;
  if (!v.data) throw new UsageError("--data ROOT is required");
  if (!v.class) throw new UsageError("--class NAME is required");
  if (!v.mode || !MODES.includes(v.mode as Mode)) {
    throw new UsageError(`--mode must be ${orList(MODES)}${v.mode ? `, got '${v.mode}'` : ""}`);
  }
  if (v.preset && !PRESETS.includes(v.preset as PresetName)) {
    throw new UsageError(`--preset must be ${orList(PRESETS)}, got '${v.preset}'`);
  }
  const badClass = classNameProblem(v.class);
  if (badClass) throw new UsageError(badClass);
  if (v.mode === "depth" && (v.weights || v.layer)) throw new UsageError("--weights/--layer choose image features: not used with --mode depth");
  // the backend as the environment asks (AST_BACKEND, AST_THREADS, AST_NATIVE_*): first call wins
  const { out, metrics } = await runExperiment({
    data: v.data,
    className: v.class,
    mode: v.mode as Mode,
    // undefined = the default preset (demo); kept undefined so --resume can tell it was not given
    preset: v.preset as PresetName | undefined,
    epochs: intOption("epochs", v.epochs, 1, MAX_EPOCHS),
    seed: intOption("seed", v.seed, 0, MAX_SEED),
    out: v.out,
    resume: v.resume,
    sets: v.set,
    configFile: v.config,
    backbone: v.backbone,
    weights: v.weights,
    layer: v.layer,
    ...(v["no-feature-cache"] ? { featureCache: null } : {}),
    keepCheckpoints: v["keep-checkpoints"],
    runtime,
    log: terminalLog({ ci: runtime.ci }),
  });
  const f = (x: unknown) => (typeof x === "number" ? x.toFixed(4) : "n/a");
  console.log(
    `done: image AUROC max ${f(metrics.image_auroc_max)}, mean ${f(metrics.image_auroc_mean)}, pixel AUROC ${f(metrics.pixel_auroc)}, AUPRO ${f(metrics.aupro)}, ${metrics.seconds.toFixed(1)} s -> ${out}`,
  );
  if (metrics.threshold) {
    console.log(`threshold ${metrics.threshold.value.toPrecision(5)} (${metrics.threshold.meaning})`);
    const r = metrics.threshold_report;
    if (r) {
      console.log(`  on the labelled test images: precision ${f(r.precision)}, recall ${f(r.recall)}, false-positive rate ${f(r.false_positive_rate)}; ` +
        `the F1-max threshold would be ${r.f1_max.threshold.toPrecision(5)} (F1 ${f(r.f1_max.f1)}, fitted on test: for reference only)`);
    }
  } else {
    console.log("no threshold: no held-apart normal images (validation/good, or holdoutFraction > 0)");
  }
  const what = metrics.mode === "depth" ? "--depth XYZ.tiff" : metrics.mode === "rgb" ? "--image FILE" : "--image FILE --depth XYZ.tiff";
  console.log(`score new images: ${taskPrefix()} ast score --model ${shellWord(shownPath(out))} ${what}`);
  return 0;
}

if (import.meta.main) {
  let runtime: RuntimeOptions | undefined;
  try {
    runtime = runtimeFromEnv(); // inside: without --allow-env it is the one-line error too
    Deno.exit(await main(Deno.args, runtime));
  } catch (e) {
    const msg = (e as Error).message?.split("\n")[0] ?? String(e);
    console.error(`ast: error: ${msg}`);
    if (e instanceof UsageError) console.error((Deno.args[0] === "extract" ? EXTRACT_USAGE : Deno.args[0] === "score" ? SCORE_USAGE : USAGE).split("\n")[0]);
    if (runtime?.debug) console.error(e);
    Deno.exit(e instanceof UsageError ? 2 : 1);
  }
}
