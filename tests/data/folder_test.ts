/** Folder datasets ("your own data"): tiny PNG/JPEG folders built in a temp dir. */
import { join } from "node:path";
import jpeg from "jpeg-js";
import { encodePng } from "../../lib/io/images.ts";
import { DatasetError } from "../../lib/data/mvtec.ts";
import { loadMask } from "../_inputs.ts";
import {
  folderDatasetOptions,
  looksLikeFolderDataset,
  openFolderDataset,
  readImageSize,
  splitGood,
} from "../../lib/data/folder.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { put, withTemp } from "./_files.ts";


const png = (w: number, h: number, fill = 128) => encodePng({ width: w, height: h, channels: 1, data: new Uint8Array(w * h).fill(fill) });
const jpg = (w: number, h: number) => {
  const out = jpeg.encode({ data: new Uint8Array(w * h * 4).fill(200), width: w, height: h }, 90);
  return new Uint8Array(out.data);
};

/** `n` good PNGs named g00.png, g01.png, ... */
async function goods(dir: string, n: number) {
  for (let i = 0; i < n; i++) await put(join(dir, "good", `g${String(i).padStart(2, "0")}.png`), png(8, 8));
}

/** Asserts that `p` rejects with a DatasetError whose message contains every fragment. */
async function rejectsWith(p: Promise<unknown>, ...fragments: string[]) {
  await assertRejects(p, (e: Error) => {
    assert(e instanceof DatasetError, `expected DatasetError, got ${e}`);
    for (const f of fragments) assert(e.message.includes(f), `message ${JSON.stringify(e.message)} lacks ${JSON.stringify(f)}`);
    return true;
  });
}

Deno.test("folder: good only -> train + validation, empty test, no masks", () =>
  withTemp(async (dir) => {
    await goods(dir, 10);
    await put(join(dir, "good", "README.txt"), new TextEncoder().encode("notes"));
    await put(join(dir, "good", "G10.JPG"), jpg(8, 8)); // any case of extension
    const ds = await openFolderDataset({ good: join(dir, "good") });
    assertEquals(ds.source, "folder");
    assertEquals(ds.layout, "mvtecad");
    assertEquals(ds.hasMasks, false);
    assertEquals(ds.train.length + ds.validation.length, 11);
    assertEquals(ds.validation.length, 2); // round(11 * 0.2)
    assertEquals(ds.test, []);
    assert(ds.train.every((s) => s.split === "train" && s.label === 0 && s.defectType === "good" && !s.maskPath));
    assert(ds.validation.every((s) => s.split === "validation"));
    assert([...ds.train, ...ds.validation].some((s) => s.rgbPath.endsWith("G10.JPG")));
    assert(ds.notes.some((n) => n.includes("non-image")), ds.notes.join("; "));
    assert(ds.notes.some((n) => n.includes("test split is empty")), ds.notes.join("; "));
    assertEquals(ds.className, dir.split("/").pop());
  }));

Deno.test("folder: good + flat defective -> test has both classes, defect type 'defective'", () =>
  withTemp(async (dir) => {
    await goods(dir, 10);
    await put(join(dir, "defective", "b.png"), png(8, 8));
    await put(join(dir, "defective", "a.jpeg"), jpg(8, 8));
    const ds = await openFolderDataset({ good: join(dir, "good"), defective: join(dir, "defective"), name: "mine" });
    assertEquals(ds.className, "mine");
    assertEquals([ds.train.length, ds.validation.length], [6, 2]);
    assertEquals(ds.test.map((s) => `${s.defectType}/${s.stem}/${s.label}`), ["good/" + ds.test[0].stem + "/0", "good/" + ds.test[1].stem + "/0", "defective/a/1", "defective/b/1"]);
    assert(ds.test.every((s) => s.split === "test" && s.maskPath === undefined));
    assertEquals(ds.hasMasks, false);
    assert(ds.notes.some((n) => n.startsWith("no masks")), ds.notes.join("; "));
  }));

Deno.test("folder: defect sub-folders name the types; flat images and empty sub-folders", () =>
  withTemp(async (dir) => {
    await goods(dir, 5);
    await put(join(dir, "defective", "scratch", "1.png"), png(8, 8));
    await put(join(dir, "defective", "crack", "2.png"), png(8, 8));
    await put(join(dir, "defective", "crack", "1.png"), png(8, 8));
    await put(join(dir, "defective", "0.png"), png(8, 8));
    await Deno.mkdir(join(dir, "defective", "empty"));
    const ds = await openFolderDataset({ good: join(dir, "good"), defective: join(dir, "defective") });
    const defects = ds.test.filter((s) => s.label === 1).map((s) => `${s.defectType}/${s.stem}`);
    assertEquals(defects, ["crack/1", "crack/2", "defective/0", "scratch/1"]);
    assertEquals(ds.test.filter((s) => s.label === 0).length, 1); // max(1, round(5 * 0.2))
    assert(ds.notes.some((n) => n.includes("empty") && n.includes("skipped")), ds.notes.join("; "));
  }));

