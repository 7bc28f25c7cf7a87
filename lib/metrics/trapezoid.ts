/**
 * Trapezoid area under a curve with non-decreasing x, cut at xMax, following the MVTec AD
 * evaluation's `trapezoid(x, y, x_max)`: points with x <= xMax are integrated as is and, when
 * xMax falls strictly between two points, y at xMax is linearly interpolated and the partial
 * trapezoid added. Vertical steps (equal x) contribute no area.
 */
export function trapezoidUpTo(x: ArrayLike<number>, y: ArrayLike<number>, xMax: number): number {
  if (x.length !== y.length) throw new Error(`x and y differ in length: ${x.length} vs ${y.length}`);
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    const x0 = x[i - 1], x1 = x[i];
    if (x1 < x0) throw new Error(`x must be non-decreasing (x[${i - 1}] = ${x0} > x[${i}] = ${x1})`);
    if (x1 <= xMax) {
      area += 0.5 * (y[i] + y[i - 1]) * (x1 - x0);
      continue;
    }
    if (x0 < xMax) {
      const yAtMax = y[i - 1] + ((y[i] - y[i - 1]) * (xMax - x0)) / (x1 - x0);
      area += 0.5 * (yAtMax + y[i - 1]) * (xMax - x0);
    }
    break;
  }
  return area;
}
