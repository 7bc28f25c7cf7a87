/**
 * What an experiment grid is, apart from running it: the definition types, the reference
 * variant, the cells of a grid in run order, a dataset reference's root and a variant's patch for
 * a dataset layout. Pure (no tensors, no files): the runner (grid.ts) and the cost estimate
 * (cost.ts) enumerate the same cells, and the estimate loads without the training stack.
 */
import { resolve } from "node:path";
import type { ConfigPatch } from "../config/patch.ts";
import { DEFAULT_RUNTIME, type RuntimeOptions } from "../config/runtime.ts";
import type { TestbedName } from "../data/testbeds.ts";
import type { DatasetLayout, Mode, PresetName } from "../types.ts";
import { projectPath } from "../util/project.ts";

export type Scale = "paper" | "cpu" | "demo";
export const SCALES: Scale[] = ["paper", "cpu", "demo"];

/** A class folder to run on. */
export interface DatasetRef {
  /** dataset root (`--data`); relative paths are relative to the project root */
  data: string;
  /** a root the user may keep elsewhere (RuntimeOptions.datasets: $AST_MVTEC_AD, $AST_MVTEC3D); `data` is its default */
  root?: keyof RuntimeOptions["datasets"];
  className: string;
  /** the generated synthetic dataset (or, with `testbed`, that testbed): created (seeded) when missing */
  generate?: { seed: number; testbed?: TestbedName };
  /** absent data is skipped with a note instead of failing (e.g. the shared data) */
  optional?: boolean;
  /** how to get the data when it is missing */
  howToGet?: string;
  /** the class's name in the paper's tables, when it differs from the folder name */
  paperClass?: string;
  /** run only these of the grid's modes on this dataset (e.g. MVTec AD has no depth) */
  modes?: Mode[];
  /** run only these of the grid's variants on this dataset (a testbed made for one mechanism); the reference always runs */
  variants?: string[];
}

export interface Variant {
  /** short id used in tables, e.g. "ast", "nf-student", "n_st_blocks=8" */
  name: string;
  /** merged into the preset's config (top-level keys; nested objects merged one level) */
  config?: ConfigPatch;
  /** restrict to these modes (Table 7 varies the mask only where there is depth) */
  modes?: Mode[];
}

export interface GridSpec {
  preset: PresetName;
  datasets: DatasetRef[];
  modes: Mode[];
  variants: Variant[];
  seeds: number[];
  /** epochs of teacher and student (else the preset's) */
  epochs?: number;
  /** image backbone for rgb/combi (else the preset's) */
  backbone?: string;
}

export interface ExperimentDefinition {
  name: string;
  title: string;
  /** which table or figure of the paper */
  paper: string;
  description: string;
  scales: Record<Scale, GridSpec>;
  /**
   * The variant that is AST as the paper runs it, which every other variant is compared with
   * (per mode where it differs, e.g. Table 7: no mask without depth); default: "ast", else the
   * first variant.
   */
  reference?: string | Partial<Record<Mode, string>>;
  /**
   * Rows scored by the teacher's own NLL (recorded in every run): `reference` adds one
   * "teacher-nll" row from the reference runs (Tables 5 and 6), `every-variant` one per variant
   * (Table 7's teacher column), compared with the reference variant's teacher.
   */
  teacherRows?: "reference" | "every-variant";
  /** the rows' order in the paper's table (variant names, "teacher-nll" for the teacher row); default: the variants' */
  rowOrder?: string[];
  /** the metric the paper's table reports (Table 4: pixel AUROC); default image AUROC */
  metric?: "image_auroc" | "pixel_auroc";
}

/** The reference (AST) variant of an experiment in a mode. */
export function referenceVariant(def: Pick<ExperimentDefinition, "reference" | "scales">, mode: Mode, variants: Variant[] = Object.values(def.scales)[0].variants): string {
  const r = def.reference;
  const inMode = variants.filter((v) => !v.modes || v.modes.includes(mode)).map((v) => v.name);
  const named = typeof r === "string" ? r : r?.[mode];
  if (named) {
    if (!inMode.includes(named)) throw new Error(`reference variant '${named}' is not among the variants run in ${mode} (${inMode.join(", ")})`);
    return named;
  }
  if (inMode.includes("ast")) return "ast";
  if (!inMode.length) throw new Error(`no variant runs in ${mode}`);
  return inMode[0];
}

/** A dataset reference's root folder, absolute (the runtime's location for the full datasets). */
export function datasetRoot(ref: DatasetRef, runtime: RuntimeOptions = DEFAULT_RUNTIME): string {
  return resolve(projectPath(), (ref.root && runtime.datasets[ref.root]) || ref.data);
}

/**
 * The cells of a grid, in run order: datasets, then modes, then variants (the reference first,
 * so its teachers exist when the student variants of the same seed want them), then seeds.
 */
export function gridCells(
  spec: GridSpec,
  datasets = spec.datasets,
  seeds = spec.seeds,
  reference: (mode: Mode) => string = (mode) => referenceVariant({ scales: { demo: spec } as Record<Scale, GridSpec> }, mode, spec.variants),
) {
  const cells: { ref: DatasetRef; mode: Mode; variant: Variant; seed: number; reference: string }[] = [];
  for (const ref of datasets) {
    for (const mode of spec.modes) {
      if (ref.modes && !ref.modes.includes(mode)) continue;
      const inMode = spec.variants.filter((v) => !v.modes || v.modes.includes(mode));
      if (!inMode.length) continue;
      const refName = reference(mode);
      const ordered = [...inMode.filter((v) => v.name === refName), ...inMode.filter((v) => v.name !== refName)]
        .filter((v) => !ref.variants || v.name === refName || ref.variants.includes(v.name));
      for (const variant of ordered) {
        for (const seed of seeds) cells.push({ ref, mode, variant, seed, reference: refName });
      }
    }
  }
  return cells;
}

/** A variant's patch for a dataset layout: MVTec AD has no depth, so no foreground mask to vary. */
export function variantPatch(patch: ConfigPatch, layout: DatasetLayout): ConfigPatch {
  if (layout !== "mvtecad") return patch;
  const { trainMask: _t, evalMask: _e, ...rest } = patch;
  return rest;
}
