/**
 * tools/notebooks: headless notebook runs (`deno task notebooks`, and the notebook stage of
 * `deno task test`): execute (nbconvert + Deno kernel), check outputs, export HTML, render in
 * Chromium. CLI: `deno run -A tools/notebooks/execute.ts`.
 *
 * What the folder holds: the TypeScript side (execute.ts: the CLI and the test stage;
 * check_outputs.ts, export_html.ts, chromium.ts; label_check.ts: the figures' label legibility
 * measured in Chromium), python/ (the files the Jupyter Python runs: check_jupyter.py,
 * execute_hooks.py) and templates/ (nbconvert's HTML template).
 *
 * Imports: tools may import lib/ (tools -> lib); nothing in lib/ imports tools/ (lib -> tools
 * never). The environment is read by the entry points only (readNotebookSettings).
 */
export {
  checkOutputs,
  countDisplayCalls,
  formatProblem,
  hiddenCaption,
  type Notebook,
  type NotebookCell,
  type NotebookOutput,
  type NotebookProblem,
  notebookStats,
  type NotebookStats,
  RAISES_TAG,
  SKIP_TAG,
} from "./check_outputs.ts";
export { expectedInlineSvgs, exportHtml, type HtmlExport, networkResources, RAW_SVG_TEMPLATE_FILE, renderedMime } from "./export_html.ts";
export {
  injectLabelProbe,
  LABEL_PROBE,
  type LabelReport,
  labelProblems,
  type MeasuredLabel,
  OVERLAP_TOLERANCE_PX,
  quadsOverlap,
  readLabelReport,
} from "./label_check.ts";
export { checkPage, type ChromiumLookup, findChromium, type PageCheck, pixelStats, type PixelStats, renderPage, svgMarks, topLevelSvgs } from "./chromium.ts";
export {
  checkPrerequisites,
  DEFAULT_NOTEBOOKS_DIR,
  DEFAULT_OUT_DIR,
  executeNotebook,
  listNotebooks,
  notebookEnv,
  type NotebookResult,
  type NotebookSettings,
  notebookStage,
  type Prerequisites,
  readNotebookSettings,
  resolveNotebooks,
  runNotebook,
  runNotebooks,
  type StageCounts,
  summaryLine,
} from "./execute.ts";
