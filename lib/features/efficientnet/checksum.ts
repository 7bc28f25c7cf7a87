/**
 * SHA-256 records for downloaded weight files: `<file>.sha256` beside the file, in
 * `sha256sum` format (`<hex>  <name>`), written when the file is fetched and checked on every
 * later load, so a truncated or replaced file is never used silently.
 */
import { checksumRecordPath, ChecksumError, normalizeSha256, readChecksumRecord, sha256File, sha256Hex } from "../../util/sha256.ts";

// the helpers moved to lib/util/sha256.ts (the dataset download uses them too); same names here
export { checksumRecordPath, normalizeSha256, readChecksumRecord, sha256File, sha256Hex, writeChecksumRecord } from "../../util/sha256.ts";
/** The weights' name for lib/util's ChecksumError (one class: `instanceof` holds for both). */
export const WeightsChecksumError = ChecksumError;
export type WeightsChecksumError = ChecksumError;

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
