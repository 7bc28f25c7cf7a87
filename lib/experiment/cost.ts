/**
 * What the paper's tables cost to compute: the cells of every experiment (as grid.ts enumerates
 * and content-addresses them), which of them are new trainings across the whole set, which
 * teachers the grid reuses, and the hours of teacher and student training, feature extraction
 * and scoring from per-step times. Pure: the step times come from the caller (a bench record,
 * tools/slurm/step_times.ts) and the image counts too (class_counts.ts), so the estimate is
 * derived from measurements instead of typed by hand, and tests can feed known numbers.
 *
 * The model, per new cell (a cell an earlier table already has costs nothing again):
 *  - teacher: epochs x ceil(train / batch) training steps; none when the cell reuses its
 *    reference cell's teacher (a student-only variant with an equal teacherConfigKey);
 *  - student: epochs x ceil(train / batch) steps, each also running the frozen teacher forward
 *    on the batch for the targets (AstModel.studentLoss);
 *  - scoring: validation/held-apart + test images through teacher and student, and the test
 *    images once more through the teacher alone (the teacher-NLL detector every run records);
 *  - features: the backbone over train + validation + test once per class, backbone and map
 *    size (the feature cache is shared by seeds, modes and variants), owned by the first table
 *    that needs it; the xyz maps' 3D preprocessing (not cached) per run with depth.
 * All hours are wall-hours on the machine the step times were measured on.
 */
import { type AstConfig, teacherConfigKey } from "../config/ast_config.ts";
import { resolveConfig } from "../config/resolve.ts";
import { backboneSpec } from "../features/backbones.ts";
import { inputChannels } from "../run/inputs.ts";
import type { DatasetLayout, Mode } from "../types.ts";
import { type ClassCounts, type CountSource, countsKey } from "./class_counts.ts";
import { type DatasetRef, type ExperimentDefinition, gridCells, type GridSpec, referenceVariant, type Scale, type Variant, variantPatch } from "./grid_spec.ts";

interface NetworkCommon {
  channels: number;
  hidden: number;
  nBlocks: number;
  /** 0 without the positional encoding */
  posEncDim: number;
  batch: number;
  /** feature-map side */
  side: number;
}

/** A normalizing flow: the teacher, or the symmetric (Table 5) student. */
export interface FlowNetwork extends NetworkCommon {
  kind: "flow";
  kernelSizes: number[];
}

/** The asymmetric CNN student. */
export interface CnnNetwork extends NetworkCommon {
  kind: "asymmetric";
}

export type NetworkShape = FlowNetwork | CnnNetwork;

/** Unit times in ms the hours are built from (one machine, one thread count). */
export interface StepTimes {
  /** one training step of a batch (forward, backward, optimizer) */
  trainStepMs(net: NetworkShape): number;
  /** one image through the network without gradients */
  forwardMsPerImage(net: NetworkShape): number;
  /** one image through the backbone (image features at that map size) */
  extractionMsPerImage(backbone: string, mapLen: number): number;
  /** decoding and preprocessing one xyz map; null when not measured (then counted as 0) */
  depthMsPerImage: number | null;
}

/** One cell of one experiment with what its cost depends on. */
export interface CostCell {
  experiment: string;
  className: string;
  /** the dataset root as the definition names it */
  dataset: string;
  mode: Mode;
  variant: string;
  seed: number;
  /** what identifies the run (grid.ts hashes the same: data, class, effective config) */
  key: string;
  /** the experiment that trains it: the first in the given order that has it */
  owner: string;
  /** key of the reference cell whose teacher this cell reuses, if any */
  teacherFrom: string | null;
  counts: ClassCounts;
  /** images trained on, held apart for scores / threshold (validation), tested */
  images: { train: number; held: number; test: number };
  teacher: FlowNetwork;
  student: NetworkShape;
  epochs: { teacher: number; student: number };
  /** the image features it needs; null in depth mode */
  features: { backbone: string; mapLen: number } | null;
  /** has xyz input (3D preprocessing per run) */
  depth: boolean;
}

export interface Hours {
  teacher: number;
  student: number;
  features: number;
  scoring: number;
}

export interface ExperimentCost {
  name: string;
  paper: string;
  cells: number;
  /** cells trained here (not already had by an earlier experiment) */
  newTrainings: number;
  /** cells an earlier experiment owns: owner name -> count */
  shared: Record<string, number>;
  /** new cells whose teacher is reused from the reference cell instead of trained */
  teachersSaved: number;
  /** wall-hours on the measuring machine */
  hours: Hours;
  wallHours: number;
  /** wall-hours x threads */
  coreHours: number;
  /** where its cells' image counts come from */
  countSources: CountSource[];
}

