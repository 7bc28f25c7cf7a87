/**
 * "Your own data": index plain folders of images as an MVTec AD-style dataset, so the existing
 * pipeline trains and evaluates on them unchanged (same `MvtecDataset` / `Sample` structures,
 * layout "mvtecad" = RGB only).
 *
 *   good/        normal images (PNG/JPEG, any case of extension), directly in the folder
 *   defective/   optional: images directly (defect type "defective") and/or in sub-folders
 *                (sub-folder name = defect type)
 *   masks/       optional: mirrors defective/; the mask of `<stem>.<ext>` is `<stem>.png` or
 *                `<stem>_mask.png`. All defective images have a mask, or none does.
 *
 * Good images are split deterministically (names sorted by code point, then a seeded shuffle)
 * into train, validation (held-apart normals, e.g. for thresholds) and, when defective images
 * exist, test-good, so the test split has both classes.
 *
 * On open every image's header is read (signature and size: a few bytes per file), so corrupt
 * or non-image files and masks whose size differs from their image fail here, naming the file.
 * Full decoding happens at load time; lib/io/images.ts's errors name the file there too.
 */
import { basename, dirname, extname, join, resolve } from "node:path";
import { DatasetError, type MvtecDataset, type Sample } from "./mvtec.ts";
import { deriveSeed, mulberry32, permutation } from "../util/random.ts";

export interface FolderDatasetOptions {
  /** Folder of normal images. */
  good: string;
  /** Folder of defective images (flat and/or one sub-folder per defect type). */
  defective?: string;
  /** Folder of defect masks mirroring `defective`. */
  masks?: string;
  /** Share of good images held apart as validation; default 0.2. */
  validationFraction?: number;
  /** Share of good images put in the test split; default 0.2 with defective images, else 0. */
  testGoodFraction?: number;
  /** Seed of the good-image split; default 0. */
  seed?: number;
  /** Dataset name (`className`); default the name of good's parent folder. */
  name?: string;
}

export interface FolderDataset extends MvtecDataset {
  /** Whether defective samples carry masks (pixel-level metrics need them). */
  hasMasks: boolean;
  source: "folder";
  /** Things the user may want to know (ignored files, missing masks, empty test split). */
  notes: string[];
}

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);
/** The flat defective images' type; also the folder name a `good` defect type would clash with. */
export const FLAT_DEFECT_TYPE = "defective";

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const isImageName = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
const stemOf = (name: string) => basename(name, extname(name));

async function statKind(path: string): Promise<"file" | "dir" | null> {
  try {
    const s = await Deno.stat(path); // follows symlinks
    return s.isDirectory ? "dir" : s.isFile ? "file" : null;
  } catch {
    return null;
  }
}

interface Listing {
  images: string[];
  otherFiles: string[];
  dirs: string[];
}

/** Sorted entries of a folder (hidden ones skipped); `what` names the folder's role in errors. */
async function listFolder(path: string, what: string): Promise<Listing> {
  const kind = await statKind(path);
  if (kind === null) throw new DatasetError(`${path}: ${what} folder not found (check the path)`);
  if (kind !== "dir") throw new DatasetError(`${path}: ${what} must be a folder, not a file`);
  const out: Listing = { images: [], otherFiles: [], dirs: [] };
  for await (const entry of Deno.readDir(path)) {
    if (entry.name.startsWith(".")) continue;
    const k = await statKind(join(path, entry.name));
    if (k === "dir") out.dirs.push(entry.name);
    else if (k === "file") (isImageName(entry.name) ? out.images : out.otherFiles).push(entry.name);
  }
  out.images.sort(byCodePoint);
  out.otherFiles.sort(byCodePoint);
  out.dirs.sort(byCodePoint);
  return out;
}

export interface ImageSize {
  width: number;
  height: number;
}

/** Reads at most `n` bytes from the start of a file. */
async function readHead(path: string, n: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = await file.read(buf.subarray(got));
      if (r === null) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    file.close();
  }
}

