/**
 * Issue 14, case 9 in process: an interruption between checkpoints or during result writing
 * leaves a record that is not complete and that --resume finishes, each epoch recorded once.
 */
import { join } from "node:path";
import { runExperiment } from "../../lib/run/run.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "./_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const root3d = await tinyMvtec3d();
const args = { data: root3d, className: "puck", mode: "depth" as const, epochs: 4, seed: 1, sets: [...TINY_SETS, "checkpointEvery=2"], log: () => {} };
const phasesOf = async (out: string) =>
  (JSON.parse(await Deno.readTextFile(join(out, "history.json"))).epochs as { phase: string; epoch: number }[]).map((h) => `${h.phase}${h.epoch}`);

Deno.test({ name: "resume: epochs after the last checkpoint are trained again and recorded once", ...opts, fn: async () => {
  const out = join(await Deno.makeTempDir(), "run");
  await assertRejects(() => runExperiment({ ...args, out, onEpoch: (r) => { if (r.phase === "teacher" && r.epoch === 3) throw new Error("stop"); } }), /stop/);
  assertEquals(await phasesOf(out), ["teacher1", "teacher2", "teacher3"]); // checkpoint at 2
  await runExperiment({ ...args, out, resume: true });
  assertEquals(await phasesOf(out), ["teacher1", "teacher2", "teacher3", "teacher4", "student1", "student2", "student3", "student4"]);
} });

Deno.test({ name: "resume: a run stopped while writing its results (no metrics.json, temp files left) is finished by --resume", ...opts, fn: async () => {
  const out = join(await Deno.makeTempDir(), "run");
  const first = await runExperiment({ ...args, out });
  // as if killed after model.json and before metrics.json's rename: a temp file, no metrics.json
  await Deno.rename(join(out, "metrics.json"), join(out, "metrics.json.tmp-99999"));
  await Deno.writeTextFile(join(out, "maps.safetensors.tmp-99999"), "partial");
  await assertRejects(() => runExperiment({ ...args, out }), /already exists/);
  const { metrics } = await runExperiment({ ...args, out, resume: true });
  assertEquals(metrics.image_auroc_max, first.metrics.image_auroc_max);
  assert(JSON.parse(await Deno.readTextFile(join(out, "metrics.json"))).image_auroc_max === first.metrics.image_auroc_max);
  assertEquals((await phasesOf(out)).length, 8, "trained weights found: nothing retrained");
} });