export interface CostEstimate {
  experiments: ExperimentCost[];
  /** every experiment together (each cell and feature extraction once) */
  total: ExperimentCost;
  threads: number;
}

const MS_PER_HOUR = 3_600_000;

/** Training and held-apart images of a run, as lib/run/split.ts splits them. */
export function trainingSplit(c: Pick<ClassCounts, "train" | "validation">, holdoutFraction: number): { train: number; held: number } {
  if (c.validation > 0) return { train: c.train, held: c.validation };
  if (holdoutFraction <= 0 || c.train < 2) return { train: c.train, held: 0 };
  const k = Math.min(c.train - 1, Math.max(1, Math.round(holdoutFraction * c.train)));
  return { train: c.train - k, held: k };
}

/** Input channels of a run: the backbone's (default layer) and/or the depth channels. */
function channelsOf(cfg: AstConfig): number {
  if (cfg.mode === "depth") return inputChannels("depth", null);
  if (cfg.layer !== null) throw new Error(`the cost estimate knows each backbone's default layer only, not '${cfg.layer}'`);
  const image = backboneSpec(cfg.backbone).channels;
  return cfg.mode === "rgb" ? image : image + inputChannels("depth", null);
}

function networks(cfg: AstConfig, channels: number): { teacher: FlowNetwork; student: NetworkShape } {
  const common = { channels, posEncDim: cfg.posEnc ? cfg.posEncDim : 0, batch: cfg.batchSize, side: cfg.mapLen };
  const teacher: FlowNetwork = { kind: "flow", ...common, hidden: cfg.teacher.hidden, nBlocks: cfg.teacher.nBlocks, kernelSizes: [...cfg.teacher.kernelSizes] };
  // the symmetric student is the teacher's flow with its own width and depth (lib/models/student_model.ts)
  const student: NetworkShape = cfg.student.kind === "flow"
    ? { ...teacher, hidden: cfg.student.hidden, nBlocks: cfg.student.nBlocks }
    : { kind: "asymmetric", ...common, hidden: cfg.student.hidden, nBlocks: cfg.student.nBlocks };
  return { teacher, student };
}

/** The effective config of a cell, as the grid resolves it (preset, scale's epochs/backbone, variant patch, cell). */
function cellConfig(spec: GridSpec, layout: DatasetLayout, mode: Mode, seed: number, variant: Variant): AstConfig {
  return resolveConfig({
    preset: spec.preset,
    mode,
    layout,
    flags: { seed, epochs: spec.epochs, backbone: spec.backbone },
    variant: variant.config ? { name: variant.name, patch: variantPatch(variant.config, layout) } : undefined,
  });
}

/**
 * Every cell of the experiments at a scale, in the given (table) order, each with its owner and
 * teacher reuse. `counts` gives a class's image counts by countsKey (class_counts.ts).
 */
export function costCells(defs: ExperimentDefinition[], counts: ReadonlyMap<string, ClassCounts>, scale: Scale = "paper"): CostCell[] {
  const owners = new Map<string, string>();
  const out: CostCell[] = [];
  for (const def of defs) {
    const spec = def.scales[scale];
    // As runGrid: per (dataset, class, mode, seed) the reference cell's teacher, for the student-only variants.
    const teachers = new Map<string, { key: string; teacherKey: string }>();
    for (const { ref, mode, variant, seed, reference } of gridCells(spec, spec.datasets, spec.seeds, (m) => referenceVariant(def, m, spec.variants))) {
      const c = countsOf(counts, ref);
      const cfg = cellConfig(spec, c.layout, mode, seed, variant);
      const dataset = ref.root ?? ref.data;
      const key = JSON.stringify({ data: dataset, className: ref.className, config: cfg });
      const slot = `${dataset}|${ref.className}|${mode}|${seed}`;
      const teacherKey = teacherConfigKey(cfg);
      const shared = variant.name === reference ? undefined : teachers.get(slot);
      if (variant.name === reference) teachers.set(slot, { key, teacherKey });
      if (!owners.has(key)) owners.set(key, def.name);
      const { train, held } = trainingSplit(c, cfg.holdoutFraction);
      out.push({
        experiment: def.name,
        className: ref.className,
        dataset,
        mode,
        variant: variant.name,
        seed,
        key,
        owner: owners.get(key)!,
        teacherFrom: shared && shared.teacherKey === teacherKey ? shared.key : null,
        counts: c,
        images: { train, held, test: c.test },
        ...networks(cfg, channelsOf(cfg)),
        epochs: { teacher: cfg.teacher.epochs, student: cfg.student.epochs },
        features: mode === "depth" ? null : { backbone: cfg.backbone, mapLen: cfg.mapLen },
        depth: mode !== "rgb",
      });
    }
  }
  return out;
}

