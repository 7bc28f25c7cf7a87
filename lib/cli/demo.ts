/**
 * `deno task demo`: the embedded default, no download. Generates the synthetic MVTec 3D-AD-style
 * dataset (seeded) into data/generated, trains and evaluates AST in depth and RGB+3D modes with
 * the `demo` preset, prints a table and writes the runs plus a summary under
 * results/demo/<time>/{depth,combi,summary.json,summary.md}, then prints the exact command that
 * scores a real test image with each trained model (with the prefix it was launched with).
 * Image features: MobileNetV2, from $AST_WEIGHTS_DIR when it holds a copy, else the weights
 * bundled in data/pretrained (lib/features/backbones.ts); the table says which backbone ran.
 * Options: --seed N (dataset and training), --epochs N, --modes depth,combi, --out DIR.
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { generateDataset } from "../data/synthetic.ts";
import { runtimeFromEnv, type RuntimeOptions } from "../config/runtime.ts";
import { runExperiment } from "../run/run.ts";
import type { Mode } from "../types.ts";
import { writeJsonAtomic } from "../results/run_files.ts";
import { backboneSpec, locateWeights, RAW_PATCH_WARNING } from "../features/backbones.ts";
import { WEIGHTS_DIR_ENV } from "../features/weights_files.ts";
import { openDataset } from "../data/mvtec.ts";
import { scoreCommandLine } from "./score_hint.ts";
import { terminalLog } from "../report/terminal_progress.ts";

const MODE_LABEL: Record<Mode, string> = { depth: "3D (depth)", rgb: "RGB", combi: "RGB+3D" };

export async function demo(argv: string[], runtime: RuntimeOptions = runtimeFromEnv()): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      seed: { type: "string", default: "0" },
      epochs: { type: "string" },
      modes: { type: "string", default: "depth,combi" },
      out: { type: "string" },
      data: { type: "string", default: "data/generated" },
    },
    strict: true,
  });
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got '${values.seed}'`);
  const modes = values.modes!.split(",") as Mode[];
  for (const m of modes) if (!(m in MODE_LABEL)) throw new Error(`--modes: unknown mode '${m}'`);
  const started = performance.now();
  const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const outRoot = resolve(values.out ?? join("results", "demo", stamp));

  console.log(`generating the synthetic dataset (seed ${seed}) in ${values.data} ...`);
  const gen = await generateDataset({ root: values.data!, className: "puck", seed });
  console.log(gen.generated ? `  written ${gen.classDir}` : `  up to date: ${gen.classDir}`);

  const imageModes = modes.some((m) => m !== "depth");
  if (imageModes) {
    const spec = backboneSpec("mobilenet_v2");
    const weights = await locateWeights(spec, undefined, runtime.weightsDir);
    console.log(weights
      ? `image features: mobilenet_v2 (${spec.summary}; weights ${weights})`
      : `WARNING: image features: raw-patch, ${RAW_PATCH_WARNING} (no MobileNetV2 weights at $${WEIGHTS_DIR_ENV}/${spec.weights!.relPath} nor bundled in data/pretrained)`);
  }

  const rows = [];
  for (const mode of modes) {
    console.log(`\n=== ${MODE_LABEL[mode]} ===`);
    const { out, metrics } = await runExperiment({
      data: values.data!,
      className: "puck",
      mode,
      preset: "demo",
      seed,
      epochs: values.epochs ? Number(values.epochs) : undefined,
      out: join(outRoot, mode),
      runtime,
      // one updating line per phase on a terminal; plain lines when piped or under CI
      log: terminalLog({ ci: runtime.ci, indent: "  " }),
    });
    rows.push({ ...metrics, mode: MODE_LABEL[mode], modeName: mode, features: metrics.backbone, out });
  }
  const seconds = (performance.now() - started) / 1000;
  const fmt = (v: unknown) => (typeof v === "number" ? v.toFixed(3) : "n/a");
  const header = ["mode", "features", "image AUROC (max)", "image AUROC (mean)", "pixel AUROC", "AUPRO", "seconds"];
  const table = [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) =>
      `| ${r.mode} | ${r.features} | ${fmt(r.image_auroc_max)} | ${fmt(r.image_auroc_mean)} | ${fmt(r.pixel_auroc)} | ${fmt(r.aupro)} | ${r.seconds.toFixed(0)} |`
    ),
  ].join("\n");
  console.log(`\n${table}\n\ndemo wall time ${seconds.toFixed(0)} s; runs in ${outRoot}`);
  const used = new Set(rows.map((r) => r.features));
  if (used.has("raw-patch")) console.log(`WARNING: features 'raw-patch' = raw-pixel patch embedding, ${RAW_PATCH_WARNING}`);
  if (used.has("mobilenet_v2")) {
    const r = rows.find((x) => x.features === "mobilenet_v2")!;
    console.log(`(features 'mobilenet_v2' = ImageNet MobileNetV2 alpha 0.35 at ${r.backbone_layer}, ${r.backbone_input_size} px input, weights sha256 ${r.backbone_weights_sha256?.slice(0, 12)}…)`);
  }
  await writeJsonAtomic(join(outRoot, "summary.json"), { seconds, seed, rows });
  await Deno.writeTextFile(join(outRoot, "summary.md"), `${table}\n\nwall time ${seconds.toFixed(0)} s\n`);
  // how to use what was trained: the exact command, on a real defective test image of the data
  const sample = await exampleTestSample(values.data!, "puck");
  console.log(`\nscore an image with the trained models (a ${sample.defectType} defect of the generated data):`);
  for (const r of rows) {
    console.log(`  ${scoreCommandLine({ model: r.out, mode: r.modeName, image: sample.rgbPath, depth: sample.xyzPath })}`);
  }
}

/** A defective test sample (a hole if there is one: easy to see on the overlay), else the first test sample. */
async function exampleTestSample(data: string, className: string) {
  const { test } = await openDataset(data, className);
  return test.find((s) => s.defectType === "hole") ?? test.find((s) => s.label === 1) ?? test[0];
}

if (import.meta.main) {
  try {
    await demo(Deno.args, runtimeFromEnv());
  } catch (e) {
    console.error(`demo: error: ${(e as Error).message.split("\n")[0]}`);
    Deno.exit(1);
  }
}
