/**
 * Issue 17, `precision: "bf16"` through a run: tiny depth runs (fp32, bf16, fp32 again) in one
 * process; the bf16 run records what ran, trains to an image AUROC close to the fp32 run's, and
 * leaves the fp32 runs exactly what they were; `ast score`'s loader uses the model's recorded
 * precision; where bf16 cannot run (oneDNN capped below its bf16 ISA, in a subprocess) the run
 * says why once and records fp32.
 *
 * AUROC tolerance: the tiny test split has 6 anomalous and 3 good images, 18 pairs; one pair
 * changing order moves the AUROC by 1/18 = 0.056. bf16 rounding of the convolution inputs
 * (relative L2 ~2e-3 per convolution, tests/backend/onednn_bf16_test.ts) may reorder a couple of
 * close pairs after two epochs: |bf16 - fp32| <= 0.12 (two pairs). Measured: 0 (0.667 both).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { initBackend } from "../../lib/backend/backend.ts";
import { nativeConvolutionsActive } from "../../lib/backend/native/kernels.ts";
import { OneDnnConvolutions } from "../../lib/backend/native/onednn/conv.ts";
import { convolutionPrecisionReport } from "../../lib/backend/precision.ts";
import { DEFAULT_RUNTIME } from "../../lib/config/runtime.ts";
import { openDataset } from "../../lib/data/mvtec.ts";
import { readJson, readScoresParquet } from "../../lib/results/run_files.ts";
import { runExperiment } from "../../lib/run/run.ts";
import { loadTrainedModel } from "../../lib/run/trained.ts";
import { sampleInputFiles } from "../../lib/types.ts";
import { runArgs } from "../_cli.ts";
import { assert, assertEquals } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "./_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const CLI = new URL("../../lib/cli/ast.ts", import.meta.url).pathname;
const AUROC_TOLERANCE = 0.12;
/**
 * sha256 (first 16 hex) of config.json's `config` for the tiny fp32 run below, as the code before
 * the option (commit 7367bf5) wrote it: fp32 runs keep their config JSON, so their run ids and
 * model cards. (Its teacher / student weights were byte-identical too on the machine this was
 * written on; weights depend on the CPU's kernels, so that is checked within the process below.)
 */
const FP32_CONFIG_BEFORE = "dff9c3aed4f7c4b1";

const sha = (b: Uint8Array | string) => (createHash("sha256").update(b).digest("hex") as string).slice(0, 16);
const root = await tinyMvtec3d();

/** Why bf16 cannot run in this process (null: it can). */
async function bf16Skip(): Promise<string | null> {
  await initBackend(DEFAULT_RUNTIME.backend);
  const lib = nativeConvolutionsActive()?.lib;
  if (!(lib instanceof OneDnnConvolutions)) return `convolutions not on oneDNN (${lib?.name ?? "the backend's own"})`;
  const support = lib.bf16Support();
  return support.supported ? null : `no bf16 convolutions here: ${support.reason}`;
}

async function tinyRun(name: string, sets: string[], log: string[] = []) {
  const out = join(await Deno.makeTempDir(), name);
  const { metrics } = await runExperiment({ data: root, className: "puck", mode: "depth", epochs: 2, seed: 1, out, sets: [...TINY_SETS, ...sets], log: (l) => log.push(l) });
  const weights = { teacher: sha(await Deno.readFile(join(out, "teacher.safetensors"))), student: sha(await Deno.readFile(join(out, "student.safetensors"))) };
  const config = (await readJson<{ config: Record<string, unknown> }>(join(out, "config.json"))).config;
  return { out, metrics, weights, config, log };
}