function countsOf(counts: ReadonlyMap<string, ClassCounts>, ref: DatasetRef): ClassCounts {
  const c = counts.get(countsKey(ref));
  if (!c) throw new Error(`no image counts for ${countsKey(ref)}`);
  return c;
}

/**
 * Hours of training and scoring one cell (teacher 0 when it reuses one); `features` here is the
 * per-run 3D preprocessing only: image features are counted once per class (estimateCost).
 */
export function cellHours(cell: CostCell, times: StepTimes): Hours {
  const { train, held, test } = cell.images;
  const steps = Math.ceil(train / cell.teacher.batch);
  const teacherForward = times.forwardMsPerImage(cell.teacher);
  const teacherMs = cell.teacherFrom ? 0 : cell.epochs.teacher * steps * times.trainStepMs(cell.teacher);
  // each student step also runs the frozen teacher on the batch for its targets
  const studentMs = cell.epochs.student * steps * (times.trainStepMs(cell.student) + cell.teacher.batch * teacherForward);
  const scoringMs = (held + test) * (teacherForward + times.forwardMsPerImage(cell.student)) + test * teacherForward;
  const depthMs = cell.depth ? (train + held + test) * (times.depthMsPerImage ?? 0) : 0;
  return { teacher: teacherMs / MS_PER_HOUR, student: studentMs / MS_PER_HOUR, features: depthMs / MS_PER_HOUR, scoring: scoringMs / MS_PER_HOUR };
}

const addHours = (a: Hours, b: Hours): Hours => ({
  teacher: a.teacher + b.teacher,
  student: a.student + b.student,
  features: a.features + b.features,
  scoring: a.scoring + b.scoring,
});
const ZERO: Hours = { teacher: 0, student: 0, features: 0, scoring: 0 };
const wall = (h: Hours) => h.teacher + h.student + h.features + h.scoring;

/** The estimate per experiment and in total; `defs` gives titles and the table order. */
export function estimateCost(defs: ExperimentDefinition[], cells: CostCell[], times: StepTimes, threads: number): CostEstimate {
  const featuresSeen = new Set<string>();
  const trained = new Set<string>();
  const experiments = defs.map((def): ExperimentCost => {
    const mine = cells.filter((c) => c.experiment === def.name);
    let hours = ZERO, newTrainings = 0, teachersSaved = 0;
    const shared: Record<string, number> = {};
    for (const cell of mine) {
      if (cell.features) {
        const f = `${cell.dataset}|${cell.className}|${cell.features.backbone}|${cell.features.mapLen}`;
        if (!featuresSeen.has(f)) {
          featuresSeen.add(f);
          const { train, held, test } = cell.images;
          const ms = (train + held + test) * times.extractionMsPerImage(cell.features.backbone, cell.features.mapLen);
          hours = addHours(hours, { ...ZERO, features: ms / MS_PER_HOUR });
        }
      }
      if (cell.owner !== def.name) {
        shared[cell.owner] = (shared[cell.owner] ?? 0) + 1;
        continue;
      }
      if (trained.has(cell.key)) continue; // the same cell twice in one experiment: trained once
      trained.add(cell.key);
      newTrainings++;
      if (cell.teacherFrom) teachersSaved++;
      hours = addHours(hours, cellHours(cell, times));
    }
    return summary(def.name, def.paper, mine.length, newTrainings, shared, teachersSaved, hours, threads, mine);
  });
  const sum = experiments.reduce((h, e) => addHours(h, e.hours), ZERO);
  const total = summary(
    "total",
    "all",
    new Set(cells.map((c) => c.key)).size,
    experiments.reduce((n, e) => n + e.newTrainings, 0),
    {},
    experiments.reduce((n, e) => n + e.teachersSaved, 0),
    sum,
    threads,
    cells,
  );
  return { experiments, total, threads };
}

function summary(name: string, paper: string, cells: number, newTrainings: number, shared: Record<string, number>, teachersSaved: number, hours: Hours, threads: number, of: CostCell[]): ExperimentCost {
  const wallHours = wall(hours);
  const countSources = [...new Set(of.map((c) => c.counts.source))].sort();
  return { name, paper, cells, newTrainings, shared, teachersSaved, hours, wallHours, coreHours: wallHours * threads, countSources };
}
