/**
 * The one standard deviation of the project: the sample standard deviation (divisor n - 1, numpy's
 * `ddof=1`, pandas' and R's default). Every spread we report is estimated from a sample (held-apart
 * normal images, seeds) of a larger population, so the unbiased variance estimate is the honest
 * one; using it everywhere makes scores.json, model.json and metrics.json agree.
 */

/** Sample standard deviation (n - 1); 0 for fewer than two values (no spread can be estimated). */
export function sampleStd(values: ArrayLike<number>): number {
  const n = values.length;
  if (n < 2) return 0;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i];
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return Math.sqrt(ss / (n - 1));
}
