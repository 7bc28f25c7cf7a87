/**
 * All run records under a folder as polars tables: one row per complete run (metrics, key config
 * fields, tags), the per-defect-type AUROCs in long form, and the per-image scores of chosen runs.
 * A run folder is any folder holding config.json; it is complete once metrics.json exists.
 */
import pl from "nodejs-polars";
import { join, relative, sep } from "node:path";
import { RUN_FILES } from "./run_files.ts";

/** Optional file of a run folder: an object of string/number tags, each becomes a column. */
export const TAGS_FILE = "tags.json";

type Json = Record<string, unknown>;
type ColumnType = "str" | "int" | "float" | "bool";

interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** from metrics.json (m) and config.json (c); undefined/mistyped -> null */
  pick: (m: Json, c: Json) => unknown;
}

/** Value at a dotted path, or undefined when any step is missing. */
function at(obj: unknown, path: string): unknown {
  let cur = obj;
  for (const k of path.split(".")) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    cur = (cur as Json)[k];
  }
  return cur;
}

/** metrics.json first (what the run did), config.json as fallback (what it was asked to do). */
const m = (path: string, fallback?: string) => (mm: Json, cc: Json) => at(mm, path) ?? (fallback ? at(cc, fallback) : undefined);
const cfg = (path: string) => (_: Json, cc: Json) => at(cc, `config.${path}`);

/** The fixed columns of `runs`, in order (run_dir and run_id come first, tags last). */
const COLUMNS: ColumnSpec[] = [
  { name: "class", type: "str", pick: m("class", "class") },
  { name: "mode", type: "str", pick: m("mode", "config.mode") },
  { name: "preset", type: "str", pick: m("preset", "config.preset") },
  { name: "layout", type: "str", pick: m("layout", "layout") },
  { name: "backbone", type: "str", pick: m("backbone", "backbone") },
  { name: "backbone_layer", type: "str", pick: m("backbone_layer", "backbone_layer") },
  { name: "seed", type: "int", pick: m("seed", "config.seed") },
  { name: "epochs_teacher", type: "int", pick: m("epochs.teacher", "config.teacher.epochs") },
  { name: "epochs_student", type: "int", pick: m("epochs.student", "config.student.epochs") },
  { name: "backend", type: "str", pick: m("backend") },
  { name: "threads", type: "int", pick: m("threads") },
  { name: "seconds", type: "float", pick: m("seconds") },
  { name: "n_train", type: "int", pick: m("n_train") },
  { name: "n_test", type: "int", pick: m("n_test") },
  { name: "image_auroc_max", type: "float", pick: m("image_auroc_max") },
  { name: "image_auroc_mean", type: "float", pick: m("image_auroc_mean") },
  { name: "pixel_auroc", type: "float", pick: m("pixel_auroc") },
  { name: "aupro", type: "float", pick: m("aupro") },
  { name: "f1_max", type: "float", pick: m("f1_max") },
  // The teacher's NLL as the score, from the same run (the paper's "teacher" rows).
  { name: "teacher_nll_image_auroc_max", type: "float", pick: m("teacher_nll.image_auroc_max") },
  { name: "teacher_nll_image_auroc_mean", type: "float", pick: m("teacher_nll.image_auroc_mean") },
  { name: "teacher_nll_pixel_auroc", type: "float", pick: m("teacher_nll.pixel_auroc") },
  { name: "params_teacher", type: "int", pick: m("params.teacher") },
  { name: "params_student", type: "int", pick: m("params.student") },
  { name: "inference_ms_per_image", type: "float", pick: m("timing.inference_ms_per_image") },
  { name: "validation_mean", type: "float", pick: m("validation_scores.mean") },
  { name: "validation_std", type: "float", pick: m("validation_scores.std") },
  { name: "validation_q99", type: "float", pick: m("validation_scores.q99") },
  { name: "map_len", type: "int", pick: cfg("mapLen") },
  { name: "backbone_requested", type: "str", pick: cfg("backbone") },
  { name: "pos_enc", type: "bool", pick: cfg("posEnc") },
  { name: "pos_enc_dim", type: "int", pick: cfg("posEncDim") },
  { name: "train_mask", type: "bool", pick: cfg("trainMask") },
  { name: "eval_mask", type: "bool", pick: cfg("evalMask") },
  { name: "teacher_hidden", type: "int", pick: cfg("teacher.hidden") },
  { name: "teacher_n_blocks", type: "int", pick: cfg("teacher.nBlocks") },
  { name: "teacher_clamp", type: "float", pick: cfg("teacher.clamp") },
  {
    name: "teacher_kernel_sizes",
    type: "str",
    pick: (_, cc) => {
      const k = at(cc, "config.teacher.kernelSizes");
      return Array.isArray(k) ? k.join(",") : undefined;
    },
  },
  { name: "student_kind", type: "str", pick: cfg("student.kind") },
  { name: "student_hidden", type: "int", pick: cfg("student.hidden") },
  { name: "student_n_blocks", type: "int", pick: cfg("student.nBlocks") },
  { name: "student_leaky_slope", type: "float", pick: cfg("student.leakySlope") },
  { name: "scoring", type: "str", pick: cfg("scoring") },
  { name: "batch_size", type: "int", pick: cfg("batchSize") },
  { name: "lr", type: "float", pick: cfg("adam.lr") },
  { name: "weight_decay", type: "float", pick: cfg("adam.weightDecay") },
  { name: "data", type: "str", pick: (_, cc) => at(cc, "data") },
  { name: "git_commit", type: "str", pick: m("provenance.git_commit") },
  { name: "date", type: "str", pick: m("provenance.date") },
];

