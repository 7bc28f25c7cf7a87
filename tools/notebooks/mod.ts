/**
 * Headless notebook runs: execute (nbconvert + Deno kernel), check outputs, export HTML,
 * render in Chromium. CLI: `deno run -A lib/notebook/execute.ts` (`deno task notebooks`).
 */
export {
  checkOutputs,
  countDisplayCalls,
  formatProblem,
  type Notebook,
  type NotebookCell,
  type NotebookOutput,
  type NotebookProblem,
  notebookStats,
  type NotebookStats,
  RAISES_TAG,
  SKIP_TAG,
} from "./check_outputs.ts";
export { expectedInlineSvgs, exportHtml, type HtmlExport, networkResources, RAW_SVG_TEMPLATE, renderedMime } from "./export_html.ts";
export { checkPage, findChromium, type PageCheck, pixelStats, type PixelStats, renderPage, svgMarks, topLevelSvgs } from "./chromium.ts";
export {
  checkPrerequisites,
  executeNotebook,
  listNotebooks,
  notebookStage,
  type StageCounts,
  NOTEBOOKS_DIR,
  notebookEnv,
  type NotebookResult,
  OUT_DIR,
  type Prerequisites,
  resolveNotebooks,
  runNotebook,
  runNotebooks,
  summaryLine,
} from "./execute.ts";
