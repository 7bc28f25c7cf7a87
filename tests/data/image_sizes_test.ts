/** One image size per class; masks at their image's size (lib/data/image_sizes.ts), checked on open. */
import { join } from "node:path";
import { openDataset } from "../../lib/data/mvtec.ts";
import { folderDatasetOptions, openFolderDataset } from "../../lib/data/folder.ts";
import { DatasetError } from "../../lib/data/errors.ts";
import { assert, assertRejects } from "../assert.ts";
import { grayPng, put, withTemp } from "./_files.ts";



/** MVTec AD layout, every file 8x8 unless overridden by `sizes` (relative path -> [w, h]). */
async function makeAd(root: string, sizes: Record<string, [number, number]> = {}) {
  const c = join(root, "cls");
  const files = ["train/good/000.png", "train/good/001.png", "train/good/002.png", "test/good/000.png", "test/crack/000.png", "ground_truth/crack/000_mask.png"];
  for (const f of files) {
    const [w, h] = sizes[f] ?? [8, 8];
    await put(join(c, f), grayPng(w, h, f.includes("mask") ? 255 : 128));
  }
  return c;
}

function oneLine(e: Error, ...parts: string[]): boolean {
  return e instanceof DatasetError && !e.message.includes("\n") && parts.every((p) => e.message.includes(p));
}

Deno.test("image sizes: a train image of another size -> error naming it, the first image and both sizes", () =>
  withTemp(async (dir) => {
    const c = await makeAd(dir, { "train/good/001.png": [8, 6] });
    await assertRejects(() => openDataset(dir, "cls"), (e: Error) => {
      assert(oneLine(e, join(c, "train/good/001.png"), "8x6", join(c, "train/good/000.png"), "8x8", "share one size"), e.message);
      return true;
    });
  }));

Deno.test("image sizes: a test image of another size is refused too (scoring would refuse it)", () =>
  withTemp(async (dir) => {
    const c = await makeAd(dir, { "test/good/000.png": [10, 8] });
    await assertRejects(() => openDataset(dir, "cls"), (e: Error) => {
      assert(oneLine(e, join(c, "test/good/000.png"), "10x8", "8x8"), e.message);
      return true;
    });
  }));

Deno.test("image sizes: an MVTec mask of another size than its image -> error naming the mask and both sizes (never stretched)", () =>
  withTemp(async (dir) => {
    const c = await makeAd(dir, { "ground_truth/crack/000_mask.png": [16, 16] });
    await assertRejects(() => openDataset(dir, "cls"), (e: Error) => {
      assert(oneLine(e, join(c, "ground_truth/crack/000_mask.png"), "mask is 16x16", join(c, "test/crack/000.png"), "8x8"), e.message);
      return true;
    });
  }));

Deno.test("image sizes: a folder dataset with good images of two sizes is refused (it used to be resized silently)", () =>
  withTemp(async (dir) => {
    for (let i = 0; i < 5; i++) await put(join(dir, "good", `${i}.png`), grayPng(8, 8));
    await put(join(dir, "good", "5.png"), grayPng(12, 8));
    await assertRejects(async () => openFolderDataset(await folderDatasetOptions(dir)), (e: Error) => {
      assert(oneLine(e, join(dir, "good", "5.png"), "12x8", "8x8"), e.message);
      return true;
    });
  }));
