/**
 * Chart builders: pure functions of plain arrays returning Figures (Vega-Lite specs, or SVG for
 * the image figures). Fixed sizes and inline data, so the same input renders byte-identical SVG.
 */
import type { VegaLiteSpec } from "./render.ts";
import { binHistogram } from "./binning.ts";
import { thinCurve } from "./curve_thinning.ts";
import { CHART_HEIGHT, CHART_WIDTH, round6, titleOf, VEGA_LITE_SCHEMA } from "./spec_defaults.ts";
import { trapezoidUpTo } from "../metrics/trapezoid.ts";

export { projectionChart, type ProjectionChartOptions } from "./projection_chart.ts";
export { anomalyMapFigure, type AnomalyMapOptions, DEFAULT_COLOR_LABEL, overlayPng, type OverlayOptions } from "./anomaly_map.ts";
export { gridFigure, type GridOptions } from "./grid.ts";

/** Data for layers drawn from constants (`datum`/`value` encodings): one mark per row. */
const SINGLE_ROW = { values: [{}] };

/** Colour scale listing names in input order (vega-lite would sort them alphabetically). */
function orderedColour(names: string[], title: string | null) {
  return { field: "name", type: "nominal", title, scale: { domain: names }, sort: names };
}

// ---------------------------------------------------------------------------------------------

export interface RocCurveInput {
  name: string;
  fpr: ArrayLike<number>;
  tpr: ArrayLike<number>;
  /** Shown in the legend; computed from the curve (trapezoid) when absent. */
  auc?: number;
}

export function rocChart(curves: RocCurveInput[], { title = "ROC curve" }: { title?: string } = {}): VegaLiteSpec {
  const names = curves.map((c) => `${c.name} (AUC ${(c.auc ?? trapezoidUpTo(c.fpr, c.tpr, 1)).toFixed(3)})`);
  const values: Record<string, unknown>[] = [];
  curves.forEach((c, k) => {
    const thin = thinCurve(c.fpr, c.tpr);
    thin.x.forEach((fpr, i) => values.push({ name: names[k], i, fpr: round6(fpr), tpr: round6(thin.y[i]) }));
  });
  const unit = { domain: [0, 1], nice: false };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: titleOf(title),
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: [
      {
        // Chance level. A one-row dataset: a layer without data (top level has none) draws nothing.
        data: SINGLE_ROW,
        mark: { type: "rule", color: "#9e9e9e", strokeDash: [4, 4] },
        encoding: { x: { datum: 0 }, y: { datum: 0 }, x2: { datum: 1 }, y2: { datum: 1 } },
      },
      {
        data: { values },
        mark: { type: "line", strokeWidth: 2 },
        encoding: {
          x: { field: "fpr", type: "quantitative", title: "false positive rate", scale: unit },
          y: { field: "tpr", type: "quantitative", title: "true positive rate", scale: unit },
          color: orderedColour(names, null),
          order: { field: "i" }, // draw in curve order, not sorted by x (vertical steps share x)
        },
      },
    ],
    // labelLimit 0: the AUC at the end of a long name is never cut
    config: { legend: { orient: "bottom-right", labelLimit: 0 } },
  } as VegaLiteSpec;
}

// ---------------------------------------------------------------------------------------------

export interface HistogramGroup {
  name: string;
  values: ArrayLike<number>;
}

export interface HistogramChartOptions {
  bins?: number;
  title?: string;
  xLabel?: string;
  /** Log-spaced bins and a log x axis; values <= 0 are left out (and counted in the subtitle). */
  logX?: boolean;
  /** Normalise each group to unit area, so groups of very different sizes compare. */
  density?: boolean;
}

