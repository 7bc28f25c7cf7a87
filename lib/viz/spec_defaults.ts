/** Shared sizes and spec boilerplate for the Vega-Lite charts. */

export const CHART_WIDTH = 400;
export const CHART_HEIGHT = 300;

/** Jupyter front-ends render the `application/vnd.vegalite.v5+json` type; the specs stay within v5. */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

/** Compact, deterministic numbers for inline data (float32 noise digits add bytes, not information). */
export function round6(v: number): number | null {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : null; // null = a gap vega-lite skips
}

/** Vega-Lite title object with an optional subtitle. */
export function titleOf(text: string, subtitle?: string): { text: string; subtitle?: string } {
  return subtitle ? { text, subtitle } : { text };
}
