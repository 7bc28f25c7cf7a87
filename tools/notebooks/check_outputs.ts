/**
 * Checks an executed notebook's JSON for problems a reader would see: error outputs, Deno
 * errors written to stderr, displays that never arrived (the kernel can drop late outputs), and
 * charts without the SVG that static HTML needs. Pure: no I/O.
 */

/** Cells with this tag in `metadata.tags` are exempt from every check here. */
export const SKIP_TAG = "skip-output-check";
/** nbclient's own tag for a cell that is meant to raise: its error output is expected. */
export const RAISES_TAG = "raises-exception";

export const VEGALITE_MIME = "application/vnd.vegalite.v5+json";
export const SVG_MIME = "image/svg+xml";

/** The parts of nbformat 4 this module reads. */
export interface NotebookOutput {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}
export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[]; [key: string]: unknown };
  outputs?: NotebookOutput[];
  execution_count?: number | null;
}
export interface Notebook {
  cells: NotebookCell[];
  metadata?: Record<string, unknown>;
}

export type ProblemKind = "error" | "stderr" | "missing-display" | "chart-without-svg" | "hidden-caption" | "not-executed";
export interface NotebookProblem {
  /** 0-based index into `cells` (null for notebook-wide problems). */
  cell: number | null;
  kind: ProblemKind;
  message: string;
}

export interface NotebookStats {
  /** code cells with source */
  cells: number;
  /** code cells that ran (have an execution count) */
  executed: number;
  outputs: number;
  /** display_data outputs */
  displays: number;
  /** outputs carrying image/svg+xml */
  svgs: number;
}

/** nbformat allows a string or a list of lines for source and stream text. */
export function joinText(text: string | string[] | undefined): string {
  return Array.isArray(text) ? text.join("") : text ?? "";
}

function tags(cell: NotebookCell): string[] {
  const t = cell.metadata?.tags;
  return Array.isArray(t) ? t : [];
}

function isCode(cell: NotebookCell): boolean {
  return cell.cell_type === "code" && joinText(cell.source).trim() !== "";
}

/** Drops `//` and block comments so a commented-out display call is not expected to display. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:\\])\/\/.*$/gm, "$1");
}

/**
 * How many displays a cell's source promises: each `await show…(` (show, showTable,
 * showImage, any other `show*` helper) and each `await Deno.jupyter.display(`. A call in a loop
 * counts once, so the check is a lower bound.
 */
export function countDisplayCalls(source: string): number {
  const calls = stripComments(source).match(/\bawait\s+(?:show\w*|Deno\.jupyter\.display)\s*\(/g);
  return calls ? calls.length : 0;
}

/** Raster image types: nothing in them says what they show, unlike an SVG figure with its title. */
const RASTER_MIMES = ["image/png", "image/jpeg", "image/gif", "image/webp"];

/** text/plain that names no caption: lib/viz's "[image] N byte PNG", a repr like "<Image object>", nothing. */
const NO_CAPTION = /^\s*(?:\[image\]\s*\d+ byte \w+|<[^>]*>)?\s*$/;

/**
 * The caption of a raster image output that only its text/plain carries (shown nowhere: front
 * ends and the HTML export show the image instead), or null. Captions go in text/html too
 * (lib/viz imageBundle).
 */
export function hiddenCaption(data: Record<string, unknown>): string | null {
  if (!RASTER_MIMES.some((m) => m in data) || "text/html" in data || "text/markdown" in data) return null;
  const plain = joinText(data["text/plain"] as string | string[] | undefined);
  return NO_CAPTION.test(plain) ? null : plain.replace(/^\[image\]\s*/, "");
}

/** Deno's own error markers in stderr text (console.error of ordinary words is not flagged). */
const DENO_STDERR_ERROR = /Uncaught|error:/;

function firstLine(text: string, max = 160): string {
  const line = text.split("\n").find((l) => l.trim() !== "") ?? "";
  return line.length > max ? line.slice(0, max) + "..." : line;
}

/** Every problem in the executed notebook, in cell order. */
export function checkOutputs(nb: Notebook): NotebookProblem[] {
  const problems: NotebookProblem[] = [];
  const notRun: number[] = [];
  nb.cells.forEach((cell, index) => {
    if (!isCode(cell) || tags(cell).includes(SKIP_TAG)) return;
    const outputs = cell.outputs ?? [];
    if (cell.execution_count == null && outputs.length === 0) {
      notRun.push(index);
      return;
    }
    for (const out of outputs) {
      if (out.output_type === "error" && !tags(cell).includes(RAISES_TAG)) {
        problems.push({ cell: index, kind: "error", message: `${out.ename ?? "Error"}: ${firstLine(out.evalue ?? "")}` });
      } else if (out.output_type === "stream" && out.name === "stderr") {
        const text = joinText(out.text);
        const hit = text.split("\n").find((l) => DENO_STDERR_ERROR.test(l));
        if (hit !== undefined) problems.push({ cell: index, kind: "stderr", message: `stderr: ${firstLine(hit)}` });
      } else if (out.output_type === "display_data" && out.data && VEGALITE_MIME in out.data && !(SVG_MIME in out.data)) {
        problems.push({ cell: index, kind: "chart-without-svg", message: `Vega-Lite display without ${SVG_MIME} (blank in static HTML)` });
      } else if ((out.output_type === "display_data" || out.output_type === "execute_result") && out.data) {
        const caption = hiddenCaption(out.data);
        if (caption !== null) {
          problems.push({ cell: index, kind: "hidden-caption", message: `image caption only in text/plain (not shown): ${JSON.stringify(firstLine(caption, 80))}` });
        }
      }
    }
    const expected = countDisplayCalls(joinText(cell.source));
    const got = outputs.filter((o) => o.output_type === "display_data").length;
    // After an error the rest of the cell did not run: the error already explains the gap.
    const errored = outputs.some((o) => o.output_type === "error");
    if (got < expected && !errored) {
      problems.push({ cell: index, kind: "missing-display", message: `expected >= ${expected} displays, got ${got}` });
    }
  });
  if (notRun.length) {
    problems.push({ cell: notRun[0], kind: "not-executed", message: `code cells not executed: ${notRun.join(", ")}` });
  }
  return problems;
}

/** Counts for the summary line and the HTML checks. */
export function notebookStats(nb: Notebook): NotebookStats {
  const stats: NotebookStats = { cells: 0, executed: 0, outputs: 0, displays: 0, svgs: 0 };
  for (const cell of nb.cells) {
    if (!isCode(cell)) continue;
    stats.cells++;
    if (cell.execution_count != null) stats.executed++;
    for (const out of cell.outputs ?? []) {
      stats.outputs++;
      if (out.output_type === "display_data") stats.displays++;
      if (out.data && SVG_MIME in out.data) stats.svgs++;
    }
  }
  return stats;
}

/** One line per problem, e.g. `cell 4: error: Error: boom`. */
export function formatProblem(p: NotebookProblem): string {
  return p.cell === null ? `${p.kind}: ${p.message}` : `cell ${p.cell}: ${p.kind}: ${p.message}`;
}
