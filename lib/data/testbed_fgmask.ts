/**
 * Testbed `fgmask`: one object on a realistic, per-image varying background.
 *
 * HYPOTHESIS. Training and scoring with the foreground mask (trainMask and evalMask on, AST's
 * default for 3D data) gives a clearly higher image AUROC than without it in RGB+3D (`combi`);
 * in `depth` the difference is small.
 *
 * WHY. Like MVTec 3D-AD scenes, the support plane is tilted (up to +-20 mm across the image)
 * and offset (0.57-0.63 m) differently in every image, with sensor noise of a per-image level,
 * a gentle warp, missing points whose amount (0.1-2 % scattered, 0-6 blobs) and places vary,
 * and background clutter (cards, washers, cables of random colours and places) on a table of
 * random colour, wood-like grain and lighting gradient. All background geometry stays below
 * 3.5 mm (+ warp and noise) above the fitted background plane, so the official mask
 * (lib/preprocess/depth.ts: plane through the corners, |z - plane| > 7 mm) removes it; the
 * object (a 25 mm puck, radius ~0.2 of the side) is foreground. Anomalies (dent, bump, hole,
 * colour stain; 10-13 px in radius at 200 px, holes 4-6 px; dents and bumps 8-12 mm; v2, see
 * docs/testbeds.md "Difficulty adjustments") lie on the object only. Without the mask the
 * teacher and student are trained on, and scored over, the whole image: the RGB features of the
 * background change from image to image far more than the object does, so the model spends capacity on it and
 * normal test images get high (max-pooled) scores from background novelty, which hides the
 * object's defects. In depth mode the preprocessing already replaces background depth by the
 * mean foreground depth (step 3, whether or not the mask is used), so the background variation
 * never reaches the depth input: there the mask ablation only changes the loss/score weighting
 * and should matter little. That contrast is part of the test.
 */
import { Canvas, clamp255, cosineCap, smoothstep, unrotate } from "./testbed_canvas.ts";
import type { RenderedSample, Rng } from "./synthetic.ts";

export const FGMASK_DEFECT_TYPES = ["dent", "bump", "hole", "color"] as const;
export type FgmaskDefect = typeof FGMASK_DEFECT_TYPES[number];

export const FGMASK_HYPOTHESIS =
  "With the foreground mask (trainMask/evalMask on) AST's image AUROC is clearly higher than without it in combi; in depth the difference is small.";
export const FGMASK_WHY =
  "Each image has its own tilted, offset, noisy support plane with missing points and low clutter, and a table of random colour, grain and lighting; all of it stays below the 7 mm background-plane threshold, so the official mask removes it, and defects lie on the object only. Unmasked, the model must model the variable background and normal images score high on background novelty (RGB features). Depth preprocessing flattens the background anyway (step 3), so in depth only the loss/score weighting changes.";

/** Opacity of the `color` stain over the object's colour. */
export const STAIN_BLEND = 0.8;

/** Largest height of background clutter above the table, metres (kept well below the 7 mm threshold). */
export const CLUTTER_MAX_HEIGHT = 0.0035;

interface Clutter {
  kind: 0 | 1 | 2;
  cy: number;
  cx: number;
  extent: number;
  angle: number;
  a: number;
  b: number;
  height: number;
  color: number[];
  /** cable: polyline points relative to the centre */
  points: [number, number][];
}

function distanceToSegment(py: number, px: number, ay: number, ax: number, by: number, bx: number): number {
  const dy = by - ay, dx = bx - ax;
  const len2 = dy * dy + dx * dx;
  const t = len2 > 0 ? Math.min(1, Math.max(0, ((py - ay) * dy + (px - ax) * dx) / len2)) : 0;
  return Math.hypot(py - (ay + t * dy), px - (ax + t * dx));
}

/** Clutter coverage in [0, 1] at offset (dy, dx) from its centre (pixels). */
function clutterCover(c: Clutter, dy: number, dx: number): number {
  if (Math.abs(dy) > c.extent + 2 || Math.abs(dx) > c.extent + 2) return 0;
  if (c.kind === 0) {
    const [ly, lx] = unrotate(dy, dx, c.angle);
    return 1 - smoothstep(-0.7, 0.7, Math.max(Math.abs(ly) - c.b, Math.abs(lx) - c.a));
  }
  if (c.kind === 1) {
    const r = Math.hypot(dy, dx);
    return (1 - smoothstep(-0.7, 0.7, r - c.a)) * smoothstep(-0.7, 0.7, r - c.b);
  }
  let d = Infinity;
  for (let p = 0; p + 1 < c.points.length; p++) {
    d = Math.min(d, distanceToSegment(dy, dx, c.points[p][0], c.points[p][1], c.points[p + 1][0], c.points[p + 1][1]));
  }
  return d < c.a ? Math.sqrt(1 - (d / c.a) ** 2) : 0; // round cable cross-section
}

