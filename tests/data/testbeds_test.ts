/**
 * The testbeds (lib/data/testbeds.ts): determinism, layout, and each testbed's design property
 * measured on the written files — posenc: anomalies are locally normal, abnormal only by place;
 * fgmask: the repo's own foreground mask keeps the object and drops the varying background;
 * subtle: defect amplitudes are small next to the puck's.
 */
import { join } from "node:path";
import { generateDataset } from "../../lib/data/synthetic.ts";
import { generateTestbed, TESTBED_NAMES, TESTBEDS } from "../../lib/data/testbeds.ts";
import { POSENC_SLOTS } from "../../lib/data/testbed_posenc.ts";
import { CLUTTER_MAX_HEIGHT } from "../../lib/data/testbed_fgmask.ts";
import { SUBTLE_MAX_DEPTH, SUBTLE_MIN_DEPTH } from "../../lib/data/testbed_subtle.ts";
import { openAnyDataset } from "../../lib/data/open.ts";
import type { MvtecDataset, Sample } from "../../lib/data/mvtec.ts";
import { readImage } from "../../lib/io/images.ts";
import { readXyzTiff } from "../../lib/io/tiff.ts";
import { backgroundPlane } from "../../lib/preprocess/depth.ts";
import { loadDepth, loadMask } from "../_inputs.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { allFiles, withTemp as withTempIn } from "./_files.ts";

const withTemp = (fn: (dir: string) => Promise<void>) => withTempIn(fn, "ast_testbeds_test_");

async function zOf(sample: Sample): Promise<{ z: Float32Array; size: number }> {
  const map = await readXyzTiff(sample.xyzPath!);
  const z = new Float32Array(map.width * map.height);
  for (let k = 0; k < z.length; k++) z[k] = map.xyz[3 * k + 2];
  return { z, size: map.width };
}

const few = (types: readonly string[], each: number, good = 3) => ({
  train: good,
  validation: 1,
  testGood: 2,
  defects: Object.fromEntries(types.map((t) => [t, each])),
});

Deno.test("testbeds: same seed -> identical bytes; other seed differs; skip and regenerate; default size is quick", () =>
  withTemp(async (dir) => {
    for (const name of TESTBED_NAMES) {
      const counts = few(TESTBEDS[name].defectTypes, 1, 2);
      const one = await generateTestbed({ root: join(dir, "a"), name, seed: 5, counts });
      const two = await generateTestbed({ root: join(dir, "b"), name, seed: 5, counts });
      assert(one.generated && two.generated);
      assertEquals(one.classDir, join(dir, "a", name));
      const filesA = await allFiles(one.classDir), filesB = await allFiles(two.classDir);
      assertEquals([...filesA.keys()].sort(), [...filesB.keys()].sort());
      for (const [file, bytes] of filesA) assertEquals(bytes, filesB.get(file), `${name}: ${file}`);
      const nTest = 2 + TESTBEDS[name].defectTypes.length;
      assertEquals(filesA.size, (2 + 1) * 2 + nTest * 3 + 1, `${name}: file count`);
      assertEquals((await generateTestbed({ root: join(dir, "a"), name, seed: 5, counts })).generated, false);
      const other = await generateTestbed({ root: join(dir, "a"), name, seed: 6, counts });
      assert(other.generated, `${name}: a changed seed regenerates`);
      const key = join("train", "good", "xyz", "000.tiff");
      const c = (await allFiles(other.classDir)).get(key)!;
      assert(c.some((v, i) => v !== filesA.get(key)![i]), `${name}: another seed gives other data`);
    }
    assertEquals([...Deno.readDirSync(join(dir, "a"))].map((e) => e.name).sort(), [...TESTBED_NAMES].sort(), "no temp folders left");
    await Deno.mkdir(join(dir, "c", "posenc"), { recursive: true });
    await assertRejects(generateTestbed({ root: join(dir, "c"), name: "posenc" }), /no dataset\.json/);
    // one testbed at its default counts and size, timed
    const t0 = performance.now();
    const full = await generateTestbed({ root: join(dir, "full"), name: "fgmask" });
    const secs = (performance.now() - t0) / 1000;
    console.log(`fgmask at default counts (${full.config.counts.train} train, ${Object.values(full.config.counts.defects).reduce((a, b) => a + b)} defective, ${full.config.size} px): ${secs.toFixed(1)} s`);
    assert(secs < 60, "seconds to make, not minutes");
  }));

