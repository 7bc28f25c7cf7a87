/**
 * Histogram binning in plain JS, so charts carry a few dozen bin rows instead of the raw values
 * (per-pixel distance maps hold ~1e6 numbers; inlined into a spec they would swamp the notebook).
 */

export interface Histogram {
  /** bins + 1 edges, increasing (log-spaced when `log`). */
  edges: Float64Array;
  /** Per group, the count in each bin. */
  counts: Uint32Array[];
  /** Per group, values that fit no bin: non-finite, or <= 0 on a log axis. */
  excluded: number[];
}

export interface BinOptions {
  bins?: number;
  /** Log-spaced bins (values <= 0 are excluded). */
  log?: boolean;
}

/** Shared bins over all groups (range = min..max of the includable values); max lands in the last bin. */
export function binHistogram(groups: ArrayLike<number>[], { bins = 50, log = false }: BinOptions = {}): Histogram {
  if (!(Number.isInteger(bins) && bins > 0)) throw new Error(`bins must be a positive integer, got ${bins}`);
  const transform = log ? Math.log10 : (v: number) => v;
  const includable = (v: number) => Number.isFinite(v) && (!log || v > 0);

  let min = Infinity, max = -Infinity;
  for (const values of groups) {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!includable(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (min === Infinity) min = max = log ? 1 : 0; // nothing to bin: any range will do
  if (max === min) { // a single value: give it a unit-wide range (a decade on log axes) around itself
    [min, max] = log ? [min / Math.sqrt(10), min * Math.sqrt(10)] : [min - 0.5, max + 0.5];
  }
  const lo = transform(min), hi = transform(max);

  const step = (hi - lo) / bins;
  const edges = new Float64Array(bins + 1);
  for (let b = 0; b <= bins; b++) edges[b] = log ? 10 ** (lo + b * step) : lo + b * step;
  [edges[0], edges[bins]] = [min, max]; // exact data range (10 ** log10(5) is 5.000000000000001)

  const counts: Uint32Array[] = [];
  const excluded: number[] = [];
  for (const values of groups) {
    const c = new Uint32Array(bins);
    let skipped = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (!includable(v)) {
        skipped++;
        continue;
      }
      const b = Math.floor((transform(v) - lo) / step);
      c[b < 0 ? 0 : b >= bins ? bins - 1 : b]++;
    }
    counts.push(c);
    excluded.push(skipped);
  }
  return { edges, counts, excluded };
}
