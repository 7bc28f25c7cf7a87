/**
 * `downloadDataset`: MVTec AD / MVTec 3D-AD (or some of their classes) into `outDir/<class>`, the
 * layout lib/data/mvtec.ts reads. Per archive: fetch and verify (fetch_archive.ts), unpack into a
 * temporary folder inside `outDir` (same file system, so the final move is one atomic rename),
 * check that each class opens with `openDataset`, then rename it into place. A class that already
 * opens is not downloaded again; a folder in the way that does not open is left alone and named.
 * The archive is deleted once its classes are in place (its `.sha256` record stays, so a later
 * download is checked against it) unless `keepArchive`.
 */
import { join } from "node:path";
import type { DatasetLayout } from "../../types.ts";
import { exists } from "../../util/fs.ts";
import { normalizeSha256 } from "../../util/sha256.ts";
import { DatasetError } from "../errors.ts";
import { openDataset } from "../mvtec.ts";
import { extractTarXz } from "./extract.ts";
import { type FetchedArchive, fetchArchive, type Progress } from "./fetch_archive.ts";
import { type ArchiveSource, type DatasetId, SOURCES } from "./sources.ts";

export interface DownloadDatasetOptions {
  dataset: DatasetId;
  outDir: string;
  /** classes to get, each from its own archive; none: the whole dataset's archive */
  classes?: string[];
  /** another URL for the (single) archive, e.g. MVTec's current link */
  url?: string;
  /** pins the (single) archive's SHA-256 */
  sha256?: string;
  keepArchive?: boolean;
  fetchFn?: typeof fetch;
  onProgress?: (p: Progress) => void;
  log?: (line: string) => void;
}

export interface ClassInPlace {
  name: string;
  classDir: string;
  layout: DatasetLayout;
  train: number;
  test: number;
  /** true when it was already there (nothing downloaded for it) */
  alreadyPresent: boolean;
}

export interface DownloadDatasetResult {
  outDir: string;
  classes: ClassInPlace[];
  archives: FetchedArchive[];
}

async function opens(outDir: string, name: string, alreadyPresent: boolean): Promise<ClassInPlace> {
  const ds = await openDataset(outDir, name);
  return { name, classDir: ds.classDir, layout: ds.layout, train: ds.train.length, test: ds.test.length, alreadyPresent };
}

/** The folder holding the class folders: the unpacked root, or its single top folder. */
async function classRoot(dir: string, classes: string[]): Promise<string> {
  if (await exists(join(dir, classes[0]))) return dir;
  const dirs = [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => e.name);
  return dirs.length === 1 ? join(dir, dirs[0]) : dir;
}

export async function downloadDataset(opts: DownloadDatasetOptions): Promise<DownloadDatasetResult> {
  const source = SOURCES[opts.dataset];
  const log = opts.log ?? (() => {});
  const known = Object.keys(source.classes).sort();
  const requested = opts.classes?.length ? [...new Set(opts.classes)] : null;
  for (const c of requested ?? []) {
    if (!source.classes[c]) throw new DatasetError(`${source.title} has no class '${c}'; its classes: ${known.join(", ")}`);
  }
  const archives: { archive: ArchiveSource; classes: string[] }[] = requested
    ? requested.map((c) => ({ archive: source.classes[c], classes: [c] }))
    : [{ archive: source.whole, classes: known }];
  if ((opts.url || opts.sha256) && archives.length !== 1) throw new DatasetError("--url and --sha256 apply to one archive: give at most one --class");
  const pinned = opts.sha256 != null ? normalizeSha256(opts.sha256, "--sha256") : undefined;
  await Deno.mkdir(opts.outDir, { recursive: true });

  const result: DownloadDatasetResult = { outDir: opts.outDir, classes: [], archives: [] };
  for (const { archive, classes } of archives) {
    // which classes are missing; a folder in the way that does not open stops before downloading
    const missing: string[] = [];
    for (const name of classes) {
      if (!(await exists(join(opts.outDir, name)))) {
        missing.push(name);
        continue;
      }
      try {
        result.classes.push(await opens(opts.outDir, name, true));
        log(`${join(opts.outDir, name)} already present (opens: nothing to download)`);
      } catch (e) {
        throw new DatasetError(`${join(opts.outDir, name)} exists but does not open as a class (${(e as Error).message}); move it away and run again`);
      }
    }
    if (missing.length === 0) continue;

    const fetched = await fetchArchive({
      url: opts.url ?? archive.url,
      path: join(opts.outDir, archive.fileName),
      expected: pinned ? { sha256: pinned, source: "pinned" } : archive.sha256 ? { sha256: archive.sha256, source: "published" } : undefined,
      md5: pinned || opts.url ? undefined : archive.md5,
      fetchFn: opts.fetchFn,
      onProgress: opts.onProgress,
    });
    result.archives.push(fetched);
    log(`${fetched.path}: ${fetched.downloaded ? "downloaded" : "already downloaded"}, SHA-256 ${fetched.sha256} (${fetched.verifiedBy})`);

    const tmp = await Deno.makeTempDir({ dir: opts.outDir, prefix: ".extract-" });
    try {
      log(`unpacking ${archive.fileName} ...`);
      await extractTarXz(fetched.path, tmp);
      const root = await classRoot(tmp, missing);
      for (const name of missing) {
        if (!(await exists(join(root, name)))) {
          const found = [...Deno.readDirSync(root)].map((e) => e.name).sort().join(", ") || "nothing";
          throw new DatasetError(`${archive.fileName} has no folder '${name}' (it holds: ${found})`);
        }
        try {
          await openDataset(root, name);
        } catch (e) {
          throw new DatasetError(`${archive.fileName}: class '${name}' does not open: ${(e as Error).message}`);
        }
        await Deno.rename(join(root, name), join(opts.outDir, name));
        result.classes.push(await opens(opts.outDir, name, false));
      }
      // the archive's own licence / readme files go beside the classes (never over a file there)
      for (const e of Deno.readDirSync(root)) {
        if (e.isFile && !(await exists(join(opts.outDir, e.name)))) await Deno.rename(join(root, e.name), join(opts.outDir, e.name));
      }
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
    if (!opts.keepArchive) await Deno.remove(fetched.path);
  }
  result.classes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return result;
}
