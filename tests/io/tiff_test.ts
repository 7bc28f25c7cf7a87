/** xyz TIFF read (geotiff) / write (minimal float32 writer): round trip and the shared puck maps. */
import { join } from "node:path";
import { decodeXyzTiff, encodeXyzTiff, readDepthTiff, readXyzTiff, TiffError, writeXyzTiff } from "../../lib/io/tiff.ts";
import { preprocessDepth } from "../../lib/preprocess/depth.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { needsShared, sharedPath } from "../_shared.ts";

function pointMap(width: number, height: number) {
  const xyz = new Float32Array(width * height * 3);
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const k = (i * width + j) * 3;
      xyz[k] = (j - width / 2) * 1e-3;
      xyz[k + 1] = (i - height / 2) * 1e-3;
      xyz[k + 2] = (i + j) % 17 === 0 ? 0 : 0.6 + Math.sin(i * 0.1) * 1e-3 + j * 1.234567e-7;
    }
  }
  return { width, height, xyz };
}

Deno.test("tiff: float32 xyz round trip is bit-exact (non-square, read back through geotiff)", async () => {
  const map = pointMap(13, 7);
  const back = await decodeXyzTiff(encodeXyzTiff(map));
  assertEquals([back.width, back.height], [13, 7]);
  assertEquals(back.xyz, map.xyz);
  const dir = await Deno.makeTempDir({ prefix: "ast_tiff_test_" });
  try {
    const p = join(dir, "a.tiff");
    await writeXyzTiff(p, map);
    const depth = await readDepthTiff(p);
    assertEquals(depth.z[5], map.xyz[5 * 3 + 2]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tiff: errors name the file", async () => {
  await assertRejects(readXyzTiff("/nonexistent/x.tiff"), (e: Error) => e instanceof TiffError && /x\.tiff: file not found/.test(e.message));
  await assertRejects(decodeXyzTiff(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), "bad.tiff"), (e: Error) => e instanceof TiffError && /bad\.tiff: corrupt/.test(e.message));
});

/**
 * A TIFF of another sample type or count: our float32 writer's file with its tags rewritten
 * (BitsPerSample 258, SamplesPerPixel 277, SampleFormat 339). The pixel bytes are left as they
 * are: the reader must refuse the file from its tags, before reading any pixel.
 */
function retagged(bits: number, format: number, samples: number): Uint8Array {
  const bytes = encodeXyzTiff(pointMap(6, 4));
  const dv = new DataView(bytes.buffer);
  const ifd = dv.getUint32(4, true);
  for (let i = 0; i < dv.getUint16(ifd, true); i++) {
    const p = ifd + 2 + i * 12, tag = dv.getUint16(p, true);
    if (tag === 277) dv.setUint16(p + 8, samples, true);
    if (tag === 258 || tag === 339) {
      const at = dv.getUint32(p + 8, true); // 3 SHORTs: stored out of line
      for (let k = 0; k < 3; k++) dv.setUint16(at + 2 * k, tag === 258 ? bits : format, true);
    }
  }
  return bytes;
}

Deno.test("tiff: only 3-channel float32/float64 maps are point maps; uint8 or 1-channel TIFFs are refused naming the file and what was found", async () => {
  await assertRejects(
    decodeXyzTiff(retagged(8, 1, 3), "u8.tiff"),
    (e: Error) => e instanceof TiffError && e.message === "u8.tiff: xyz TIFF must be 3-channel float32 or float64, found 3 x uint8",
  );
  await assertRejects(
    decodeXyzTiff(retagged(32, 3, 1), "one.tiff"),
    (e: Error) => e instanceof TiffError && e.message === "one.tiff: xyz TIFF must be 3-channel float32 or float64, found 1 x float32",
  );
  await assertRejects(
    decodeXyzTiff(retagged(16, 1, 3), "u16.tiff"),
    (e: Error) => e instanceof TiffError && /u16\.tiff: .* found 3 x uint16$/.test(e.message),
  );
  // the unchanged file reads (the retagging itself is sound)
  assertEquals((await decodeXyzTiff(retagged(32, 3, 3))).width, 6);
});

Deno.test("tiff: a full-size 800x800 map round-trips bit-exactly and preprocesses to the 24x24 input", async () => {
  const map = pointMap(800, 800);
  const back = await decodeXyzTiff(encodeXyzTiff(map));
  assertEquals([back.width, back.height], [800, 800]);
  assertEquals(back.xyz, map.xyz);
  // (the preprocessing itself is checked at this size in tests/preprocess/depth_test.ts)
  const r = preprocessDepth(back.xyz, 800, 800, { mapLen: 24 });
  assertEquals([r.depth.length, r.foregroundDown.length], [64 * 24 * 24, 24 * 24]);
});

Deno.test({
  name: "tiff: reads the shared puck point maps (written by Python tifffile)",
  ignore: needsShared(),
  async fn() {
    const dir = sharedPath("data", "synthetic_mvtec3d", "puck", "train", "good", "xyz");
    const map = await readXyzTiff(join(dir, "000.tiff"));
    assertEquals([map.width, map.height, map.xyz.length], [200, 200, 200 * 200 * 3]);
    let zeros = 0, zMin = Infinity, zMax = -Infinity;
    for (let k = 0; k < 200 * 200; k++) {
      const z = map.xyz[k * 3 + 2];
      if (z === 0) zeros++;
      else (zMin = Math.min(zMin, z)), (zMax = Math.max(zMax, z));
    }
    assert(zeros > 0 && zeros < 2000, `missing points ${zeros}`);
    assert(zMin > 0.1 && zMax < 2, `z range ${zMin}..${zMax} (metres)`);
    // re-encoding with our writer and reading back gives identical values
    assertEquals((await decodeXyzTiff(encodeXyzTiff(map))).xyz, map.xyz);
  },
});