Deno.test("testbeds: openAnyDataset reads every testbed; counts, defect types, modes and hypothesis recorded", () =>
  withTemp(async (dir) => {
    assertEquals(TESTBEDS.posenc.modes, ["depth", "rgb", "combi"]);
    assertEquals(TESTBEDS.fgmask.modes, ["depth", "combi"]);
    assertEquals(TESTBEDS.subtle.modes, ["depth", "rgb", "combi"]);
    for (const name of TESTBED_NAMES) {
      const tb = TESTBEDS[name];
      const d = tb.defaultCounts;
      assert(d.train >= 30 && d.validation >= 5 && d.testGood >= 12, `${name}: default counts`);
      const nDefective = Object.values(d.defects).reduce((a, b) => a + b, 0);
      assert(nDefective >= 24 && nDefective <= 32, `${name}: ${nDefective} defective by default`);
      await generateTestbed({ root: dir, name, seed: 0, size: 96, counts: few(tb.defectTypes, 2) });
      const ds = await openAnyDataset(dir, name) as MvtecDataset;
      assertEquals(ds.layout, "mvtec3d");
      assertEquals([ds.train.length, ds.validation.length, ds.test.length], [3, 1, 2 + 2 * tb.defectTypes.length]);
      assertEquals(new Set(ds.test.map((s) => s.defectType)), new Set(["good", ...tb.defectTypes]));
      const good = ds.test.find((s) => s.defectType === "good")!;
      assert(good.xyzPath?.endsWith(".tiff"));
      assert((await loadMask(join(ds.classDir, "test", "good", "gt", "000.png"), 96)).every((v) => v === 0), "test/good gt is all zero");
      for (const s of ds.test.filter((x) => x.label === 1)) {
        assert((await loadMask(s.maskPath!, 96)).some((v) => v > 0), `${s.maskPath}: empty defect mask`);
      }
      const rgb = await readImage(ds.train[0].rgbPath);
      assertEquals([rgb.width, rgb.height, rgb.channels], [96, 96, 3]);
      const recorded = JSON.parse(await Deno.readTextFile(join(ds.classDir, "dataset.json")));
      assertEquals(recorded.testbed, name);
      assertEquals(recorded.hypothesis, tb.hypothesis);
      assertEquals(recorded.modes, tb.modes);
      assert(recorded.hypothesis.length > 40 && recorded.why.length > 80);
    }
  }));

// ---------------------------------------------------------------------------------------------
// posenc: each slot's content, as height above the plate, compared between images

const PATCH = 44, SHIFT = 4;

/** Height above the plate (mm) in a PATCH x PATCH window at each slot; NaN = missing point. */
function slotPatches(z: Float32Array, size: number): Float32Array[] {
  return POSENC_SLOTS.map(([fy, fx]) => {
    const y0 = Math.round(fy * size - PATCH / 2), x0 = Math.round(fx * size - PATCH / 2);
    // least-squares plane z = a + b*i + c*j through the valid points of the window's 2-px border (the plate)
    const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]], r = [0, 0, 0];
    for (let i = 0; i < PATCH; i++) {
      for (let j = 0; j < PATCH; j++) {
        if (i >= 2 && i < PATCH - 2 && j >= 2 && j < PATCH - 2) continue;
        const v = z[(y0 + i) * size + x0 + j];
        if (v === 0) continue;
        const f = [1, i, j];
        for (let a = 0; a < 3; a++) {
          r[a] += f[a] * v;
          for (let b = 0; b < 3; b++) m[a][b] += f[a] * f[b];
        }
      }
    }
    const [pa, pb, pc] = solve3(m, r);
    const out = new Float32Array(PATCH * PATCH);
    for (let i = 0; i < PATCH; i++) {
      for (let j = 0; j < PATCH; j++) {
        const v = z[(y0 + i) * size + x0 + j];
        out[i * PATCH + j] = v === 0 ? NaN : (pa + pb * i + pc * j - v) * 1000;
      }
    }
    return out;
  });
}

function solve3(m: number[][], r: number[]): number[] {
  const det = (a: number[][]) =>
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
    a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
  const d = det(m);
  return [0, 1, 2].map((c) => det(m.map((row, i) => row.map((v, j) => (j === c ? r[i] : v)))) / d);
}

/** Mean |a - b| (mm) over the inner window, minimised over shifts of b by up to SHIFT px. */
function patchDistance(a: Float32Array, b: Float32Array): number {
  let best = Infinity;
  for (let sy = -SHIFT; sy <= SHIFT; sy++) {
    for (let sx = -SHIFT; sx <= SHIFT; sx++) {
      let sum = 0, n = 0;
      for (let i = SHIFT; i < PATCH - SHIFT; i++) {
        for (let j = SHIFT; j < PATCH - SHIFT; j++) {
          const d = a[i * PATCH + j] - b[(i + sy) * PATCH + j + sx];
          if (!Number.isNaN(d)) (sum += Math.abs(d), n++);
        }
      }
      best = Math.min(best, sum / n);
    }
  }
  return best;
}

