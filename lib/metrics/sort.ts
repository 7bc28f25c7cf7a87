/**
 * Descending argsort of scores by LSD radix sort on the IEEE-754 bits.
 *
 * Why not `Array.prototype.sort` with a comparator: pixel metrics pool millions of scores and a
 * comparator sort of a Uint32Array of indices takes ~1 s for 1.8M values; four counting passes over
 * 16-bit digits take a fraction of that, and passes whose digit is constant (e.g. the low mantissa
 * bits of float32 scores widened to float64) are skipped.
 */

const DIGIT_BITS = 16;
const RADIX = 1 << DIGIT_BITS;
const DIGIT_MASK = RADIX - 1;

/**
 * Maps each finite-or-infinite score to a 64-bit key (hi, lo) whose unsigned order is the
 * DESCENDING numeric order of the scores. -0 and +0 get the same key (they are equal scores).
 * Throws on NaN, naming the first offending index.
 */
function descendingKeys(scores: ArrayLike<number>, what: string): { hi: Uint32Array; lo: Uint32Array } {
  const n = scores.length;
  const hi = new Uint32Array(n);
  const lo = new Uint32Array(n);
  const scratch = new Float64Array(1);
  const bits = new Uint32Array(scratch.buffer); // little-endian: bits[0] = low word, bits[1] = high word
  for (let i = 0; i < n; i++) {
    const v = scores[i];
    if (v !== v) throw new Error(`${what}: NaN at index ${i}`);
    scratch[0] = v + 0; // turns -0 into +0 so that the two zeros tie
    let h = bits[1], l = bits[0];
    // Standard float -> sortable-unsigned mapping (ascending), then complemented for descending.
    if (h & 0x80000000) {
      h = ~h;
      l = ~l;
    } else {
      h ^= 0x80000000;
    }
    hi[i] = ~h >>> 0;
    lo[i] = ~l >>> 0;
  }
  return { hi, lo };
}

/** Digit `pass` (0 = least significant 16 bits) of key i. */
function digitOf(hi: Uint32Array, lo: Uint32Array, i: number, pass: number): number {
  switch (pass) {
    case 0:
      return lo[i] & DIGIT_MASK;
    case 1:
      return lo[i] >>> DIGIT_BITS;
    case 2:
      return hi[i] & DIGIT_MASK;
    default:
      return hi[i] >>> DIGIT_BITS;
  }
}

/**
 * Indices that order `scores` from highest to lowest (ties in an unspecified but deterministic
 * order: callers group equal scores themselves). Throws on NaN.
 */
export function argsortDescending(scores: ArrayLike<number>, what = "scores"): Uint32Array {
  const n = scores.length;
  if (n >= 2 ** 32) throw new Error(`${what}: too many values (${n}) for 32-bit indices`);
  const { hi, lo } = descendingKeys(scores, what);
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Only indices move; keys are read through them. Measured faster here than carrying the keys
  // along, and 16-bit digits beat 11-bit ones (fewer passes).
  let spare = new Uint32Array(n);
  const counts = new Uint32Array(RADIX);
  for (let pass = 0; pass < 4; pass++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[digitOf(hi, lo, i, pass)]++;
    // A digit shared by every key cannot change the order: skip the scatter.
    if (n === 0 || counts[digitOf(hi, lo, 0, pass)] === n) continue;
    let start = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = counts[d];
      counts[d] = start;
      start += c;
    }
    for (let k = 0; k < n; k++) {
      const i = order[k];
      spare[counts[digitOf(hi, lo, i, pass)]++] = i;
    }
    [order, spare] = [spare, order];
  }
  return order;
}
