/**
 * Issue 17, config `precision`: absent means fp32, so fp32 configs keep the JSON (and with it the
 * grid's run ids, config.json's checksum in the model card, the teacher-sharing key) they had
 * before the option existed; "bf16" adds the key and so gets cells of its own.
 */
import { createHash } from "node:crypto";
import { type AstConfig, teacherConfigKey } from "../../lib/config/ast_config.ts";
import { applyPatch, ConfigError } from "../../lib/config/patch.ts";
import { resolveConfig } from "../../lib/config/resolve.ts";
import { type ExperimentDefinition, planGrid } from "../../lib/experiment/grid.ts";
import type { DatasetLayout, Mode, PresetName } from "../../lib/types.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { tinyMvtec3d } from "../run/_tiny.ts";

const sha = (s: string) => (createHash("sha256").update(s).digest("hex") as string).slice(0, 16);

/**
 * sha256 (first 16 hex) of JSON.stringify(resolved config) and of teacherConfigKey, computed with
 * the code before the option (commit 7367bf5) for every preset, mode and layout.
 */
const BEFORE: Record<string, string> = {
  "demo/depth/mvtec3d": "ecee3288c97fa0b5 9f8eb6cede8c897b",
  "demo/rgb/mvtec3d": "46e1bd5c194aa23d 0fcfc3d8712f7fca",
  "demo/rgb/mvtec": "bbcbc019b320b32c 1472481c9c5ba8b6",
  "demo/combi/mvtec3d": "6d1b05375aaf2ba3 df5b6330585e152b",
  "cpu/depth/mvtec3d": "7016b5555e9cd50f 4d8c779d4931b731",
  "cpu/rgb/mvtec3d": "e53396f005a3af19 34189592d8f83a25",
  "cpu/rgb/mvtec": "592cc3af03872054 c559de5cbfbb3290",
  "cpu/combi/mvtec3d": "e94b170b1a347c31 391eabb96541566a",
  "paper/depth/mvtec3d": "5845661aafcd9ab6 f9a361ea290826a2",
  "paper/rgb/mvtec3d": "d3fb716d89921a55 9a9aeb82eaf866fd",
  "paper/rgb/mvtec": "60810e92b6d58183 b83947afda2f40e0",
  "paper/combi/mvtec3d": "d3177fc04f28a3e0 821cf9f8fbe795dc",
};

function resolved(key: string, sets: string[] = []): AstConfig {
  const [preset, mode, layout] = key.split("/") as [PresetName, Mode, DatasetLayout];
  return resolveConfig({ preset, mode, layout, sets });
}

Deno.test("precision: an fp32 config (default or --set precision=fp32) has no precision key and the JSON it had before the option", () => {
  for (const [key, before] of Object.entries(BEFORE)) {
    for (const sets of [[], ["precision=fp32"], ["precision=bf16", "precision=fp32"]]) {
      const cfg = resolved(key, sets);
      assert(!("precision" in cfg), `${key} ${sets}: ${JSON.stringify(cfg)}`);
      assertEquals(`${sha(JSON.stringify(cfg))} ${sha(teacherConfigKey(cfg))}`, before, `${key} ${sets}`);
    }
  }
});

Deno.test("precision: --set precision=bf16 and an experiment file's precision: 'bf16' add the key; other values are one clear error", () => {
  const cfg = resolved("demo/depth/mvtec3d", ["precision=bf16"]);
  assertEquals(cfg.precision, "bf16");
  assert(JSON.stringify(cfg) !== JSON.stringify(resolved("demo/depth/mvtec3d")));
  assert(teacherConfigKey(cfg) !== teacherConfigKey(resolved("demo/depth/mvtec3d")), "a bf16 teacher is not an fp32 one");
  const fromFile = resolveConfig({ mode: "depth", layout: "mvtec3d", file: { path: "x.json", patch: { precision: "bf16" } } });
  assertEquals(fromFile.precision, "bf16");
  assertEquals(resolveConfig({ mode: "depth", layout: "mvtec3d", file: { path: "x.json", patch: { precision: "fp32" } } }), resolved("demo/depth/mvtec3d"));
  for (const bad of ["fp16", "BF16", "16"]) {
    assertThrows(() => resolved("demo/depth/mvtec3d", [`precision=${bad}`]), Error, `invalid config: precision must be fp32 or bf16, got "${bad}"`);
  }
  assertThrows(() => applyPatch(resolved("demo/depth/mvtec3d"), { precision: 16 }, "--config x.json"), ConfigError, "--config x.json: 'precision' must be string, got number");
  assertThrows(() => resolved("demo/depth/mvtec3d", ["precision.x=1"]), ConfigError, "unknown config key");
});

Deno.test({ name: "precision: a grid's bf16 variant gets its own cell id; an fp32 one shares the reference's", sanitizeOps: false, sanitizeResources: false, fn: async () => {
  const root = await tinyMvtec3d();
  const spec = {
    preset: "demo" as const,
    datasets: [{ data: root, className: "puck" }],
    modes: ["depth" as const],
    variants: [{ name: "ref", config: {} }, { name: "fp32", config: { precision: "fp32" as const } }, { name: "bf16", config: { precision: "bf16" as const } }],
    seeds: [0],
    epochs: 1,
  };
  const def: ExperimentDefinition = { name: "p", title: "p", paper: "none", description: "test", scales: { demo: spec, cpu: spec, paper: spec } };
  const plan = await planGrid(def, "demo", { results: await Deno.makeTempDir(), log: () => {} });
  const [ref, fp32, bf16] = plan.cells.map((c) => c.id);
  assert(ref && bf16, JSON.stringify(plan.cells.map((c) => c.problem)));
  assertEquals(fp32, ref);
  assert(bf16 !== ref, `bf16 cell ${bf16} must differ from ${ref}`);
  await Deno.remove(root, { recursive: true });
} });
