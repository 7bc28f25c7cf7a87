/**
 * lib/viz: the plotting layer for notebooks (Deno Jupyter kernel) and the CLI: chart builders
 * return Figures (Vega-Lite specs or SVG); `show*` displays them in Jupyter; `saveFigure` writes
 * SVG + PNG. Knows nothing of runs or models. May import: lib/metrics (ROC curves), lib/util.
 */
export { type Figure, figureTitle, figureToPng, figureToSvg, isSvgFigure, type PngOptions, pngTextRenders, svgToPng, type VegaLiteSpec, vegaLiteToSvg } from "./render.ts";
export { figureBundle, imageBundle, inJupyter, markdownBundle, type MimeBundle, show, showImage, showMarkdown, type ShowOptions, showTable, tableBundle } from "./display.ts";
export { saveFigure } from "./save.ts";
export { formatSeconds, type ProgressLine, progressLine } from "./progress.ts";
export {
  anomalyMapFigure,
  type AnomalyMapOptions,
  barChart,
  type BarChartOptions,
  type BandSeries,
  type BarRow,
  DEFAULT_COLOR_LABEL,
  gridFigure,
  type GridOptions,
  histogramChart,
  type HistogramChartOptions,
  type HistogramGroup,
  lineChart,
  type LineChartOptions,
  type LineSeries,
  overlayPng,
  type OverlayOptions,
  projectionChart,
  type ProjectionChartOptions,
  rocChart,
  type RocCurveInput,
} from "./charts.ts";
export { binHistogram, type Histogram } from "./binning.ts";
export { balancedSubsample, projectRows, randomOrthoProjection, seededGaussian } from "./projection.ts";
export { type RasterImage, type ScalarMap } from "./raster.ts";
export { type ColormapName } from "./colormap.ts";
export { type DataFrameLike, type TableOptions, type TableRow } from "./table.ts";
