/**
 * Fetches the ImageNet EfficientNet-B5 weights (needs internet access):
 *
 *   deno run -A lib/cli/download_weights.ts --out DIR [--sha256 HEX] [--url URL]
 *
 * Default source: timm's `tf_efficientnet_b5.aa_in1k` (the TF-ported AutoAugment weights the
 * paper's reference package also ports, as `efficientnet-b5-b6417697.pth`, a PyTorch pickle we
 * cannot read here) from its Hugging Face repository, as safetensors. Writes
 * `DIR/model.safetensors` and `DIR/model.safetensors.sha256` (the SHA-256 of what was fetched;
 * checked on every later load). `--sha256` pins the expected hash: a mismatch is an error and
 * nothing is kept. An existing file whose hash checks out is not fetched again.
 *
 * Without internet access: download the URL elsewhere, copy it into DIR and run
 * `sha256sum model.safetensors > model.safetensors.sha256` there (or pass the hash on load).
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { normalizeSha256, verifyWeights, WeightsChecksumError, writeChecksumRecord } from "./checksum.ts";
import { exists } from "../../util/fs.ts";

export { verifyWeights } from "./checksum.ts";

export const TIMM_B5_WEIGHTS_URL = "https://huggingface.co/timm/tf_efficientnet_b5.aa_in1k/resolve/main/model.safetensors";
export const WEIGHTS_FILE_NAME = "model.safetensors";

export class WeightsDownloadError extends Error {}

export interface DownloadOptions {
  outDir: string;
  url?: string;
  /** expected SHA-256 (hex) */
  sha256?: string;
  fileName?: string;
  /** injectable for tests (no network there) */
  fetchFn?: typeof fetch;
  /** progress lines (default: none) */
  log?: (line: string) => void;
}

export interface DownloadResult {
  path: string;
  sha256: string;
  bytes: number;
  /** false when a verified file was already there */
  downloaded: boolean;
}

function reason(e: unknown): string {
  const err = e as Error;
  const cause = (err as { cause?: Error })?.cause?.message;
  return [err?.message ?? String(e), cause].filter(Boolean).join(": ");
}

export async function downloadWeights(opts: DownloadOptions): Promise<DownloadResult> {
  const url = opts.url ?? TIMM_B5_WEIGHTS_URL;
  const fetchFn = opts.fetchFn ?? fetch;
  const log = opts.log ?? (() => {});
  const pinned = opts.sha256 != null ? normalizeSha256(opts.sha256, "--sha256") : undefined;
  const target = join(opts.outDir, opts.fileName ?? WEIGHTS_FILE_NAME);
  await Deno.mkdir(opts.outDir, { recursive: true });

  if (await exists(target)) {
    // Re-verifies against the existing record (and the pin): a bad file is an error, not replaced.
    const v = await verifyWeights(target, pinned);
    log(`${target} already present (sha256 ${v.sha256})`);
    if (!v.recorded) await writeChecksumRecord(target, v.sha256);
    return { path: target, sha256: v.sha256, bytes: (await Deno.stat(target)).size, downloaded: false };
  }

  let response: Response;
  try {
    response = await fetchFn(url);
  } catch (e) {
    throw new WeightsDownloadError(
      `could not download ${url}: ${reason(e)}. Without internet access, fetch it on another machine and copy it to ${target}`,
    );
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new WeightsDownloadError(`could not download ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }

  // Stream to a part file while hashing: no 100+ MB buffer, and no torn file under the final name.
  const part = `${target}.part`;
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    using file = await Deno.open(part, { write: true, create: true, truncate: true });
    for await (const chunk of response.body) {
      hash.update(chunk);
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
      bytes += chunk.length;
    }
  } catch (e) {
    await Deno.remove(part).catch(() => {});
    throw new WeightsDownloadError(`download of ${url} failed after ${bytes} bytes: ${reason(e)}`);
  }
  const sha256 = hash.digest("hex");
  if (pinned && pinned !== sha256) {
    await Deno.remove(part).catch(() => {});
    throw new WeightsChecksumError(`${url}: SHA-256 mismatch: the download hashes to ${sha256}, expected (pinned) ${pinned}; nothing was kept`);
  }
  await Deno.rename(part, target);
  await writeChecksumRecord(target, sha256);
  log(`wrote ${target} (${bytes} bytes, sha256 ${sha256})`);
  return { path: target, sha256, bytes, downloaded: true };
}