Deno.test("folder: masks mirror defective/ (both names), load as binary masks", () =>
  withTemp(async (dir) => {
    await goods(dir, 5);
    await put(join(dir, "defective", "0.png"), png(8, 8));
    await put(join(dir, "defective", "crack", "1.jpg"), jpg(8, 8));
    const half = new Uint8Array(64).fill(255, 0, 32);
    await put(join(dir, "masks", "0.png"), encodePng({ width: 8, height: 8, channels: 1, data: half }));
    await put(join(dir, "masks", "crack", "1_mask.png"), png(8, 8, 255));
    await put(join(dir, "masks", "crack", "9.png"), png(8, 8, 255)); // matches nothing
    const ds = await openFolderDataset(await folderDatasetOptions(dir));
    assertEquals(ds.hasMasks, true);
    const bad = ds.test.filter((s) => s.label === 1);
    assertEquals(bad.map((s) => s.maskPath), [join(dir, "masks", "crack", "1_mask.png"), join(dir, "masks", "0.png")]);
    assertEquals([...(await loadMask(bad[1].maskPath, 2))], [1, 1, 0, 0]);
    assert(ds.test.filter((s) => s.label === 0).every((s) => s.maskPath === undefined));
    assert(ds.notes.some((n) => n.includes("1 mask file(s) match no defective image")), ds.notes.join("; "));
  }));

Deno.test("folder: masks for some defective images but not others -> error naming the first without", () =>
  withTemp(async (dir) => {
    await goods(dir, 5);
    for (const n of ["a", "b", "c"]) await put(join(dir, "defective", `${n}.png`), png(8, 8));
    await put(join(dir, "masks", "a.png"), png(8, 8, 255));
    await put(join(dir, "masks", "c_mask.png"), png(8, 8, 255));
    await rejectsWith(openFolderDataset(await folderDatasetOptions(dir)), join(dir, "defective", "b.png"), "without a mask", "1 of 3");
  }));

Deno.test("folder: masks folder matching nothing, missing, or without defective images -> errors", () =>
  withTemp(async (dir) => {
    await goods(dir, 5);
    await put(join(dir, "defective", "a.png"), png(8, 8));
    await put(join(dir, "masks", "zzz.png"), png(8, 8, 255));
    const base = { good: join(dir, "good"), defective: join(dir, "defective") };
    await rejectsWith(openFolderDataset({ ...base, masks: join(dir, "masks") }), "no mask matches any defective image");
    await rejectsWith(openFolderDataset({ ...base, masks: join(dir, "nope") }), join(dir, "nope"), "masks folder not found");
    await rejectsWith(openFolderDataset({ good: base.good, masks: join(dir, "masks") }), "masks given without defective images");
  }));

Deno.test("folder: a mask whose size differs from its image -> error naming both", () =>
  withTemp(async (dir) => {
    await goods(dir, 5);
    await put(join(dir, "defective", "a.png"), png(8, 8));
    await put(join(dir, "masks", "a.png"), png(8, 6, 255));
    await rejectsWith(openFolderDataset(await folderDatasetOptions(dir)), join(dir, "masks", "a.png"), "8x6", join(dir, "defective", "a.png"), "8x8");
  }));

Deno.test("folder: empty, missing or misplaced good images -> clear errors", () =>
  withTemp(async (dir) => {
    await Deno.mkdir(join(dir, "good"));
    await rejectsWith(openFolderDataset({ good: join(dir, "good") }), join(dir, "good"), "no PNG/JPEG images");
    await put(join(dir, "good", "sub", "a.png"), png(8, 8));
    await rejectsWith(openFolderDataset({ good: join(dir, "good") }), "directly in good/");
    await rejectsWith(openFolderDataset({ good: join(dir, "missing") }), join(dir, "missing"), "good folder not found");
    await Deno.mkdir(join(dir, "defective"));
    await goods(dir, 3);
    await rejectsWith(openFolderDataset({ good: join(dir, "good"), defective: join(dir, "defective") }), join(dir, "defective"), "no PNG/JPEG images");
  }));

