/**
 * `deno task ast score --model RUN_DIR (--image FILE [--depth XYZ.tiff] | --folder DIR)
 *   [--out DIR] [--threshold fpr:0.05|quantile:0.99] [--weights PATH]`
 * prints per image the score, the normalised score and the verdict, and writes per image the
 * anomaly map (`<stem>.map.safetensors`, float32) and an overlay PNG (`<stem>.overlay.png`),
 * plus scores.json, under --out (default results/scores/<model>-<time>; never the model folder).
 */
import { basename, resolve } from "node:path";
import { initBackend } from "../backend/backend.ts";
import { runtimeFromEnv } from "../config/runtime.ts";
import { checkOutDir, folderInputs, openScoringModel, type ScoreInput, scoreInputs, writeScoreOutputs } from "../experiment/score.ts";
import { parseThresholdRule } from "../experiment/threshold.ts";
import { projectPath } from "../util/project.ts";
import { parseOptions, UsageError } from "./args.ts";

export const SCORE_USAGE = `usage: deno task ast score --model RUN_DIR (--image FILE [--depth XYZ.tiff] | --folder DIR)
         [--out DIR] [--threshold fpr:F|quantile:Q] [--weights PATH]`;

export async function scoreCommand(args: string[], log: (l: string) => void = console.log): Promise<number> {
  const { values: v } = parseOptions(args, {
    model: { type: "string" },
    image: { type: "string" },
    depth: { type: "string" },
    folder: { type: "string" },
    out: { type: "string" },
    threshold: { type: "string" },
    weights: { type: "string" },
  });
  if (!v.model) throw new UsageError("--model RUN_DIR is required");
  if (!v.image === !v.folder) throw new UsageError("give exactly one of --image FILE or --folder DIR");
  if (v.depth && !v.image) throw new UsageError("--depth goes with --image (a folder holds rgb/ and xyz/)");
  let rule;
  try {
    rule = v.threshold ? parseThresholdRule(v.threshold) : undefined;
  } catch (e) {
    throw new UsageError(`--threshold: ${(e as Error).message}`);
  }
  await initBackend(runtimeFromEnv().backend); // as the environment asks; first call wins
  const m = await openScoringModel(v.model, { rule, weights: v.weights });
  try {
    const inputs: ScoreInput[] = v.image ? [{ image: v.image, ...(v.depth ? { depth: v.depth } : {}) }] : folderInputs(v.folder!, m.card);
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    const out = resolve(v.out ?? projectPath("results", "scores", `${basename(resolve(v.model))}-${stamp}`));
    checkOutDir(out, m.model.runDir); // before any work
    if (m.threshold) log(`threshold ${m.threshold.value.toPrecision(5)}: ${m.threshold.meaning}`);
    else log("no threshold: the model has no held-apart normal scores (verdicts are not given)");
    const scored = await scoreInputs(m, inputs, (done, total) => {
      if (total > 1) log(`scored ${done}/${total}`);
    });
    for (const s of scored) {
      const verdict = s.defective === null ? "" : s.defective ? "  DEFECTIVE" : "  ok";
      const z = s.normalised === null ? "n/a" : s.normalised.toFixed(2);
      log(`${s.image}  score ${s.score.toPrecision(5)}  normalised ${z}${verdict}`);
    }
    const { files } = await writeScoreOutputs(out, m, scored);
    log(`wrote ${files.length} files to ${out} (per image: .map.safetensors, .overlay.png; scores.json)`);
    return 0;
  } finally {
    m.dispose();
  }
}
