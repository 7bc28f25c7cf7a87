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
  name: "preprocess depth: matches the reference fixture (3 samples, every step)",
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

Deno.test("preprocess depth: fillGaps never fills row 0 / column 0, fills from the previous pass", () => {
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

Deno.test("preprocess depth: background plane foreground on a tilted plane with a box", () => {
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

Deno.test("preprocess depth: resizeBilinear follows align_corners=False (torch) on a 2x upsample", () => {
  const up = resizeBilinear(new Float32Array([0, 1]), 1, 2, 1, 4);
  assertClose(up, [0, 0.25, 0.75, 1], { atol: 1e-7, rtol: 0 });
  const down = resizeBilinear(new Float32Array([0, 1, 2, 3]), 1, 4, 1, 2);
  assertClose(down, [0.5, 2.5], { atol: 1e-7, rtol: 0 });
});

Deno.test("preprocess depth: pixelUnshuffle channel = dy*8+dx", () => {
  const side = 16;
  const d = new Float32Array(side * side).map((_, k) => k);
  const u = pixelUnshuffle(d, side, 8);
  // channel (dy=3, dx=5), map position (y=1, x=0) <- depth (1*8+3, 0*8+5)
  assertEquals(u[(3 * 8 + 5) * 4 + 1 * 2 + 0], (8 + 3) * side + 5);
});

Deno.test("preprocess depth: dilateSquare with even size grows i to i-4..i+3", () => {
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

Deno.test("preprocess depth at full size (800x800 tilted plane, a 3 cm disc, 2% missing points): every step against the construction", () => {
  const h = 800, w = 800, mapLen = 24, side = 8 * mapLen;
  const surface = (i: number, j: number) => 0.6 + 1e-4 * i - 5e-5 * j; // metres, tilted both ways
  const xyz = new Float32Array(h * w * 3);
  const missing = new Uint8Array(h * w), disc = new Uint8Array(h * w);
  let seed = 1;
  for (let k = 0; k < h * w; k++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const i = Math.floor(k / w), j = k % w;
    disc[k] = (i - 400) ** 2 + (j - 400) ** 2 < 200 ** 2 ? 1 : 0;
    missing[k] = seed % 50 === 0 ? 1 : 0;
    xyz[k * 3 + 2] = missing[k] ? 0 : surface(i, j) - 0.03 * disc[k];
  }
  const r = preprocessDepth(xyz, h, w, { mapLen });
  assertEquals([r.depth.length, r.foregroundDown.length], [64 * mapLen * mapLen, mapLen * mapLen]);
  // 1. gap filling: zeros remain only in row 0 / column 0; measured points untouched
  // 2. foreground = the disc (3 cm >> 7 mm; the corner plane is within 0.1 mm of the tilt), except
  //    filled points whose 3x3 neighbourhood straddles the rim (their fill mixes both levels)
  let rim = 0;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const k = i * w + j;
      if (!missing[k]) assertEquals(r.zFilled[k], xyz[k * 3 + 2], `measured (${i},${j}) changed`);
      else if (i > 0 && j > 0) assert(r.zFilled[k] !== 0, `(${i},${j}) not filled`);
      let straddles = false;
      for (let y = Math.max(i - 1, 0); y <= Math.min(i + 1, h - 1); y++) for (let x = Math.max(j - 1, 0); x <= Math.min(j + 1, w - 1); x++) straddles ||= disc[y * w + x] !== disc[k];
      if (missing[k] && straddles) rim++;
      else assertEquals(r.foregroundFull[k], disc[k], `foreground (${i},${j})`);
    }
  }
  assert(rim > 10 && rim < 200, `${rim} filled rim points`);
  // 3-4. centred depth in cm (background = the foreground mean, so 0 there), resized 800 -> 192
  //      bilinearly (torch align_corners=False): checked where all four taps are measured points
  let fgSum = 0, fgCount = 0;
  for (let k = 0; k < h * w; k++) if (r.foregroundFull[k]) fgSum += r.zFilled[k], fgCount++;
  const mean = fgSum / fgCount;
  const centred = (k: number) => (r.foregroundFull[k] ? (r.zFilled[k] - mean) * 100 : 0);
  const tap = (d: number) => {
    const src = Math.max((d + 0.5) * (h / side) - 0.5, 0), lo = Math.floor(src);
    return { lo, hi: Math.min(lo + 1, h - 1), f: src - lo };
  };
  let checked = 0;
  for (let y = 0; y < side; y++) {
    const ty = tap(y);
    for (let x = 0; x < side; x++) {
      const tx = tap(x);
      const ks = [ty.lo * w + tx.lo, ty.lo * w + tx.hi, ty.hi * w + tx.lo, ty.hi * w + tx.hi];
      if (ks.some((k) => missing[k])) continue;
      const [a, b, c, d] = ks.map(centred);
      const want = (a * (1 - tx.f) + b * tx.f) * (1 - ty.f) + (c * (1 - tx.f) + d * tx.f) * ty.f;
      assert(Math.abs(r.depthResized[y * side + x] - want) <= 1e-4, `depth (${y},${x}): ${r.depthResized[y * side + x]} vs ${want} cm`);
      checked++;
    }
  }
  assert(checked > 0.75 * side * side, `only ${checked} positions checked`);
  // 5. pixel unshuffle: channel dy*8+dx at (y, x) <- (8y+dy, 8x+dx)
  for (let c = 0; c < 64; c++) {
    for (let p = 0; p < mapLen * mapLen; p++) {
      const y = Math.floor(p / mapLen) * 8 + Math.floor(c / 8), x = (p % mapLen) * 8 + (c % 8);
      assertEquals(r.depth[c * mapLen * mapLen + p], r.depthResized[y * side + x]);
    }
  }
  // 6. soft mask: 1 on cells whose centre is over a cell inside the rim, 0 beyond two cells outside
  const cell = h / mapLen;
  for (let y = 0; y < mapLen; y++) {
    for (let x = 0; x < mapLen; x++) {
      const dist = Math.hypot((y + 0.5) * cell - 400, (x + 0.5) * cell - 400), v = r.foregroundDown[y * mapLen + x];
      if (dist < 200 - cell) assertEquals(v, 1, `mask cell (${y},${x}) inside`);
      else if (dist > 200 + 2 * cell) assertEquals(v, 0, `mask cell (${y},${x}) outside`);
      else assert(v >= 0 && v <= 1, `mask cell (${y},${x}) = ${v}`);
    }
  }
});
