/**
 * Testbed `subtle`: anomalies close to the normal distribution, on the synthetic puck's scene.
 *
 * HYPOTHESIS (the paper's, Table 5). On near-normal anomalies AST with its asymmetric CNN
 * student separates defective from normal images clearly better than a symmetric student that
 * is a normalizing flow with the teacher's architecture (`student.kind=flow`), in depth, RGB and
 * RGB+3D.
 *
 * WHY. The scene is the puck of synthetic.ts (same table, tilt, puck size, rim, machining rings,
 * colours and noise), but every defect is small: `shallow_dent` / `shallow_bump` are 3.5-5 mm
 * deep or high and 14-18 px in radius (the puck's dents and bumps are 8-12 mm; v1 had 2-3.5 mm
 * and 10-14 px, docs/testbeds.md "Difficulty adjustments"), `rings` locally changes the
 * machining-ring frequency by a factor 1.5-1.8 (RGB texture; the depth ripple is below the
 * noise), `speckle` locally raises the RGB speckle from 3 to 7-9 grey levels and the depth noise
 * from 0.15 to 0.35 mm, and `tint` shifts the colour by 12-18 grey levels (the puck's stain
 * blends a blue-green at 75 %). Such inputs lie just outside the training distribution. A flow
 * student shares the teacher's inductive bias (same couplings, same receptive fields, an
 * invertible map): it extrapolates to near-normal inputs the way the teacher does, so the
 * teacher-student distance stays small there. The asymmetric CNN student is a different function
 * class that only matches the teacher on the normal data; slightly off it, the two diverge,
 * which is what AST scores.
 */
import { Canvas, cosineCap, smoothstep } from "./testbed_canvas.ts";
import { randomScene, type RenderedSample, type Rng } from "./synthetic.ts";

export const SUBTLE_DEFECT_TYPES = ["shallow_dent", "shallow_bump", "rings", "speckle", "tint"] as const;
export type SubtleDefect = typeof SUBTLE_DEFECT_TYPES[number];

export const SUBTLE_HYPOTHESIS =
  "On near-normal anomalies AST's asymmetric CNN student separates defective from normal images clearly better than a symmetric normalizing-flow student with the teacher's architecture (student.kind=flow), in depth, rgb and combi.";
export const SUBTLE_WHY =
  "The puck scene with small defects only: 3.5-5 mm dents and bumps (the puck's are 8-12 mm), a local change of the machining-ring frequency, locally stronger speckle and depth noise, a 12-18 grey-level colour shift. A flow student shares the teacher's architecture and extrapolates to such near-normal inputs like the teacher, so their distance stays small; an asymmetric CNN student only matches the teacher on normal data and diverges slightly off it.";

/** Largest dent / bump amplitude, metres (the puck's smallest is 8 mm). */
export const SUBTLE_MAX_DEPTH = 0.005;
/** Smallest dent / bump amplitude, metres (v1: 2 mm; raised in v2, docs/testbeds.md "Difficulty adjustments"). */
export const SUBTLE_MIN_DEPTH = 0.0035;
/** Largest colour shift of `tint`, grey levels (Euclidean over RGB). */
export const SUBTLE_MAX_TINT = 18;

/** Render one `subtle` sample (defect null = normal). */
export function renderSubtle(rng: Rng, size: number, defect: SubtleDefect | null): RenderedSample {
  const px = size / 200, mmPerPx = 200 / size;
  const cv = new Canvas(size);
  // the puck scene of synthetic.ts (same ranges)
  const s = randomScene(rng, size);
  // the defect: centre on the flat top, well inside the rim
  const dr = s.radius * Math.sqrt(rng.uniform(0, 1)) * 0.55, da = rng.uniform(0, 2 * Math.PI);
  const dcy = s.cy + dr * Math.sin(da), dcx = s.cx + dr * Math.cos(da);
  const radius = (defect === "shallow_dent" || defect === "shallow_bump" ? rng.uniform(14, 18) : defect === "tint" ? rng.uniform(10, 14) : rng.uniform(12, 16)) * px;
  const amp = rng.uniform(SUBTLE_MIN_DEPTH, SUBTLE_MAX_DEPTH) * (defect === "shallow_bump" ? -1 : 1);
  const ringFactor = rng.uniform(1.5, 1.8);
  const speckle = rng.uniform(7, 9);
  const tintAngle = rng.uniform(0, 2 * Math.PI), tintLen = rng.uniform(12, SUBTLE_MAX_TINT);
  // a colour shift of length tintLen in a random direction orthogonal to grey (hue, not brightness)
  const e1 = [1 / Math.SQRT2, -1 / Math.SQRT2, 0], e2 = [1 / Math.sqrt(6), 1 / Math.sqrt(6), -2 / Math.sqrt(6)];
  const tint = [0, 1, 2].map((c) => tintLen * (Math.cos(tintAngle) * e1[c] + Math.sin(tintAngle) * e2[c]));

  cv.each((k, _i, _j, y, x) => {
    const v = y / size - 0.5, u = x / size - 0.5;
    const table = s.tableZ + s.tiltRows * v + s.tiltCols * u;
    const r = Math.hypot(y - s.cy, x - s.cx);
    const t = Math.min(1, Math.max(0, (r - (s.radius - s.rim)) / s.rim));
    const coverage = 1 - t * t * (3 - 2 * t);
    const onPuck = coverage > 0;
    const rd = Math.hypot(y - dcy, x - dcx);
    // inside the defect disc, with a soft edge (1 = fully changed)
    const inDefect = defect !== null && coverage >= 1 ? 1 - smoothstep(radius - 2 * px, radius, rd) : 0;
    let ringPhase = r * mmPerPx * 0.9 + s.ringPhase;
    if (defect === "rings" && inDefect > 0) {
      // the changed frequency, continuous at the disc's edge
      const base = r * mmPerPx * 0.9, changed = r * mmPerPx * 0.9 * ringFactor;
      ringPhase = base + (changed - base) * inDefect + s.ringPhase;
    }
    const ripple = onPuck ? 0.00008 * Math.sin(ringPhase) : 0;
    let z = table - s.height * coverage + ripple;
    if ((defect === "shallow_dent" || defect === "shallow_bump") && coverage >= 1) {
      const p = cosineCap(rd, radius);
      z += amp * p;
      if (p > 0.15) cv.mask[k] = 255;
    } else if (inDefect > 0.5) cv.mask[k] = 255;
    cv.z[k] = z;
    cv.dropout[k] = 0.003 + (t > 0 && t < 1 ? 0.1 : 0);
    const base = onPuck && coverage > 0.5 ? s.puckColor : s.tableColor;
    const shade = onPuck ? 0.75 + 0.25 * coverage : 1;
    const texture = onPuck ? 6 * Math.sin(ringPhase) : 0;
    const shift = defect === "tint" ? inDefect : 0;
    cv.setRgb(k, [0, 1, 2].map((c) => base[c] * shade + texture + tint[c] * shift));
    if (defect === "speckle" && inDefect > 0) {
      cv.speckle[k] = 3 + (speckle - 3) * inDefect;
      cv.noise[k] = 0.00015 + 0.0002 * inDefect;
    }
  });
  return cv.finish(rng);
}
