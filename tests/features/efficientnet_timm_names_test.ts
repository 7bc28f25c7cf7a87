import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { type NamedArray, readSafetensors, serializeSafetensors, type TensorToWrite } from "../../lib/io/safetensors.ts";
import { EfficientNetB5 } from "../../lib/features/efficientnet/model.ts";
import {
  detectNaming,
  referenceToTimm,
  referenceToTimmName,
  timmToReference,
  timmToReferenceName,
  toReferenceNames,
  WeightNamingError,
} from "../../lib/features/efficientnet/timm_names.ts";
import { loadEfficientNetWeights, withoutIgnorableTensors } from "../../lib/features/efficientnet/weights.ts";
import { needsShared, sharedPath } from "../_shared.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("timm <-> reference names: stem/head, stage-0 depthwise-separable and inverted-residual blocks", () => {
  const pairs: [string, string][] = [
    ["conv_stem.weight", "_conv_stem.weight"],
    ["bn1.running_var", "_bn0.running_var"],
    ["conv_head.weight", "_conv_head.weight"],
    ["bn2.bias", "_bn1.bias"],
    ["classifier.weight", "_fc.weight"],
    // stage 0 (expand 1): conv_pw is the projection, bn1 the depthwise BN, bn2 the projection BN
    ["blocks.0.0.conv_dw.weight", "_blocks.0._depthwise_conv.weight"],
    ["blocks.0.0.bn1.weight", "_blocks.0._bn1.weight"],
    ["blocks.0.2.se.conv_reduce.bias", "_blocks.2._se_reduce.bias"],
    ["blocks.0.2.conv_pw.weight", "_blocks.2._project_conv.weight"],
    ["blocks.0.2.bn2.running_mean", "_blocks.2._bn2.running_mean"],
    // later stages: conv_pw expands, conv_pwl projects, bn1/bn2/bn3 follow them
    ["blocks.1.0.conv_pw.weight", "_blocks.3._expand_conv.weight"],
    ["blocks.1.0.bn1.weight", "_blocks.3._bn0.weight"],
    ["blocks.1.0.bn2.weight", "_blocks.3._bn1.weight"],
    ["blocks.3.0.se.conv_expand.weight", "_blocks.13._se_expand.weight"],
    ["blocks.5.0.conv_dw.weight", "_blocks.27._depthwise_conv.weight"],
    ["blocks.5.8.conv_pwl.weight", "_blocks.35._project_conv.weight"],
    ["blocks.5.8.bn3.running_var", "_blocks.35._bn2.running_var"],
    ["blocks.6.2.bn3.bias", "_blocks.38._bn2.bias"],
  ];
  for (const [timm, ref] of pairs) {
    assertEquals(timmToReferenceName(timm), ref);
    assertEquals(referenceToTimmName(ref), timm);
  }
  for (const bad of ["blocks.0.3.conv_dw.weight", "blocks.7.0.conv_dw.weight", "blocks.0.0.conv_pwl.weight", "blocks.0.0.bn3.weight",
    "blocks.1.0.conv_pw.running_mean", "fc.weight", "blocks.01.0.conv_dw.weight"]) {
    assertEquals(timmToReferenceName(bad), null, bad);
  }
  for (const bad of ["_blocks.39._bn0.weight", "_blocks.0._expand_conv.weight", "_blocks.3._bn3.weight", "conv_stem.weight"]) {
    assertEquals(referenceToTimmName(bad), null, bad);
  }
});

const t = (shape: number[]): NamedArray => ({ dtype: "F32", shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)) });

Deno.test("naming detection and unknown names: errors name the file and the tensor", () => {
  assertEquals(detectNaming(["_conv_stem.weight"]), "reference");
  assertEquals(detectNaming(["blocks.0.0.conv_dw.weight", "conv_stem.weight"]), "timm");
  assertThrows(() => detectNaming(["features.0.weight"], "m.safetensors"), (e: Error) =>
    e instanceof WeightNamingError && /m\.safetensors: not EfficientNet-B5 weights.*'features\.0\.weight'/.test(e.message));
  const timm = new Map([["conv_stem.weight", t([48, 3, 3, 3])], ["bn1.num_batches_tracked", t([])], ["blocks.0.0.conv_pwl.weight", t([24, 48, 1, 1])]]);
  assertThrows(() => timmToReference(timm, "m.safetensors"), /m\.safetensors: unknown tensor 'blocks\.0\.0\.conv_pwl\.weight' .*timm naming/);
  const ref = new Map([["_conv_stem.weight", t([48, 3, 3, 3])], ["_blocks.0._expand_conv.weight", t([1])]]);
  assertThrows(() => toReferenceNames(ref, "r.safetensors"), /r\.safetensors: unknown tensor '_blocks\.0\._expand_conv\.weight' .*reference naming/);
  // num_batches_tracked counters are dropped, not errors
  const ok = toReferenceNames(new Map([["conv_stem.weight", t([48, 3, 3, 3])], ["bn1.num_batches_tracked", t([])]]), "m");
  assertEquals([ok.naming, [...ok.tensors.keys()]], ["timm", ["_conv_stem.weight"]]);
});

