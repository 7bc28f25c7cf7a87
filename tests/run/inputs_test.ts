/** Ground truth read for the pixel metrics: a mask of another size than its image is refused, not stretched. */
import { join } from "node:path";
import { writePng } from "../../lib/io/images.ts";
import { groundTruth, InputError, readGroundTruth } from "../../lib/run/inputs.ts";
import { assertEquals, assertRejects } from "../assert.ts";

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