Deno.test("testbeds: posenc anomalies are normal parts (or an empty plate) at another place; only their place is abnormal", () =>
  withTemp(async (dir) => {
    await generateTestbed({ root: dir, name: "posenc", seed: 0, counts: { train: 6, validation: 0, testGood: 3, defects: { swap: 3, moved: 3, missing: 3 } } });
    const ds = await openAnyDataset(dir, "posenc") as MvtecDataset;
    const patches = async (s: Sample) => {
      const { z, size } = await zOf(s);
      return slotPatches(z, size);
    };
    const normal = await Promise.all(ds.train.map(patches));
    /** for slot s of an image: nearest normal content anywhere, and nearest normal content at slot s */
    const nearest = (p: Float32Array[], s: number) => ({
      anywhere: Math.min(...normal.flatMap((n) => n.map((q) => patchDistance(p[s], q)))),
      here: Math.min(...normal.map((n) => patchDistance(p[s], n[s]))),
    });
    let worstLocal = 0, worstNormalHere = 0, weakestAnomaly = Infinity;
    for (const s of ds.test) {
      const p = await patches(s);
      const d = p.map((_, slot) => nearest(p, slot));
      const local = Math.max(...d.map((x) => x.anywhere)), here = Math.max(...d.map((x) => x.here));
      if (s.label === 0) worstNormalHere = Math.max(worstNormalHere, here);
      else {
        worstLocal = Math.max(worstLocal, local);
        weakestAnomaly = Math.min(weakestAnomaly, here);
      }
    }
    console.log(
      `posenc (mean |height difference| in mm): anomalous slots vs normal content anywhere <= ${worstLocal.toFixed(2)}; ` +
        `normal test slots vs the same slot <= ${worstNormalHere.toFixed(2)}; every anomalous image has a slot >= ${weakestAnomaly.toFixed(2)} from normal content at that slot`,
    );
    assert(worstLocal < 0.5, "every slot of an anomalous image matches normal content somewhere");
    assert(worstNormalHere < 0.5, "normal test images match the training images slot by slot");
    assert(weakestAnomaly > 1.5 * Math.max(worstLocal, worstNormalHere) && weakestAnomaly > 0.7, "each anomalous image differs from the normal images at some slot");
  }));

// ---------------------------------------------------------------------------------------------
// fgmask: the repo's own foreground (lib/preprocess/depth.ts) on the generated files

