/**
 * SHA-256 records for downloaded weight files: `<file>.sha256` beside the file, in
 * `sha256sum` format (`<hex>  <name>`), written when the file is fetched and checked on every
 * later load, so a truncated or replaced file is never used silently.
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";

export class WeightsChecksumError extends Error {}

const HEX64 = /^[0-9a-f]{64}$/;

/** Lower-case, validated SHA-256 hex; `what` names the value in the error. */
export function normalizeSha256(hex: string, what = "SHA-256"): string {
  const h = hex.trim().toLowerCase();
  if (!HEX64.test(h)) throw new WeightsChecksumError(`${what} must be 64 hex digits, got '${hex}'`);
  return h;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** SHA-256 of a file, read in chunks (weight files are ~100 MB). */
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

/** Where the checksum record of a weights file lives. */
export function checksumRecordPath(weightsPath: string): string {
  return `${weightsPath}.sha256`;
}

export async function writeChecksumRecord(weightsPath: string, sha256: string): Promise<void> {
  await Deno.writeTextFile(checksumRecordPath(weightsPath), `${normalizeSha256(sha256)}  ${basename(weightsPath)}\n`);
}

/** The recorded hash, or null when there is no record. A malformed record is an error. */
export async function readChecksumRecord(weightsPath: string): Promise<string | null> {
  const recordPath = checksumRecordPath(weightsPath);
  let text: string;
  try {
    text = await Deno.readTextFile(recordPath);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  return normalizeSha256(text.trim().split(/\s+/)[0] ?? "", `checksum record ${recordPath}`);
}

export interface WeightsVerification {
  sha256: string;
  /** a `.sha256` record existed and matched */
  recorded: boolean;
  /** a pinned hash was given and matched */
  pinned: boolean;
}

/**
 * Hashes the weights file (or its already-read `bytes`) and checks it against its `.sha256`
 * record, when present, and against `pinned`, when given. A mismatch is an error showing both
 * hashes. A file with neither record nor pin passes (user-supplied files) and reports its hash.
 */
export async function verifyWeights(path: string, pinned?: string, bytes?: Uint8Array): Promise<WeightsVerification> {
  const want = pinned != null ? normalizeSha256(pinned, "pinned SHA-256") : null;
  const actual = bytes ? sha256Hex(bytes) : await sha256File(path);
  const recorded = await readChecksumRecord(path);
  if (recorded != null && recorded !== actual) {
    throw new WeightsChecksumError(
      `${path}: SHA-256 mismatch: the file hashes to ${actual}, its record ${checksumRecordPath(path)} says ${recorded} ` +
        `(file changed or corrupt: download it again)`,
    );
  }
  if (want != null && want !== actual) {
    throw new WeightsChecksumError(`${path}: SHA-256 mismatch: the file hashes to ${actual}, expected (pinned) ${want}`);
  }
  return { sha256: actual, recorded: recorded != null, pinned: want != null };
}
