import { join } from "node:path";
import { type DatasetRef, type ExperimentDefinition, gridCells, runGrid } from "../../lib/experiment/grid.ts";
import type { ConfigPatch } from "../../lib/config/patch.ts";
import { DEFAULT_RUNTIME } from "../../lib/config/runtime.ts";
import { readJson } from "../../lib/results/run_files.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { tinyMvtec3d } from "../run/_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};
const root3d = await tinyMvtec3d();
const tiny: ConfigPatch = { mapLen: 8, teacher: { hidden: 8 }, student: { hidden: 8, nBlocks: 1 } };

function definition(variants: ExperimentDefinition["scales"]["demo"]["variants"], datasets: DatasetRef[] = [{ data: root3d, className: "puck" }]): ExperimentDefinition {
  const spec = { preset: "demo" as const, datasets, modes: ["depth" as const], variants, seeds: [0], epochs: 1 };
  return { name: "tiny", title: "tiny", paper: "none", description: "test", scales: { demo: spec, cpu: spec, paper: spec } };
}

Deno.test({ name: "grid: cells run once, are reused when recorded, identical cells share one run", ...opts, fn: async () => {
  const results = await Deno.makeTempDir();
  const def = definition([
    { name: "a", config: tiny },
    { name: "a-again", config: tiny },
    { name: "no-pe", config: { ...tiny, posEnc: false } },
  ]);
  const first = await runGrid(def, "demo", { results, log: quiet });
  assertEquals(first.map((c) => c.status), ["trained", "recorded", "trained"]);
  assertEquals(first[0].runDir, first[1].runDir);
  assert(first[0].runDir !== first[2].runDir, "a different config must get its own run folder");
  const m = first[0].metrics!;
  assert(m.teacher_nll !== null && typeof m.teacher_nll.image_auroc_max === "number", "teacher NLL metrics recorded");
  assert(m.params.teacher > 0 && m.params.student > 0, "parameter counts recorded");
  assert(m.timing.inference_ms_per_image > 0, "inference time recorded");

  const again = await runGrid(def, "demo", { results, log: quiet });
  assertEquals(again.map((c) => c.status), ["recorded", "recorded", "recorded"]);
  assertEquals(again[2].metrics!.image_auroc_max, first[2].metrics!.image_auroc_max);
  const index = await readJson<{ cells: { variant: string; runDir: string }[] }>(join(results, "experiments", "tiny", "demo.json"));
  assertEquals(index.cells.map((c) => c.variant), ["a", "a-again", "no-pe"]);
}});

Deno.test({ name: "grid: an interrupted cell resumes and gives the recorded result", ...opts, fn: async () => {
  const results = await Deno.makeTempDir();
  const def = definition([{ name: "a", config: tiny }]);
  const [done] = await runGrid(def, "demo", { results, log: quiet });
  // Simulate an interruption after training: the record is incomplete without metrics.json.
  await Deno.remove(join(done.runDir!, "metrics.json"));
  const [resumed] = await runGrid(def, "demo", { results, log: quiet });
  assertEquals(resumed.status, "resumed");
  assertEquals(resumed.runDir, done.runDir);
  assertEquals(resumed.metrics!.image_auroc_max, done.metrics!.image_auroc_max);
}});

Deno.test({ name: "grid: missing optional data is skipped, missing required data names the fix", ...opts, fn: async () => {
  const results = await Deno.makeTempDir();
  const missing = { data: join(results, "nowhere"), className: "x", howToGet: "download it from the moon" };
  const cells = await runGrid(definition([{ name: "a", config: tiny }], [{ ...missing, optional: true }]), "demo", { results, log: quiet });
  assertEquals(cells.map((c) => c.status), ["unavailable"]);
  await assertRejects(() => runGrid(definition([{ name: "a", config: tiny }], [missing]), "demo", { results, log: quiet }), Error, "download it from the moon");
}});

Deno.test("grid: cells honour per-dataset and per-variant mode restrictions", () => {
  const spec = {
    preset: "demo" as const,
    modes: ["depth" as const, "rgb" as const, "combi" as const],
    datasets: [{ data: "a", className: "x", modes: ["rgb" as const] }, { data: "b", className: "y" }],
    variants: [{ name: "v1" }, { name: "v2", modes: ["combi" as const] }],
    seeds: [0, 1],
  };
  const cells = gridCells(spec).map((c) => `${c.ref.className}/${c.mode}/${c.variant.name}/${c.seed}`);
  assertEquals(cells, [
    "x/rgb/v1/0", "x/rgb/v1/1",
    "y/depth/v1/0", "y/depth/v1/1", "y/rgb/v1/0", "y/rgb/v1/1", "y/combi/v1/0", "y/combi/v1/1", "y/combi/v2/0", "y/combi/v2/1",
  ]);
});

Deno.test({ name: "grid: a cell's identity depends on the feature weights' contents, not on where they are", ...opts, fn: async () => {
  const results = await Deno.makeTempDir();
  const weightsRoot = async (content: string) => {
    const root = await Deno.makeTempDir();
    const dir = join(root, "mobilenet_v2_0.35_224");
    await Deno.mkdir(dir);
    await Deno.writeTextFile(join(dir, "model.json"), content);
    await Deno.writeTextFile(join(dir, "weights.bin"), "w");
    return root;
  };
  const def = definition([{ name: "a", config: { ...tiny, backbone: "mobilenet_v2" } }]);
  def.scales.demo = { ...def.scales.demo, modes: ["rgb"] };
  const runDirWith = async (root: string) =>
    (await runGrid(def, "demo", { results, log: quiet, dryRun: true, runtime: { ...DEFAULT_RUNTIME, weightsDir: root } }))[0].runDir;
  const a = await runDirWith(await weightsRoot("same"));
  const b = await runDirWith(await weightsRoot("same"));
  const c = await runDirWith(await weightsRoot("other"));
  assertEquals(a, b);
  assert(a !== c, "other weights, other cell");
}});

