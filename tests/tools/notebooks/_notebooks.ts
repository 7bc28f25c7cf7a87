/** Hand-written nbformat 4 notebooks for the notebook tests. */
import type { Notebook, NotebookCell, NotebookOutput } from "../../../tools/notebooks/check_outputs.ts";

export function code(source: string | string[], outputs: NotebookOutput[] = [], extra: Partial<NotebookCell> = {}): NotebookCell {
  return { cell_type: "code", source, outputs, execution_count: 1, metadata: {}, ...extra };
}

export function markdown(source: string): NotebookCell {
  return { cell_type: "markdown", source, metadata: {} };
}

export function notebook(...cells: NotebookCell[]): Notebook {
  return { cells, metadata: { kernelspec: { name: "deno", display_name: "Deno", language: "typescript" } } };
}

export const display = (data: Record<string, unknown>): NotebookOutput => ({ output_type: "display_data", data });
export const stream = (name: "stdout" | "stderr", text: string): NotebookOutput => ({ output_type: "stream", name, text });
export const error = (ename: string, evalue: string): NotebookOutput => ({ output_type: "error", ename, evalue });

/** A Vega-style SVG with one bar in a data-mark group. */
export const VEGA_SVG = `<svg xmlns="http://www.w3.org/2000/svg" class="marks" width="60" height="40" viewBox="0 0 60 40">` +
  `<rect width="60" height="40" fill="white"/><g class="mark-group role-frame root"><g>` +
  `<g class="mark-rule role-axis-grid"><line x2="60" stroke="#ddd"/></g>` +
  `<g class="mark-text role-axis-label"><text x="30" y="20" font-size="10">0</text></g>` +
  `<g class="mark-rect role-mark marks"><path aria-label="x &gt; 1" d="M1,10h18v30h-18Z" fill="#4c78a8"/></g>` +
  `</g></g></svg>`;

/** The same chart with no data: axes drawn, the data-mark group empty. */
export const VEGA_SVG_EMPTY = VEGA_SVG.replace(/<path aria-label[^>]*\/>/, "");