/** JPEG size from the first SOF marker, or null when not within `bytes`. */
function jpegSize(bytes: Uint8Array): ImageSize | null {
  let p = 2;
  while (p + 9 < bytes.length) {
    if (bytes[p] !== 0xff) return null;
    const marker = bytes[p + 1];
    if (marker === 0xff) {
      p++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2; // markers without a length
      continue;
    }
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { height: (bytes[p + 5] << 8) | bytes[p + 6], width: (bytes[p + 7] << 8) | bytes[p + 8] };
    p += 2 + len;
  }
  return null;
}

/**
 * Width and height of a PNG or JPEG from its header, without decoding the pixels (the format is
 * told by the signature, not the extension, as the decoder does). Errors name the file.
 */
export async function readImageSize(path: string): Promise<ImageSize> {
  const fail = (why: string) => new DatasetError(`${path}: ${why}; re-export the image or remove it from the folder`);
  let head: Uint8Array;
  try {
    head = await readHead(path, 4096);
  } catch (e) {
    throw new DatasetError(`${path}: cannot read (${(e as Error).message})`);
  }
  const isPng = head.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => head[i] === b);
  if (isPng) {
    const ihdr = String.fromCharCode(...head.subarray(12, 16));
    if (head.length < 24 || ihdr !== "IHDR") throw fail("corrupt PNG (no IHDR header)");
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const size = { width: view.getUint32(16), height: view.getUint32(20) };
    if (!size.width || !size.height) throw fail("corrupt PNG (zero width or height)");
    return size;
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    // the size may sit behind a large EXIF/ICC block: then read the whole file
    const size = jpegSize(head) ?? jpegSize(await Deno.readFile(path));
    if (!size || !size.width || !size.height) throw fail("corrupt JPEG (no frame header with a size)");
    return size;
  }
  throw fail(head.length === 0 ? "empty file" : "not a PNG or JPEG (unrecognised signature)");
}

/** A defective image's mask in `maskDir`, by stem; null when absent. Both names present is an error. */
function findMask(maskDir: string, maskFiles: string[] | null, stem: string, imagePath: string): string | null {
  if (!maskFiles) return null;
  const hits = maskFiles.filter((f) => extname(f).toLowerCase() === ".png" && (stemOf(f) === stem || stemOf(f) === `${stem}_mask`));
  if (hits.length > 1) {
    throw new DatasetError(`${imagePath}: two masks match it (${hits.map((h) => join(maskDir, h)).join(", ")}); keep one`);
  }
  return hits.length ? join(maskDir, hits[0]) : null;
}

function checkFraction(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0 || value >= 1) throw new DatasetError(`${name} must be in [0, 1), got ${value}`);
}

