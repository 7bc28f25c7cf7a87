/**
 * Issue 17: EfficientNet-B5 features with bf16 convolutions (lib/backend/precision.ts) against
 * fp32, on one image (the conformance fixture's normalised 768x768 input and its random weights,
 * fixtures/efficientnet_b5_reference in ../shared). Skipped with a message where the fixture is
 * absent or bf16 cannot run here.
 *
 * Tolerance: each convolution's inputs are rounded to bf16 (relative L2 ~2e-3 per convolution,
 * tests/backend/onednn_bf16_test.ts); through the network's ~100 convolutions (depthwise
 * included) with BatchNorm, swish and squeeze-excitation in between they do not simply add up:
 * measured 1.4e-2 (block 13), 6.2e-3 (27), 5.8e-3 (35). Bound: relative L2 < 0.1 (~7x margin);
 * above 1e-5, or bf16 did not run.
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend/backend.ts";
import { setConvolutionPrecision } from "../../lib/backend/precision.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { EfficientNetB5 } from "../../lib/features/efficientnet/model.ts";
import { bf16Unavailable, relL2 } from "../backend/_bf16.ts";
import { needsShared, sharedPath } from "../_shared.ts";
import { assert } from "../assert.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const BLOCKS = [13, 27, 35];
/** measured 5.8e-3 to 1.4e-2 on an AMD EPYC (Zen 4, avx512_bf16, oneDNN 2.6 brgconv / jit_bf16) */
const BF16_FEATURES_REL_L2_MAX = 0.1;

Deno.test({ name: "EfficientNet-B5 features, bf16 vs fp32 convolutions: relative L2 below the bound at blocks 13, 27, 35", ignore: needsShared(), ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const unavailable = bf16Unavailable();
  if (unavailable) return console.warn(`SKIP: ${unavailable}`);
  const dir = sharedPath("fixtures", "efficientnet_b5_reference");
  const weights = (await readSafetensors(`${dir}/weights.safetensors`)).tensors;
  const inp = (await readSafetensors(`${dir}/tensors.safetensors`)).tensors.get("input.normalized")!;
  const model = EfficientNetB5.fromReferenceWeights(weights, { upToBlock: 35, source: "weights.safetensors" });
  const x = tf.tidy(() => tf.transpose(tf.tensor4d(inp.data as Float32Array, [1, 3, 768, 768]), [0, 2, 3, 1])) as tf.Tensor4D;
  const features = async (p: "fp32" | "bf16") => {
    setConvolutionPrecision(p);
    const out = model.forward(x, BLOCKS);
    const got = new Map<number, Float32Array>();
    for (const [b, y] of out) got.set(b, (await y.data()) as Float32Array);
    tf.dispose([...out.values()]);
    return got;
  };
  try {
    const fp32 = await features("fp32");
    const bf16 = await features("bf16");
    for (const b of BLOCKS) {
      const e = relL2(bf16.get(b)!, fp32.get(b)!);
      console.log(`  block${b}: bf16 vs fp32 rel L2 ${e.toExponential(2)}`);
      assert(e > 1e-5, `block${b}: bf16 and fp32 features equal: bf16 did not run`);
      assert(e < BF16_FEATURES_REL_L2_MAX, `block${b}: rel L2 ${e}`);
    }
  } finally {
    setConvolutionPrecision("fp32");
    x.dispose();
    model.dispose?.();
  }
} });
