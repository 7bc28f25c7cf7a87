/** Registry resolution rules (docs/CLI_CONTRACT.md): explicit choices never substituted, preset fallbacks recorded. */
import { join } from "node:path";
import { BACKBONES, BackboneError, backboneSpec, bundledWeights, efficientNetBlock, locateWeights, RAW_PATCH_WARNING, resolveBackbone } from "../../lib/features/backbones.ts";
import { weightsChecksum } from "../../lib/features/weights_files.ts";
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { needsShared, sharedPath } from "../_shared.ts";
import { presetConfig } from "../../lib/config/presets.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const empty = await Deno.makeTempDir({ prefix: "ast-noweights-" });

Deno.test("registry: one table with layer, stride, channels, input rule, normalisation, weights source", () => {
  assertEquals(BACKBONES.map((b) => b.name), ["raw-patch", "mobilenet_v2", "efficientnet-b5"]);
  const mb = backboneSpec("mobilenet_v2");
  assertEquals([mb.defaultLayer, mb.stride, mb.channels, mb.inputSize(16), mb.inputSize(24)], ["block_12_add", 16, 32, 256, 384]);
  const eb = backboneSpec("efficientnet-b5");
  assertEquals([eb.defaultLayer, eb.stride, eb.channels, eb.inputSize(24)], ["block35", 32, 304, 768]);
  for (const b of BACKBONES) assert(b.normalisation && b.summary);
  assertEquals(backboneSpec("raw-patch").weights, null);
  assertThrows(() => backboneSpec("resnet50"), /unknown backbone 'resnet50' \(available: raw-patch, mobilenet_v2, efficientnet-b5\)/);
  assertEquals([efficientNetBlock("block35"), efficientNetBlock("27"), efficientNetBlock("_blocks.13")], [35, 27, 13]);
  assertThrows(() => efficientNetBlock("stage4"), /blockN/);
});

Deno.test({ name: "registry: without weights in the weights root, mobilenet_v2 uses the bundled, hash-checked ones", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const spec = backboneSpec("mobilenet_v2");
  const bundled = spec.weights!.bundled!;
  assertEquals(await locateWeights(spec, undefined, empty), bundled.path);
  const r = await resolveBackbone({ name: "mobilenet_v2", weightsDir: empty });
  try {
    assertEquals([r.backbone.name, r.weightsPath, r.note], ["mobilenet_v2", bundled.path, undefined]);
    // the checksum of the bundled folder is the one of the pinned files
    const files = Object.keys(bundled.sha256).sort().map((n) => join(bundled.path, n));
    assertEquals(r.backbone.weightsChecksum, await weightsChecksum(files));
  } finally {
    r.backbone.dispose?.();
  }
  // a changed bundled file is refused, naming it and both hashes
  const copy = await Deno.makeTempDir({ prefix: "ast-bundled-" });
  for (const name of Object.keys(bundled.sha256)) await Deno.copyFile(join(bundled.path, name), join(copy, name));
  const bin = await Deno.readFile(join(copy, "weights.bin"));
  bin[1000] ^= 1;
  await Deno.writeFile(join(copy, "weights.bin"), bin);
  const tampered = { ...spec, weights: { ...spec.weights!, bundled: { ...bundled, path: copy } } };
  await assertRejects(() => bundledWeights(tampered), BackboneError, `${join(copy, "weights.bin")}: SHA-256 `);
  await Deno.remove(join(copy, "model.json"));
  await assertRejects(() => bundledWeights(tampered), BackboneError, "bundled mobilenet_v2 weights file missing");
} });

Deno.test({ name: "registry: without any weights, a preset's own choice falls back to raw-patch and says so loudly", ...opts, fn: async () => {
  for (const preset of ["demo", "cpu", "reference-small"] as const) {
    const cfg = presetConfig(preset, "combi", "mvtec3d");
    assertEquals([cfg.backbone, cfg.backboneFallback], ["mobilenet_v2", true]);
    const r = await resolveBackbone({ name: cfg.backbone, fallback: cfg.backboneFallback, weightsDir: empty, bundled: false });
    assertEquals(r.backbone.name, "raw-patch");
    assert(/mobilenet_v2 weights not found at .*mobilenet_v2_0\.35_224.*raw-pixel patch embedding.*NOT a pretrained network/.test(r.note!), r.note ?? "no note");
  }
} });

Deno.test({ name: "registry: an explicit --backbone is never substituted; paper errors saying how to get weights", ...opts, fn: async () => {
  await assertRejects(
    () => resolveBackbone({ name: "mobilenet_v2", weightsDir: empty, bundled: false }),
    /backbone 'mobilenet_v2': weights not found at .*AST_WEIGHTS_DIR.*--weights PATH/,
  );
  const cfg = presetConfig("paper", "rgb", "mvtecad");
  assertEquals([cfg.backbone, cfg.backboneFallback], ["efficientnet-b5", false]);
  const paper = await resolveBackbone({ name: cfg.backbone, fallback: cfg.backboneFallback, weightsDir: empty }).catch((e) => e as Error);
  assert(paper instanceof Error);
  assert(/efficientnet-b5.*weights not found at .*efficientnet_b5\/model\.safetensors/.test(paper.message), paper.message);
  assert(/download_weights\.ts --out \$AST_WEIGHTS_DIR\/efficientnet_b5/.test(paper.message), paper.message);
  assert(!paper.message.includes("\n"), "one line");
  await assertRejects(() => resolveBackbone({ name: "mobilenet_v2", fallback: true, weights: "/nope/x", weightsDir: empty }), /--weights \/nope\/x: not found/);
  await assertRejects(() => resolveBackbone({ name: "raw-patch", weights: empty }), /takes no weights/);
  await assertRejects(() => resolveBackbone({ name: "raw-patch", layer: "x" }), /no layers/);
  await assertRejects(() => resolveBackbone({ name: "vgg" }), /unknown backbone 'vgg'/);
  // raw patches only when chosen, and then said loudly
  const raw = await resolveBackbone({ name: "raw-patch" });
  assertEquals(raw.backbone.name, "raw-patch");
  assert(raw.note!.includes(RAW_PATCH_WARNING), raw.note ?? "no note");
} });

Deno.test({ name: "registry: mobilenet_v2 found under the runtime's weights root, with layer and weights checksum", ignore: needsShared(), ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const weightsDir = sharedPath("weights");
  const r = await resolveBackbone({ name: "mobilenet_v2", fallback: true, weightsDir });
  try {
    assertEquals([r.backbone.name, r.note, r.backbone.layer, r.backbone.channels, r.backbone.stride], ["mobilenet_v2", undefined, "block_12_add", 32, 16]);
    const dir = sharedPath("weights", "mobilenet_v2_0.35_224");
    assertEquals(r.weightsPath, dir);
    assertEquals(r.backbone.weightsChecksum, await weightsChecksum([`${dir}/model.json`, `${dir}/weights.bin`]));
    assert(/^[0-9a-f]{64}$/.test(r.backbone.weightsChecksum!));
  } finally {
    r.backbone.dispose?.();
  }
  const l = await resolveBackbone({ name: "mobilenet_v2", layer: "block_6_expand_relu", weightsDir });
  assertEquals([l.backbone.layer, l.backbone.stride, l.backbone.channels, l.backbone.inputSize!(16)], ["block_6_expand_relu", 8, 96, 128]);
  l.backbone.dispose?.();
} });
