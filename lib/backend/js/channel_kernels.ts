/**
 * The kernels of the flow's channel ops on a FusedMath: the permutation split
 * (lib/ops/permute_split.ts) and the join + clip (lib/ops/join_clip.ts), forward and gradient.
 * Permutations and shapes are checked on every call: the native loops index with them.
 */
import * as tf from "@tensorflow/tfjs-core";
import { PERMUTE_SPLIT, PERMUTE_SPLIT_GRAD } from "../../ops/permute_split.ts";
import { CLIP_GRAD_CHANNELS, JOIN_CLIP } from "../../ops/join_clip.ts";
import { lastDim, pixels } from "../../ops/shapes.ts";
import type { KernelHost } from "./kernel_host.ts";
import type { FusedMath } from "./fused_math.ts";

type Info = tf.TensorInfo;

/** A permutation of [0, c): the native loops index with it, so it is checked on every call. */
function checkPermutation(perm: Int32Array, c: number, kernel: string): void {
  if (perm.length !== c) throw new Error(`${kernel}: permutation of ${perm.length} channels for ${c}`);
  const seen = new Uint8Array(c);
  for (let i = 0; i < c; i++) {
    const p = perm[i];
    if (!(p >= 0 && p < c) || seen[p]) throw new Error(`${kernel}: not a permutation of [0, ${c}) (entry ${i} = ${p})`);
    seen[p] = 1;
  }
}

function samePixels(kernel: string, ...ts: Info[]): void {
  const p = pixels(ts[0].shape);
  for (const t of ts) {
    if (pixels(t.shape) !== p || t.shape.length !== ts[0].shape.length) {
      throw new Error(`${kernel}: shapes [${ts.map((u) => `[${u.shape}]`).join(", ")}] differ in pixels`);
    }
  }
}

export function channelKernels(host: KernelHost, math: FusedMath): Record<string, tf.KernelFunc> {
  const f32 = (backend: unknown, t: Info) => host.values(backend, t) as Float32Array;
  return {
    [PERMUTE_SPLIT]: ({ inputs, backend, attrs }) => {
      const { z, perm, cond } = inputs as { z: Info; perm: Info; cond?: Info };
      const { split } = attrs as unknown as { split: number };
      const c = lastDim(z), pe = cond ? lastDim(cond) : 0, rest = c - split;
      if (cond) samePixels(PERMUTE_SPLIT, z, cond);
      if (!(split >= 0 && split <= c)) throw new Error(`${PERMUTE_SPLIT}: split ${split} outside [0, ${c}]`);
      checkPermutation(host.values(backend, perm) as Int32Array, c, PERMUTE_SPLIT);
      const lead = z.shape.slice(0, -1), P = pixels(z.shape);
      const first = host.output(backend, [...lead, split], "float32");
      const second = host.output(backend, [...lead, rest + pe], "float32");
      if (P === 0) return [first, second];
      const idx = host.values(backend, perm) as Int32Array, zv = f32(backend, z);
      math.gatherChannels(P, split, zv, c, 0, idx.subarray(0, split), f32(backend, first), split, 0);
      math.gatherChannels(P, rest, zv, c, 0, idx.subarray(split), f32(backend, second), rest + pe, 0);
      if (cond && pe > 0) math.gatherChannels(P, pe, f32(backend, cond), pe, 0, null, f32(backend, second), rest + pe, rest);
      return [first, second];
    },
    [PERMUTE_SPLIT_GRAD]: ({ inputs, backend, attrs }) => {
      const { dFirst, dSecond, perm } = inputs as Record<string, Info>;
      const { split } = attrs as unknown as { split: number };
      const c = perm.shape[0], rest = c - split;
      samePixels(PERMUTE_SPLIT_GRAD, dFirst, dSecond);
      if (lastDim(dFirst) !== split || lastDim(dSecond) < rest) throw new Error(`${PERMUTE_SPLIT_GRAD}: gradient shapes do not match the split`);
      checkPermutation(host.values(backend, perm) as Int32Array, c, PERMUTE_SPLIT_GRAD);
      const dz = host.output(backend, [...dFirst.shape.slice(0, -1), c], "float32");
      const P = pixels(dFirst.shape);
      if (P === 0) return dz;
      const idx = host.values(backend, perm) as Int32Array, out = f32(backend, dz);
      math.scatterChannels(P, split, f32(backend, dFirst), split, 0, idx.subarray(0, split), out, c);
      math.scatterChannels(P, rest, f32(backend, dSecond), lastDim(dSecond), 0, idx.subarray(split), out, c);
      return dz;
    },
    [JOIN_CLIP]: ({ inputs, backend, attrs }) => {
      const { a, b } = inputs as Record<string, Info>;
      const { count, lo, hi } = attrs as unknown as { count: number; lo: number; hi: number };
      samePixels(JOIN_CLIP, a, b);
      if (!(count >= 0 && count <= lastDim(a))) throw new Error(`${JOIN_CLIP}: ${count} channels of [${a.shape}]`);
      const nb = lastDim(b), c = count + nb, P = pixels(a.shape);
      const y = host.output(backend, [...a.shape.slice(0, -1), c], "float32");
      if (P === 0) return y;
      const out = f32(backend, y);
      math.copyClip(P, count, f32(backend, a), lastDim(a), 0, null, 0, 0, lo, hi, out, c, 0);
      math.copyClip(P, nb, f32(backend, b), nb, 0, null, 0, 0, lo, hi, out, c, count);
      return y;
    },
    [CLIP_GRAD_CHANNELS]: ({ inputs, backend, attrs }) => {
      const { src, dy } = inputs as Record<string, Info>;
      const { dyOffset, count, lo, hi } = attrs as unknown as { dyOffset: number; count: number; lo: number; hi: number };
      samePixels(CLIP_GRAD_CHANNELS, src, dy);
      if (count > lastDim(src) || dyOffset + count > lastDim(dy)) throw new Error(`${CLIP_GRAD_CHANNELS}: channel ranges outside the tensors`);
      const out = host.output(backend, src.shape, "float32");
      const P = pixels(src.shape);
      if (P === 0) return out;
      const s = lastDim(src);
      math.copyClip(P, count, f32(backend, src), s, 0, f32(backend, dy), lastDim(dy), dyOffset, lo, hi, f32(backend, out), s, 0);
      return out;
    },
  };
}