/** Render one `fgmask` sample (defect null = normal). */
export function renderFgmask(rng: Rng, size: number, defect: FgmaskDefect | null): RenderedSample {
  const px = size / 200;
  const cv = new Canvas(size, rng.uniform(0.0001, 0.0004), rng.uniform(2, 5));
  // support plane
  const tableZ = rng.uniform(0.57, 0.63);
  const tiltRows = rng.uniform(-0.02, 0.02), tiltCols = rng.uniform(-0.015, 0.015);
  const warps = [0, 1, 2].map(() => ({
    amp: rng.uniform(0, 0.0003),
    freq: (2 * Math.PI) / (rng.uniform(30, 120) * px),
    dir: rng.uniform(0, Math.PI),
    phase: rng.uniform(0, 2 * Math.PI),
  }));
  // table colour, grain and lighting
  const grey = rng.uniform(60, 160);
  const tableColor = [0, 1, 2].map(() => grey + rng.uniform(-25, 25));
  const grain = { amp: rng.uniform(0, 12), freq: rng.uniform(0.1, 0.4) / px, dir: rng.uniform(0, Math.PI), phase: rng.uniform(0, 2 * Math.PI) };
  const light = { gy: rng.uniform(-25, 25), gx: rng.uniform(-25, 25) };
  // the object
  const obj = {
    cy: size / 2 + rng.uniform(-0.03, 0.03) * size,
    cx: size / 2 + rng.uniform(-0.03, 0.03) * size,
    radius: size * rng.uniform(0.19, 0.21),
    height: rng.uniform(0.0245, 0.0255),
    rim: 3 * px,
    color: [150 + rng.uniform(-6, 6), 62 + rng.uniform(-4, 4), 42 + rng.uniform(-4, 4)],
    ringPhase: rng.uniform(0, 2 * Math.PI),
  };
  // a place in the background: away from the object and from the corner windows the plane is fitted on
  const corners = [[0, 0], [0, size], [size, 0], [size, size]];
  const freePlace = (extent: number): [number, number] | null => {
    for (let tries = 0; tries < 30; tries++) {
      const y = rng.uniform(4 * px, size - 4 * px), x = rng.uniform(4 * px, size - 4 * px);
      if (Math.hypot(y - obj.cy, x - obj.cx) < obj.radius + extent + 6 * px) continue;
      if (corners.some(([cy, cx]) => Math.max(Math.abs(y - cy), Math.abs(x - cx)) < extent + 16 * px)) continue;
      return [y, x];
    }
    return null;
  };
  const clutter: Clutter[] = [];
  const nClutter = rng.int(3, 7);
  for (let c = 0; c < nClutter; c++) {
    const kind = rng.int(0, 2) as 0 | 1 | 2;
    const color = [rng.uniform(30, 230), rng.uniform(30, 230), rng.uniform(30, 230)];
    const angle = rng.uniform(0, Math.PI);
    let a: number, b: number, height: number, extent: number;
    const points: [number, number][] = [];
    if (kind === 0) { // card / paper
      a = rng.uniform(8, 20) * px, b = rng.uniform(5, 12) * px, height = rng.uniform(0.0005, 0.0015);
      extent = Math.hypot(a, b);
    } else if (kind === 1) { // washer
      a = rng.uniform(5, 9) * px, b = a * rng.uniform(0.4, 0.6), height = rng.uniform(0.0015, 0.003);
      extent = a;
    } else { // cable: a bent polyline
      a = rng.uniform(1.5, 2.5) * px, b = 0, height = rng.uniform(0.002, CLUTTER_MAX_HEIGHT);
      const len = rng.uniform(20, 45) * px;
      let ang = angle, y = -Math.sin(ang) * len / 2, x = -Math.cos(ang) * len / 2;
      points.push([y, x]);
      for (let s = 0; s < 3; s++) {
        ang += rng.uniform(-0.6, 0.6);
        y += Math.sin(ang) * len / 3, x += Math.cos(ang) * len / 3;
        points.push([y, x]);
      }
      extent = Math.max(...points.map(([py, pxx]) => Math.max(Math.abs(py), Math.abs(pxx)))) + a;
    }
    const at = freePlace(extent);
    if (at) clutter.push({ kind, cy: at[0], cx: at[1], extent, angle, a, b, height, color, points });
  }
  // missing points: a per-image base rate and blobs in the background
  const baseDropout = rng.uniform(0.001, 0.02);
  const blobs: [number, number, number][] = [];
  const nBlobs = rng.int(0, 6);
  for (let b = 0; b < nBlobs; b++) {
    const r = rng.uniform(3, 14) * px, at = freePlace(r);
    if (at) blobs.push([at[0], at[1], r]);
  }
  // the defect, on the object's flat top
  const dr = obj.radius * Math.sqrt(rng.uniform(0, 1)) * 0.55, da = rng.uniform(0, 2 * Math.PI);
  const dcy = obj.cy + dr * Math.sin(da), dcx = obj.cx + dr * Math.cos(da);
  // v2: dents, bumps and stains 10-13 px (v1: 7-10 and 6-9), dents and bumps 8-12 mm deep or high
  // (v1: 5-8, the puck's are 8-12), the stain blended at 80 % (v1: 60 %);
  // docs/testbeds.md "Difficulty adjustments"
  const defectRadius = (defect === "hole" ? rng.uniform(4, 6) : rng.uniform(10, 13)) * px;
  const defectDepth = defect === "hole" ? rng.uniform(0.006, 0.009) : rng.uniform(0.008, 0.012);
  const stain = [40 + rng.uniform(-10, 10), 120 + rng.uniform(-10, 10), 150 + rng.uniform(-10, 10)];

  const mmPerPx = 200 / size;
  cv.each((k, _i, _j, y, x) => {
    const v = y / size - 0.5, u = x / size - 0.5;
    let z = tableZ + tiltRows * v + tiltCols * u;
    for (const w of warps) z += w.amp * Math.sin(w.freq * (y * Math.sin(w.dir) + x * Math.cos(w.dir)) + w.phase);
    // table colour: grain + lighting
    const along = y * Math.sin(grain.dir) + x * Math.cos(grain.dir), across = -y * Math.cos(grain.dir) + x * Math.sin(grain.dir);
    const g = grain.amp * Math.sin(grain.freq * along + 2 * Math.sin(0.05 * across / px) + grain.phase);
    cv.setRgb(k, tableColor.map((c) => clamp255(c + g + light.gy * v + light.gx * u)));
    let dropout = baseDropout;
    for (const c of clutter) {
      const cover = clutterCover(c, y - c.cy, x - c.cx);
      if (cover <= 0) continue;
      z -= c.height * (c.kind === 2 ? cover : Math.min(1, cover * 3)); // the cable's round profile; flat cards and washers
      cv.blendRgb(k, c.color, Math.min(1, cover * 1.5));
    }
    for (const [by, bx, br] of blobs) if (Math.hypot(y - by, x - bx) < br) dropout = 0.85;
    // the object: a puck with a rounded rim and machining rings
    const r = Math.hypot(y - obj.cy, x - obj.cx);
    const t = Math.min(1, Math.max(0, (r - (obj.radius - obj.rim)) / obj.rim));
    const coverage = 1 - t * t * (3 - 2 * t);
    if (coverage > 0) {
      z -= obj.height * coverage;
      z += 0.00008 * Math.sin(r * mmPerPx * 0.9 + obj.ringPhase) * coverage;
      dropout = t > 0 && t < 1 ? 0.1 : baseDropout;
      const shade = 0.75 + 0.25 * coverage;
      const texture = 6 * Math.sin(r * mmPerPx * 0.9 + obj.ringPhase);
      if (coverage > 0.5) cv.setRgb(k, obj.color.map((c) => c * shade + texture));
    }
    if (defect !== null && coverage >= 1) {
      const rd = Math.hypot(y - dcy, x - dcx);
      if (defect === "dent" || defect === "bump") {
        const p = cosineCap(rd, defectRadius);
        z += (defect === "dent" ? 1 : -1) * defectDepth * p;
        if (p > 0.15) cv.mask[k] = 255;
      } else if (defect === "hole" && rd < defectRadius) {
        z += defectDepth;
        dropout = 0.3;
        cv.blendRgb(k, [18, 14, 12], 0.85);
        cv.mask[k] = 255;
      } else if (defect === "color" && rd < defectRadius) {
        cv.blendRgb(k, stain, STAIN_BLEND);
        cv.mask[k] = 255;
      }
    }
    cv.z[k] = z;
    cv.dropout[k] = dropout;
  });
  return cv.finish(rng);
}