/** Images of `defective/` (flat and per sub-folder) with their masks, sorted like MVTec's test split. */
async function indexDefective(
  defectiveDir: string,
  masksDir: string | undefined,
  notes: string[],
): Promise<{ samples: Sample[]; hasMasks: boolean }> {
  const top = await listFolder(defectiveDir, "defective");
  if (masksDir !== undefined) await listFolder(masksDir, "masks"); // a missing masks folder is its own error
  if (top.dirs.includes("good")) {
    throw new DatasetError(`${join(defectiveDir, "good")}: a defect type cannot be called "good" (it names the normal class); rename the folder`);
  }
  const groups: { type: string; dir: string; images: string[] }[] = [];
  if (top.images.length) groups.push({ type: FLAT_DEFECT_TYPE, dir: defectiveDir, images: top.images });
  for (const sub of top.dirs) {
    const listing = await listFolder(join(defectiveDir, sub), "defect type");
    if (listing.images.length) groups.push({ type: sub, dir: join(defectiveDir, sub), images: listing.images });
    else notes.push(`${join(defectiveDir, sub)}: no images, skipped`);
    if (listing.dirs.length) notes.push(`${join(defectiveDir, sub)}: nested folders ignored (${listing.dirs.join(", ")})`);
  }
  if (top.otherFiles.length) notes.push(`${defectiveDir}: ${top.otherFiles.length} non-image file(s) ignored`);
  if (!groups.length) {
    throw new DatasetError(`${defectiveDir}: no PNG/JPEG images (put them directly in it or in one sub-folder per defect type, or leave 'defective' out)`);
  }
  groups.sort((a, b) => byCodePoint(a.type, b.type));

  const samples: Sample[] = [];
  const withoutMask: string[] = [];
  let matched = 0;
  const usedMasks = new Set<string>();
  let masksOffered = 0;
  for (const g of groups) {
    const maskDir = masksDir === undefined ? null : g.dir === defectiveDir ? masksDir : join(masksDir, g.type);
    let maskFiles: string[] | null = null;
    if (maskDir !== null && (await statKind(maskDir)) === "dir") {
      maskFiles = (await listFolder(maskDir, "masks")).images;
      masksOffered += maskFiles.length;
    }
    const seenStems = new Map<string, string>();
    for (const name of g.images) {
      const stem = stemOf(name);
      const rgbPath = join(g.dir, name);
      if (maskFiles && seenStems.has(stem)) {
        throw new DatasetError(`${rgbPath}: same stem as ${seenStems.get(stem)}, so their masks cannot be told apart; rename one`);
      }
      seenStems.set(stem, rgbPath);
      const sample: Sample = { split: "test", defectType: g.type, label: 1, stem, rgbPath };
      const maskPath = maskDir === null ? null : findMask(maskDir, maskFiles, stem, rgbPath);
      if (maskPath) {
        sample.maskPath = maskPath;
        usedMasks.add(maskPath);
        matched++;
      } else withoutMask.push(rgbPath);
      samples.push(sample);
    }
  }
  if (masksDir !== undefined) {
    if (matched === 0) {
      throw new DatasetError(
        `${masksDir}: no mask matches any defective image (expected <stem>.png or <stem>_mask.png, in sub-folders mirroring ${defectiveDir}); fix the names or leave 'masks' out`,
      );
    }
    if (withoutMask.length) {
      throw new DatasetError(
        `${withoutMask[0]}: defective image without a mask (${withoutMask.length} of ${samples.length} lack one; masks must exist for all defective images or none). Add <stem>.png or <stem>_mask.png under ${masksDir}, or leave 'masks' out`,
      );
    }
    const unused = masksOffered - usedMasks.size;
    if (unused > 0) notes.push(`${masksDir}: ${unused} mask file(s) match no defective image, ignored`);
  }
  return { samples, hasMasks: masksDir !== undefined };
}

/** Splits sorted good image names into train / validation / test-good (seeded, deterministic). */
export function splitGood(
  names: string[],
  { validationFraction, testGoodFraction, seed }: { validationFraction: number; testGoodFraction: number; seed: number },
): { train: string[]; validation: string[]; test: string[] } {
  const sorted = [...names].sort(byCodePoint);
  const n = sorted.length;
  // a non-zero fraction always holds out at least one image
  const count = (f: number) => (f > 0 ? Math.max(1, Math.round(n * f)) : 0);
  const nTest = count(testGoodFraction), nVal = count(validationFraction);
  const perm = permutation(n, mulberry32(deriveSeed(seed, "folder-split")));
  const pick = (from: number, to: number) => Array.from(perm.subarray(from, to), (i) => sorted[i]).sort(byCodePoint);
  return { test: pick(0, nTest), validation: pick(nTest, nTest + nVal), train: pick(nTest + nVal, n) };
}

