/**
 * Conformance of the EfficientNet-B5 network against the reference package's outputs
 * (fixtures/efficientnet_b5_reference: random float16 weights, float64 expectations), from the
 * fixture's own normalised input. Reports relative L2 and max abs error per block.
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { type NamedArray, readSafetensors } from "../../lib/io/safetensors.ts";
import { EfficientNetB5, EfficientNetWeightsError } from "../../lib/features/efficientnet/model.ts";
import { needsShared, sharedPath } from "../_shared.ts";
import { assert, assertEquals, assertThrows } from "../assert.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const dir = () => sharedPath("fixtures", "efficientnet_b5_reference");

async function fixtureWeights(): Promise<Map<string, NamedArray>> {
  return (await readSafetensors(`${dir()}/weights.safetensors`)).tensors;
}

/** NHWC output vs NCHW expectation: relative L2 and max abs error. */
function compareNchw(got: Float32Array, expected: NamedArray): { relL2: number; maxAbs: number } {
  const [, c, h, w] = expected.shape;
  let num = 0, den = 0, maxAbs = 0;
  for (let ch = 0; ch < c; ch++) {
    for (let p = 0; p < h * w; p++) {
      const e = expected.data[ch * h * w + p], d = got[p * c + ch] - e;
      num += d * d;
      den += e * e;
      maxAbs = Math.max(maxAbs, Math.abs(d));
    }
  }
  return { relL2: Math.sqrt(num / den), maxAbs };
}

Deno.test({
  name: "EfficientNet-B5 768x768 from input.normalized: blocks 13, 27, 35 within rel L2 1e-4 of the reference",
  ignore: needsShared(),
  ...opts,
  fn: async () => {
    const info = await initBackend(runtimeFromEnv().backend);
    const expected = (await readSafetensors(`${dir()}/tensors.safetensors`)).tensors;
    const model = EfficientNetB5.fromReferenceWeights(await fixtureWeights(), { upToBlock: 35, source: "weights.safetensors" });
    const inp = expected.get("input.normalized")!;
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(inp.data as Float32Array, [1, 3, 768, 768]), [0, 2, 3, 1])) as tf.Tensor4D;
    const t0 = performance.now();
    const out = model.forward(x, [13, 27, 35]);
    const got = new Map<number, Float32Array>();
    for (const [b, y] of out) got.set(b, (await y.data()) as Float32Array);
    const ms = performance.now() - t0;
    console.log(`  768x768 forward to block 35: ${ms.toFixed(0)} ms on ${info.name} x${info.threads}`);
    for (const b of [13, 27, 35]) {
      const e = expected.get(`block${b}`)!;
      const [n, c, h, w] = e.shape;
      assertEquals(out.get(b)!.shape, [n, h, w, c]);
      const { relL2, maxAbs } = compareNchw(got.get(b)!, e);
      console.log(`  block${b} [${e.shape}]: rel L2 ${relL2.toExponential(2)}, max abs ${maxAbs.toExponential(2)}`);
      assert(relL2 <= 1e-4, `block${b}: rel L2 ${relL2}`);
    }
    tf.dispose([x, ...out.values()]);
    model.dispose();
  },
});

Deno.test({
  name: "EfficientNet-B5 small input (2x64x64): output shapes, only requested blocks returned, no leaked tensors",
  ignore: needsShared(),
  ...opts,
  fn: async () => {
    await initBackend(runtimeFromEnv().backend);
    const model = EfficientNetB5.fromReferenceWeights(await fixtureWeights(), { upToBlock: 35 });
    const before = tf.memory().numTensors;
    const x = tf.randomNormal([2, 64, 64, 3], 0, 1, "float32", 1) as tf.Tensor4D;
    const out = model.forward(x, [2, 13, 27, 35]);
    assertEquals([...out.keys()], [2, 13, 27, 35]);
    assertEquals(out.get(2)!.shape, [2, 32, 32, 24]);
    assertEquals(out.get(13)!.shape, [2, 4, 4, 128]);
    assertEquals(out.get(27)!.shape, [2, 2, 2, 304]);
    assertEquals(out.get(35)!.shape, [2, 2, 2, 304]);
    // the batch items are independent
    const single = model.forward(tf.slice(x, [1, 0, 0, 0], [1, 64, 64, 3]) as tf.Tensor4D, [35]).get(35)!;
    const both = await out.get(35)!.data(), one = await single.data();
    let maxAbs = 0;
    for (let i = 0; i < one.length; i++) maxAbs = Math.max(maxAbs, Math.abs(both[one.length + i] - one[i]));
    assert(maxAbs < 1e-4, `batch item 1 differs from its single run by ${maxAbs}`);
    tf.dispose([x, single, ...out.values()]);
    assert(tf.memory().numTensors <= before + 1, `tensors leaked: ${before} -> ${tf.memory().numTensors}`); // + the slice
    model.dispose();
  },
});

Deno.test({
  name: "EfficientNet-B5: missing / misshapen tensors and out-of-range blocks give clear errors",
  ignore: needsShared(),
  ...opts,
  fn: async () => {
    await initBackend(runtimeFromEnv().backend);
    const weights = await fixtureWeights();
    // the fixture stops at block 35
    assertThrows(() => EfficientNetB5.fromReferenceWeights(weights, { upToBlock: 36, source: "w.safetensors" }), (e: Error) =>
      e instanceof EfficientNetWeightsError && e.message.includes("w.safetensors") && e.message.includes("'_blocks.36._expand_conv.weight'"));
    const broken = new Map(weights);
    broken.set("_blocks.4._bn1.running_var", { ...broken.get("_blocks.4._bn1.running_var")!, shape: [7] });
    assertThrows(() => EfficientNetB5.fromReferenceWeights(broken, { upToBlock: 5, source: "w.safetensors" }), /w\.safetensors: tensor '_blocks\.4\._bn1\.running_var' has shape \[7\], expected \[240\]/);
    assertThrows(() => EfficientNetB5.fromReferenceWeights(weights, { upToBlock: 39 }), RangeError);
    const small = EfficientNetB5.fromReferenceWeights(weights, { upToBlock: 3 });
    const x = tf.zeros([1, 32, 32, 3]) as tf.Tensor4D;
    assertThrows(() => small.forward(x, [4]), /0\.\.3/);
    x.dispose();
    small.dispose();
  },
});
