/**
 * Seeded synthetic MVTec 3D-AD-style dataset: a puck on a slightly tilted table seen by a
 * pinhole depth camera (~1 mm per pixel at 0.6 m), with RGB, xyz TIFF and ground-truth masks.
 *
 *   ROOT/<class>/{train,validation}/good/{rgb,xyz}/NNN.{png,tiff}
 *   ROOT/<class>/test/<type>/{rgb,xyz,gt}/NNN.{png,tiff,png}
 *   ROOT/<class>/dataset.json   (generator version + config; regeneration is skipped if equal)
 *
 * Defects: `dent`, `bump` (geometry only: RGB unchanged), `color` (RGB only: geometry
 * unchanged), `hole`, `crack` (both). Every sample draws from its own PRNG stream, seeded from
 * (seed, split, type, index), so the same seed gives identical bytes and changing one count does
 * not change the other samples. The dataset is written to a temp folder and renamed into place,
 * so an interrupted run never leaves a half dataset.
 *
 * CLI: deno run -A lib/cli/generate.ts --out data/generated --seed 0 [--class puck] [--size 200]
 *      [--train 40 --validation 8 --test-good 16 --dent 8 --bump 8 --hole 8 --crack 8 --color 2]
 */
import { join } from "node:path";
import { encodePng } from "../io/images.ts";
import { encodeXyzTiff } from "../io/tiff.ts";
import { mulberry32 } from "../util/random.ts";
import { exists } from "../util/fs.ts";

/** Recorded in dataset.json; bump it whenever the rendering changes so old datasets regenerate. */
export const GENERATOR_VERSION = "ast-lab-synthetic-v2";

export const DEFECT_TYPES = ["dent", "bump", "hole", "crack", "color"] as const;
export type DefectType = typeof DEFECT_TYPES[number];

export interface SyntheticCounts {
  train: number;
  validation: number;
  testGood: number;
  defects: Record<DefectType, number>;
}

/** The small `color` count is deliberate: depth mode cannot see colour defects. */
export const DEFAULT_COUNTS: SyntheticCounts = {
  train: 40,
  validation: 8,
  testGood: 16,
  defects: { dent: 8, bump: 8, hole: 8, crack: 8, color: 2 },
};

export interface GenerateOptions {
  root: string;
  className?: string;
  seed?: number;
  /** Image side in pixels (square). */
  size?: number;
  counts?: Partial<Omit<SyntheticCounts, "defects">> & { defects?: Partial<Record<DefectType, number>> };
  /** Regenerate even if a dataset with the same config exists. */
  force?: boolean;
}

export interface GenerateResult {
  classDir: string;
  /** false when an identical dataset was already there. */
  generated: boolean;
  config: SyntheticConfig;
}

export interface SyntheticConfig {
  generator: string;
  className: string;
  seed: number;
  size: number;
  counts: SyntheticCounts;
}

// ---------------------------------------------------------------------------------------------
// Random numbers

// The same seeded generator as everywhere else in the project (re-exported for callers).
export { mulberry32 };

/** FNV-1a hash of a string: derives per-sample seeds. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Seeded uniform, normal and integer draws (one stream per sample; shared by the testbeds). */
export class Rng {
  private next: () => number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.next();
  }
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = Math.max(this.next(), 1e-12), v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  int(lo: number, hiInclusive: number): number {
    return lo + Math.floor(this.next() * (hiInclusive - lo + 1));
  }
}

// ---------------------------------------------------------------------------------------------
// Scene

export interface Scene {
  size: number;
  /** Table: depth at the image centre (m) and tilt across the whole image (m). */
  tableZ: number;
  tiltRows: number;
  tiltCols: number;
  /** Puck: centre (px), radius (px), height (m), rounded rim width (px). */
  cy: number;
  cx: number;
  radius: number;
  height: number;
  rim: number;
  puckColor: [number, number, number];
  tableColor: [number, number, number];
  ringPhase: number;
}

/** The puck scene: table, tilt, puck place, size, height, colours (the testbeds reuse it). */
export function randomScene(rng: Rng, size: number): Scene {
  return {
    size,
    tableZ: rng.uniform(0.595, 0.605),
    tiltRows: rng.uniform(0.006, 0.012),
    tiltCols: rng.uniform(-0.004, 0.004),
    cy: size / 2 + rng.uniform(-0.02, 0.02) * size,
    cx: size / 2 + rng.uniform(-0.02, 0.02) * size,
    radius: size * rng.uniform(0.29, 0.31),
    height: rng.uniform(0.024, 0.026),
    rim: Math.max(2, size * 0.015),
    puckColor: [150 + rng.uniform(-6, 6), 62 + rng.uniform(-4, 4), 42 + rng.uniform(-4, 4)],
    tableColor: [92 + rng.uniform(-4, 4), 94 + rng.uniform(-4, 4), 100 + rng.uniform(-4, 4)],
    ringPhase: rng.uniform(0, 2 * Math.PI),
  };
}

