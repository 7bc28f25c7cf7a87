/**
 * Ground truth for the pixel metrics: the official evaluation resizes the mask bilinearly to the
 * map side and counts every value > 0 as defect; a partly covered border pixel is a defect pixel.
 */
import { EVAL_GT_THRESHOLD, groundTruthMask } from "../../lib/preprocess/mask.ts";
import { assertEquals } from "../assert.ts";

Deno.test("evaluation ground truth: bilinear resize, then > 0 (the official binarisation)", () => {
  assertEquals(EVAL_GT_THRESHOLD, 0);
  // 4 columns, defect in column 3 only; resized to 3 columns: source x = (j + 0.5) * 4/3 - 0.5
  // -> column 2 samples x = 2.83 (0.83 of the defect column), column 1 x = 1.5 (none).
  const data = new Uint8Array(16);
  for (let y = 0; y < 4; y++) data[y * 4 + 3] = 255;
  const image = { width: 4, height: 4, channels: 1 as const, data };
  assertEquals([...groundTruthMask(image, 3, EVAL_GT_THRESHOLD)], [0, 0, 1, 0, 0, 1, 0, 0, 1]);
  // defect in column 2 only: output columns 1 and 2 get 0.5 and 0.17 of it: defect pixels at > 0, none at > 0.5
  const d2 = new Uint8Array(16);
  for (let y = 0; y < 4; y++) d2[y * 4 + 2] = 255;
  const half = { width: 4, height: 4, channels: 1 as const, data: d2 };
  assertEquals([...groundTruthMask(half, 3, EVAL_GT_THRESHOLD)].slice(0, 3), [0, 1, 1]);
  assertEquals([...groundTruthMask(half, 3, 0.5)].slice(0, 3), [0, 0, 0]); // a thin defect vanishes at > 0.5
});