/** The fixed column names of `loadRuns().runs` (tags.json columns come after these). */
export const RUN_COLUMNS: readonly string[] = ["run_dir", "run_id", ...COLUMNS.map((c) => c.name)];

const DTYPES = { str: pl.Utf8, int: pl.Int64, float: pl.Float64, bool: pl.Bool };

/** Keeps a value only if it has the column's type: a malformed field becomes null, not a crash. */
function coerce(v: unknown, type: ColumnType): string | number | boolean | null {
  switch (type) {
    case "str":
      return typeof v === "string" ? v : null;
    case "int":
      return typeof v === "number" && Number.isInteger(v) ? v : null;
    case "float":
      return typeof v === "number" && Number.isFinite(v) ? v : null;
    case "bool":
      return typeof v === "boolean" ? v : null;
  }
}

export interface LoadedRuns {
  /** one row per complete run, columns RUN_COLUMNS then tags */
  runs: pl.DataFrame;
  /** long form of metrics.json's per_defect_type: run_dir, defect_type, image_auroc */
  defectTypes: pl.DataFrame;
  /** run folders without metrics.json (interrupted or still running) */
  incomplete: string[];
  /** run folders whose config.json or metrics.json could not be parsed */
  unreadable: { run_dir: string; error: string }[];
}

/** Run folders under root at any depth (a folder with config.json; not descended into), sorted. */
export function findRunDirs(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (isFile(join(dir, RUN_FILES.config))) {
      out.push(dir);
      return;
    }
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(dir)];
    } catch {
      return; // unreadable or vanished folder: nothing to report here
    }
    // Symlinks are not followed (isDirectory is false for them): no cycles.
    for (const e of entries.filter((e) => e.isDirectory).map((e) => e.name).sort()) walk(join(dir, e));
  };
  walk(root);
  return out;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function readJsonSync(path: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error(`${path}: not a JSON object`);
  return v as Json;
}