/** Per-pixel changes a defect makes; all arrays size*size. */
interface DefectLayer {
  /** Added to z (m): positive = further from the camera (dent, hole, crack). */
  dz: Float32Array;
  /** Extra probability of a missing point (inside holes / cracks the sensor sees little). */
  dropout: Float32Array;
  /** RGB overlay: colour and opacity in [0,1]. */
  tint: Float32Array;
  tintAlpha: Float32Array;
  mask: Uint8Array;
}

function emptyLayer(n: number): DefectLayer {
  return {
    dz: new Float32Array(n),
    dropout: new Float32Array(n),
    tint: new Float32Array(n * 3),
    tintAlpha: new Float32Array(n),
    mask: new Uint8Array(n),
  };
}

/** A defect centre on the flat top of the puck, well inside the rim. */
function defectCentre(rng: Rng, s: Scene): [number, number] {
  const r = s.radius * Math.sqrt(rng.uniform(0, 1)) * 0.55;
  const a = rng.uniform(0, 2 * Math.PI);
  return [s.cy + r * Math.sin(a), s.cx + r * Math.cos(a)];
}

function distanceToSegment(py: number, px: number, ay: number, ax: number, by: number, bx: number): number {
  const dy = by - ay, dx = bx - ax;
  const len2 = dy * dy + dx * dx;
  const t = len2 > 0 ? Math.min(1, Math.max(0, ((py - ay) * dy + (px - ax) * dx) / len2)) : 0;
  return Math.hypot(py - (ay + t * dy), px - (ax + t * dx));
}

function makeDefect(type: DefectType, rng: Rng, s: Scene): DefectLayer {
  const n = s.size * s.size, px = s.size / 200; // sizes below are for 200 px, scaled
  const layer = emptyLayer(n);
  const [dcy, dcx] = defectCentre(rng, s);
  const each = (fn: (k: number, i: number, j: number) => void) => {
    for (let i = 0; i < s.size; i++) for (let j = 0; j < s.size; j++) fn(i * s.size + j, i, j);
  };
  const setTint = (k: number, rgb: number[], alpha: number) => {
    layer.tint.set(rgb, 3 * k);
    layer.tintAlpha[k] = alpha;
  };
  if (type === "dent" || type === "bump") {
    // smooth cosine cap, 8-12 mm deep / high, 10-14 mm radius: clearly above the rim's noise
    const radius = rng.uniform(10, 14) * px, amp = rng.uniform(0.008, 0.012) * (type === "dent" ? 1 : -1);
    each((k, i, j) => {
      const r = Math.hypot(i + 0.5 - dcy, j + 0.5 - dcx);
      if (r >= radius) return;
      const profile = 0.5 * (1 + Math.cos(Math.PI * r / radius));
      layer.dz[k] = amp * profile;
      if (profile > 0.15) layer.mask[k] = 255;
    });
  } else if (type === "hole") {
    // 5-8 mm radius, 8-12 mm deep, dark inside, partly unseen by the sensor
    const radius = rng.uniform(5, 8) * px, depth = rng.uniform(0.008, 0.012);
    each((k, i, j) => {
      const r = Math.hypot(i + 0.5 - dcy, j + 0.5 - dcx);
      if (r >= radius) return;
      layer.dz[k] = depth;
      layer.dropout[k] = 0.3;
      setTint(k, [18, 14, 12], 0.85);
      layer.mask[k] = 255;
    });
  } else if (type === "crack") {
    // a wiggly polyline, 30-50 mm long, ~4-5 mm wide, 8-12 mm deep, dark
    const length = rng.uniform(30, 50) * px, halfWidth = rng.uniform(2, 2.5) * px, depth = rng.uniform(0.008, 0.012);
    let angle = rng.uniform(0, Math.PI);
    const segments = 5, step = length / segments;
    let y = dcy - Math.sin(angle) * length / 2, x = dcx - Math.cos(angle) * length / 2;
    const points: [number, number][] = [[y, x]];
    for (let k = 0; k < segments; k++) {
      angle += rng.uniform(-0.35, 0.35);
      y += Math.sin(angle) * step;
      x += Math.cos(angle) * step;
      points.push([y, x]);
    }
    each((k, i, j) => {
      let d = Infinity;
      for (let p = 0; p + 1 < points.length; p++) {
        d = Math.min(d, distanceToSegment(i + 0.5, j + 0.5, points[p][0], points[p][1], points[p + 1][0], points[p + 1][1]));
      }
      if (d > halfWidth + 1) return;
      const inside = d <= halfWidth;
      layer.dz[k] = inside ? depth : depth * 0.3; // a slightly sloped edge
      layer.dropout[k] = inside ? 0.15 : 0;
      setTint(k, [25, 20, 18], inside ? 0.8 : 0.35);
      layer.mask[k] = 255;
    });
  } else {
    // colour stain: an irregular blue-green blob, 8-12 mm radius, geometry unchanged
    const radius = rng.uniform(8, 12) * px, lobes = rng.int(2, 4), phase = rng.uniform(0, 2 * Math.PI);
    const stain = [40 + rng.uniform(-10, 10), 120 + rng.uniform(-10, 10), 150 + rng.uniform(-10, 10)];
    each((k, i, j) => {
      const dy = i + 0.5 - dcy, dx = j + 0.5 - dcx;
      const edge = radius * (1 + 0.2 * Math.sin(lobes * Math.atan2(dy, dx) + phase));
      if (Math.hypot(dy, dx) >= edge) return;
      setTint(k, stain, 0.75);
      layer.mask[k] = 255;
    });
  }
  return layer;
}