/** Overlaid, semi-transparent histograms on shared bins. */
export function histogramChart(
  groups: HistogramGroup[],
  { bins = 50, title = "Histogram", xLabel = "value", logX = false, density = false }: HistogramChartOptions = {},
): VegaLiteSpec {
  const hist = binHistogram(groups.map((g) => g.values), { bins, log: logX });
  const names = groups.map((g) => g.name);
  const values: Record<string, unknown>[] = [];
  groups.forEach((g, k) => {
    const counts = hist.counts[k];
    const total = counts.reduce((a, b) => a + b, 0);
    for (let b = 0; b < bins; b++) {
      if (counts[b] === 0) continue; // empty bins draw nothing; leaving them out keeps the spec small
      const lo = hist.edges[b], hi = hist.edges[b + 1];
      const width = logX ? Math.log10(hi) - Math.log10(lo) : hi - lo;
      values.push({ name: g.name, lo: round6(lo), hi: round6(hi), value: density ? round6(counts[b] / (total * width)) : counts[b] });
    }
  });
  const excluded = hist.excluded.reduce((a, b) => a + b, 0);
  const subtitle = excluded ? `${excluded} value(s) left out (${logX ? "non-positive or " : ""}non-finite)` : undefined;
  const yTitle = density ? (logX ? "density (per decade)" : "density") : "count";
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: titleOf(title, subtitle),
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    data: { values },
    mark: { type: "rect", opacity: 0.55 },
    encoding: {
      x: { field: "lo", type: "quantitative", title: xLabel, ...(logX ? { scale: { type: "log" }, axis: { grid: false } } : { scale: { zero: false } }) }, // log grids are a thicket
      x2: { field: "hi" },
      y: { field: "value", type: "quantitative", title: yTitle, stack: null },
      y2: { datum: 0 },
      color: orderedColour(names, null),
    },
  } as VegaLiteSpec;
}

// ---------------------------------------------------------------------------------------------

export interface LineSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
}

/** A filled band between lo and hi over x (e.g. the spread over seeds), coloured like the series of the same name. */
export interface BandSeries {
  name: string;
  x: ArrayLike<number>;
  lo: ArrayLike<number>;
  hi: ArrayLike<number>;
}

export interface LineChartOptions {
  title?: string;
  /** Second line under the title (e.g. a short caption). */
  subtitle?: string;
  xLabel?: string;
  yLabel?: string;
  /** An x interval drawn as a grey band behind the lines (e.g. the training region). */
  shade?: [number, number];
  /** Text written at the top of the band. */
  shadeLabel?: string;
  /** Filled bands drawn under the lines; a band named like a series takes its colour. */
  bands?: BandSeries[];
}

