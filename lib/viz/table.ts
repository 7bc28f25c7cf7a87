/**
 * Tables for notebooks: rows (or a nodejs-polars DataFrame) -> HTML, Markdown and plain text.
 * Pure formatting; `display.ts` sends the result to Jupyter.
 */

export type TableRow = Record<string, unknown>;

/** The part of a nodejs-polars DataFrame used here (duck-typed: no polars import needed). */
export interface DataFrameLike {
  columns: string[];
  toRecords(): TableRow[];
}

export interface TableOptions {
  caption?: string;
  /** Decimals for non-integer numbers. Default 4. */
  digits?: number;
  /** Rows shown at most; the rest are summarised in a final line. Default 100. */
  maxRows?: number;
}

export interface Table {
  columns: string[];
  /** Formatted cells, row-major. */
  cells: string[][];
  /** Rows not shown (beyond maxRows). */
  hiddenRows: number;
  caption?: string;
}

export function isDataFrameLike(value: unknown): value is DataFrameLike {
  return typeof value === "object" && value !== null && Array.isArray((value as DataFrameLike).columns) &&
    typeof (value as DataFrameLike).toRecords === "function";
}

export function formatCell(value: unknown, digits: number): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") {
    if (Number.isInteger(value) || !Number.isFinite(value)) return String(value);
    const magnitude = Math.abs(value);
    // Fixed decimals read best for metrics; tiny or huge values need an exponent to say anything.
    return magnitude !== 0 && (magnitude < 10 ** -digits || magnitude >= 1e9) ? value.toExponential(Math.max(1, digits - 1)) : value.toFixed(digits);
  }
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function buildTable(data: TableRow[] | DataFrameLike, { caption, digits = 4, maxRows = 100 }: TableOptions = {}): Table {
  const rows = isDataFrameLike(data) ? data.toRecords() : data;
  const columns = isDataFrameLike(data) ? [...data.columns] : [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const shown = rows.slice(0, maxRows);
  return {
    columns,
    cells: shown.map((r) => columns.map((c) => formatCell(r[c], digits))),
    hiddenRows: rows.length - shown.length,
    caption,
  };
}

const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Numeric-looking cells are right-aligned. */
const isNumeric = (s: string) => /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(s);

export function tableToHtml(t: Table): string {
  const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = t.cells.map((r) => `<tr>${r.map((v) => `<td${isNumeric(v) ? ' style="text-align:right"' : ""}>${escapeHtml(v)}</td>`).join("")}</tr>`);
  if (t.hiddenRows) body.push(`<tr><td colspan="${t.columns.length}">… ${t.hiddenRows} more rows</td></tr>`);
  const caption = t.caption ? `<caption>${escapeHtml(t.caption)}</caption>` : "";
  return `<table>${caption}<thead><tr>${head}</tr></thead><tbody>${body.join("")}</tbody></table>`;
}

export function tableToMarkdown(t: Table): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const lines = [
    `| ${t.columns.map(cell).join(" | ")} |`,
    `| ${t.columns.map(() => "---").join(" | ")} |`,
    ...t.cells.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ];
  if (t.caption) lines.unshift(`**${t.caption}**`, "");
  if (t.hiddenRows) lines.push("", `… ${t.hiddenRows} more rows`);
  return lines.join("\n");
}

export function tableToText(t: Table): string {
  const widths = t.columns.map((c, j) => Math.max(c.length, ...t.cells.map((r) => r[j].length)));
  const line = (r: string[]) => r.map((v, j) => (isNumeric(v) ? v.padStart(widths[j]) : v.padEnd(widths[j]))).join("  ").trimEnd();
  const lines = [line(t.columns), widths.map((w) => "-".repeat(w)).join("  "), ...t.cells.map(line)];
  if (t.caption) lines.unshift(t.caption);
  if (t.hiddenRows) lines.push(`… ${t.hiddenRows} more rows`);
  return lines.join("\n");
}
