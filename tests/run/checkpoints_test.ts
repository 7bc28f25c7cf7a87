/** Issue 15, item 4: a finished run's checkpoint/ is removed once metrics.json is written; --keep-checkpoints keeps it. */
import { join } from "node:path";
import { main as astMain } from "../../lib/cli/ast.ts";
import { DEFAULT_RUNTIME } from "../../lib/config/runtime.ts";
import { runExperiment } from "../../lib/run/run.ts";
import { loadTrainedModel } from "../../lib/run/trained.ts";
import { exists } from "../../lib/util/fs.ts";
import { assert, assertEquals } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "./_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const root = await tinyMvtec3d(4);
const base = await Deno.makeTempDir();
const readJson = async (path: string) => JSON.parse(await Deno.readTextFile(path));

Deno.test({ name: "checkpoints: removed after a finished run (said in the log and metrics.json); the model still loads", ...opts, fn: async () => {
  const out = join(base, "removed");
  const lines: string[] = [];
  await runExperiment({ data: root, className: "puck", mode: "depth", epochs: 1, seed: 0, out, sets: TINY_SETS, log: (l) => lines.push(l) });
  assert(!(await exists(join(out, "checkpoint"))), "checkpoint/ is gone");
  assert(lines.some((l) => /^removed checkpoint\/ \(\d+(\.\d)? [KM]?B; --keep-checkpoints keeps it\)$/.test(l)), lines.join("\n"));
  assertEquals((await readJson(join(out, "metrics.json"))).checkpoints, "removed");
  for (const f of ["teacher.safetensors", "student.safetensors", "model.json", "metrics.json"]) assert(await exists(join(out, f)), f);
  (await loadTrainedModel(out)).dispose();
}});

Deno.test({ name: "checkpoints: ast run --keep-checkpoints keeps them, and metrics.json says so", ...opts, fn: async () => {
  const out = join(base, "kept");
  const log = console.log;
  console.log = () => {};
  try {
    assertEquals(await astMain(["run", "--data", root, "--class", "puck", "--mode", "depth", "--epochs", "1", "--out", out, "--keep-checkpoints", ...TINY_SETS.flatMap((s) => ["--set", s])], DEFAULT_RUNTIME), 0);
  } finally {
    console.log = log;
  }
  assert(await exists(join(out, "checkpoint", "teacher.safetensors")), "teacher checkpoint kept");
  assert(await exists(join(out, "checkpoint", "student.safetensors")), "student checkpoint kept");
  assertEquals((await readJson(join(out, "metrics.json"))).checkpoints, "kept");
}});