/** All complete runs under `root` (default "results"); a missing root gives empty tables. */
export function loadRuns(root = "results"): LoadedRuns {
  const rows: Record<string, unknown>[] = [];
  const tagRows: Json[] = [];
  const defect: { run_dir: string; defect_type: string; image_auroc: number | null }[] = [];
  const incomplete: string[] = [];
  const unreadable: LoadedRuns["unreadable"] = [];
  for (const dir of findRunDirs(root)) {
    if (!isFile(join(dir, RUN_FILES.metrics))) {
      incomplete.push(dir);
      continue;
    }
    let metrics: Json, config: Json, tags: Json;
    try {
      config = readJsonSync(join(dir, RUN_FILES.config));
      metrics = readJsonSync(join(dir, RUN_FILES.metrics));
      tags = isFile(join(dir, TAGS_FILE)) ? readJsonSync(join(dir, TAGS_FILE)) : {};
    } catch (e) {
      unreadable.push({ run_dir: dir, error: (e as Error).message });
      continue;
    }
    const row: Record<string, unknown> = { run_dir: dir, run_id: relative(root, dir).split(sep).join("/") || "." };
    for (const c of COLUMNS) row[c.name] = coerce(c.pick(metrics, config), c.type);
    rows.push(row);
    tagRows.push(tags);
    const perType = at(metrics, "per_defect_type");
    if (perType && typeof perType === "object") {
      for (const [type, v] of Object.entries(perType as Json)) {
        defect.push({ run_dir: dir, defect_type: type, image_auroc: coerce(v, "float") as number | null });
      }
    }
  }
  const fixed = [
    pl.Series("run_dir", rows.map((r) => r.run_dir), pl.Utf8),
    pl.Series("run_id", rows.map((r) => r.run_id), pl.Utf8),
    ...COLUMNS.map((c) => pl.Series(c.name, rows.map((r) => r[c.name]), DTYPES[c.type])),
  ];
  return {
    runs: pl.DataFrame([...fixed, ...tagColumns(tagRows, new Set(RUN_COLUMNS))]),
    defectTypes: pl.DataFrame([
      pl.Series("run_dir", defect.map((d) => d.run_dir), pl.Utf8),
      pl.Series("defect_type", defect.map((d) => d.defect_type), pl.Utf8),
      pl.Series("image_auroc", defect.map((d) => d.image_auroc), pl.Float64),
    ]),
    incomplete,
    unreadable,
  };
}

/**
 * One column per tag name over all runs (missing -> null), in first-seen order. A tag whose
 * values are all numbers is Float64, all booleans Bool, else strings (numbers as text, objects
 * as JSON). A tag named like a fixed column gets a `tag_` prefix instead of shadowing it.
 */
function tagColumns(tagRows: Json[], taken: Set<string>): pl.Series[] {
  const names: string[] = [];
  for (const t of tagRows) for (const k of Object.keys(t)) if (!names.includes(k)) names.push(k);
  return names.map((name) => {
    const values = tagRows.map((t) => (t[name] === undefined ? null : t[name]));
    const present = values.filter((v) => v !== null);
    const column = taken.has(name) ? `tag_${name}` : name;
    if (present.every((v) => typeof v === "number")) return pl.Series(column, values, pl.Float64);
    if (present.every((v) => typeof v === "boolean")) return pl.Series(column, values, pl.Bool);
    return pl.Series(column, values.map((v) => (v === null ? null : typeof v === "string" ? v : JSON.stringify(v))), pl.Utf8);
  });
}

/**
 * Per-image scores of many runs (scores.parquet) stacked, with a leading run_dir column:
 * run_dir, path, defect_type, label (Int32), score_max, score_mean (Float64). Accepts run
 * folders or a runs table with a run_dir column. A run without scores.parquet is an error.
 */
export function loadScores(runDirs: string[] | pl.DataFrame): pl.DataFrame {
  const dirs = Array.isArray(runDirs) ? runDirs : (runDirs.getColumn("run_dir").toArray() as string[]);
  const frames = dirs.map((dir) => {
    const path = join(dir, RUN_FILES.scores);
    if (!isFile(path)) throw new Error(`${dir}: no ${RUN_FILES.scores}`);
    const df = pl.readParquet(path);
    return pl.DataFrame([
      pl.Series("run_dir", new Array(df.height).fill(dir), pl.Utf8),
      df.getColumn("path").cast(pl.Utf8),
      df.getColumn("defect_type").cast(pl.Utf8),
      df.getColumn("label").cast(pl.Int32),
      df.getColumn("score_max").cast(pl.Float64),
      df.getColumn("score_mean").cast(pl.Float64),
    ]);
  });
  if (frames.length === 0) {
    return pl.DataFrame([
      pl.Series("run_dir", [], pl.Utf8),
      pl.Series("path", [], pl.Utf8),
      pl.Series("defect_type", [], pl.Utf8),
      pl.Series("label", [], pl.Int32),
      pl.Series("score_max", [], pl.Float64),
      pl.Series("score_mean", [], pl.Float64),
    ]);
  }
  return pl.concat(frames);
}
