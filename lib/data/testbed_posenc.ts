/**
 * Testbed `posenc`: where a structure is decides whether it is normal.
 *
 * HYPOTHESIS. With the positional encoding (the 32 sin/cos channels concatenated to the
 * teacher's coupling subnets and to the student's input), AST flags these anomalies clearly
 * better than without it (`posEnc=false`), in depth, RGB and RGB+3D alike.
 *
 * WHY. A plate carries six distinct parts (a disc, a rotated square block, a ring, a dome, a cross
 * and a round pocket: different shapes, heights and colours) in fixed slots of a 3 x 3 grid, three
 * slots left empty; normal images jitter positions by about 1.5 mm, heights, tilt and colours
 * slightly. Anomalies are `swap` (two parts exchange their slots), `moved` (a part sits in an
 * empty slot, its own slot is empty) and `missing` (a part is gone). Every anomalous patch, on its
 * own, is exactly what a normal image shows somewhere else (the part as it looks in its home slot,
 * or the empty plate of an empty slot): no local statistic separates it. Only knowing where on
 * the image a patch is makes it abnormal, and the only explicit source of position in AST is the
 * positional encoding; the depth input (8 x 8 pixel patches unshuffled into channels) and the
 * MobileNetV2 features are translation-equivariant and local. The teacher's likelihood of a part
 * at the wrong slot can only drop if its coupling subnets condition on position; the student,
 * trained to match the teacher only on parts at their home slots, has then no reason to follow
 * the teacher there.
 *
 * CAVEATS (why the ablation may still do well): the conv receptive fields grow over the stacked
 * 3x3/5x5 layers (several map cells) and zero padding at the map border leaks absolute position
 * into CNNs, so a network without the encoding can partly learn a part's neighbourhood or its
 * distance to the border. Parts are separated by 50 px (4 map cells at the demo's 16 x 16 map)
 * to keep context weak, but it is not zero. The plate (15 mm) and the parts are all foreground for
 * the 7 mm background-plane mask, so the mask does not hide missing parts; the pocket (6 mm deep)
 * leaves 9 mm of plate above the table.
 */
import { Canvas, smoothstep, unrotate } from "./testbed_canvas.ts";
import type { RenderedSample, Rng } from "./synthetic.ts";

export const POSENC_DEFECT_TYPES = ["swap", "moved", "missing"] as const;
export type PosencDefect = typeof POSENC_DEFECT_TYPES[number];

export const POSENC_HYPOTHESIS =
  "With the positional encoding AST flags parts at the wrong place (swapped, moved to an empty slot) and missing parts clearly better than with posEnc=false, in depth, rgb and combi.";
export const POSENC_WHY =
  "Six distinct parts sit in fixed slots of a 3x3 grid on a plate (three slots empty); every anomalous patch is locally identical to normal content elsewhere (a part as seen in its home slot, or an empty slot), so only the position makes it abnormal. Depth patches and MobileNetV2 features are local and translation-equivariant; the positional encoding is the model's explicit source of position. Caveat: receptive fields spanning several cells and zero padding leak some context/position to the ablated model.";

/** Slot centres as fractions of the side (3 x 3 grid, row-major). */
const SLOT_FRACTIONS = [0.25, 0.5, 0.75];
export const POSENC_SLOTS: readonly [number, number][] = SLOT_FRACTIONS.flatMap((fy) => SLOT_FRACTIONS.map((fx) => [fy, fx] as [number, number]));

/** Part kinds; the index is the part id. */
export const PARTS = ["disc", "square", "ring", "dome", "cross", "pocket"] as const;
type Part = typeof PARTS[number];

/** The normal layout: slot -> part id, -1 = empty. */
export const NORMAL_LAYOUT: readonly number[] = [0, -1, 1, -1, 2, 4, 3, 5, -1];

const PART_COLOR: Record<Part, [number, number, number]> = {
  disc: [190, 60, 50],
  square: [60, 90, 190],
  ring: [210, 190, 60],
  dome: [60, 160, 80],
  cross: [230, 230, 225],
  pocket: [50, 45, 40],
};
/** Height above the plate at the part's top, mm (the pocket goes into the plate). */
const PART_HEIGHT_MM: Record<Part, number> = { disc: 12, square: 8, ring: 10, dome: 14, cross: 6, pocket: -6 };
/** Fixed orientation of the non-round parts (radians); it travels with the part. */
const PART_ANGLE: Record<Part, number> = { disc: 0, square: 0.35, ring: 0, dome: 0, cross: 0.2, pocket: 0 };

const PLATE_HEIGHT = 0.015;
const GROW = [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1]];
const PLATE_MARGIN = 14 / 200; // plate edge, fraction of the side from the image border
const PLATE_COLOR = [168, 164, 150];
const TABLE_COLOR = [70, 72, 78];

/**
 * Profile of a part at local offset (dy, dx) in 200-px units, in its own (rotated) frame:
 * `h` in [0, 1] (fraction of the part height) and `cover` in [0, 1] (how much of the part's
 * colour shows). Everything lies within 18 px of the centre.
 */
