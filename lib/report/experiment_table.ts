/**
 * The results table `deno task experiment` prints after a grid, as plain text: the same table
 * the experiment's notebook shows. A paper table (one variant, AST itself: Tables 2-4) is ours
 * vs the paper per class and mode (paperComparison, the metric the paper's table reports); an
 * ablation is each variant's paired difference to AST with its verdict (ablationTable).
 */
import type { ExperimentDefinition, GridCell, Scale } from "../experiment/grid.ts";
import { buildTable, tableToText } from "../viz/table.ts";
import { type AblationRow, displayAblation, interpretAblation } from "./ablation.ts";
import { cellRuns, displayComparison, paperComparison } from "./paper_tables.ts";

/** Only AST itself at every scale: the paper's result tables, not ablations. */
export function isPaperTable(def: ExperimentDefinition): boolean {
  return Object.values(def.scales).every((s) => s.variants.length === 1);
}

/**
 * The table as text ("" when no cell finished). `rows` are the grid's ablation rows
 * (ablationTable: what --json writes); a paper table is built from the cells' runs under
 * `resultsRoot`.
 */
export function experimentTableText(def: ExperimentDefinition, cells: GridCell[], rows: AblationRow[], scale: Scale, resultsRoot: string): string {
  if (!rows.length) return "";
  const caption = `${def.title} (${def.paper}) at ${scale} scale`;
  if (isPaperTable(def)) {
    const metric = def.metric ?? "image_auroc";
    const cmp = paperComparison(cellRuns(cells, resultsRoot), { table: def.paper.replace(/^Table\s*/i, ""), metric });
    return tableToText(buildTable(displayComparison(cmp), { caption: `${caption}: ${metric === "pixel_auroc" ? "pixel AUROC" : "image AUROC"}, ours vs the paper`, maxRows: 1000 }));
  }
  return `${tableToText(buildTable(displayAblation(rows), { caption, maxRows: 1000 }))}\n${interpretAblation(rows)}`;
}
