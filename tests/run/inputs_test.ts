/**
 * The input stage's files: a ground-truth mask of another size than its image is refused, not
 * stretched; a damaged training image or point map is one line naming it.
 */
import { join } from "node:path";
import { writePng } from "../../lib/io/images.ts";
import { buildInputs, groundTruth, InputError, readGroundTruth } from "../../lib/run/inputs.ts";
import { writeXyzTiff } from "../../lib/io/tiff.ts";
import { runExperiment } from "../../lib/run/run.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "./_tiny.ts";

Deno.test("inputs: a ground-truth mask of another size than its image -> one-line error naming the mask and both sizes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ast_inputs_test_" });
  try {
    const image = join(dir, "000.png"), mask = join(dir, "000_mask.png");
    await writePng(image, { width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(100) });
    await writePng(mask, { width: 16, height: 8, channels: 1, data: new Uint8Array(128).fill(255) });
    await assertRejects(() => readGroundTruth(mask, 4, 0.5, image), InputError, `${mask}: mask is 16x8 but its image ${image} is 8x8`);
    await assertRejects(() => groundTruth([undefined, mask], 4, 0, [image, image]), InputError, "mask is 16x8");
    // the same size reads; no image given = no check (as before)
    await writePng(mask, { width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(255) });
    assertEquals([...(await readGroundTruth(mask, 2, 0.5, image))], [1, 1, 1, 1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "inputs: a truncated PNG or xyz TIFF in the training set -> the run fails with one line naming the file (no decoder stack)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const root = await tinyMvtec3d(3);
    const good = join(root, "puck", "train", "good");
    const truncate = async (path: string) => {
      const bytes = await Deno.readFile(path);
      await Deno.writeFile(path, bytes.slice(0, Math.floor(bytes.length / 2))); // headers intact
    };
    const png = join(good, "rgb", "003.png"), tiff = join(good, "xyz", "002.tiff");
    await truncate(png);
    await truncate(tiff);
    const run = (mode: "rgb" | "depth", out: string) =>
      runExperiment({ data: root, className: "puck", mode, backbone: "raw-patch", epochs: 1, out: join(root, out), sets: TINY_SETS, log: () => {} });
    for (const [mode, file] of [["rgb", png], ["depth", tiff]] as const) {
      await assertRejects(() => run(mode, `out-${mode}`), (e: Error) => {
        assert(e.message.startsWith(`${file}: corrupt`) && !e.message.includes("\n"), e.message);
        return true;
      });
    }
    await Deno.remove(root, { recursive: true });
  },
});

Deno.test("inputs: point maps of two sizes in one pass -> one-line error naming the odd file and both sizes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ast_inputs_test_" });
  try {
    const map = (w: number, h: number) => ({ width: w, height: h, xyz: new Float32Array(w * h * 3).fill(0.5) });
    const a = join(dir, "a.tiff"), b = join(dir, "b.tiff");
    await writeXyzTiff(a, map(64, 64));
    await writeXyzTiff(b, map(64, 48));
    const o = { mode: "depth" as const, mapLen: 8, backbone: null, useMask: true, preprocess: { fills: 3, bgThresh: 7e-3, dilateSize: 8 } };
    await assertRejects(() => buildInputs([{ image: "a.png", depth: a }, { image: "b.png", depth: b }], o), (e: Error) => {
      assert(e instanceof InputError && e.message === `${b}: 64x48 point map, but ${a} is 64x64; all point maps of a class must share one size`, e.message);
      return true;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