function partProfile(part: Part, dy: number, dx: number): { h: number; cover: number } {
  const [ly, lx] = unrotate(dy, dx, PART_ANGLE[part]);
  const r = Math.hypot(ly, lx);
  const edge = (d: number) => 1 - smoothstep(-1, 1, d); // signed distance outside -> 0, inside -> 1
  switch (part) {
    case "disc": {
      const v = edge(r - 16);
      return { h: v, cover: v };
    }
    case "square": {
      const v = edge(Math.max(Math.abs(ly), Math.abs(lx)) - 12.5);
      return { h: v, cover: v };
    }
    case "ring": {
      const v = edge(r - 17) * (1 - edge(r - 8));
      return { h: v, cover: v };
    }
    case "dome": {
      const R = 17, v = r < R ? Math.sqrt(1 - (r / R) ** 2) : 0;
      return { h: v, cover: edge(r - R) };
    }
    case "cross": {
      const arm = (a: number, b: number) => Math.max(Math.abs(a) - 17, Math.abs(b) - 5);
      const v = edge(Math.min(arm(ly, lx), arm(lx, ly)));
      return { h: v, cover: v };
    }
    case "pocket": {
      const v = edge(r - 13);
      return { h: v, cover: v };
    }
  }
}

/** Per-image jitter of one part instance. */
interface Placed {
  part: Part;
  slot: number;
  dy: number;
  dx: number;
  heightMm: number;
  angle: number;
  color: number[];
}

/** The layout of an image with anomaly `defect` (null = normal): slot -> part id, and the slots it touches. */
function anomalousLayout(rng: Rng, defect: PosencDefect | null): { layout: number[]; touched: number[] } {
  const layout = [...NORMAL_LAYOUT];
  const occupied = layout.flatMap((p, s) => (p >= 0 ? [s] : []));
  const empty = layout.flatMap((p, s) => (p < 0 ? [s] : []));
  const pick = (xs: number[]) => xs[rng.int(0, xs.length - 1)];
  if (defect === "swap") {
    const a = pick(occupied);
    const b = pick(occupied.filter((s) => s !== a));
    [layout[a], layout[b]] = [layout[b], layout[a]];
    return { layout, touched: [a, b] };
  }
  if (defect === "moved") {
    const a = pick(occupied), e = pick(empty);
    layout[e] = layout[a];
    layout[a] = -1;
    return { layout, touched: [a, e] };
  }
  if (defect === "missing") {
    const a = pick(occupied);
    layout[a] = -1;
    return { layout, touched: [a] };
  }
  return { layout, touched: [] };
}

/** Render one `posenc` sample (defect null = normal). */
export function renderPosenc(rng: Rng, size: number, defect: PosencDefect | null): RenderedSample {
  const px = size / 200;
  const cv = new Canvas(size);
  const tableZ = rng.uniform(0.598, 0.602);
  const tiltRows = rng.uniform(0.002, 0.004), tiltCols = rng.uniform(-0.002, 0.002);
  const plateShade = rng.uniform(-5, 5);
  const { layout, touched } = anomalousLayout(rng, defect);
  // draw the jitter of every part in its normal slot order, so a swap only moves parts
  const jitter = PARTS.map((part): Omit<Placed, "slot"> => ({
    part,
    dy: rng.uniform(-1.5, 1.5),
    dx: rng.uniform(-1.5, 1.5),
    heightMm: PART_HEIGHT_MM[part] * rng.uniform(0.97, 1.03),
    angle: rng.uniform(-0.05, 0.05),
    color: PART_COLOR[part].map((c) => c + rng.uniform(-6, 6)),
  }));
  const placed: Placed[] = layout.flatMap((p, slot) => (p >= 0 ? [{ ...jitter[p], slot }] : []));
  const m0 = PLATE_MARGIN * size, m1 = size - m0;
  cv.each((k, _i, _j, y, x) => {
    const v = y / size - 0.5, u = x / size - 0.5;
    const table = tableZ + tiltRows * v + tiltCols * u;
    // plate: a 15 mm slab with a 2 px rounded edge
    const inside = Math.min(y - m0, m1 - y, x - m0, m1 - x);
    const plate = smoothstep(-1 * px, 1 * px, inside);
    let z = table - PLATE_HEIGHT * plate;
    const base = plate > 0.5 ? PLATE_COLOR.map((c) => c + plateShade) : TABLE_COLOR;
    cv.setRgb(k, base);
    if (plate > 0 && plate < 1) cv.dropout[k] = 0.1; // steep plate edge
    else cv.dropout[k] = 0.003;
    for (const p of placed) {
      const [fy, fx] = POSENC_SLOTS[p.slot];
      const dy = (y - fy * size) / px - p.dy, dx = (x - fx * size) / px - p.dx;
      if (Math.abs(dy) > 20 || Math.abs(dx) > 20) continue;
      const { h, cover } = partProfile(p.part, ...unrotate(dy, dx, p.angle));
      if (cover <= 0 && h <= 0) continue;
      z -= (p.heightMm / 1000) * h;
      const shade = p.part === "dome" ? 0.7 + 0.3 * h : 1; // the dome darkens towards its rim
      cv.blendRgb(k, p.color.map((c) => c * shade), cover);
      if (cover > 0.05 && cover < 0.95) cv.dropout[k] = 0.1; // steep part edges
    }
    cv.z[k] = z;
  });
  // ground truth: the footprints (grown by 1 px) of everything in a touched slot, before and after
  if (touched.length) {
    const before = NORMAL_LAYOUT, after = layout;
    cv.each((k, _i, _j, y, x) => {
      for (const slot of touched) {
        const [fy, fx] = POSENC_SLOTS[slot];
        for (const id of [before[slot], after[slot]]) {
          if (id < 0) continue;
          const j = jitter[id];
          const dy = (y - fy * size) / px - j.dy, dx = (x - fx * size) / px - j.dx;
          if (Math.abs(dy) > 20 || Math.abs(dx) > 20) continue;
          const [ry, rx] = unrotate(dy, dx, j.angle);
          if (GROW.some(([oy, ox]) => partProfile(PARTS[id], ry + oy, rx + ox).cover > 0)) cv.mask[k] = 255;
        }
      }
    });
  }
  return cv.finish(rng);
}
