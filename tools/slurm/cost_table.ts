/**
 * The cost estimate as a table (markdown for the README, or aligned text for a terminal), with
 * the header naming the bench record it is derived from and the notes that say how: which step
 * times were FLOP-scaled, where the image counts come from, what is not measured.
 */
import type { CostEstimate, ExperimentCost } from "../../lib/experiment/cost.ts";
import { type BenchRecord, cpuLine } from "../bench/report.ts";

export interface TableContext {
  /** the bench record's path as given */
  benchPath: string;
  record: BenchRecord;
  /** paper name per experiment name ("table2_mvtec_ad" -> "Table 2") */
  paperOf: Record<string, string>;
  /** lines added under the table */
  notes: string[];
}

/** 1234.5 -> "1,235"; 12.34 -> "12.3"; 0.123 -> "0.12" */
export function formatHours(h: number): string {
  if (h >= 1000) return Math.round(h).toLocaleString("en-US");
  return h >= 10 ? h.toFixed(1) : h.toFixed(2);
}

function sharedText(e: ExperimentCost, paperOf: Record<string, string>): string {
  const parts = Object.entries(e.shared).map(([owner, n]) => `${n} of ${paperOf[owner] ?? owner}`);
  return parts.length ? parts.join(", ") : "-";
}

const HEADER = [
  "table", "cells", "new trainings", "cells owned by", "teachers reused",
  "teacher h", "student h", "features h", "scoring h", "total wall-h", "core-h", "GPU-h", "image counts",
];

function row(e: ExperimentCost, ctx: TableContext): string[] {
  const label = e.name === "total" ? "**total** (each cell once)" : `${ctx.paperOf[e.name] ?? e.name} (${e.name})`;
  return [
    label, String(e.cells), String(e.newTrainings), sharedText(e, ctx.paperOf), String(e.teachersSaved),
    formatHours(e.hours.teacher), formatHours(e.hours.student), formatHours(e.hours.features), formatHours(e.hours.scoring),
    formatHours(e.wallHours), formatHours(e.coreHours), "not measured here", e.countSources.join(", "),
  ];
}

function render(rows: string[][], markdown: boolean): string[] {
  if (markdown) {
    const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
    return [line(rows[0]), line(rows[0].map((_, i) => (i === 0 || i === 3 || i >= 11 ? "---" : "---:"))), ...rows.slice(1).map(line)];
  }
  const plain = rows.map((r) => r.map((c) => c.replaceAll("**", "")));
  const widths = plain[0].map((_, i) => Math.max(...plain.map((r) => r[i].length)));
  return plain.map((r) => r.map((c, i) => (i === 0 || i === 3 || i >= 11 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ").trimEnd());
}

/** Which machine and run the numbers come from. */
export function benchLine(ctx: TableContext): string {
  const r = ctx.record;
  const parts = [
    `bench record ${ctx.benchPath} of ${r.date}`,
    `backend ${r.backend}${r.convolutions ? ` (convolutions: ${r.convolutions})` : ""} x${r.threads} threads`,
    `CPU ${r.cpu ? cpuLine(r.cpu) : "not recorded (the record predates the bench's cpu field)"}`,
    `load average ${r.loadavg.start} -> ${r.loadavg.end}`,
    ...(r.host_sgemm_gflops ? [`host SGEMM ${r.host_sgemm_gflops.start} -> ${r.host_sgemm_gflops.end} GFLOP/s`] : []),
    ...(r.merged_from?.length ? [`rows merged from earlier runs: ${r.merged_from.map((m) => `${m.workloads.join(", ")} (${m.date})`).join("; ")}`] : []),
  ];
  return parts.join("; ");
}

export function formatEstimate(estimate: CostEstimate, ctx: TableContext, markdown: boolean): string {
  const rows = [HEADER, ...estimate.experiments.map((e) => row(e, ctx)), row(estimate.total, ctx)];
  const title = "Estimated compute per paper table, paper scale";
  const bullet = markdown ? "- " : "  ";
  return [
    markdown ? `### ${title}` : title,
    "",
    `From the ${benchLine(ctx)}.`,
    "",
    ...render(rows, markdown),
    "",
    ...ctx.notes.map((n) => `${bullet}${n}`),
  ].join("\n");
}
