/**
 * EfficientNet-B5 with bf16 convolutions: the swish outputs handed to the depthwise and
 * projection convolutions as packed bf16 (lib/ops/packed_bf16.ts) give the same features, bit
 * for bit, as float32 swish outputs that oneDNN rounds to bf16 itself; batch 2 and batch 1 alike,
 * with no tensor left behind. Seeded random weights of the reference names (blocks 0-8: no
 * expansion, expansion, stride 2, residual). Skipped with a message where bf16 cannot run here.
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend/backend.ts";
import { setConvolutionPrecision } from "../../lib/backend/precision.ts";
import { setPackedBf16Convolutions } from "../../lib/backend/native/kernels.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { EfficientNetB5 } from "../../lib/features/efficientnet/model.ts";
import { CONV2D_BF16_INPUT, SWISH_BF16, SWISH_MEANS_BF16 } from "../../lib/ops/packed_bf16.ts";
import { randomEffnetB5Weights } from "../../tools/bench/effnet_weights.ts";
import { bf16Unavailable } from "../backend/_bf16.ts";
import { assert, assertEquals } from "../assert.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const UP_TO = 8;

Deno.test({ name: "EfficientNet-B5 in bf16: packed bf16 swish outputs = float32 ones rounded by oneDNN, bit for bit (batch 2 and 1), no leaks", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const unavailable = bf16Unavailable();
  if (unavailable) return console.warn(`SKIP: ${unavailable}`);
  const model = EfficientNetB5.fromReferenceWeights(randomEffnetB5Weights(UP_TO, 7), { upToBlock: UP_TO });
  const x = tf.randomNormal([2, 64, 64, 3], 0, 1, "float32", 3) as tf.Tensor4D;
  const first = tf.slice(x, [0, 0, 0, 0], [1, 64, 64, 3]) as tf.Tensor4D;
  const run = async (packed: boolean, input: tf.Tensor4D) => {
    setConvolutionPrecision("bf16");
    if (!packed) setPackedBf16Convolutions(false); // oneDNN rounds the float32 swish outputs itself
    const before = tf.memory().numTensors;
    let out: Float32Array | null = null;
    const profile = await tf.profile(async () => {
      const y = model.forward(input, [UP_TO]).get(UP_TO)!;
      out = (await y.data()) as Float32Array;
      y.dispose();
    });
    assertEquals(tf.memory().numTensors, before, `tensors left behind (${packed ? "packed" : "float32"} swish outputs)`);
    return { out: out!, kernels: new Set(profile.kernelNames) };
  };
  try {
    const plain = await run(false, x), packed = await run(true, x);
    for (const k of [SWISH_BF16, SWISH_MEANS_BF16, CONV2D_BF16_INPUT]) {
      assert(packed.kernels.has(k), `the packed path did not run ${k}: ${[...packed.kernels]}`);
      assert(!plain.kernels.has(k), `the float32 path ran ${k}`);
    }
    assert(packed.out.length > 0 && packed.out.length === plain.out.length, `feature sizes ${packed.out.length}, ${plain.out.length}`);
    let differ = 0;
    for (let i = 0; i < packed.out.length; i++) if (packed.out[i] !== plain.out[i]) differ++;
    assertEquals(differ, 0, `${differ} of ${packed.out.length} features differ`);
    const one = await run(true, first);
    assertEquals(one.out, packed.out.slice(0, one.out.length), "image 0 alone = image 0 in the batch");
  } finally {
    setConvolutionPrecision("fp32");
    tf.dispose([x, first]);
    model.dispose();
  }
} });
