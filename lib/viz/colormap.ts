/** Colour maps as 256-entry RGB lookup tables (from d3-scale-chromatic's perceptual ramps). */
import * as d3 from "d3";

export type ColormapName = "turbo" | "inferno" | "viridis" | "magma";

const INTERPOLATORS: Record<ColormapName, (t: number) => string> = {
  turbo: d3.interpolateTurbo,
  inferno: d3.interpolateInferno,
  viridis: d3.interpolateViridis,
  magma: d3.interpolateMagma,
};

const cache = new Map<ColormapName, Uint8Array>();

/** RGB triplets for t = 0/255 .. 255/255. */
export function colormapLut(name: ColormapName): Uint8Array {
  let lut = cache.get(name);
  if (!lut) {
    const interpolate = INTERPOLATORS[name];
    if (!interpolate) throw new Error(`unknown colormap "${name}" (have ${Object.keys(INTERPOLATORS).join(", ")})`);
    lut = new Uint8Array(256 * 3);
    for (let i = 0; i < 256; i++) {
      const c = d3.rgb(interpolate(i / 255));
      lut[3 * i] = c.r;
      lut[3 * i + 1] = c.g;
      lut[3 * i + 2] = c.b;
    }
    cache.set(name, lut);
  }
  return lut;
}

/** Index into a LUT for value v on [vmin, vmax] (clamped; NaN maps to the low end). */
export function colormapIndex(v: number, vmin: number, vmax: number): number {
  const t = vmax > vmin ? (v - vmin) / (vmax - vmin) : 0;
  return t > 0 ? Math.min(255, Math.round(t * 255)) : 0;
}

/** CSS hex colour of a LUT entry. */
export function lutHex(lut: Uint8Array, index: number): string {
  return "#" + [lut[3 * index], lut[3 * index + 1], lut[3 * index + 2]].map((v) => v.toString(16).padStart(2, "0")).join("");
}
