import { assertClose, assertEquals, assertThrows } from "../assert.ts";
import { floatToHalf, halfToFloat, parseSafetensors, readSafetensors, serializeSafetensors } from "../../lib/io/safetensors.ts";
import { needsShared, sharedPath } from "../_shared.ts";

Deno.test("safetensors: F32/F16/I32 round trip with metadata", () => {
  const f = new Float32Array([0, 1.5, -2.25, 3e-5, 65504]);
  const bytes = serializeSafetensors({
    b: { shape: [5], data: f },
    a: { shape: [2, 2], data: new Int32Array([1, -2, 3, 2147483647]) },
    h: { shape: [5], data: f, dtype: "F16" },
  }, { backbone: "x" });
  const back = parseSafetensors(bytes);
  assertEquals(back.metadata, { backbone: "x" });
  assertEquals([...back.tensors.get("a")!.data], [1, -2, 3, 2147483647]);
  assertEquals(back.tensors.get("a")!.dtype, "I32");
  assertEquals([...back.tensors.get("b")!.data], [...f]);
  assertClose(back.tensors.get("h")!.data, f, { rtol: 1e-3, atol: 1e-7, what: "f16" });
  // header is 8-byte aligned as the reference writer requires
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assertEquals(n % 8, 0);
});

Deno.test("safetensors: half conversions at edge values", () => {
  for (const v of [0, 1, -1, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 1 / 3]) {
    const back = halfToFloat(floatToHalf(v));
    if (Math.abs(back - v) > Math.abs(v) * 1e-3 + 1e-8) throw new Error(`${v} -> ${back}`);
  }
  assertEquals(halfToFloat(0x7c00), Infinity);
  assertEquals(floatToHalf(1e6), 0x7c00);
});

Deno.test("safetensors: corrupt input names the source", () => {
  assertThrows(() => parseSafetensors(new Uint8Array(4), "x.safetensors"), /x.safetensors: not a safetensors/);
  const bad = new Uint8Array(16);
  new DataView(bad.buffer).setBigUint64(0, 1000n, true);
  assertThrows(() => parseSafetensors(bad, "y.safetensors"), /y.safetensors: corrupt/);
  const good = serializeSafetensors({ a: { shape: [4], data: new Float32Array(4) } });
  assertThrows(() => parseSafetensors(good.subarray(0, good.length - 2), "z.safetensors"), /z.safetensors: tensor 'a'/);
});

Deno.test({ name: "safetensors: reads the reference fixtures", ignore: needsShared(), fn: async () => {
  const f = await readSafetensors(sharedPath("fixtures/ast_reference/teacher_weights.safetensors"));
  const perm = f.tensors.get("net.module_list.2.perm")!;
  assertEquals(perm.dtype, "I32");
  assertEquals([...perm.data].sort((a, b) => a - b), Array.from({ length: 88 }, (_, i) => i));
  const eff = await readSafetensors(sharedPath("fixtures/efficientnet_b5_reference/weights.safetensors"));
  const stem = eff.tensors.get("_conv_stem.weight");
  if (!stem || stem.dtype !== "F16") throw new Error("expected F16 _conv_stem.weight");
} });