/** Index a folder dataset (see the module doc). Errors name the file or folder and the fix. */
export async function openFolderDataset(options: FolderDatasetOptions): Promise<FolderDataset> {
  const notes: string[] = [];
  const goodDir = resolve(options.good);
  const defectiveDir = options.defective === undefined ? undefined : resolve(options.defective);
  const masksDir = options.masks === undefined ? undefined : resolve(options.masks);
  if (masksDir !== undefined && defectiveDir === undefined) {
    throw new DatasetError(`${masksDir}: masks given without defective images; pass 'defective' too, or leave 'masks' out`);
  }
  const validationFraction = options.validationFraction ?? 0.2;
  const testGoodFraction = options.testGoodFraction ?? (defectiveDir !== undefined ? 0.2 : 0);
  checkFraction("validationFraction", validationFraction);
  checkFraction("testGoodFraction", testGoodFraction);
  if (validationFraction + testGoodFraction >= 1) {
    throw new DatasetError(`validationFraction + testGoodFraction must leave images for training (got ${validationFraction} + ${testGoodFraction})`);
  }
  if (testGoodFraction > 0 && defectiveDir === undefined) {
    throw new DatasetError(`testGoodFraction ${testGoodFraction} needs defective images (a test split without anomalies cannot be scored); pass 'defective' or set testGoodFraction to 0`);
  }

  const good = await listFolder(goodDir, "good");
  if (!good.images.length) {
    const hint = good.dirs.length ? ` (found sub-folders ${good.dirs.join(", ")}: images must sit directly in good/)` : "";
    throw new DatasetError(`${goodDir}: no PNG/JPEG images${hint}; put the normal images directly in this folder`);
  }
  if (good.dirs.length) notes.push(`${goodDir}: sub-folders ignored (${good.dirs.join(", ")})`);
  if (good.otherFiles.length) notes.push(`${goodDir}: ${good.otherFiles.length} non-image file(s) ignored`);

  const split = splitGood(good.images, { validationFraction, testGoodFraction, seed: options.seed ?? 0 });
  if (!split.train.length) {
    throw new DatasetError(
      `${goodDir}: ${good.images.length} image(s) are too few: ${split.validation.length} validation + ${split.test.length} test-good leave none for training; add good images or lower validationFraction/testGoodFraction`,
    );
  }
  const goodSample = (s: Sample["split"]) => (name: string): Sample => ({
    split: s,
    defectType: "good",
    label: 0,
    stem: stemOf(name),
    rgbPath: join(goodDir, name),
  });
  const defective = defectiveDir === undefined ? { samples: [], hasMasks: false } : await indexDefective(defectiveDir, masksDir, notes);
  const dataset: FolderDataset = {
    classDir: dirname(goodDir),
    className: options.name ?? basename(dirname(goodDir)),
    layout: "mvtecad",
    train: split.train.map(goodSample("train")),
    validation: split.validation.map(goodSample("validation")),
    test: [...split.test.map(goodSample("test")), ...defective.samples],
    hasMasks: defective.hasMasks,
    source: "folder",
    notes,
  };
  if (defectiveDir === undefined) notes.push("no defective images: the test split is empty (train and validation only)");
  else if (!defective.hasMasks) notes.push("no masks: image-level metrics only (pixel-level metrics need masks)");
  if (defectiveDir !== undefined && !split.test.length) notes.push("testGoodFraction is 0: the test split has no good images, so image-level AUROC is undefined");

  await checkImages(dataset, notes);
  return dataset;
}

/** Header check of every image and mask; masks must have their image's size. */
async function checkImages(dataset: FolderDataset, notes: string[]): Promise<void> {
  const sizes = new Set<string>();
  for (const s of [...dataset.train, ...dataset.validation, ...dataset.test]) {
    const size = await readImageSize(s.rgbPath);
    sizes.add(`${size.width}x${size.height}`);
    if (!s.maskPath) continue;
    const m = await readImageSize(s.maskPath);
    if (m.width !== size.width || m.height !== size.height) {
      throw new DatasetError(
        `${s.maskPath}: mask is ${m.width}x${m.height} but its image ${s.rgbPath} is ${size.width}x${size.height}; save the mask at the image's size`,
      );
    }
  }
  if (sizes.size > 1) notes.push(`images come in ${sizes.size} sizes (${[...sizes].slice(0, 4).join(", ")}${sizes.size > 4 ? ", ..." : ""}); all are resized to the model input`);
}

/**
 * Whether `dir` looks like a folder dataset: `good/` holding images directly, and no MVTec
 * `train/` folder (so MVTec classes are not mistaken for one).
 */
export async function looksLikeFolderDataset(dir: string): Promise<boolean> {
  if ((await statKind(join(dir, "train"))) === "dir") return false;
  if ((await statKind(join(dir, "good"))) !== "dir") return false;
  try {
    return (await listFolder(join(dir, "good"), "good")).images.length > 0;
  } catch {
    return false;
  }
}

/** Options for a folder dataset laid out as `dir/good`, optional `dir/defective`, `dir/masks`. */
export async function folderDatasetOptions(dir: string): Promise<FolderDatasetOptions> {
  const options: FolderDatasetOptions = { good: join(dir, "good"), name: basename(resolve(dir)) };
  if ((await statKind(join(dir, "defective"))) === "dir") options.defective = join(dir, "defective");
  if ((await statKind(join(dir, "masks"))) === "dir") options.masks = join(dir, "masks");
  return options;
}
