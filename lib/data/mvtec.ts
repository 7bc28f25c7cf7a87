/**
 * MVTec AD and MVTec 3D-AD dataset indexing (docs/CLI_CONTRACT.md, "Data").
 *
 * Class folder `ROOT/NAME`:
 *   - MVTec 3D-AD: `<split>/<type>/rgb/<stem>.png` + `<split>/<type>/xyz/<stem>.tiff`,
 *     defect masks `test/<type>/gt/<stem>.png`; splits train, validation (optional), test.
 *   - MVTec AD: `<split>/<type>/<stem>.<png|jpg>`, defect masks
 *     `ground_truth/<type>/<stem>_mask.png`; splits train, test.
 * All images of a class share one size and each mask has its image's (lib/data/image_sizes.ts).
 * Samples are sorted deterministically: `good` first, then defect types by name, then file names
 * (code-point order, independent of locale and of the file system's listing order).
 */
import { basename, extname, join } from "node:path";
import type { DatasetLayout, Sample, Split } from "../types.ts";
import { DatasetError } from "./errors.ts";
import { checkClassImageSizes } from "./image_sizes.ts";

export type { DatasetLayout, Sample, Split };

export interface MvtecDataset {
  classDir: string;
  className: string;
  layout: DatasetLayout;
  train: Sample[];
  /** Empty for MVTec AD and for 3D-AD classes without a validation folder. */
  validation: Sample[];
  test: Sample[];
}

export { DatasetError };

const IMAGE_EXTENSIONS = new Set([".png", ".jpg", ".jpeg"]);
const XYZ_EXTENSIONS = [".tiff", ".tif"];

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** "good" first, then by name. */
const goodFirst = (a: string, b: string) => (a === b ? 0 : a === "good" ? -1 : b === "good" ? 1 : byCodePoint(a, b));

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function listDir(path: string, want: "files" | "dirs"): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(path)) {
    if (entry.name.startsWith(".")) continue;
    // stat follows symlinks, so linked datasets work too
    const ok = want === "dirs" ? await isDir(join(path, entry.name)) : await isFile(join(path, entry.name));
    if (ok) names.push(entry.name);
  }
  return names.sort(byCodePoint);
}

function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

function stemOf(name: string): string {
  return basename(name, extname(name));
}

/** Detect the layout of a class folder; clear one-line errors for anything else. */
export async function detectLayout(classDir: string): Promise<DatasetLayout> {
  if (!(await isDir(classDir))) throw new DatasetError(`${classDir}: class folder not found`);
  const trainGood = join(classDir, "train", "good");
  if (!(await isDir(trainGood))) throw new DatasetError(`${trainGood}: folder not found (every class needs train/good)`);
  if ((await isDir(join(trainGood, "rgb"))) && (await isDir(join(trainGood, "xyz")))) return "mvtec3d";
  if ((await listDir(trainGood, "files")).some(isImageFile)) return "mvtecad";
  const hasAny = (await listDir(trainGood, "files")).length > 0 || (await listDir(trainGood, "dirs")).length > 0;
  if (!hasAny) throw new DatasetError(`${trainGood}: no training images (folder is empty)`);
  throw new DatasetError(
    `${classDir}: unknown dataset layout (expected train/good/rgb + train/good/xyz for MVTec 3D-AD, or PNG/JPEG images directly in train/good for MVTec AD)`,
  );
}

async function findXyz(xyzDir: string, stem: string, rgbPath: string): Promise<string> {
  for (const ext of XYZ_EXTENSIONS) {
    const p = join(xyzDir, stem + ext);
    if (await isFile(p)) return p;
  }
  throw new DatasetError(`${rgbPath}: rgb image without matching xyz (${join(xyzDir, stem + ".tiff")} not found)`);
}

async function requireMask(path: string, imagePath: string): Promise<string> {
  if (!(await isFile(path))) throw new DatasetError(`${imagePath}: defect image without its mask (${path} not found)`);
  return path;
}

/**
 * All samples of one split, sorted. A missing `validation` folder gives []; a missing `train` or
 * `test` folder is an error.
 */
export async function listSamples(classDir: string, split: Split, layout?: DatasetLayout): Promise<Sample[]> {
  layout ??= await detectLayout(classDir);
  const splitDir = join(classDir, split);
  if (!(await isDir(splitDir))) {
    if (split === "validation") return [];
    throw new DatasetError(`${splitDir}: folder not found`);
  }
  const samples: Sample[] = [];
  const types = (await listDir(splitDir, "dirs")).sort(goodFirst);
  for (const defectType of types) {
    const typeDir = join(splitDir, defectType);
    const label: 0 | 1 = defectType === "good" ? 0 : 1;
    const imageDir = layout === "mvtec3d" ? join(typeDir, "rgb") : typeDir;
    if (!(await isDir(imageDir))) {
      if (layout === "mvtec3d") throw new DatasetError(`${imageDir}: folder not found (MVTec 3D-AD needs rgb/ and xyz/)`);
      continue;
    }
    const images = (await listDir(imageDir, "files")).filter(isImageFile);
    for (const name of images) {
      const stem = stemOf(name);
      const rgbPath = join(imageDir, name);
      const sample: Sample = { split, defectType, label, stem, rgbPath };
      if (layout === "mvtec3d") sample.xyzPath = await findXyz(join(typeDir, "xyz"), stem, rgbPath);
      if (label === 1) {
        sample.maskPath = layout === "mvtec3d"
          ? await requireMask(join(typeDir, "gt", `${stem}.png`), rgbPath)
          : await requireMask(join(classDir, "ground_truth", defectType, `${stem}_mask.png`), rgbPath);
      }
      samples.push(sample);
    }
  }
  return samples;
}

/** Index a class folder `dataRoot/className` (all splits). */
export async function openDataset(dataRoot: string, className: string): Promise<MvtecDataset> {
  const classDir = join(dataRoot, className);
  const layout = await detectLayout(classDir);
  const train = await listSamples(classDir, "train", layout);
  if (!train.some((s) => s.defectType === "good")) {
    throw new DatasetError(`${join(classDir, "train", "good")}: no training images`);
  }
  const validation = layout === "mvtec3d" ? await listSamples(classDir, "validation", layout) : [];
  const test = await listSamples(classDir, "test", layout);
  await checkClassImageSizes([...train, ...validation, ...test]);
  return { classDir, className, layout, train, validation, test };
}
