/**
 * Packed bf16 maps (lib/ops/packed_bf16.ts): the rounding (x86's VCVTNEPS2BF16: nearest even,
 * quiet NaN, denormals to signed zero), the swish kernels that write bf16 (JS loops on cpu, the
 * native library on wasm) against rounding their own float32 swish, and the convolution that
 * reads them against the plain bf16 convolution of the same float32 values: bit for bit, since
 * both round to the same bf16 values and run the same oneDNN primitive. The convolution part
 * is skipped with a message where bf16 convolutions cannot run here.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { fusedBackends, randn, setup } from "../backend/_helpers.ts";
import { bf16Unavailable } from "../backend/_bf16.ts";
import { bf16Bits, fromBf16Bits, toBf16Bits } from "../../lib/backend/js/bf16_values.ts";
import { setConvolutionPrecision } from "../../lib/backend/precision.ts";
import { nativeConvolutionsActive } from "../../lib/backend/native/kernels.ts";
import { OneDnnConvolutions } from "../../lib/backend/native/onednn/conv.ts";
import {
  conv2dPackedBf16Input, packedBf16Available, swishMeansPackedBf16, swishPackedBf16, unstackPackedBf16,
} from "../../lib/ops/packed_bf16.ts";
import { swish, swishWithMeans } from "../../lib/ops/swish.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const bitsOf = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0];
const floatOf = (bits: number) => new Float32Array(Uint32Array.of(bits).buffer)[0];

/** the packed tensor's bf16 values as bits */
function words(t: tf.Tensor): Uint16Array {
  const v = t.dataSync() as Int32Array;
  return new Uint16Array(v.buffer, v.byteOffset, v.length * 2).slice();
}

Deno.test("bf16Bits: nearest even, quiet NaN, infinities, overflow to infinity, denormals to signed zero", () => {
  assertEquals(bf16Bits(1), 0x3f80);
  assertEquals(bf16Bits(-2), 0xc000);
  assertEquals(bf16Bits(floatOf(0x3f808000)), 0x3f80, "tie, even below: down");
  assertEquals(bf16Bits(floatOf(0x3f818000)), 0x3f82, "tie, odd below: up");
  assertEquals(bf16Bits(floatOf(0x3f808001)), 0x3f81, "above the tie: up");
  assertEquals(bf16Bits(floatOf(0x3f807fff)), 0x3f80, "below the tie: down");
  assertEquals(bf16Bits(floatOf(0xbf818000)), 0xbf82, "negative tie");
  assertEquals(bf16Bits(Infinity), 0x7f80);
  assertEquals(bf16Bits(-Infinity), 0xff80);
  assertEquals(bf16Bits(floatOf(0x7f7fffff)), 0x7f80, "the largest float rounds to infinity");
  assertEquals(bf16Bits(floatOf(0x7f800001)), 0x7fc0, "a signalling NaN comes out quiet");
  assertEquals(bf16Bits(NaN) & 0x7fc0, 0x7fc0);
  assertEquals(bf16Bits(floatOf(0x00400000)), 0x0000, "a denormal gives zero");
  assertEquals(bf16Bits(floatOf(0x80000001)), 0x8000, "a negative denormal gives -0");
  assertEquals(bf16Bits(floatOf(0x00800000)), 0x0080, "the smallest normal stays");
  const x = Float32Array.from(randn(1000, 3));
  const b = new Uint16Array(1000), back = new Float32Array(1000);
  toBf16Bits(x, b);
  fromBf16Bits(b, back);
  for (let i = 0; i < x.length; i++) {
    assert(Math.abs(back[i] - x[i]) <= Math.abs(x[i]) * 2 ** -8, `${x[i]} -> ${back[i]}`);
    assertEquals(bitsOf(back[i]) >>> 16, b[i]);
  }
  assertThrows(() => toBf16Bits(x, new Uint16Array(10)), /holds 10 values, 1000 given/);
});

Deno.test({ name: "swish to packed bf16 (cpu: JS loops, wasm: native) = the backend's float32 swish rounded; means = swishWithMeans'", ...opts, fn: async () => {
  const shape: [number, number, number, number] = [2, 3, 5, 8];
  const n = shape.reduce((a, b) => a * b, 1);
  const x = randn(n, 41).map((v, i) => (i % 5 === 0 ? 150 * v : 3 * v));
  // ties above 80 (swish(x) = x to the last bit there), NaN, infinities, a denormal, zero
  const specials = [floatOf(0x42c88000), floatOf(0x42cb8000), floatOf(0x43c98000), NaN, Infinity, -Infinity, floatOf(0x00400000), 0];
  const at = specials.map((_, i) => 7 * i + 1);
  specials.forEach((v, i) => x[at[i]] = v);
  for (const backend of await fusedBackends()) {
    await tf.setBackend(backend);
    const xt = tf.tensor4d(x, shape);
    const y = swish(xt).dataSync() as Float32Array;
    const want = new Uint16Array(n);
    toBf16Bits(y, want);
    const packed = swishPackedBf16(xt);
    assertEquals(packed.packed.dtype, "int32");
    assertEquals(packed.packed.shape, [2, 3, 5, 4]);
    assertEquals(packed.shape, shape);
    assertEquals(words(packed.packed), want, `${backend}: swish bf16`);
    const withMeans = swishMeansPackedBf16(xt), plain = swishWithMeans(xt);
    assertEquals(words(withMeans.y.packed), want, `${backend}: swish + means bf16`);
    assertEquals(withMeans.means.dataSync(), plain.means.dataSync(), `${backend}: means of the float32 values`);
    const w = words(packed.packed);
    assertEquals([w[at[0]], w[at[1]], w[at[2]]], [0x42c8, 0x42cc, 0x43ca], `${backend}: ties rounded to even`);
    assertEquals([w[at[4]], w[at[6]], w[at[7]]], [0x7f80, 0, 0], `${backend}: swish(inf), swish(denormal), swish(0)`);
    assert((w[at[3]] & 0x7fc0) === 0x7fc0, `${backend}: swish(NaN) is a quiet NaN`);
    // one image at a time
    const [a, b] = unstackPackedBf16(packed);
    assertEquals([...words(a.packed), ...words(b.packed)], [...want]);
    assertEquals(a.shape, [1, 3, 5, 8]);
    assertThrows(() => swishPackedBf16(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D), /even channel count/);
    tf.dispose([xt, packed.packed, withMeans.y.packed, withMeans.means, plain.y, plain.means, a.packed, b.packed]);
  }
  await tf.setBackend("wasm");
}});