Deno.test({ name: "grid: student variants reuse the same seed's reference teacher, bit for bit the one they would train", ...opts, fn: async () => {
  const results = await Deno.makeTempDir();
  const def = definition([
    { name: "flow-student", config: { ...tiny, student: { kind: "flow", hidden: 8, nBlocks: 1 } } },
    { name: "ast", config: tiny },
    { name: "no-pe", config: { ...tiny, posEnc: false } },
  ]);
  def.scales.demo = { ...def.scales.demo, seeds: [0, 1] };
  const cells = await runGrid(def, "demo", { results, log: quiet });
  // the reference (ast) runs first for every seed, whatever its place in the list
  assertEquals(cells.map((c) => `${c.variant}/${c.seed}`), ["ast/0", "ast/1", "flow-student/0", "flow-student/1", "no-pe/0", "no-pe/1"]);
  assertEquals(cells.map((c) => c.reference), new Array(6).fill("ast"));
  const by = (v: string, s: number) => cells.find((c) => c.variant === v && c.seed === s)!;
  for (const seed of [0, 1]) {
    const flow = by("flow-student", seed), ref = by("ast", seed);
    assertEquals(flow.teacherFrom, ref.runDir);
    assertEquals(flow.metrics!.teacher_from, ref.runDir);
    const config = await readJson<{ teacher_from?: string }>(join(flow.runDir!, "config.json"));
    assertEquals(config.teacher_from, ref.runDir);
    assertEquals(await Deno.readFile(join(flow.runDir!, "teacher.safetensors")), await Deno.readFile(join(ref.runDir!, "teacher.safetensors")));
    // a teacher-side change trains its own teacher
    assertEquals(by("no-pe", seed).teacherFrom, undefined);
  }
  assert(by("ast", 0).metrics!.teacher_from === undefined, "the reference trains its own teacher");
  // The shared teacher is the one the variant would have trained: train it alone and compare.
  const alone = definition([{ name: "flow-student", config: { ...tiny, student: { kind: "flow", hidden: 8, nBlocks: 1 } } }]);
  const [own] = await runGrid(alone, "demo", { results: await Deno.makeTempDir(), log: quiet });
  assertEquals(own.teacherFrom, undefined);
  assertEquals(await Deno.readFile(join(own.runDir!, "teacher.safetensors")), await Deno.readFile(join(by("flow-student", 0).runDir!, "teacher.safetensors")));
  assertEquals(own.metrics!.image_auroc_max, by("flow-student", 0).metrics!.image_auroc_max);
}});

Deno.test({ name: "grid: a teacher from a run with another teacher config is refused", ...opts, fn: async () => {
  const { adoptTeacher } = await import("../../lib/run/fit.ts");
  const results = await Deno.makeTempDir();
  const [noPe] = await runGrid(definition([{ name: "no-pe", config: { ...tiny, posEnc: false } }]), "demo", { results, log: quiet });
  const config = await readJson<import("../../lib/results/record.ts").RunConfigFile>(join(noPe.runDir!, "config.json"));
  const out = await Deno.makeTempDir();
  const cfg = { ...config.config, posEnc: true };
  await assertRejects(() => adoptTeacher(noPe.runDir!, { out, cfg, log: quiet }, config), Error, "teacher-side config");
  await assertRejects(() => adoptTeacher(noPe.runDir!, { out, cfg: config.config, log: quiet }, { ...config, class: "other" }), Error, "data or class");
}});

Deno.test({ name: "grid: per-dataset variant lists and `set` overrides", ...opts, fn: async () => {
  const spec = {
    preset: "demo" as const,
    modes: ["depth" as const],
    datasets: [{ data: "a", className: "x", variants: ["v2"] }, { data: "b", className: "y" }],
    variants: [{ name: "ast" }, { name: "v1" }, { name: "v2" }],
    seeds: [0],
  };
  assertEquals(gridCells(spec).map((c) => `${c.ref.className}/${c.variant.name}`), ["x/ast", "x/v2", "y/ast", "y/v1", "y/v2"]);
  const results = await Deno.makeTempDir();
  const def = definition([{ name: "ast", config: tiny }]);
  const [plain] = await runGrid(def, "demo", { results, log: quiet, dryRun: true });
  const [wider] = await runGrid(def, "demo", { results, log: quiet, dryRun: true, set: { batchSize: 4 } });
  assert(plain.runDir !== wider.runDir, "an override is another cell");
}});

Deno.test({ name: "grid: a regenerated dataset at the same place gets new cells, an unchanged one the same", ...opts, fn: async () => {
  const { generateDataset } = await import("../../lib/data/synthetic.ts");
  const results = await Deno.makeTempDir();
  const root = await Deno.makeTempDir();
  const make = (seed: number) => generateDataset({ root, seed, size: 32, counts: { train: 4, validation: 1, testGood: 2, defects: { dent: 1, bump: 1, hole: 0, crack: 0, color: 0 } }, force: true });
  await make(0);
  const def = definition([{ name: "a", config: tiny }], [{ data: root, className: "puck" }]);
  const dir = async () => (await runGrid(def, "demo", { results, log: quiet, dryRun: true }))[0].runDir;
  const first = await dir();
  assertEquals(await dir(), first);
  await make(1);
  assert((await dir()) !== first, "other contents, other cell");
}});