export function lineChart(
  series: LineSeries[],
  { title = "Line chart", subtitle, xLabel = "x", yLabel = "y", shade, shadeLabel, bands = [] }: LineChartOptions = {},
): VegaLiteSpec {
  const values: Record<string, unknown>[] = [];
  const names = [...new Set([...series.map((s) => s.name), ...bands.map((b) => b.name)])];
  for (const s of series) {
    if (s.x.length !== s.y.length) throw new Error(`series "${s.name}": x has ${s.x.length} values, y has ${s.y.length}`);
    for (let i = 0; i < s.x.length; i++) values.push({ name: s.name, i, x: round6(s.x[i]), y: round6(s.y[i]) });
  }
  const x = { field: "x", type: "quantitative", title: xLabel, scale: { zero: false } };
  const layers: unknown[] = [];
  if (shade) {
    layers.push({
      data: SINGLE_ROW,
      mark: { type: "rect", color: "#000000", opacity: 0.08 },
      encoding: { x: { datum: shade[0], type: "quantitative" }, x2: { datum: shade[1] } },
    });
    if (shadeLabel) {
      layers.push({
        data: SINGLE_ROW,
        mark: { type: "text", align: "center", baseline: "top", dy: 4, color: "#555555" },
        encoding: { x: { datum: (shade[0] + shade[1]) / 2, type: "quantitative" }, y: { value: 0 }, text: { value: shadeLabel } },
      });
    }
  }
  if (bands.length) {
    const bandValues: Record<string, unknown>[] = [];
    for (const b of bands) {
      if (b.x.length !== b.lo.length || b.x.length !== b.hi.length) throw new Error(`band "${b.name}": x, lo and hi lengths differ`);
      for (let i = 0; i < b.x.length; i++) bandValues.push({ name: b.name, i, x: round6(b.x[i]), lo: round6(b.lo[i]), hi: round6(b.hi[i]) });
    }
    layers.push({
      data: { values: bandValues },
      mark: { type: "area", opacity: 0.2 },
      encoding: {
        x,
        y: { field: "lo", type: "quantitative", title: yLabel, scale: { zero: false } },
        y2: { field: "hi" },
        color: orderedColour(names, null),
      },
    });
  }
  layers.push({
    data: { values },
    mark: { type: "line", strokeWidth: 2 },
    encoding: {
      x,
      y: { field: "y", type: "quantitative", title: yLabel, scale: { zero: false } },
      color: orderedColour(names, null),
      order: { field: "i" },
    },
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: titleOf(title, subtitle),
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    layer: layers,
  } as VegaLiteSpec;
}

// ---------------------------------------------------------------------------------------------

export interface BarRow {
  group: string;
  name: string;
  value: number;
  /** Error bar (e.g. a 95% interval); drawn when both ends are given. */
  lo?: number;
  hi?: number;
}

export interface BarChartOptions {
  title?: string;
  yLabel?: string;
  /** value-axis range; bars are clipped to it. */
  domain?: [number, number];
  /**
   * "vertical" bars (groups along x), "horizontal" bars (groups down y, labels on one line at the
   * left), or "auto" (default): vertical while every group label fits its column, one line or one
   * word per line, else horizontal. Labels are never cut.
   */
  orient?: "auto" | "vertical" | "horizontal";
}

/** Width of a 10 px sans-serif label, a little above Arial/Liberation Sans' average (vega itself has no font metrics here). */
export function estimateLabelWidth(text: string, fontSize = 10): number {
  return text.length * 0.62 * fontSize;
}

/** Bars per group stacked along the value axis of a horizontal chart: px per group. */
function horizontalStep(names: number): number {
  return Math.max(20, names * 11 + 6);
}

/**
 * How group labels go under vertical bars: one line, one word per line, or not at all (then the
 * bars go horizontal).
 */
export function barLayout(groups: string[], orient: BarChartOptions["orient"] = "auto"): "one-line" | "wrapped" | "horizontal" {
  const column = CHART_WIDTH / Math.max(1, groups.length) - 6;
  const fits = groups.every((g) => estimateLabelWidth(g) <= column);
  const words = groups.map((g) => g.split(/\s+/));
  const wrapFits = words.every((w) => w.length <= 4 && w.every((word) => estimateLabelWidth(word) <= column));
  if (orient === "horizontal") return "horizontal";
  if (orient === "vertical") return fits ? "one-line" : "wrapped";
  return fits ? "one-line" : wrapFits ? "wrapped" : "horizontal";
}

/**
 * Bars grouped by `group`, coloured by `name`, with optional error bars. Long group labels wrap
 * (one word per line) or turn the chart horizontal (see `orient`); they are never truncated.
 */
export function barChart(
  rows: BarRow[],
  { title = "Bar chart", yLabel = "value", domain, orient = "auto" }: BarChartOptions = {},
): VegaLiteSpec {
  const groups = [...new Set(rows.map((r) => r.group))];
  const names = [...new Set(rows.map((r) => r.name))];
  const values = rows.map((r) => ({
    group: r.group,
    name: r.name,
    value: round6(r.value),
    ...(r.lo !== undefined && r.hi !== undefined ? { lo: round6(r.lo), hi: round6(r.hi) } : {}),
  }));
  const layout = barLayout(groups, orient);
  const horizontal = layout === "horizontal";
  // labelLimit 0: no truncation (vega's default cuts at 180 px of its rough width estimate)
  const axis = horizontal
    ? { labelLimit: 0 }
    : { labelAngle: 0, labelLimit: 0, ...(layout === "wrapped" ? { labelExpr: "split(datum.label, ' ')", labelLineHeight: 12 } : {}) };
  const band = { field: "group", type: "nominal", title: null, sort: groups, axis };
  const offset = { field: "name", type: "nominal", sort: names, scale: { domain: names } };
  const value = { type: "quantitative", title: yLabel, ...(domain ? { scale: { domain, zero: false } } : {}) };
  const [bandCh, offsetCh, valueCh, value2Ch] = horizontal ? ["y", "yOffset", "x", "x2"] : ["x", "xOffset", "y", "y2"];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: titleOf(title),
    width: CHART_WIDTH,
    height: horizontal ? groups.length * horizontalStep(names.length) : CHART_HEIGHT,
    data: { values },
    layer: [
      {
        mark: { type: "bar", clip: true },
        encoding: { [bandCh]: band, [offsetCh]: offset, [valueCh]: { ...value, field: "value" }, color: orderedColour(names, null) },
      },
      {
        transform: [{ filter: "isValid(datum.lo) && isValid(datum.hi)" }],
        mark: { type: "rule", color: "#222222", strokeWidth: 1.5, clip: true },
        encoding: { [bandCh]: band, [offsetCh]: offset, [valueCh]: { ...value, field: "lo" }, [value2Ch]: { field: "hi" } },
      },
    ],
    config: { legend: { labelLimit: 0 } },
  } as VegaLiteSpec;
}