/** [name, x shape, filter shape, stride, pad, depthwise, bias] */
const GEOMETRIES: [string, [number, number, number, number], [number, number, number, number], number, "valid" | "same" | [[number, number], [number, number], [number, number], [number, number]], boolean, boolean][] = [
  ["1x1 projection with bias", [1, 12, 12, 96], [1, 1, 96, 40], 1, "valid", false, true],
  ["3x3 'same' without bias, batch 2", [2, 9, 9, 32], [3, 3, 32, 48], 1, "same", false, false],
  ["depthwise 3x3 stride 2, uneven pads", [1, 15, 15, 144], [3, 3, 144, 1], 2, [[0, 0], [0, 1], [0, 1], [0, 0]], true, true],
  ["depthwise 5x5, batch 2", [2, 10, 10, 64], [5, 5, 64, 1], 1, [[0, 0], [2, 2], [2, 2], [0, 0]], true, true],
];

Deno.test({ name: "convolution of a packed bf16 map = the bf16 convolution of the float32 map, bit for bit (1x1, 3x3, depthwise strided); only while in bf16", ...opts, fn: async () => {
  await setup();
  await tf.setBackend("wasm");
  const unavailable = bf16Unavailable();
  if (unavailable) return console.warn(`SKIP: ${unavailable}`);
  assert(!packedBf16Available(8), "fp32: no packed convolutions");
  try {
    let seed = 50;
    for (const [name, xs, fs, strides, pad, depthwise, withBias] of GEOMETRIES) {
      setConvolutionPrecision("bf16");
      assert(packedBf16Available(xs[3]), `${name}: bf16 convolutions take packed maps`);
      assert(!packedBf16Available(xs[3] + 1), "odd channel counts are not packed");
      const n = xs.reduce((a, b) => a * b, 1);
      const x = tf.tensor4d(randn(n, seed++).map((v) => 2 * v), xs);
      const filter = tf.tensor4d(randn(fs.reduce((a, b) => a * b, 1), seed++).map((v) => 0.2 * v), fs);
      const bias = withBias ? tf.tensor1d(randn(depthwise ? fs[2] : fs[3], seed++)) : null;
      const act = swish(x);
      const plain = depthwise
        ? tf.fused.depthwiseConv2d({ x: act, filter, strides, pad: pad as "valid", bias: bias ?? undefined })
        : tf.fused.conv2d({ x: act, filter, strides, pad, bias: bias ?? undefined });
      const packed = swishPackedBf16(x);
      const got = conv2dPackedBf16Input(packed, filter, bias, { strides, pad, depthwise });
      assertEquals(got.shape, plain.shape);
      const g = got.dataSync(), p = plain.dataSync();
      let differ = 0;
      for (let i = 0; i < g.length; i++) if (g[i] !== p[i]) differ++;
      assertEquals(differ, 0, `${name}: ${differ} of ${g.length} values differ`);
      // fp32 again: the kernel is gone, so nothing packs
      setConvolutionPrecision("fp32");
      assert(!packedBf16Available(xs[3]), `${name}: fp32 takes no packed maps`);
      assertThrows(() => conv2dPackedBf16Input(packed, filter, bias, { strides, pad, depthwise }), /AstConv2DBf16Input/);
      tf.dispose([x, filter, act, plain, packed.packed, got, ...(bias ? [bias] : [])]);
    }
  } finally {
    setConvolutionPrecision("fp32");
  }
}});

Deno.test({ name: "oneDNN forwardBf16Input in fp32: the bf16 input widened exactly, the fp32 convolution of those values", ...opts, fn: async () => {
  await setup();
  const lib = nativeConvolutionsActive()?.lib;
  if (!(lib instanceof OneDnnConvolutions)) return console.warn("SKIP: oneDNN is not the active convolution library here");
  assertEquals(lib.precision, "fp32");
  const g = tf.backend_util.computeConv2DInfo([1, 6, 6, 16], [3, 3, 16, 8], 1, 1, "same") as Parameters<OneDnnConvolutions["forward"]>[0];
  const x = randn(6 * 6 * 16, 61), w = randn(3 * 3 * 16 * 8, 62);
  const x16 = new Uint16Array(x.length), widened = new Float32Array(x.length);
  toBf16Bits(x, x16);
  fromBf16Bits(x16, widened);
  const want = new Float32Array(6 * 6 * 8), got = new Float32Array(6 * 6 * 8);
  lib.forward(g, widened, w, want);
  lib.forwardBf16Input(g, x16, w, got);
  assertEquals(got, want);
  assertThrows(() => lib.forwardBf16Input(g, x16.subarray(0, 10), w, got), /x16 too small/);
}});