Deno.test({ name: "precision: a bf16 depth run records bf16 + its kernels, AUROC within 0.12 of fp32; fp32 runs unchanged around it; scoring uses the recorded precision", ...opts, fn: async () => {
  const skip = await bf16Skip();
  if (skip) return console.warn(`SKIP: ${skip}`);
  const a = await tinyRun("fp32", []);
  const bLog: string[] = [];
  const b = await tinyRun("bf16", ["precision=bf16"], bLog);
  const c = await tinyRun("fp32-again", ["precision=fp32"]);

  // fp32: no precision key, the config JSON from before the option, the same weights after a bf16 run
  assert(!("precision" in a.config) && !("precision" in c.config));
  assertEquals(sha(JSON.stringify(a.config)), FP32_CONFIG_BEFORE);
  assertEquals(sha(JSON.stringify(c.config)), FP32_CONFIG_BEFORE);
  assertEquals(c.weights, a.weights, "an fp32 run after a bf16 one trains the same weights");
  assertEquals(c.metrics.image_auroc_max, a.metrics.image_auroc_max);
  for (const m of [a.metrics, c.metrics]) {
    assertEquals(m.precision, "fp32");
    assert(/^fp32 via /.test(m.precision_isa ?? "") && !/bf16/.test(m.precision_isa!), m.precision_isa ?? "null");
  }

  // bf16: recorded, logged once, different weights, AUROC close
  assertEquals(b.config.precision, "bf16");
  assertEquals(b.metrics.precision, "bf16");
  assert(/^bf16 via .*bf16/.test(b.metrics.precision_isa ?? ""), b.metrics.precision_isa ?? "null");
  assertEquals(bLog.filter((l) => /bf16/.test(l)).length, 1, bLog.join("\n"));
  assert(b.weights.teacher !== a.weights.teacher, "bf16 convolutions change the trained weights");
  const diff = Math.abs(b.metrics.image_auroc_max! - a.metrics.image_auroc_max!);
  console.log(`  image AUROC (max): fp32 ${a.metrics.image_auroc_max!.toFixed(4)}, bf16 ${b.metrics.image_auroc_max!.toFixed(4)} (|diff| ${diff.toFixed(4)}); kernels: ${b.metrics.precision_isa}`);
  assert(diff <= AUROC_TOLERANCE, `AUROC differs by ${diff}`);
  const onDisk = await readJson<Record<string, unknown>>(join(b.out, "metrics.json"));
  assertEquals([onDisk.precision, onDisk.precision_isa], [b.metrics.precision, b.metrics.precision_isa]);

  // `ast score`'s loader: the bf16 model in bf16 (active precision is fp32 after run c), exactly its recorded scores
  const ds = await openDataset(root, "puck");
  for (const run of [b, a]) {
    const model = await loadTrainedModel(run.out);
    try {
      assertEquals(convolutionPrecisionReport().precision, run.metrics.precision);
      const r = model.score(await model.features(ds.test.map(sampleInputFiles)));
      assertEquals(Array.from(r.scoreMax), readScoresParquet(run.out).getColumn("score_max").toArray() as number[], `${run.out} rescored`);
    } finally {
      model.dispose();
    }
  }
} });

Deno.test({ name: "precision: where bf16 cannot run (DNNL_MAX_CPU_ISA=AVX512_CORE, subprocess) the run says why once and records fp32", ...opts, fn: async () => {
  await initBackend(DEFAULT_RUNTIME.backend);
  if (!(nativeConvolutionsActive()?.lib instanceof OneDnnConvolutions)) return console.warn("SKIP: convolutions not on oneDNN here");
  const out = join(await Deno.makeTempDir(), "run");
  const r = await new Deno.Command(Deno.execPath(), {
    args: runArgs("ast", CLI, "run", "--data", root, "--class", "puck", "--mode", "depth", "--epochs", "1", "--out", out, "--set", "precision=bf16", ...TINY_SETS.flatMap((s) => ["--set", s])),
    env: { DNNL_MAX_CPU_ISA: "AVX512_CORE", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr);
  assertEquals(r.code, 0, text);
  const notes = text.split("\n").filter((l) => /precision bf16 unavailable/.test(l));
  assertEquals(notes.length, 1, text);
  assert(/running fp32: (oneDNN's effective ISA is|the CPU has neither)/.test(notes[0]), notes[0]);
  console.log(`  ${notes[0].trim()}`);
  const m = await readJson<Record<string, unknown>>(join(out, "metrics.json"));
  assertEquals(m.precision, "fp32");
  assert(/^fp32 via /.test(String(m.precision_isa)), String(m.precision_isa));
  assertEquals((await readJson<{ config: Record<string, unknown> }>(join(out, "config.json"))).config.precision, "bf16", "config.json keeps what was asked");
} });
