/**
 * The AST paper's reported numbers (data/paper_numbers.json, typed in from
 * docs/PAPER_NUMBERS.md with a source mark per number): loading, validation, lookup.
 */
import pl from "nodejs-polars";
import { fileURLToPath } from "node:url";
import { type DatasetLayout, MODES } from "../types.ts";
import type { Mode } from "../types.ts";

export type PaperMark = "text" | "note" | "copy" | "derived" | "unverified";
export type PaperMetric = "image_auroc" | "pixel_auroc" | "params_m" | "inference_ms";

export const PAPER_MARKS: readonly PaperMark[] = ["text", "note", "copy", "derived", "unverified"];
export const PAPER_METRICS: readonly PaperMetric[] = ["image_auroc", "pixel_auroc", "params_m", "inference_ms"];
const DATASETS: readonly DatasetLayout[] = ["mvtecad", "mvtec3d"];

/** One reported number (see the file's `_schema`). Optional JSON fields are null here. */
export interface PaperNumber {
  table: string;
  dataset: DatasetLayout;
  class: string;
  mode: Mode;
  variant: string;
  metric: PaperMetric;
  value: number;
  plus_minus: number | null;
  mark: PaperMark;
  note: string | null;
}

/** What identifies a paper number; `dataset` is optional because the rest is already unique. */
export interface PaperKey {
  table: string;
  class: string;
  mode: Mode;
  variant: string;
  metric: PaperMetric;
  dataset?: DatasetLayout;
}

/** Resolved relative to this module, so notebooks and tests find it from any working directory. */
export const PAPER_NUMBERS_PATH = fileURLToPath(new URL("../../data/paper_numbers.json", import.meta.url));

/**
 * Canonical variant string: the method name, then ablation settings as `,key=value` sorted by
 * key; booleans become yes/no. `variantName("ast", {pos_enc: false, mask: true})` ->
 * "ast,mask=yes,pos_enc=no".
 */
export function variantName(method: string, settings: Record<string, string | number | boolean> = {}): string {
  const parts = Object.keys(settings).sort().map((k) => {
    const v = settings[k];
    return `${k}=${typeof v === "boolean" ? (v ? "yes" : "no") : v}`;
  });
  return [method, ...parts].join(",");
}

export function keyString(k: PaperKey): string {
  return `table ${k.table} / ${k.class} / ${k.mode} / ${k.variant} / ${k.metric}`;
}

/** Checks the parsed file (rows, types, units, marks, unique keys); throws naming the bad row. */
export function parsePaperNumbers(json: unknown): PaperNumber[] {
  const rows = (json as { rows?: unknown })?.rows;
  if (!Array.isArray(rows)) throw new Error("paper numbers: no `rows` array");
  const seen = new Set<string>();
  return rows.map((raw, i) => {
    const r = raw as Record<string, unknown>;
    const bad = (msg: string): never => {
      throw new Error(`paper numbers: row ${i} (${JSON.stringify(raw)}): ${msg}`);
    };
    const str = (k: string) => (typeof r[k] === "string" && r[k] !== "" ? r[k] as string : bad(`'${k}' must be a non-empty string`));
    const oneOf = <T extends string>(k: string, allowed: readonly T[]) =>
      allowed.includes(r[k] as T) ? r[k] as T : bad(`'${k}' must be one of ${allowed.join(", ")}`);
    const row: PaperNumber = {
      table: str("table"),
      dataset: oneOf("dataset", DATASETS),
      class: str("class"),
      mode: oneOf("mode", MODES),
      variant: str("variant"),
      metric: oneOf("metric", PAPER_METRICS),
      value: typeof r.value === "number" && Number.isFinite(r.value) ? r.value : bad("'value' must be a finite number"),
      plus_minus: r.plus_minus === undefined ? null : typeof r.plus_minus === "number" && r.plus_minus >= 0 ? r.plus_minus : bad("'plus_minus' must be a number >= 0"),
      mark: oneOf("mark", PAPER_MARKS),
      note: r.note === undefined ? null : typeof r.note === "string" ? r.note : bad("'note' must be a string"),
    };
    // AUROC is stored as a fraction: a percent slipping in would make every delta absurd.
    if (row.metric.endsWith("auroc") && !(row.value > 0 && row.value <= 1)) bad("AUROC must be a fraction in (0, 1]");
    if (!row.metric.endsWith("auroc") && !(row.value > 0)) bad(`${row.metric} must be > 0`);
    const key = keyString(row);
    if (seen.has(key)) bad(`duplicate key ${key}`);
    seen.add(key);
    return row;
  });
}

const cache = new Map<string, PaperNumber[]>();

/** The validated rows of the file (cached per path). */
export function loadPaperNumbers(path = PAPER_NUMBERS_PATH): PaperNumber[] {
  let rows = cache.get(path);
  if (!rows) {
    let json: unknown;
    try {
      json = JSON.parse(Deno.readTextFileSync(path));
    } catch (e) {
      throw new Error(`${path}: cannot read paper numbers (${(e as Error).message})`);
    }
    rows = parsePaperNumbers(json);
    cache.set(path, rows);
  }
  return rows;
}

/** The rows as a DataFrame (columns as in PaperNumber; missing plus_minus/note are null). */
export function paperNumbersFrame(rows: PaperNumber[] = loadPaperNumbers()): pl.DataFrame {
  const col = <K extends keyof PaperNumber>(k: K) => rows.map((r) => r[k]);
  return pl.DataFrame([
    pl.Series("table", col("table"), pl.Utf8),
    pl.Series("dataset", col("dataset"), pl.Utf8),
    pl.Series("class", col("class"), pl.Utf8),
    pl.Series("mode", col("mode"), pl.Utf8),
    pl.Series("variant", col("variant"), pl.Utf8),
    pl.Series("metric", col("metric"), pl.Utf8),
    pl.Series("value", col("value"), pl.Float64),
    pl.Series("plus_minus", col("plus_minus"), pl.Float64),
    pl.Series("mark", col("mark"), pl.Utf8),
    pl.Series("note", col("note"), pl.Utf8),
  ]);
}

/** The paper's number for a key, or null when the paper reports none. */
export function paperValue(key: PaperKey, rows: PaperNumber[] = loadPaperNumbers()): PaperNumber | null {
  const hits = rows.filter((r) =>
    r.table === key.table && r.class === key.class && r.mode === key.mode && r.variant === key.variant &&
    r.metric === key.metric && (key.dataset === undefined || r.dataset === key.dataset)
  );
  if (hits.length > 1) throw new Error(`paper numbers: ${hits.length} rows for ${keyString(key)}`);
  return hits[0] ?? null;
}
