import { readImage } from "../../lib/io/images.ts";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { areaImageNet, areaUnitRange, IMAGENET_MEAN, IMAGENET_STD, pilBilinearImageNet } from "../../lib/preprocess/rgb.ts";
import { bilinearTaps, resizeBilinearPil } from "../../lib/preprocess/resize_pil.ts";

const preprocessImageNet = (image: Parameters<typeof pilBilinearImageNet>[0], side: number) => pilBilinearImageNet(image, side).data;
import { needsShared, sharedPath } from "../_shared.ts";
import { assert, assertClose, assertEquals } from "../assert.ts";

Deno.test("bilinearTaps: shrinking by 2 spreads the triangle over 4 inputs (antialiased), weights sum to 2^22", () => {
  const t = bilinearTaps(8, 4);
  assertEquals(t.ksize, 5);
  for (let o = 0; o < 4; o++) {
    let sum = 0;
    for (let i = 0; i < t.count[o]; i++) sum += t.weights[o * t.ksize + i];
    assert(Math.abs(sum - (1 << 22)) <= 2, `weights of output ${o} sum to ${sum}`);
  }
  // interior output 1 (centre 3.0 in input coords): inputs 1..4 with weights 1,3,3,1 / 8
  assertEquals([t.first[1], t.count[1]], [1, 4]);
  const w = Array.from(t.weights.subarray(t.ksize, t.ksize + 4)).map((v) => v / (1 << 22));
  assert(w.every((v, i) => Math.abs(v - [1, 3, 3, 1][i] / 8) < 1e-6), `weights ${w}`);
});

Deno.test("resizeBilinearPil: constant image stays constant; same size is a copy; gray 2x2 enlarges like PIL", () => {
  const flat = new Uint8Array(10 * 7 * 3).fill(137);
  assert(resizeBilinearPil(flat, 10, 7, 3, 4, 3).every((v) => v === 137));
  assert(resizeBilinearPil(flat, 10, 7, 3, 23, 19).every((v) => v === 137));
  const same = resizeBilinearPil(flat, 10, 7, 3, 10, 7);
  assert(same !== flat && same.every((v) => v === 137));
  // Pillow's algorithm by hand: output centres 0.25, 0.75, 1.25, 1.75 with edge renormalisation
  // -> weights (1,0), (.75,.25), (.25,.75), (0,1) -> 0, 63.75, 191.25, 255, rounded
  assertEquals(Array.from(resizeBilinearPil(Uint8Array.from([0, 255]), 2, 1, 1, 4, 1)), [0, 64, 191, 255]);
});

Deno.test("preprocessImageNet: gray is promoted to RGB and normalised per channel", () => {
  const gray = { width: 2, height: 2, channels: 1 as const, data: Uint8Array.from([0, 255, 255, 0]) };
  const out = preprocessImageNet(gray, 2);
  assertEquals(out.length, 12);
  for (let c = 0; c < 3; c++) {
    assert(Math.abs(out[c] - (0 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]) < 1e-6);
    assert(Math.abs(out[3 + c] - (1 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]) < 1e-6);
  }
});

Deno.test({
  name: "preprocessImageNet: input.png -> input.normalized of the EfficientNet fixture (PIL bilinear, 768)",
  ignore: needsShared(),
  fn: async () => {
    const dir = sharedPath("fixtures", "efficientnet_b5_reference");
    const image = await readImage(`${dir}/input.png`, { toRgb: true });
    const expected = (await readSafetensors(`${dir}/tensors.safetensors`)).tensors.get("input.normalized")!;
    assertEquals(expected.shape, [1, 3, 768, 768]);
    const side = 768, hw = side * side;
    const got = preprocessImageNet(image, side); // NHWC
    let sumAbs = 0, maxAbs = 0;
    for (let p = 0; p < hw; p++) {
      for (let c = 0; c < 3; c++) {
        const d = Math.abs(got[p * 3 + c] - expected.data[c * hw + p]);
        sumAbs += d;
        if (d > maxAbs) maxAbs = d;
      }
    }
    const meanAbs = sumAbs / (3 * hw);
    console.log(`  preprocessing vs PIL: mean abs ${meanAbs.toExponential(3)}, max abs ${maxAbs.toExponential(3)}`);
    assert(meanAbs <= 0.01, `mean abs ${meanAbs}`);
    assert(maxAbs <= 0.05, `max abs ${maxAbs}`);
  },
});

Deno.test("areaUnitRange (MobileNetV2's input): the antialiased resize scaled to [-1, 1], gray replicated", () => {
  const gray = { width: 4, height: 4, channels: 1 as const, data: Uint8Array.from([0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255]) };
  const x = areaUnitRange(gray, 2).data;
  assertClose(x, [-1, -1, -1, 1, 1, 1, -1, -1, -1, 1, 1, 1], { atol: 1e-6, rtol: 0 });
  const rgb = { width: 1, height: 1, channels: 3 as const, data: Uint8Array.from([0, 127.5, 255]) };
  assertClose(areaUnitRange(rgb, 2).data, [-1, 0, 1, -1, 0, 1, -1, 0, 1, -1, 0, 1], { atol: 1e-2, rtol: 0 });
});

Deno.test("areaImageNet (raw-patch input): [0,1], box average, ImageNet mean/std; gray replicated", () => {
  const gray = { width: 2, height: 2, channels: 1 as const, data: Uint8Array.from([0, 255, 255, 0]) };
  const x = areaImageNet(gray, 1); // one output pixel: the mean 0.5 of all four
  assertEquals([x.height, x.width, x.channels], [1, 1, 3]);
  assertClose(x.data, IMAGENET_MEAN.map((m, c) => (0.5 - m) / IMAGENET_STD[c]), { atol: 1e-6, rtol: 0 });
});
