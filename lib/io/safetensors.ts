/**
 * safetensors read/write: 8-byte little-endian header length, JSON header
 * `{name: {dtype, shape, data_offsets}}` (+ optional `__metadata__` of strings), raw LE data.
 * Supported dtypes: F32, F16 (decoded to float32), I32.
 */
import { tempSibling } from "../util/fs.ts";

export type SafetensorsDtype = "F32" | "F16" | "I32";

export interface NamedArray {
  dtype: SafetensorsDtype;
  shape: number[];
  /** F32 and F16 entries are decoded to Float32Array; I32 to Int32Array. */
  data: Float32Array | Int32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, NamedArray>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, I32: 4 };

/** IEEE half -> float. */
export function halfToFloat(h: number): number {
  const s = (h & 0x8000) ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** float -> IEEE half, round to nearest even. */
export function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const u = new Uint32Array(f32.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  let mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++;
  e = half >> 10;
  return sign | half;
}

export class SafetensorsError extends Error {}

/** Parse a safetensors buffer. `source` names the file in error messages. */
export function parseSafetensors(bytes: Uint8Array, source = "<buffer>"): SafetensorsFile {
  if (bytes.byteLength < 8) throw new SafetensorsError(`${source}: not a safetensors file (shorter than 8 bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.byteLength) {
    throw new SafetensorsError(`${source}: corrupt safetensors header (length ${headerLen}, file ${bytes.byteLength} bytes)`);
  }
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new SafetensorsError(`${source}: corrupt safetensors header JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, NamedArray>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(dtype in BYTES)) throw new SafetensorsError(`${source}: tensor '${name}' has unsupported dtype ${dtype} (F32, F16, I32 supported)`);
    const dt = dtype as SafetensorsDtype;
    const count = shape.reduce((a, b) => a * b, 1);
    const [begin, end] = data_offsets;
    if (end - begin !== count * BYTES[dt] || dataStart + end > bytes.byteLength || begin < 0) {
      throw new SafetensorsError(`${source}: tensor '${name}' data out of range or size mismatch (shape [${shape}], ${dt})`);
    }
    const raw = bytes.subarray(dataStart + begin, dataStart + end);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    let data: Float32Array | Int32Array;
    if (dt === "F32") {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getFloat32(i * 4, true);
    } else if (dt === "I32") {
      data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = dv.getInt32(i * 4, true);
    } else {
      data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(i * 2, true));
    }
    tensors.set(name, { dtype: dt, shape: [...shape], data });
  }
  return { tensors, metadata };
}

/** Read a safetensors file; errors name the file. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot read (${(e as Error).message})`);
  }
  return parseSafetensors(bytes, path);
}

export interface TensorToWrite {
  shape: number[];
  data: ArrayLike<number>;
  /** Default: I32 for Int32Array data, else F32. */
  dtype?: SafetensorsDtype;
}

/** Serialise named arrays (sorted by name, 8-byte aligned header, as the reference writer does). */
export function serializeSafetensors(
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const plan: { dtype: SafetensorsDtype; t: TensorToWrite; begin: number }[] = [];
  for (const [name, t] of entries) {
    const dtype = t.dtype ?? (t.data instanceof Int32Array ? "I32" : "F32");
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new SafetensorsError(`tensor '${name}': shape [${t.shape}] needs ${count} values, got ${t.data.length}`);
    const size = count * BYTES[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    plan.push({ dtype, t, begin: offset });
    offset += size;
  }
  let headerBytes = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(headerBytes.length / 8) * 8;
  if (padded !== headerBytes.length) {
    const h = new Uint8Array(padded).fill(0x20);
    h.set(headerBytes);
    headerBytes = h;
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  const base = 8 + headerBytes.length;
  for (const { dtype, t, begin } of plan) {
    const n = t.data.length;
    for (let i = 0; i < n; i++) {
      const p = base + begin + i * BYTES[dtype];
      if (dtype === "F32") dv.setFloat32(p, t.data[i], true);
      else if (dtype === "I32") dv.setInt32(p, t.data[i], true);
      else dv.setUint16(p, floatToHalf(t.data[i]), true);
    }
  }
  return out;
}

/** Write atomically (temp file + rename) so an interrupted write never leaves a torn file. */
export async function writeSafetensors(
  path: string,
  tensors: Record<string, TensorToWrite> | Map<string, TensorToWrite>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = serializeSafetensors(tensors, metadata);
  const tmp = tempSibling(path);
  await Deno.writeFile(tmp, bytes);
  await Deno.rename(tmp, path);
}