Deno.test("testbeds: fgmask's background varies per image yet the official foreground mask keeps the object and drops it; defects on the object", () =>
  withTemp(async (dir) => {
    const size = 200;
    await generateTestbed({ root: dir, name: "fgmask", seed: 0, counts: { train: 10, validation: 2, testGood: 2, defects: { dent: 2, bump: 2, hole: 2, color: 2 } } });
    const ds = await openAnyDataset(dir, "fgmask") as MvtecDataset;
    const c = size / 2;
    let worstObject = 1, worstBackground = 0, withClutter = 0;
    const defectAreas: Record<string, number[]> = {};
    const missingFractions: number[] = [], cornerDepths: number[] = [];
    const all = [...ds.train, ...ds.validation, ...ds.test];
    for (const s of all) {
      const d = await loadDepth(s, { mapLen: 16 });
      const { z } = await zOf(s);
      const plane = backgroundPlane(d.zFilled, size, size);
      let inObj = 0, inObjFg = 0, bg = 0, bgFg = 0, bgMissing = 0, bumpy = 0;
      for (let i = 0; i < size; i++) {
        for (let j = 0; j < size; j++) {
          const k = i * size + j, r = Math.hypot(i + 0.5 - c, j + 0.5 - c);
          if (r < 0.12 * size) (inObj++, inObjFg += d.foregroundFull[k]);
          else if (r > 0.26 * size) {
            bg++;
            bgFg += d.foregroundFull[k];
            if (z[k] === 0) bgMissing++;
            else if (Math.abs(d.zFilled[k] - plane[k]) > 0.0012) bumpy++;
          }
        }
      }
      worstObject = Math.min(worstObject, inObjFg / inObj);
      worstBackground = Math.max(worstBackground, bgFg / bg);
      missingFractions.push(bgMissing / bg);
      cornerDepths.push(d.zFilled[size + 1]);
      if (bumpy > 150) withClutter++;
      if (s.label === 1) {
        const mask = await loadMask(s.maskPath!, size);
        let n = 0, onFg = 0, far = 0;
        for (let k = 0; k < mask.length; k++) {
          if (!mask[k]) continue;
          n++;
          onFg += d.foregroundFull[k];
          if (Math.hypot(Math.floor(k / size) + 0.5 - c, (k % size) + 0.5 - c) > 0.22 * size) far++;
        }
        assert(n >= 20 && onFg >= 0.95 * n && far === 0, `${s.maskPath}: defect not on the object (${onFg}/${n} foreground, ${far} outside)`);
        (defectAreas[s.defectType] ??= []).push(n);
      }
    }
    const spread = (xs: number[]) => Math.max(...xs) - Math.min(...xs);
    console.log(
      `fgmask: object kept >= ${(100 * worstObject).toFixed(1)} %, background kept <= ${(100 * worstBackground).toFixed(2)} %; ` +
        `background missing points ${(100 * Math.min(...missingFractions)).toFixed(1)}-${(100 * Math.max(...missingFractions)).toFixed(1)} %; ` +
        `top-left depth spread ${(1000 * spread(cornerDepths)).toFixed(1)} mm; ${withClutter}/${all.length} images with clutter/warp above 1.2 mm; ` +
        `defect areas (px) ${Object.entries(defectAreas).map(([t, a]) => `${t} ${Math.min(...a)}-${Math.max(...a)}`).join(", ")}`,
    );
    // v2 (docs/testbeds.md "Difficulty adjustments"): dents, bumps and stains 10-13 px in radius (v1: 6-10)
    const smallest = (t: string) => Math.min(...defectAreas[t]);
    assert(smallest("color") > Math.PI * 9.5 ** 2 && smallest("dent") > 150 && smallest("bump") > 150, "dents, bumps and stains cover about a feature-map cell or more");
    assert(worstObject > 0.98, "the object is foreground");
    assert(worstBackground < 0.01, "the background is (almost) never foreground");
    assert(Math.max(...missingFractions) > 2 * Math.min(...missingFractions) + 0.005, "the amount of missing points varies per image");
    assert(spread(cornerDepths) > 0.02, "the support plane's offset/tilt varies per image");
    assert(withClutter >= all.length / 2, "most images have background relief the mask must remove");
    assert(CLUTTER_MAX_HEIGHT < 0.005);
  }));

// ---------------------------------------------------------------------------------------------
// subtle: defect amplitudes measured against the surrounding flat top, next to the puck's

/** Largest |depth deviation| (mm, 3x3-smoothed) inside the defect mask from a plane fitted on a ring around it. */
async function defectAmplitude(s: Sample): Promise<{ depth: number; color: number; speckleRatio: number }> {
  const { z, size } = await zOf(s);
  const mask = await loadMask(s.maskPath!, size);
  const rgb = await readImage(s.rgbPath);
  let n = 0, cy = 0, cx = 0;
  for (let k = 0; k < mask.length; k++) if (mask[k]) (n++, cy += Math.floor(k / size) + 0.5, cx += (k % size) + 0.5);
  cy /= n, cx /= n;
  const R = Math.sqrt(n / Math.PI);
  const m = [[0, 0, 0], [0, 0, 0], [0, 0, 0]], r = [0, 0, 0];
  const ringColor = [0, 0, 0], maskColor = [0, 0, 0];
  let ringN = 0;
  const lum = (k: number) => (rgb.data[3 * k] + rgb.data[3 * k + 1] + rgb.data[3 * k + 2]) / 3;
  const ringLum: number[] = [], maskLum: number[] = [];
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const k = i * size + j, d = Math.hypot(i + 0.5 - cy, j + 0.5 - cx);
      if (mask[k]) {
        for (let ch = 0; ch < 3; ch++) maskColor[ch] += rgb.data[3 * k + ch] / n;
        maskLum.push(lum(k));
      }
      if (d < R + 4 || d > R + 9 || z[k] === 0) continue;
      ringN++;
      for (let ch = 0; ch < 3; ch++) ringColor[ch] += rgb.data[3 * k + ch];
      ringLum.push(lum(k));
      const f = [1, i, j];
      for (let a = 0; a < 3; a++) {
        r[a] += f[a] * z[k];
        for (let b = 0; b < 3; b++) m[a][b] += f[a] * f[b];
      }
    }
  }
  const [pa, pb, pc] = solve3(m, r);
  let depth = 0;
  for (let i = 1; i < size - 1; i++) {
    for (let j = 1; j < size - 1; j++) {
      if (!mask[i * size + j]) continue;
      let sum = 0, cnt = 0;
      for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) {
        const v = z[(i + a) * size + j + b];
        if (v !== 0) (sum += v - (pa + pb * (i + a) + pc * (j + b)), cnt++);
      }
      if (cnt) depth = Math.max(depth, Math.abs(sum / cnt) * 1000);
    }
  }
  // texture: luminance spread inside the mask vs the ring (the machining rings add the same to both)
  const std = (xs: number[]) => {
    const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / xs.length);
  };
  const color = Math.hypot(...maskColor.map((v, ch) => v - ringColor[ch] / ringN));
  return { depth, color, speckleRatio: std(maskLum) / std(ringLum) };
}

