/**
 * bfloat16 values stored as Uint16Array (the upper half of a float32's bits), for the packed
 * bf16 maps that feed bf16 convolutions without a conversion pass (lib/ops/packed_bf16.ts).
 * Rounding is x86's VCVTNEPS2BF16, which oneDNN's f32 -> bf16 reorder runs on CPUs with bf16
 * instructions: nearest even, NaN stays a (quiet) NaN, a denormal input gives a signed zero.
 * The native kernels (fused_kernels.c, bf16_round) round the same way.
 */

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** bf16 bits of `v` (rounded to float32 first) */
export function bf16Bits(v: number): number {
  scratch[0] = v;
  const u = scratchBits[0];
  if ((u & 0x7fffffff) > 0x7f800000) return ((u >>> 16) | 0x40) & 0xffff;
  const f = (u & 0x7f800000) === 0 ? u & 0x80000000 : u;
  return ((f + 0x7fff + ((f >>> 16) & 1)) >>> 16) & 0xffff;
}

/** dst[i] = bf16 bits of src[i] */
export function toBf16Bits(src: Float32Array, dst: Uint16Array): void {
  if (dst.length < src.length) throw new RangeError(`bf16 output holds ${dst.length} values, ${src.length} given`);
  for (let i = 0; i < src.length; i++) dst[i] = bf16Bits(src[i]);
}

/** dst[i] = the float32 value of the bf16 bits src[i] (exact) */
export function fromBf16Bits(src: Uint16Array, dst: Float32Array): void {
  if (dst.length < src.length) throw new RangeError(`float32 output holds ${dst.length} values, ${src.length} given`);
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i] << 16;
}
