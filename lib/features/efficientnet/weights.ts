/**
 * Loads EfficientNet-B5 weights from a safetensors file in either naming (reference package or
 * timm), checked against its SHA-256 record / pin first, and returns reference-named tensors.
 */
import { type NamedArray, parseSafetensors, SafetensorsError } from "../../io/safetensors.ts";
import { verifyWeights } from "./checksum.ts";
import { isIgnorableName, toReferenceNames, type WeightNaming } from "./timm_names.ts";

export interface LoadedEfficientNetWeights {
  /** reference names (`_conv_stem.weight`, `_blocks.N._depthwise_conv.weight`, ...) */
  tensors: Map<string, NamedArray>;
  /** the naming the file used */
  naming: WeightNaming;
  sha256: string;
  /** the file had a `.sha256` record (which matched) */
  checksumRecorded: boolean;
  path: string;
}

/**
 * Drops the int64 `num_batches_tracked` counters a PyTorch state dict may carry (the project's
 * safetensors reader has no I64) by rewriting the header; data offsets are relative to the data
 * section, so the data bytes are reused as they are.
 */
export function withoutIgnorableTensors(bytes: Uint8Array): Uint8Array {
  if (bytes.byteLength < 8) return bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen <= 0 || 8 + headerLen > bytes.byteLength) return bytes; // the parser reports it
  let header: Record<string, { dtype?: string }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    return bytes;
  }
  const drop = Object.keys(header).filter((n) => isIgnorableName(n) && header[n]?.dtype === "I64");
  if (drop.length === 0) return bytes;
  for (const n of drop) delete header[n];
  let newHeader = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(newHeader.length / 8) * 8;
  if (padded !== newHeader.length) {
    const h = new Uint8Array(padded).fill(0x20);
    h.set(newHeader);
    newHeader = h;
  }
  const data = bytes.subarray(8 + headerLen);
  const out = new Uint8Array(8 + newHeader.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(newHeader.length), true);
  out.set(newHeader, 8);
  out.set(data, 8 + newHeader.length);
  return out;
}

/**
 * Reads a weights file, verifies it (`<path>.sha256` record when present, `opts.sha256` when
 * given: a mismatch is an error with both hashes), detects its naming and maps it to the
 * reference names. Unknown tensor names are errors naming the file and the tensor.
 */
export async function loadEfficientNetWeights(path: string, opts: { sha256?: string } = {}): Promise<LoadedEfficientNetWeights> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new SafetensorsError(`${path}: cannot read EfficientNet-B5 weights (${(e as Error).message})`);
  }
  const check = await verifyWeights(path, opts.sha256, bytes);
  const file = parseSafetensors(withoutIgnorableTensors(bytes), path);
  const { naming, tensors } = toReferenceNames(file.tensors, path);
  return { tensors, naming, sha256: check.sha256, checksumRecorded: check.recorded, path };
}