Deno.test("testbeds: subtle defects are small next to the puck's (depth a few mm, colour shifts of a few grey levels)", () =>
  withTemp(async (dir) => {
    await generateTestbed({
      root: dir,
      name: "subtle",
      seed: 0,
      counts: { train: 1, validation: 0, testGood: 0, defects: { shallow_dent: 4, shallow_bump: 4, rings: 0, speckle: 3, tint: 4 } },
    });
    await generateDataset({ root: dir, seed: 0, counts: { train: 1, validation: 0, testGood: 0, defects: { dent: 4, bump: 4, hole: 0, crack: 0, color: 4 } } });
    const subtle = await openAnyDataset(dir, "subtle") as MvtecDataset, puck = await openAnyDataset(dir, "puck") as MvtecDataset;
    const measure = async (ds: MvtecDataset, types: string[]) => await Promise.all(ds.test.filter((s) => types.includes(s.defectType)).map(defectAmplitude));
    const sDepth = (await measure(subtle, ["shallow_dent", "shallow_bump"])).map((a) => a.depth);
    const pDepth = (await measure(puck, ["dent", "bump"])).map((a) => a.depth);
    const sColor = (await measure(subtle, ["tint"])).map((a) => a.color);
    const pColor = (await measure(puck, ["color"])).map((a) => a.color);
    const sSpeckle = (await measure(subtle, ["speckle"])).map((a) => a.speckleRatio);
    const fmt = (xs: number[]) => `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`;
    console.log(
      `subtle vs puck: dent/bump depth ${fmt(sDepth)} mm vs ${fmt(pDepth)} mm; colour shift ${fmt(sColor)} vs ${fmt(pColor)} grey levels; speckle std ratio ${fmt(sSpeckle)}`,
    );
    assert(Math.max(...sDepth) <= SUBTLE_MAX_DEPTH * 1000 + 0.5 && Math.min(...sDepth) >= SUBTLE_MIN_DEPTH * 1000 - 0.7, "subtle dents/bumps: 3.5-5 mm");
    assert(Math.min(...pDepth) >= 7, "the puck's dents/bumps are large");
    // v2 (docs/testbeds.md "Difficulty adjustments"): 3.5-5 mm instead of 2-3.5, still well below the puck's
    assert(Math.max(...sDepth) < 0.7 * Math.min(...pDepth), "at most ~2/3 of the puck's smallest");
    assert(Math.max(...sColor) < 25 && Math.min(...sColor) > 8, "tint: a slight colour shift");
    assert(Math.min(...pColor) > 3 * Math.max(...sColor), "the puck's stain is far stronger");
    assert(Math.min(...sSpeckle) > 1.3 && Math.max(...sSpeckle) < 4, "speckle: a moderate increase of the noise");
  }));

Deno.test("testbeds: `deno task generate --testbed NAME --out DIR` (the task's own --out is overridden) writes the testbed", () =>
  withTemp(async (dir) => {
    const { main } = await import("../../lib/cli/generate.ts");
    const defects = TESTBEDS.subtle.defectTypes.flatMap((t) => ["--defect", `${t}=${t === "tint" ? 1 : 0}`]);
    await main(["--out", join(dir, "ignored"), "--testbed", "subtle", "--out", dir, "--seed", "2", "--train", "2", "--validation", "0", "--test-good", "1", ...defects]);
    const ds = await openAnyDataset(dir, "subtle") as MvtecDataset;
    assertEquals([ds.train.length, ds.validation.length, ds.test.length], [2, 0, 2]);
    assertEquals(ds.test.map((s) => s.defectType), ["good", "tint"]);
    const recorded = JSON.parse(await Deno.readTextFile(join(dir, "subtle", "dataset.json")));
    assertEquals([recorded.seed, recorded.testbed], [2, "subtle"]);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["subtle"]);
  }));
