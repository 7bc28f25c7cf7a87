/**
 * Downloads one archive to `<path>.part` while hashing it, then renames it to `<path>` once it is
 * complete and its hashes check out, so a torn or wrong file never sits under the final name.
 * An interrupted download leaves its `.part`: the next run asks the server for the rest (HTTP
 * Range) and hashes the part already there first; a server that ignores the range restarts it.
 * The SHA-256 is checked against, in order: the pinned one (--sha256), the published one
 * (sources.ts) and the record of an earlier download (`<path>.sha256`, kept when the archive is
 * deleted after extraction); with none of them the hash is recorded for later runs.
 */
import { createHash } from "node:crypto";
import { basename } from "node:path";
import { exists } from "../../util/fs.ts";
import { isPermissionRefusal, PermissionNeeded } from "../../util/permission.ts";
import { ChecksumError, readChecksumRecord, sha256File, writeChecksumRecord } from "../../util/sha256.ts";
import { DOWNLOAD_HOSTS } from "./sources.ts";

export class ArchiveDownloadError extends Error {}

export interface Progress {
  file: string;
  bytes: number;
  /** null when the server sends no length */
  total: number | null;
  seconds: number;
  /** bytes of an earlier `.part` this download continues from */
  resumedFrom: number;
  done: boolean;
}

export interface FetchArchiveOptions {
  url: string;
  /** where the verified archive goes */
  path: string;
  /** expected SHA-256 and where it comes from (named in a mismatch) */
  expected?: { sha256: string; source: "pinned" | "published" };
  /** published MD5, checked as well */
  md5?: string;
  /** injectable for tests (no network there) */
  fetchFn?: typeof fetch;
  onProgress?: (p: Progress) => void;
  /** least time between two progress reports (the last one is always sent) */
  progressEverySeconds?: number;
}

export interface FetchedArchive {
  path: string;
  sha256: string;
  bytes: number;
  /** false when a verified archive was already there */
  downloaded: boolean;
  /** how the SHA-256 was checked */
  verifiedBy: "pinned" | "published" | "recorded" | "first download (recorded)";
}

function reason(e: unknown): string {
  const err = e as Error;
  const cause = (err as { cause?: Error })?.cause?.message;
  return [err?.message ?? String(e), cause].filter(Boolean).join(": ");
}

/** The expected hash of `path`: pinned, else published, else recorded by an earlier download. */
async function expectedHash(opts: FetchArchiveOptions): Promise<{ sha256: string; source: FetchedArchive["verifiedBy"] } | null> {
  if (opts.expected) return opts.expected;
  const recorded = await readChecksumRecord(opts.path);
  return recorded ? { sha256: recorded, source: "recorded" } : null;
}

function mismatch(what: string, got: string, want: string, source: string): ChecksumError {
  const whose = source === "recorded" ? "recorded by an earlier download" : source;
  return new ChecksumError(`${what}: SHA-256 mismatch: it hashes to ${got}, expected (${whose}) ${want}`);
}

/** Reads a `.part` left by an interrupted download into the hashes; its size. */
async function hashExisting(part: string, hashes: ReturnType<typeof createHash>[]): Promise<number> {
  using file = await Deno.open(part, { read: true });
  const buf = new Uint8Array(1 << 20);
  let bytes = 0;
  for (;;) {
    const n = await file.read(buf);
    if (n === null) return bytes;
    for (const h of hashes) h.update(buf.subarray(0, n));
    bytes += n;
  }
}

export async function fetchArchive(opts: FetchArchiveOptions): Promise<FetchedArchive> {
  const { url, path } = opts;
  const fetchFn = opts.fetchFn ?? fetch;
  const want = await expectedHash(opts);

  if (await exists(path)) {
    // already downloaded (kept, or extraction was interrupted): verified, not fetched again
    const got = await sha256File(path);
    if (want && want.sha256 !== got) throw mismatch(path, got, want.sha256, want.source);
    if (!want || want.source !== "recorded") await writeChecksumRecord(path, got);
    return { path, sha256: got, bytes: (await Deno.stat(path)).size, downloaded: false, verifiedBy: want?.source ?? "first download (recorded)" };
  }

  const part = `${path}.part`;
  const partSize = await Deno.stat(part).then((s) => s.size, () => 0);
  let response: Response;
  try {
    response = await fetchFn(url, partSize > 0 ? { headers: { Range: `bytes=${partSize}-` } } : undefined);
  } catch (e) {
    // a --url elsewhere, or a redirect to another host: name the flag, not a bare refusal
    if (isPermissionRefusal(e)) {
      throw new PermissionNeeded("--allow-net", `to download ${url} (${reason(e)}); the data task allows ${DOWNLOAD_HOSTS.join(", ")} only: run deno run with the host added`);
    }
    // an archive put there by hand is verified and used like a downloaded one
    throw new ArchiveDownloadError(`could not download ${url}: ${reason(e)}. Without internet access, download it elsewhere, put it at ${path} and run again`);
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new ArchiveDownloadError(`could not download ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  }
  const resume = partSize > 0 && response.status === 206;
  const sha = createHash("sha256");
  const md5 = opts.md5 ? createHash("md5") : null;
  const hashes = md5 ? [sha, md5] : [sha];
  const resumedFrom = resume ? await hashExisting(part, hashes) : 0;
  const length = response.headers.get("content-length");
  const total = length != null && /^\d+$/.test(length) ? resumedFrom + Number(length) : null;

  const t0 = performance.now();
  const every = (opts.progressEverySeconds ?? 1) * 1000;
  let lastReport = -Infinity;
  let bytes = resumedFrom;
  const report = (done: boolean) => {
    const now = performance.now();
    if (!done && now - lastReport < every) return;
    lastReport = now;
    opts.onProgress?.({ file: basename(path), bytes, total, seconds: (now - t0) / 1000, resumedFrom, done });
  };
  try {
    using file = await Deno.open(part, resume ? { append: true } : { write: true, create: true, truncate: true });
    for await (const chunk of response.body) {
      for (const h of hashes) h.update(chunk);
      let off = 0;
      while (off < chunk.length) off += await file.write(chunk.subarray(off));
      bytes += chunk.length;
      report(false);
    }
  } catch (e) {
    // the .part stays: the next run continues from it
    throw new ArchiveDownloadError(`download of ${url} stopped after ${bytes} bytes: ${reason(e)}; run the command again to resume`);
  }
  report(true);
  if (total != null && bytes !== total) {
    if (bytes > total) await Deno.remove(part).catch(() => {});
    throw new ArchiveDownloadError(
      `download of ${url} is truncated: got ${bytes} of ${total} bytes; nothing was extracted` +
        (bytes < total ? ` (run the command again to resume from ${part})` : ""),
    );
  }
  const got = sha.digest("hex");
  const refuse = async (err: Error) => {
    await Deno.remove(part).catch(() => {});
    return err;
  };
  if (want && want.sha256 !== got) throw await refuse(new ChecksumError(`${mismatch(url, got, want.sha256, want.source).message}; nothing was kept`));
  const gotMd5 = md5?.digest("hex");
  if (opts.md5 && gotMd5 !== opts.md5.toLowerCase()) {
    throw await refuse(new ChecksumError(`${url}: MD5 mismatch: it hashes to ${gotMd5}, expected (published) ${opts.md5}; nothing was kept`));
  }
  await Deno.rename(part, path);
  await writeChecksumRecord(path, got);
  return { path, sha256: got, bytes, downloaded: true, verifiedBy: want?.source ?? "first download (recorded)" };
}