Deno.test("folder: too few good images for the held-out splits -> error, not an empty train split", () =>
  withTemp(async (dir) => {
    await goods(dir, 2);
    await put(join(dir, "defective", "a.png"), png(8, 8));
    await rejectsWith(openFolderDataset(await folderDatasetOptions(dir)), "2 image(s) are too few", "lower validationFraction");
    const ds = await openFolderDataset({ ...(await folderDatasetOptions(dir)), validationFraction: 0 });
    assertEquals([ds.train.length, ds.validation.length, ds.test.length], [1, 0, 2]);
    await rejectsWith(openFolderDataset({ good: join(dir, "good"), testGoodFraction: 0.3 }), "needs defective images");
    await rejectsWith(openFolderDataset({ good: join(dir, "good"), validationFraction: 1 }), "validationFraction must be in [0, 1)");
  }));

Deno.test("folder: corrupt or disguised image files -> error naming the file", () =>
  withTemp(async (dir) => {
    await goods(dir, 4);
    await put(join(dir, "good", "broken.png"), new TextEncoder().encode("this is not a png"));
    await rejectsWith(openFolderDataset({ good: join(dir, "good") }), join(dir, "good", "broken.png"), "not a PNG or JPEG");
    await Deno.writeFile(join(dir, "good", "broken.png"), png(8, 8).subarray(0, 20)); // truncated header
    await rejectsWith(openFolderDataset({ good: join(dir, "good") }), join(dir, "good", "broken.png"), "corrupt PNG");
    await Deno.writeFile(join(dir, "good", "broken.png"), new Uint8Array(0));
    await rejectsWith(openFolderDataset({ good: join(dir, "good") }), "broken.png", "empty file");
  }));

Deno.test("folder: readImageSize reads PNG and JPEG headers, by signature not extension", () =>
  withTemp(async (dir) => {
    await put(join(dir, "a.png"), png(7, 5));
    await put(join(dir, "b.jpg"), jpg(9, 4));
    await put(join(dir, "c.png"), jpg(3, 2)); // a JPEG named .png: the decoder goes by signature too
    assertEquals(await readImageSize(join(dir, "a.png")), { width: 7, height: 5 });
    assertEquals(await readImageSize(join(dir, "b.jpg")), { width: 9, height: 4 });
    assertEquals(await readImageSize(join(dir, "c.png")), { width: 3, height: 2 });
  }));

Deno.test("folder: the good split is deterministic per seed, disjoint and complete", () =>
  withTemp(async (dir) => {
    await goods(dir, 20);
    await put(join(dir, "defective", "a.png"), png(8, 8));
    const opts = await folderDatasetOptions(dir);
    const a = await openFolderDataset({ ...opts, seed: 7 });
    const b = await openFolderDataset({ ...opts, seed: 7 });
    assertEquals(a, b);
    const paths = (ds: typeof a) => [ds.train, ds.validation, ds.test.filter((s) => s.label === 0)].map((s) => s.map((x) => x.rgbPath));
    const [train, validation, testGood] = paths(a);
    assertEquals([train.length, validation.length, testGood.length], [12, 4, 4]);
    const all = [...train, ...validation, ...testGood];
    assertEquals(new Set(all).size, 20, "no image in two splits");
    assertEquals([...all].sort(), Array.from({ length: 20 }, (_, i) => join(dir, "good", `g${String(i).padStart(2, "0")}.png`)));
    for (const split of [train, validation, testGood]) assertEquals(split, [...split].sort(), "each split sorted by name");
    const c = await openFolderDataset({ ...opts, seed: 8 });
    assert(JSON.stringify(paths(c)) !== JSON.stringify(paths(a)), "another seed gives another split");
    // the listing order of the file system does not matter: only the names do
    assertEquals(splitGood(["b", "a", "c", "d", "e"], { validationFraction: 0.2, testGoodFraction: 0.2, seed: 1 }),
      splitGood(["e", "d", "c", "b", "a"], { validationFraction: 0.2, testGoodFraction: 0.2, seed: 1 }));
  }));

Deno.test("folder: detection tells folder datasets from MVTec classes", () =>
  withTemp(async (dir) => {
    assertEquals(await looksLikeFolderDataset(dir), false);
    await goods(join(dir, "mine"), 1);
    assertEquals(await looksLikeFolderDataset(join(dir, "mine")), true);
    await put(join(dir, "mvtec", "train", "good", "000.png"), png(8, 8));
    await put(join(dir, "mvtec", "good", "000.png"), png(8, 8));
    assertEquals(await looksLikeFolderDataset(join(dir, "mvtec")), false);
    assertEquals(await folderDatasetOptions(join(dir, "mine")), { good: join(dir, "mine", "good"), name: "mine" });
  }));
