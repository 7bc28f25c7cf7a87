/** Small assertion helpers with stated tolerances (no std over the network here). */
export { deepStrictEqual as assertEquals, ok as assert, rejects as assertRejects, throws as assertThrows } from "node:assert";
import { ok } from "node:assert";

/** `text` contains `part` (the message shows both). */
export function assertStringIncludes(text: string, part: string): void {
  ok(text.includes(part), `expected to find\n  ${part}\nin\n${text}`);
}

export interface CloseReport {
  maxAbs: number;
  maxRel: number;
  /** index of the worst element under the chosen criterion */
  worst: number;
}

/**
 * Elementwise closeness: each element must satisfy |a-b| <= atol OR |a-b| <= rtol*|b|.
 * Throws with the worst element when any fails. Returns the errors reached for reporting.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-4, rtol = 1e-4, what = "values" }: { atol?: number; rtol?: number; what?: string } = {},
): CloseReport {
  if (actual.length !== expected.length) throw new Error(`${what}: length ${actual.length} != expected ${expected.length}`);
  let maxAbs = 0, maxRel = 0, worst = -1, worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i], b = expected[i];
    if (!Number.isFinite(a) && a !== b) throw new Error(`${what}[${i}]: got ${a}, expected ${b}`);
    const d = Math.abs(a - b);
    const rel = d / Math.max(Math.abs(b), 1e-30);
    maxAbs = Math.max(maxAbs, d);
    if (Math.abs(b) > atol) maxRel = Math.max(maxRel, rel);
    const excess = Math.min(d - atol, d - rtol * Math.abs(b));
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: element ${worst} = ${actual[worst]}, expected ${expected[worst]} (atol ${atol}, rtol ${rtol}; max abs err ${maxAbs.toExponential(2)})`,
    );
  }
  return { maxAbs, maxRel, worst };
}
