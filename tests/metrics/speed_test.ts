/**
 * Speed sanity at MVTec scale (50 images x 192x192 = 1.8M pixels). Logs timings only: no timing
 * assertions, since machines differ; the results are checked for plausibility.
 */
import { assert } from "../assert.ts";
import { aupro, auroc, f1Max } from "../../lib/metrics/index.ts";
import { seededRandom } from "./_reference.ts";

Deno.test("speed log: auroc, f1Max and aupro on 50 x 192 x 192 pixels", () => {
  const images = 50, width = 192, height = 192, pixels = width * height;
  const random = seededRandom(99);
  const maps: Float32Array[] = [], masks: Uint8Array[] = [];
  for (let img = 0; img < images; img++) {
    const mask = new Uint8Array(pixels), map = new Float32Array(pixels);
    if (img % 2 === 0) {
      // A few rectangular defects per anomalous image.
      for (let d = 0; d < 3; d++) {
        const x0 = Math.floor(random() * 170), y0 = Math.floor(random() * 170);
        const w = 4 + Math.floor(random() * 20), h = 4 + Math.floor(random() * 20);
        for (let y = y0; y < Math.min(height, y0 + h); y++) for (let x = x0; x < Math.min(width, x0 + w); x++) mask[y * width + x] = 1;
      }
    }
    for (let p = 0; p < pixels; p++) map[p] = random() + (mask[p] ? 0.5 : 0);
    maps.push(map);
    masks.push(mask);
  }
  const flatScores = new Float32Array(images * pixels), flatLabels = new Uint8Array(images * pixels);
  for (let img = 0; img < images; img++) {
    flatScores.set(maps[img], img * pixels);
    flatLabels.set(masks[img], img * pixels);
  }
  const time = <T>(what: string, run: () => T): T => {
    run(); // warm-up (JIT)
    const start = performance.now();
    const result = run();
    console.log(`${what}: ${(performance.now() - start).toFixed(0)} ms -> ${JSON.stringify(result)}`);
    return result;
  };
  const a = time(`auroc on ${flatScores.length} pixels`, () => auroc(flatScores, flatLabels));
  const f = time(`f1Max on ${flatScores.length} pixels`, () => f1Max(flatScores, flatLabels));
  const p = time(`aupro on ${images}x${width}x${height}`, () => aupro(maps, masks, width, height));
  assert(a > 0.5 && a <= 1 && f.f1 > 0 && p > 0 && p <= 1);
});
