import { efficientNetB5Backbone, strideAtBlock } from "../../lib/features/efficientnet/backbone.ts";
import { readImage } from "../../lib/io/images.ts";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { needsShared, sharedPath } from "../_shared.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";

// The backbone runs on whatever backend is active: the one this environment asks for.
await initBackend(runtimeFromEnv().backend);

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("strideAtBlock: 16 at block 13, 32 at blocks 27 and 35", () => {
  assertEquals([strideAtBlock(0), strideAtBlock(13), strideAtBlock(27), strideAtBlock(35)], [2, 16, 32, 32]);
});

Deno.test({
  name: "efficientNetB5Backbone: input.png at mapLen 24 reproduces the fixture's block 35 (preprocessing + network)",
  ignore: needsShared(),
  ...opts,
  fn: async () => {
    const dir = sharedPath("fixtures", "efficientnet_b5_reference");
    const backbone = await efficientNetB5Backbone(`${dir}/weights.safetensors`);
    assertEquals([backbone.name, backbone.channels, backbone.layer, backbone.stride, backbone.inputSize?.(24)], ["efficientnet-b5", 304, "block35", 32, 768]);
    assert(/^[0-9a-f]{64}$/.test(backbone.weightsChecksum ?? ""));
    const image = await readImage(`${dir}/input.png`, { toRgb: true });
    const small = await backbone.extract(image, 2);
    assertEquals(small.length, 2 * 2 * 304);
    const features = await backbone.extract(image, 24); // HWC
    const expected = (await readSafetensors(`${dir}/tensors.safetensors`)).tensors.get("block35")!; // NCHW
    let num = 0, den = 0;
    for (let c = 0; c < 304; c++) {
      for (let p = 0; p < 576; p++) {
        const e = expected.data[c * 576 + p];
        num += (features[p * 304 + c] - e) ** 2;
        den += e * e;
      }
    }
    const relL2 = Math.sqrt(num / den);
    console.log(`  image -> block35 features: rel L2 ${relL2.toExponential(2)}`);
    assert(relL2 <= 1e-4, `rel L2 ${relL2}`);
    backbone.dispose?.();
    await assertRejects(() => backbone.extract(image, 2), /after dispose/);
  },
});

Deno.test({
  name: "efficientNetB5Backbone: block option (13 -> 128 ch at stride 16) and a wrong pinned hash",
  ignore: needsShared(),
  ...opts,
  fn: async () => {
    const path = sharedPath("fixtures", "efficientnet_b5_reference", "weights.safetensors");
    const b13 = await efficientNetB5Backbone(path, { block: 13 });
    assertEquals(b13.channels, 128);
    const image = { width: 40, height: 30, channels: 1 as const, data: new Uint8Array(1200).fill(90) };
    assertEquals((await b13.extract(image, 3)).length, 3 * 3 * 128);
    b13.dispose?.();
    await assertRejects(() => efficientNetB5Backbone(path, { sha256: "0".repeat(64) }), /SHA-256 mismatch/);
  },
});
