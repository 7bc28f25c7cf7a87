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
 * or non-image files, images of another size than the class's and masks whose size differs from
 * their image fail here, naming the file (lib/data/image_sizes.ts).
 * Full decoding happens at load time; lib/io/images.ts's errors name the file there too.
 */
import { basename, dirname, extname, join, resolve } from "node:path";
import { DatasetError, type MvtecDataset, type Sample } from "./mvtec.ts";
import { checkClassImageSizes } from "./image_sizes.ts";
import { deriveSeed, mulberry32, permutation } from "../util/random.ts";

export { type ImageSize, readImageSize } from "./image_sizes.ts";

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

  await checkClassImageSizes([...dataset.train, ...dataset.validation, ...dataset.test]);
  return dataset;
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
