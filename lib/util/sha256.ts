/**
 * SHA-256 of bytes and files, and `<file>.sha256` records beside downloaded files in `sha256sum`
 * format (`<hex>  <name>`): written when a file is fetched and checked on later use, so a
 * truncated or replaced file is never used silently. Shared by the weights download
 * (lib/features/efficientnet) and the dataset download (lib/data/download).
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";

/** A hash that does not match, or is not a hash; the message names both values. */
export class ChecksumError extends Error {}

const HEX64 = /^[0-9a-f]{64}$/;

/** Lower-case, validated SHA-256 hex; `what` names the value in the error. */
export function normalizeSha256(hex: string, what = "SHA-256"): string {
  const h = hex.trim().toLowerCase();
  if (!HEX64.test(h)) throw new ChecksumError(`${what} must be 64 hex digits, got '${hex}'`);
  return h;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** SHA-256 of a file, read in chunks (weights are ~100 MB, dataset archives several GB). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(1 << 20);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

/** Where the checksum record of a file lives. */
export function checksumRecordPath(path: string): string {
  return `${path}.sha256`;
}

export async function writeChecksumRecord(path: string, sha256: string): Promise<void> {
  await Deno.writeTextFile(checksumRecordPath(path), `${normalizeSha256(sha256)}  ${basename(path)}\n`);
}

/** The recorded hash, or null when there is no record. A malformed record is an error. */
export async function readChecksumRecord(path: string): Promise<string | null> {
  const recordPath = checksumRecordPath(path);
  let text: string;
  try {
    text = await Deno.readTextFile(recordPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return normalizeSha256(text.trim().split(/\s+/)[0] ?? "", `checksum record ${recordPath}`);
}
