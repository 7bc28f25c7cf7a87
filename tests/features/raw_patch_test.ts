import { RAW_PATCH_FACTOR, rawPatchEmbedding } from "../../lib/features/raw_patch.ts";
import { IMAGENET_MEAN, IMAGENET_STD } from "../../lib/preprocess/rgb.ts";
import { assertClose, assertEquals } from "../assert.ts";

Deno.test("rawPatchEmbedding: pixel-unshuffle order and ImageNet normalisation", () => {
  const f = RAW_PATCH_FACTOR, mapLen = 2, side = f * mapLen;
  // an image already at the target size: no resampling, so values are exact
  const data = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) for (let c = 0; c < 3; c++) data[(y * side + x) * 3 + c] = (y * 16 + x * 3 + c * 50) % 256;
  const out = rawPatchEmbedding({ width: side, height: side, channels: 3, data }, mapLen);
  const C = 3 * f * f;
  assertEquals(out.length, mapLen * mapLen * C);
  for (const [y, x, c] of [[0, 0, 0], [f + 1, 2, 1], [side - 1, side - 1, 2]]) {
    const cell = (Math.floor(y / f) * mapLen + Math.floor(x / f)) * C;
    const expected = (data[(y * side + x) * 3 + c] / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c];
    assertClose([out[cell + c * f * f + (y % f) * f + (x % f)]], [expected], { atol: 1e-5, rtol: 0 });
  }
});
