/** Dataset indexing: tiny datasets built in a temp dir (always run) and the shared datasets. */
import { join } from "node:path";
import { encodePng } from "../../lib/io/images.ts";
import { encodeXyzTiff } from "../../lib/io/tiff.ts";
import { DatasetError, detectLayout, listSamples, openDataset } from "../../lib/data/mvtec.ts";
import { loadDepth, loadMask } from "../_inputs.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { needsShared, sharedPath } from "../_shared.ts";
import { grayPng, put, withTemp } from "./_files.ts";

const XYZ = (w: number, h: number) => encodeXyzTiff({ width: w, height: h, xyz: new Float32Array(w * h * 3).fill(0.5) });

/** MVTec AD layout: train/good, test/{good,crack}, ground_truth/crack; JPEG + PNG images. */
async function makeAd(root: string, { withMask = true } = {}) {
  const c = join(root, "cls");
  await put(join(c, "train", "good", "001.png"), grayPng(8, 8));
  await put(join(c, "train", "good", "000.png"), grayPng(8, 8));
  await put(join(c, "test", "good", "000.png"), grayPng(8, 8));
  await put(join(c, "test", "crack", "000.png"), grayPng(8, 8));
  await put(join(c, "test", "abrasion", "000.png"), grayPng(8, 8));
  await put(join(c, "test", "crack", "notes.txt"), new TextEncoder().encode("not an image"));
  const mask = new Uint8Array(64);
  mask.fill(255, 0, 32); // top half defect
  if (withMask) await put(join(c, "ground_truth", "crack", "000_mask.png"), encodePng({ width: 8, height: 8, channels: 1, data: mask }));
  await put(join(c, "ground_truth", "abrasion", "000_mask.png"), encodePng({ width: 8, height: 8, channels: 1, data: mask }));
  return c;
}

/** MVTec 3D-AD layout with train, test/{good,dent}; no validation folder. */
async function make3d(root: string, { withXyz = true } = {}) {
  const c = join(root, "cls");
  for (const split of ["train", "test"]) {
    for (const type of split === "train" ? ["good"] : ["good", "dent"]) {
      await put(join(c, split, type, "rgb", "000.png"), grayPng(8, 8));
      if (withXyz) await put(join(c, split, type, "xyz", "000.tiff"), XYZ(8, 8));
      await put(join(c, split, type, "gt", "000.png"), grayPng(8, 8, type === "good" ? 0 : 255));
    }
  }
  if (!withXyz) await Deno.mkdir(join(c, "train", "good", "xyz"), { recursive: true });
  return c;
}

Deno.test("mvtec: MVTec AD layout in a temp dir: sorting, labels, mask paths", () =>
  withTemp(async (dir) => {
    await makeAd(dir);
    const ds = await openDataset(dir, "cls");
    assertEquals(ds.layout, "mvtecad");
    assertEquals(ds.train.map((s) => s.stem), ["000", "001"]);
    assertEquals(ds.validation, []);
    assertEquals(ds.test.map((s) => `${s.defectType}/${s.stem}/${s.label}`), ["good/000/0", "abrasion/000/1", "crack/000/1"]);
    assertEquals(ds.test[0].maskPath, undefined);
    assertEquals(ds.test[2].maskPath, join(dir, "cls", "ground_truth", "crack", "000_mask.png"));
    const m = await loadMask(ds.test[2].maskPath, 4);
    assertEquals([...m], [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    assertEquals([...(await loadMask(undefined, 2))], [0, 0, 0, 0]);
  }));

Deno.test("mvtec: MVTec 3D-AD layout in a temp dir: xyz paths, gt masks, absent validation", () =>
  withTemp(async (dir) => {
    await make3d(dir);
    const ds = await openDataset(dir, "cls");
    assertEquals(ds.layout, "mvtec3d");
    assertEquals(ds.validation, []);
    assertEquals(ds.test.map((s) => s.defectType), ["good", "dent"]);
    assertEquals(ds.test[1].xyzPath, join(dir, "cls", "test", "dent", "xyz", "000.tiff"));
    assertEquals(ds.test[1].maskPath, join(dir, "cls", "test", "dent", "gt", "000.png"));
    assertEquals(ds.test[0].maskPath, undefined);
    const depth = await loadDepth(ds.train[0], { mapLen: 1 });
    assertEquals(depth.depth.length, 64);
  }));

Deno.test("mvtec: clear errors (missing class, empty train/good, unknown layout, missing mask / xyz)", () =>
  withTemp(async (dir) => {
    const expect = (p: Promise<unknown>, re: RegExp) => assertRejects(p, (e: Error) => e instanceof DatasetError && re.test(e.message));
    await expect(openDataset(dir, "nope"), /nope: class folder not found/);
    await Deno.mkdir(join(dir, "empty", "train", "good"), { recursive: true });
    await expect(openDataset(dir, "empty"), /no training images/);
    await put(join(dir, "odd", "train", "good", "readme.txt"), new TextEncoder().encode("x"));
    await expect(openDataset(dir, "odd"), /unknown dataset layout/);
    const ad = join(dir, "ad");
    await Deno.mkdir(ad);
    await makeAd(ad, { withMask: false });
    await expect(openDataset(ad, "cls"), /crack\/000\.png: defect image without its mask .*000_mask\.png/);
    const d3 = join(dir, "d3");
    await Deno.mkdir(d3);
    await make3d(d3, { withXyz: false });
    await expect(openDataset(d3, "cls"), /rgb\/000\.png: rgb image without matching xyz/);
  }));

Deno.test({
  name: "mvtec: shared MVTec AD grid subset",
  ignore: needsShared(),
  async fn() {
    const ds = await openDataset(sharedPath("data"), "mvtec_ad_grid_subset");
    assertEquals(ds.layout, "mvtecad");
    assert(ds.train.length > 0 && ds.train.every((s) => s.label === 0 && !s.maskPath));
    assertEquals(ds.test[0].defectType, "good");
    const types = [...new Set(ds.test.map((s) => s.defectType))];
    assertEquals(types, ["good", ...types.slice(1).sort()]);
    const defect = ds.test.find((s) => s.label === 1)!;
    const mask = await loadMask(defect.maskPath, 192);
    assert(mask.some((v) => v === 1) && mask.every((v) => v === 0 || v === 1));
  },
});

Deno.test({
  name: "mvtec: shared synthetic MVTec 3D-AD puck",
  ignore: needsShared(),
  async fn() {
    const ds = await openDataset(sharedPath("data", "synthetic_mvtec3d"), "puck");
    assertEquals(ds.layout, "mvtec3d");
    assertEquals([ds.train.length, ds.validation.length], [30, 4]);
    assertEquals([...new Set(ds.test.map((s) => s.defectType))], ["good", "bump", "color", "crack", "dent", "hole"]);
    assert(ds.test.every((s) => s.xyzPath && (s.label === 0) === (s.maskPath === undefined)));
    const depth = await loadDepth(ds.test[0], { mapLen: 24 });
    assertEquals(depth.depth.length, 64 * 24 * 24);
    assert(depth.foregroundDown.some((v) => v > 0.5));
    const mask = await loadMask(ds.test.find((s) => s.label === 1)!.maskPath, 192);
    assert(mask.some((v) => v === 1));
  },
});

Deno.test("mvtec: listSamples of an absent validation split is empty", () =>
  withTemp(async (dir) => {
    const c = await make3d(dir);
    assertEquals(await detectLayout(c), "mvtec3d");
    assertEquals(await listSamples(c, "validation"), []);
  }));