/** One rendered sample: RGB bytes (HWC), xyz point map (metres, 0 = missing) and defect mask. */
export interface RenderedSample {
  rgb: Uint8Array;
  xyz: Float32Array;
  mask: Uint8Array;
}

/** Render one sample: depth camera point map, RGB image and defect mask. */
function renderSample(rng: Rng, size: number, defect: DefectType | null): RenderedSample {
  const s = randomScene(rng, size);
  const n = size * size;
  const layer = defect ? makeDefect(defect, rng, s) : emptyLayer(n);
  const focal = size * 3; // field of view ~ 0.2 m at 0.6 m
  const xyz = new Float32Array(n * 3);
  const rgb = new Uint8Array(n * 3);
  const mmPerPx = 200 / size;
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) {
      const k = i * size + j;
      const v = (i + 0.5) / size - 0.5, u = (j + 0.5) / size - 0.5;
      const table = s.tableZ + s.tiltRows * v + s.tiltCols * u;
      const r = Math.hypot(i + 0.5 - s.cy, j + 0.5 - s.cx);
      // puck height with a rounded rim (smoothstep fall-off over `rim` pixels)
      const t = Math.min(1, Math.max(0, (r - (s.radius - s.rim)) / s.rim));
      const coverage = 1 - t * t * (3 - 2 * t);
      const onPuck = coverage > 0;
      const ripple = onPuck ? 0.00008 * Math.sin(r * mmPerPx * 0.9 + s.ringPhase) : 0; // machining rings
      let z = table - s.height * coverage + ripple + layer.dz[k] * coverage + 0.00015 * rng.normal();
      // missing points: sparse everywhere, frequent on the steep rim, some inside holes/cracks
      const rimPart = t > 0 && t < 1 ? 0.1 : 0;
      const missing = rng.uniform() < 0.003 + rimPart + layer.dropout[k];
      if (missing) z = 0;
      xyz[3 * k] = z === 0 ? 0 : ((j + 0.5 - size / 2) / focal) * z;
      xyz[3 * k + 1] = z === 0 ? 0 : ((i + 0.5 - size / 2) / focal) * z;
      xyz[3 * k + 2] = z;
      // colour: puck vs table, rings + speckle texture, darker rim (shading), then defect tint
      const base = onPuck && coverage > 0.5 ? s.puckColor : s.tableColor;
      const shade = onPuck ? 0.75 + 0.25 * coverage : 1;
      const texture = (onPuck ? 6 * Math.sin(r * mmPerPx * 0.9 + s.ringPhase) : 0) + 3 * rng.normal();
      const alpha = layer.tintAlpha[k];
      for (let c = 0; c < 3; c++) {
        const plain = base[c] * shade + texture;
        const value = plain * (1 - alpha) + layer.tint[3 * k + c] * alpha;
        rgb[3 * k + c] = Math.max(0, Math.min(255, Math.round(value)));
      }
    }
  }
  return { rgb, xyz, mask: layer.mask };
}

// ---------------------------------------------------------------------------------------------
// Writing

function resolveConfig(o: GenerateOptions): SyntheticConfig {
  const c = o.counts ?? {};
  return {
    generator: GENERATOR_VERSION,
    className: o.className ?? "puck",
    seed: o.seed ?? 0,
    size: o.size ?? 200,
    counts: {
      train: c.train ?? DEFAULT_COUNTS.train,
      validation: c.validation ?? DEFAULT_COUNTS.validation,
      testGood: c.testGood ?? DEFAULT_COUNTS.testGood,
      defects: { ...DEFAULT_COUNTS.defects, ...(c.defects ?? {}) },
    },
  };
}

