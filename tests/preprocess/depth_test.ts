/**
 * Conformance of the 3D preprocessing with the reference (fixtures/ast_reference/
 * preprocess_3d.safetensors, config map_len 8, depth_len 64, dilate 8, 3 fills, 7 mm), plus
 * unit checks of the individual steps that run without the shared folder.
 */
import { join } from "node:path";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { readXyzTiff } from "../../lib/io/tiff.ts";
import {
  backgroundPlaneForeground,
  centreDepth,
  dilateSquare,
  fillGaps,
  pixelUnshuffle,
  preprocessDepth,
} from "../../lib/preprocess/depth.ts";
import { resizeBilinear } from "../../lib/preprocess/resize.ts";
import { assert, assertClose, assertEquals } from "../assert.ts";
import { needsShared, sharedPath } from "../_shared.ts";

const TOL = { atol: 1e-4, rtol: 1e-4 };
const EXACT = { atol: 0, rtol: 0 };

Deno.test({
  name: "preprocess3d: matches the reference fixture (3 samples, every step)",
  ignore: needsShared(),
  async fn() {
    const fixture = await readSafetensors(sharedPath("fixtures", "ast_reference", "preprocess_3d.safetensors"));
    const inputs = fixture.metadata.inputs.split(";");
    assertEquals(inputs.length, 3);
    const get = (name: string) => fixture.tensors.get(name)!.data;
    const worst: Record<string, number> = {};
    const track = (what: string, actual: Float32Array, expected: ArrayLike<number>, tol: typeof TOL) => {
      const r = assertClose(actual, expected, { ...tol, what });
      const key = what.replace(/^sample\d\./, "sample*.").replace(/\[\d\]$/, "");
      worst[key] = Math.max(worst[key] ?? 0, r.maxAbs);
    };
    for (let s = 0; s < inputs.length; s++) {
      const map = await readXyzTiff(join(sharedPath("data", "synthetic_mvtec3d"), inputs[s]));
      const r = preprocessDepth(map.xyz, map.height, map.width, { mapLen: 8, fills: 3, bgThresh: 7e-3, dilateSize: 8 });
      assertEquals(r.depthLen, 64);
      track(`sample${s}.z_filled`, r.zFilled, get(`sample${s}.z_filled`), TOL);
      track(`sample${s}.foreground_full`, r.foregroundFull, get(`sample${s}.foreground_full`), EXACT);
      track(`sample${s}.depth_resized`, r.depthResized, get(`sample${s}.depth_resized`), TOL);
      track(`sample${s}.foreground_resized`, r.foregroundResized, get(`sample${s}.foreground_resized`), EXACT);
      const n = 64 * 64, m = 8 * 8;
      track(`batch.foreground_dilated[${s}]`, r.foregroundDilated, get("batch.foreground_dilated").subarray(s * n, (s + 1) * n), EXACT);
      track(`batch.foreground_down[${s}]`, r.foregroundDown, get("batch.foreground_down").subarray(s * m, (s + 1) * m), TOL);
      track(`batch.depth_unshuffled[${s}]`, r.depth, get("batch.depth_unshuffled").subarray(s * 64 * m, (s + 1) * 64 * m), TOL);
    }
    console.log("preprocess3d max abs errors:", Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(", "));
  },
});

Deno.test("preprocess3d: fillGaps never fills row 0 / column 0, fills from the previous pass", () => {
  // 4x4: zeros at (0,1) and (1,0) (never filled) and a 2x2 hole at the bottom right
  const z = new Float32Array([
    1, 0, 1, 1,
    0, 1, 1, 1,
    1, 1, 0, 0,
    1, 1, 0, 0,
  ]);
  const one = fillGaps(z, 4, 4, 1);
  assertEquals(one[1], 0); // row 0 never filled
  assertEquals(one[4], 0); // column 0 never filled
  assertEquals(one[2 * 4 + 2], 1); // interior: mean of non-zero neighbours
  assertEquals(one[3 * 4 + 3], 0); // (3,3): its clipped neighbourhood was all zero in pass 1
  const two = fillGaps(z, 4, 4, 2);
  assertEquals(two[3 * 4 + 3], 1);
});

Deno.test("preprocess3d: background plane foreground on a tilted plane with a box", () => {
  const h = 20, w = 30;
  const z = new Float32Array(h * w);
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) z[i * w + j] = 0.6 + 0.001 * i - 0.0005 * j;
  for (let i = 8; i < 12; i++) for (let j = 10; j < 20; j++) z[i * w + j] -= 0.02; // 2 cm closer
  z[5 * w + 5] = 0; // a missing point is never foreground
  const fg = backgroundPlaneForeground(z, h, w);
  let count = 0;
  for (let k = 0; k < h * w; k++) count += fg[k];
  assertEquals(count, 40);
  assertEquals(fg[10 * w + 15], 1);
  const centred = centreDepth(z, fg);
  assert(Math.abs(centred[0]) < 1e-6, "background becomes 0 after centring");
});

Deno.test("preprocess3d: resizeBilinear follows align_corners=False (torch) on a 2x upsample", () => {
  const up = resizeBilinear(new Float32Array([0, 1]), 1, 2, 1, 4);
  assertClose(up, [0, 0.25, 0.75, 1], { atol: 1e-7, rtol: 0 });
  const down = resizeBilinear(new Float32Array([0, 1, 2, 3]), 1, 4, 1, 2);
  assertClose(down, [0.5, 2.5], { atol: 1e-7, rtol: 0 });
});

Deno.test("preprocess3d: pixelUnshuffle channel = dy*8+dx", () => {
  const side = 16;
  const d = new Float32Array(side * side).map((_, k) => k);
  const u = pixelUnshuffle(d, side, 8);
  // channel (dy=3, dx=5), map position (y=1, x=0) <- depth (1*8+3, 0*8+5)
  assertEquals(u[(3 * 8 + 5) * 4 + 1 * 2 + 0], (8 + 3) * side + 5);
});

Deno.test("preprocess3d: dilateSquare with even size grows i to i-4..i+3", () => {
  const n = 16;
  const m = new Float32Array(n * n);
  m[8 * n + 8] = 1;
  const d = dilateSquare(m, n, n, 8);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const inside = i >= 4 && i <= 11 && j >= 4 && j <= 11;
      assertEquals(d[i * n + j], inside ? 1 : 0, `(${i},${j})`);
    }
  }
});

Deno.test("preprocess3d: an 800x800 map takes well under 0.5 s", () => {
  const h = 800, w = 800;
  const xyz = new Float32Array(h * w * 3);
  let seed = 1;
  for (let k = 0; k < h * w; k++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const i = Math.floor(k / w), j = k % w;
    const onObject = (i - 400) ** 2 + (j - 400) ** 2 < 200 ** 2;
    xyz[k * 3 + 2] = seed % 50 === 0 ? 0 : 0.6 + 0.00001 * i - (onObject ? 0.03 : 0);
  }
  preprocessDepth(xyz, h, w); // warm-up (JIT)
  const t0 = performance.now();
  const r = preprocessDepth(xyz, h, w, { mapLen: 24 });
  const ms = performance.now() - t0;
  assertEquals(r.depth.length, 64 * 24 * 24);
  assert(ms < 500, `took ${ms.toFixed(0)} ms`);
  console.log(`preprocessDepth 800x800: ${ms.toFixed(0)} ms`);
});
