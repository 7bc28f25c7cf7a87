/**
 * `deno task ast score --model RUN_DIR (--image FILE [--depth XYZ.tiff] | --depth XYZ.tiff | --folder DIR)
 *   [--out DIR] [--threshold fpr:0.05|quantile:0.99] [--weights PATH]`
 * prints per image the score, the normalised score and the verdict, and writes per image the
 * anomaly map (`<stem>.map.safetensors`, float32) and an overlay PNG (`<stem>.overlay.png`),
 * plus scores.json, under --out (default results/scores/<model>-<time>; never the model folder).
 * An image that cannot be scored (unreadable, wrong size, no foreground, non-finite score) is
 * never reported "ok": with --image (or --depth alone) it is the error; in a folder it is listed with its reason,
 * the others are scored and written, and the command ends non-zero with "N scored, M failed".
 */
import { basename, resolve } from "node:path";
import type { RuntimeOptions } from "../config/runtime.ts";
import { parseThresholdRule } from "../metrics/threshold.ts";
import { checkOutDir, depthOnlyInput, failureLine, folderInputs, openScoringModel, type ScoreInput, scoreEach, ScoreInputError, writeScoreOutputs } from "../run/score.ts";
import { projectPath } from "../util/project.ts";
import { parseOptions, UsageError } from "./args.ts";

export const SCORE_USAGE = `usage: deno task ast score --model RUN_DIR (--image FILE [--depth XYZ.tiff] | --depth XYZ.tiff | --folder DIR)
         [--out DIR] [--threshold fpr:F|quantile:Q] [--weights PATH]`;

export async function scoreCommand(args: string[], runtime: RuntimeOptions, log: (l: string) => void = console.log): Promise<number> {
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
  if (v.folder && (v.image || v.depth)) throw new UsageError("--folder DIR takes no --image or --depth (a folder holds the images, or rgb/ and xyz/)");
  if (!v.folder && !v.image && !v.depth) throw new UsageError("give --image FILE (with --depth XYZ.tiff for 3D models), --depth XYZ.tiff alone (depth models) or --folder DIR");
  let rule;
  try {
    rule = v.threshold ? parseThresholdRule(v.threshold) : undefined;
  } catch (e) {
    throw new UsageError(`--threshold: ${(e as Error).message}`);
  }
  const m = await openScoringModel(v.model, { rule, weights: v.weights, runtime });
  try {
    // a depth model scores a point map alone; its outputs then name the point map
    if (!v.folder && !v.image && m.card.mode !== "depth") {
      throw new UsageError(`--image FILE is required: ${v.model} is a ${m.card.mode} model (only a depth model scores from --depth alone)`);
    }
    const inputs: ScoreInput[] = v.folder
      ? folderInputs(v.folder, m.card)
      : [v.image ? { image: v.image, ...(v.depth ? { depth: v.depth } : {}) } : depthOnlyInput(v.depth!)];
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    const out = resolve(v.out ?? projectPath("results", "scores", `${basename(resolve(v.model))}-${stamp}`));
    checkOutDir(out, m.model.runDir); // before any work
    for (const note of m.notes) log(note);
    if (m.threshold) log(`threshold ${m.threshold.value.toPrecision(5)}: ${m.threshold.meaning}`);
    else log("no threshold: the model has no held-apart normal scores (verdicts are not given)");
    const { scored, failed } = await scoreEach(m, inputs, (done, total) => {
      if (total > 1) log(`scored ${done}/${total}`);
    });
    for (const s of scored) {
      const verdict = s.defective === null ? "" : s.defective ? "  DEFECTIVE" : "  ok";
      const z = s.normalised === null ? "n/a" : s.normalised.toFixed(2);
      log(`${s.image}  score ${s.score.toPrecision(5)}  normalised ${z}${verdict}`);
    }
    // One image: its failure is the command's error (one line, exit 1).
    if (!v.folder && failed.length) throw new ScoreInputError(failureLine(failed[0]), failed[0].status);
    for (const f of failed) log(failureLine(f));
    if (scored.length) {
      const { files } = await writeScoreOutputs(out, m, scored, failed);
      log(`wrote ${files.length} files to ${out} (per image: .map.safetensors, .overlay.png; scores.json)`);
    }
    const summary = `${scored.length} scored, ${failed.length} failed`;
    // A folder with failures: the others are scored and written, the exit status says not all were.
    if (failed.length) throw new ScoreInputError(`${summary} (each failure is listed above${scored.length ? `; the results of the others are in ${out}` : ""})`);
    if (v.folder) log(summary);
    return 0;
  } finally {
    m.dispose();
  }
}