Deno.test("withoutIgnorableTensors: int64 num_batches_tracked entries are dropped so the file parses", async () => {
  const base = serializeSafetensors({ "conv_stem.weight": { shape: [2], data: [1, 2] } });
  // append an I64 counter by hand (the project's writer has no I64)
  const view = new DataView(base.buffer);
  const hlen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(base.subarray(8, 8 + hlen)));
  header["bn1.num_batches_tracked"] = { dtype: "I64", shape: [], data_offsets: [8, 16] };
  const h = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + h.length + 16);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(h.length), true);
  bytes.set(h, 8);
  bytes.set(base.subarray(8 + hlen), 8 + h.length);
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "tiny.safetensors");
    await Deno.writeFile(path, bytes);
    await assertRejects(() => readSafetensors(path), /unsupported dtype I64/);
    const cleaned = withoutIgnorableTensors(bytes);
    const { parseSafetensors } = await import("../../lib/io/safetensors.ts");
    const parsed = parseSafetensors(cleaned);
    assertEquals([...parsed.tensors.keys()], ["conv_stem.weight"]);
    assertEquals(Array.from(parsed.tensors.get("conv_stem.weight")!.data), [1, 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "timm-named file (inverse mapping of the fixture weights) loads and gives identical outputs",
  ignore: needsShared(),
  ...opts,
  fn: async () => {
    await initBackend(runtimeFromEnv().backend);
    const refPath = sharedPath("fixtures", "efficientnet_b5_reference", "weights.safetensors");
    const refLoaded = await loadEfficientNetWeights(refPath);
    assertEquals(refLoaded.naming, "reference");
    assert(/^[0-9a-f]{64}$/.test(refLoaded.sha256) && !refLoaded.checksumRecorded);

    const timmNamed = referenceToTimm(refLoaded.tensors, refPath);
    assert(timmNamed.has("blocks.5.8.conv_pwl.weight") && timmNamed.has("blocks.0.0.conv_pw.weight"));
    assertEquals(timmToReference(timmNamed).size, refLoaded.tensors.size);
    const dir = await Deno.makeTempDir();
    try {
      const timmPath = join(dir, "model.safetensors");
      const toWrite = new Map<string, TensorToWrite>([...timmNamed].map(([n, a]) => [n, { shape: a.shape, data: a.data, dtype: "F32" }]));
      await Deno.writeFile(timmPath, serializeSafetensors(toWrite));
      const timmLoaded = await loadEfficientNetWeights(timmPath);
      assertEquals(timmLoaded.naming, "timm");

      const a = EfficientNetB5.fromReferenceWeights(refLoaded.tensors, { source: refPath });
      const b = EfficientNetB5.fromReferenceWeights(timmLoaded.tensors, { source: timmPath });
      const x = tf.randomNormal([1, 64, 64, 3], 0, 1, "float32", 7) as tf.Tensor4D;
      const ya = a.forward(x, [35]).get(35)!, yb = b.forward(x, [35]).get(35)!;
      assertEquals(Array.from(await ya.data()), Array.from(await yb.data()));
      tf.dispose([x, ya, yb]);
      a.dispose();
      b.dispose();

      // a timm file lacking a tensor: the error names the file and the (reference) tensor
      const partial = new Map(timmNamed);
      partial.delete("blocks.2.0.bn2.running_mean");
      assertThrows(() => EfficientNetB5.fromReferenceWeights(timmToReference(partial, timmPath), { source: timmPath }), (e: Error) =>
        e.message.includes(timmPath) && e.message.includes("missing tensor '_blocks.8._bn1.running_mean'"));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
