import { assertClose, assertEquals, assertThrows } from "../assert.ts";
import { aupro, labelComponents, proCurve } from "../../lib/metrics/mod.ts";
import { bruteForceProCurve, integrateUpTo, seededRandom } from "./_reference.ts";

Deno.test("labelComponents: 8-connectivity joins diagonal neighbours", () => {
  // 5x3 mask:         regions (8-connected):
  // 1 0 0 0 1         A = {(0,0), (1,1)}  (diagonal neighbours)
  // 0 1 0 0 1         B = {(4,0), (4,1), (3,2)}  ((3,2) touches (4,1) diagonally)
  // 0 0 0 1 0         A and B are two columns apart: separate.
  const mask = [1, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0];
  const c = labelComponents(mask, 5, 3);
  assertEquals(c.count, 2);
  assertEquals(Array.from(c.labels), [1, 0, 0, 0, 2, 0, 1, 0, 0, 2, 0, 0, 0, 2, 0]);
  assertEquals(Array.from(c.sizes), [0, 2, 3]);
});

Deno.test("aupro: perfect map -> 1, constant map -> 0.15, inverted map -> 0", () => {
  const width = 6, height = 5;
  const mask = new Uint8Array(width * height);
  for (const p of [0, 1, 6, 7, 20, 27]) mask[p] = 255; // a 2x2 square, and a 2-pixel diagonal region
  const perfect = Float32Array.from(mask, (m) => (m ? 1 : 0));
  const inverted = Float32Array.from(mask, (m) => (m ? 0 : 1));
  const constant = new Float32Array(width * height).fill(0.25);
  const emptyMask = new Uint8Array(width * height);
  assertEquals(aupro([perfect], [mask], width, height), 1);
  // Single threshold: (0,0) -> (1,1); area of y = x over [0, 0.3] is 0.045; / 0.3 = 0.15.
  assertClose([aupro([constant], [mask], width, height)], [0.15], { atol: 1e-12 });
  assertEquals(aupro([inverted], [mask], width, height), 0);
  // A defect-free image with all-zero scores only adds normal pixels, which stay below the defect scores.
  assertEquals(aupro([perfect, new Float32Array(width * height)], [mask, emptyMask], width, height), 1);
  // fprLimit = 1 integrates the whole curve.
  assertClose([aupro([constant], [mask], width, height, { fprLimit: 1 })], [0.5], { atol: 1e-12 });
});

Deno.test("aupro: hand case with interpolation at 0.3 and a tie across a region and normal pixels", () => {
  // 5x2 image, one region {0, 1}, 8 normal pixels.
  const mask = [1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
  // Region scores 0.9 and 0.5; normal scores 0.8, 0.5, 0.5 (tied with a region pixel), 0.3, 0.2, 0.1 x3.
  const map = [0.9, 0.5, 0.8, 0.5, 0.5, 0.3, 0.2, 0.1, 0.1, 0.1];
  // Curve: (0,0) (0,.5)@0.9 (1/8,.5)@0.8 (3/8,1)@0.5 (4/8,1)@0.3 (5/8,1)@0.2 (1,1)@0.1.
  const curve = proCurve([map], [mask], 5, 2);
  assertEquals(Array.from(curve.thresholds), [Infinity, 0.9, 0.8, 0.5, 0.3, 0.2, 0.1]);
  assertEquals(Array.from(curve.fpr), [0, 0, 1 / 8, 3 / 8, 4 / 8, 5 / 8, 1]);
  assertEquals(Array.from(curve.pro), [0, 0.5, 0.5, 1, 1, 1, 1]);
  // Area: 0.125 * 0.5 = 0.0625, then (1/8, .5) -> (0.3, y) with y = .5 + .5 * 0.175 / 0.25 = 0.85:
  // 0.175 * (0.5 + 0.85) / 2 = 0.118125. Total 0.180625 / 0.3.
  assertClose([aupro([map], [mask], 5, 2)], [0.180625 / 0.3], { atol: 1e-12 });
});

Deno.test("aupro/proCurve: match a brute-force per-threshold reference on random maps with ties", () => {
  const random = seededRandom(2024);
  for (let trial = 0; trial < 30; trial++) {
    const width = 3 + Math.floor(random() * 8), height = 3 + Math.floor(random() * 8);
    const images = 1 + Math.floor(random() * 4);
    const tied = trial % 3 !== 2;
    const maps: Float32Array[] = [], masks: Uint8Array[] = [];
    for (let img = 0; img < images; img++) {
      const mask = new Uint8Array(width * height);
      // Some images stay defect-free; others get random blobs (several regions, diagonal contacts).
      if (img === 0 || random() < 0.6) {
        const density = 0.1 + random() * 0.3;
        for (let p = 0; p < mask.length; p++) mask[p] = random() < density ? 1 : 0;
      }
      const map = Float32Array.from(mask, (m) => (tied ? Math.floor(random() * 6) : random()) + (m ? random() * 2 : 0));
      if (tied) for (let p = 0; p < map.length; p++) map[p] = Math.round(map[p]);
      maps.push(map);
      masks.push(mask);
    }
    if (!masks.some((m) => m.some((v) => v > 0))) masks[0][0] = 1;
    if (masks.every((m) => m.every((v) => v > 0))) masks[0][0] = 0;

    const reference = bruteForceProCurve(maps, masks, width, height);
    const curve = proCurve(maps, masks, width, height);
    assertClose(curve.fpr, reference.fpr, { atol: 1e-12, rtol: 0, what: `trial ${trial} fpr` });
    assertClose(curve.pro, reference.pro, { atol: 1e-12, rtol: 0, what: `trial ${trial} pro` });
    for (const limit of [0.3, 0.05, 1]) {
      const expected = integrateUpTo(reference.fpr, reference.pro, limit) / limit;
      assertClose([aupro(maps, masks, width, height, { fprLimit: limit })], [expected], {
        atol: 1e-12,
        rtol: 0,
        what: `trial ${trial} aupro@${limit}`,
      });
    }
  }
});

Deno.test("aupro: clear errors", () => {
  const map = new Float32Array(4), defect = [1, 0, 0, 0];
  assertThrows(() => aupro([map], [[0, 0, 0, 0]], 2, 2), /none of the 1 masks contains a defect region/);
  assertThrows(() => aupro([map], [[1, 1, 1, 1]], 2, 2), /no normal pixels/);
  assertThrows(() => aupro([map], [defect, defect], 2, 2), /1 anomaly maps but 2 masks/);
  assertThrows(() => aupro([new Float32Array(3)], [defect], 2, 2), /anomaly map 0 has 3 values, expected 2x2 = 4/);
  assertThrows(() => aupro([[0, NaN, 0, 0]], [defect], 2, 2), /anomaly map 0: NaN at pixel 1/);
  assertThrows(() => aupro([map], [defect], 2, 2, { fprLimit: 0 }), /fprLimit/);
  assertThrows(() => aupro([], [], 2, 2), /no anomaly maps/);
});
