/** The seeded synthetic MVTec 3D-AD generator: determinism, skip/regenerate, readability. */
import { join } from "node:path";
import { generateDataset, mulberry32 } from "../../lib/data/synthetic.ts";
import { openDataset } from "../../lib/data/mvtec.ts";
import { loadDepth, loadMask } from "../_inputs.ts";
import { readImage } from "../../lib/io/images.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { allFiles, withTemp as withTempIn } from "./_files.ts";

const SMALL = { train: 3, validation: 1, testGood: 2, defects: { dent: 2, bump: 1, hole: 1, crack: 2, color: 1 } };

const withTemp = (fn: (dir: string) => Promise<void>) => withTempIn(fn, "ast_synth_test_");

Deno.test("synthetic: mulberry32 is deterministic and roughly uniform", () => {
  const a = mulberry32(42), b = mulberry32(42);
  let sum = 0;
  for (let i = 0; i < 10000; i++) {
    const v = a();
    assertEquals(v, b());
    assert(v >= 0 && v < 1);
    sum += v;
  }
  assert(Math.abs(sum / 10000 - 0.5) < 0.02);
});

Deno.test("synthetic: same seed -> identical bytes; other seed differs; skip and regenerate", () =>
  withTemp(async (dir) => {
    const one = await generateDataset({ root: join(dir, "a"), seed: 3, size: 128, counts: SMALL });
    const two = await generateDataset({ root: join(dir, "b"), seed: 3, size: 128, counts: SMALL });
    assert(one.generated && two.generated);
    const filesA = await allFiles(one.classDir), filesB = await allFiles(two.classDir);
    assertEquals([...filesA.keys()].sort(), [...filesB.keys()].sort());
    for (const [name, bytes] of filesA) assertEquals(bytes, filesB.get(name), name);
    // 3 + 1 + 2 + 7 samples; rgb + xyz everywhere, gt in test; + dataset.json
    assertEquals(filesA.size, 13 * 2 + 9 + 1);

    const again = await generateDataset({ root: join(dir, "a"), seed: 3, size: 128, counts: SMALL });
    assertEquals(again.generated, false);
    const other = await generateDataset({ root: join(dir, "a"), seed: 4, size: 128, counts: SMALL });
    assert(other.generated, "a changed config regenerates");
    const filesC = await allFiles(other.classDir);
    assert(filesC.get(join("train", "good", "xyz", "000.tiff"))!.some((v, i) => v !== filesA.get(join("train", "good", "xyz", "000.tiff"))![i]));
    const leftovers = [...Deno.readDirSync(join(dir, "a"))].map((e) => e.name);
    assertEquals(leftovers, ["puck"], "no temp or old folders left behind");
  }));

Deno.test("synthetic: refuses to overwrite a folder it did not generate", () =>
  withTemp(async (dir) => {
    await Deno.mkdir(join(dir, "puck"));
    await assertRejects(generateDataset({ root: dir, size: 64, counts: SMALL }), /no dataset\.json/);
  }));

Deno.test("synthetic: the loader reads it back; foreground on the puck; defect masks on it too", () =>
  withTemp(async (dir) => {
    const size = 128;
    await generateDataset({ root: dir, seed: 0, size, counts: SMALL });
    const ds = await openDataset(dir, "puck");
    assertEquals(ds.layout, "mvtec3d");
    assertEquals([ds.train.length, ds.validation.length, ds.test.length], [3, 1, 9]);
    assertEquals([...new Set(ds.test.map((s) => s.defectType))], ["good", "bump", "color", "crack", "dent", "hole"]);
    const rgb = await readImage(ds.train[0].rgbPath);
    assertEquals([rgb.width, rgb.height, rgb.channels], [size, size, 3]);

    for (const sample of [...ds.train, ...ds.validation, ...ds.test]) {
      const d = await loadDepth(sample, { mapLen: 24 });
      // the puck (radius ~0.3 of the side) is foreground, centred; the corners are background
      let count = 0, cy = 0, cx = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          if (d.foregroundFull[i * size + j]) (count++, cy += i, cx += j);
        }
      }
      const area = count / (size * size);
      assert(area > 0.2 && area < 0.35, `${sample.rgbPath}: foreground fraction ${area}`);
      assert(Math.abs(cy / count - size / 2) < 0.06 * size && Math.abs(cx / count - size / 2) < 0.06 * size);
      assertEquals(d.foregroundDown[0], 0);
      assert(d.foregroundDown[12 * 24 + 12] > 0.99);
      if (sample.label === 1) {
        const mask = await loadMask(sample.maskPath, size);
        let inMask = 0, onFg = 0;
        for (let k = 0; k < mask.length; k++) if (mask[k]) (inMask++, onFg += d.foregroundFull[k]);
        assert(inMask >= 10, `${sample.maskPath}: defect mask has ${inMask} pixels`);
        assert(onFg >= 0.8 * inMask, `${sample.maskPath}: defect mostly off the object`);
      }
    }
  }));

Deno.test("synthetic: depth defects change depth inside the mask; the colour defect only RGB", () =>
  withTemp(async (dir) => {
    await generateDataset({ root: dir, seed: 1, size: 128, counts: SMALL });
    const ds = await openDataset(dir, "puck");
    for (const type of ["dent", "bump", "hole", "crack", "color"]) {
      const s = ds.test.find((x) => x.defectType === type)!;
      const d = await loadDepth(s, { mapLen: 16 });
      const side = d.depthLen;
      const mask = await loadMask(s.maskPath, side);
      // compare the mask with the foreground in its bounding box grown by 6 px
      let minI = side, maxI = 0, minJ = side, maxJ = 0;
      for (let k = 0; k < mask.length; k++) {
        if (!mask[k]) continue;
        const i = Math.floor(k / side), j = k % side;
        (minI = Math.min(minI, i)), (maxI = Math.max(maxI, i)), (minJ = Math.min(minJ, j)), (maxJ = Math.max(maxJ, j));
      }
      const rgb = await readImage(s.rgbPath);
      const rgbMask = await loadMask(s.maskPath, rgb.width);
      let inSum = 0, inN = 0, outSum = 0, outN = 0;
      for (let i = Math.max(0, minI - 6); i <= Math.min(side - 1, maxI + 6); i++) {
        for (let j = Math.max(0, minJ - 6); j <= Math.min(side - 1, maxJ + 6); j++) {
          const k = i * side + j;
          if (mask[k]) (inSum += d.depthResized[k], inN++);
          else if (d.foregroundResized[k]) (outSum += d.depthResized[k], outN++);
        }
      }
      const depthDeviation = Math.abs(inSum / inN - outSum / outN); // cm
      // blue channel: the puck is red-brown, stains are blue-green, holes/cracks dark
      let bIn = 0, bInN = 0;
      for (let k = 0; k < rgbMask.length; k++) if (rgbMask[k]) (bIn += rgb.data[3 * k + 2], bInN++);
      const blueInMask = bIn / bInN;
      if (type === "color") {
        assert(depthDeviation < 0.05, `color changed depth by ${depthDeviation} cm`);
        assert(blueInMask > 100, `color stain not visible (blue ${blueInMask})`);
      } else {
        assert(depthDeviation > 0.15, `${type}: depth deviation only ${depthDeviation} cm`);
        if (type === "dent" || type === "bump") assert(blueInMask > 30 && blueInMask < 60, `${type} changed RGB (blue ${blueInMask})`);
      }
    }
  }));
