/**
 * Drop points of a monotone curve (ROC, PRO) that are closer than `tolerance` to the last kept
 * point in both coordinates. A pixel-level ROC has up to one point per distinct score (~1e6);
 * on a 400 px chart a tolerance of 1e-3 of the unit square is invisible and keeps <= ~2000 points.
 */
export function thinCurve(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  tolerance = 1e-3,
): { x: number[]; y: number[] } {
  if (x.length !== y.length) throw new Error(`curve x and y differ in length: ${x.length} vs ${y.length}`);
  const outX: number[] = [], outY: number[] = [];
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const last = outX.length - 1;
    const keep = i === 0 || i === n - 1 ||
      Math.abs(x[i] - outX[last]) > tolerance || Math.abs(y[i] - outY[last]) > tolerance;
    if (keep) {
      outX.push(x[i]);
      outY.push(y[i]);
    }
  }
  return { x: outX, y: outY };
}