async function readRecordedConfig(classDir: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(join(classDir, "dataset.json"));
  } catch {
    return null;
  }
}

const pad3 = (i: number) => String(i).padStart(3, "0");

/** Write one sample as `dir/{rgb,xyz[,gt]}/NNN.{png,tiff,png}`. */
export async function writeSample(dir: string, index: number, sample: RenderedSample, size: number, withGt: boolean) {
  const name = pad3(index);
  await Deno.writeFile(join(dir, "rgb", `${name}.png`), encodePng({ width: size, height: size, channels: 3, data: sample.rgb }));
  await Deno.writeFile(join(dir, "xyz", `${name}.tiff`), encodeXyzTiff({ width: size, height: size, xyz: sample.xyz }));
  if (withGt) {
    await Deno.writeFile(join(dir, "gt", `${name}.png`), encodePng({ width: size, height: size, channels: 1, data: sample.mask }));
  }
}

/**
 * Write `count` samples of `classDir/split/type`; sample i is rendered from its own stream,
 * seeded from `${keyPrefix}${split}/${type}/${i}`.
 */
export async function writeSampleGroup(
  classDir: string,
  keyPrefix: string,
  size: number,
  split: string,
  type: string,
  count: number,
  render: (rng: Rng) => RenderedSample,
) {
  const dir = join(classDir, split, type);
  const withGt = split === "test"; // like MVTec 3D-AD, test/good has all-zero gt masks too
  for (const sub of withGt ? ["rgb", "xyz", "gt"] : ["rgb", "xyz"]) await Deno.mkdir(join(dir, sub), { recursive: true });
  for (let i = 0; i < count; i++) {
    const rng = new Rng(hashString(`${keyPrefix}${split}/${type}/${i}`));
    await writeSample(dir, i, render(rng), size, withGt);
  }
}

function writeGroup(classDir: string, config: SyntheticConfig, split: string, type: string, count: number) {
  return writeSampleGroup(
    classDir,
    `${config.seed}/`,
    config.size,
    split,
    type,
    count,
    (rng) => renderSample(rng, config.size, type === "good" ? null : type as DefectType),
  );
}

/** Generate (or keep, when the recorded config matches) the dataset at `root/className`. */
export async function generateDataset(options: GenerateOptions): Promise<GenerateResult> {
  const config = resolveConfig(options);
  const { classDir, generated } = await writeClassFolder(options.root, config.className, config, options.force, async (tmpDir) => {
    await writeGroup(tmpDir, config, "train", "good", config.counts.train);
    await writeGroup(tmpDir, config, "validation", "good", config.counts.validation);
    await writeGroup(tmpDir, config, "test", "good", config.counts.testGood);
    for (const type of DEFECT_TYPES) {
      if (config.counts.defects[type] > 0) await writeGroup(tmpDir, config, "test", type, config.counts.defects[type]);
    }
  });
  return { classDir, generated, config };
}

/**
 * The class folder `root/className` written atomically: skipped when its dataset.json equals
 * `config` (unless `force`), refused when the folder exists without a dataset.json; else
 * `write` fills a temp folder, dataset.json is written last (it marks completion) and the temp
 * folder is renamed into place (an older generated folder is moved aside first, then removed).
 */
export async function writeClassFolder(
  root: string,
  className: string,
  config: unknown,
  force: boolean | undefined,
  write: (tmpDir: string) => Promise<void>,
): Promise<{ classDir: string; generated: boolean }> {
  const recordedText = JSON.stringify(config, null, 2) + "\n";
  const classDir = join(root, className);
  const recorded = await readRecordedConfig(classDir);
  if (!force && recorded === recordedText) return { classDir, generated: false };
  if (recorded === null && (await exists(classDir))) {
    throw new Error(`${classDir}: exists but has no dataset.json (not a generated dataset); refusing to overwrite`);
  }
  await Deno.mkdir(root, { recursive: true });
  const tag = `${Deno.pid}-${Date.now()}`;
  const tmpDir = join(root, `.${className}.tmp-${tag}`);
  try {
    await write(tmpDir);
    await Deno.writeTextFile(join(tmpDir, "dataset.json"), recordedText); // last: marks completion
    if (recorded !== null) {
      // replace our own older dataset: move it aside first so the swap is two renames
      const old = join(root, `.${className}.old-${tag}`);
      await Deno.rename(classDir, old);
      await Deno.rename(tmpDir, classDir);
      await Deno.remove(old, { recursive: true });
    } else {
      await Deno.rename(tmpDir, classDir);
    }
  } catch (e) {
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    throw e;
  }
  return { classDir, generated: true };
}
