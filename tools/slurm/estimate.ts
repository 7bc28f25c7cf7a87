/**
 * `deno task estimate`: estimated CPU hours per paper table at paper scale, derived from a bench
 * record (measured step times) so the README's table is regenerated, not typed by hand.
 *
 *   deno task estimate                       # aligned text
 *   deno task estimate --markdown            # the README's table
 *   deno task estimate --bench results/bench/20261201T155454Z.json
 *
 * Image counts come from the datasets when they are on disk ($AST_MVTEC_AD / $AST_MVTEC3D or
 * data/), else from their papers (lib/data/published_counts.ts); each row says which.
 * Model: lib/experiment/cost.ts; step times and FLOP scaling: step_times.ts; table: cost_table.ts.
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { runtimeFromEnv, type RuntimeOptions } from "../../lib/config/runtime.ts";
import { type ClassCounts, countsOfRefs } from "../../lib/experiment/class_counts.ts";
import { type CostCell, costCells, estimateCost } from "../../lib/experiment/cost.ts";
import type { ExperimentDefinition } from "../../lib/experiment/grid_spec.ts";
import { projectPath } from "../../lib/util/project.ts";
import { EXPERIMENTS } from "../../experiments/mod.ts";
import type { BenchRecord } from "../bench/report.ts";
import { formatEstimate } from "./cost_table.ts";
import { type BenchStepTimes, benchStepTimes, type Scaling, StepTimeError } from "./step_times.ts";

export const DEFAULT_BENCH = projectPath("results", "bench", "latest.json");
const PAPER_NUMBERS = projectPath("data", "paper_numbers.json");

/** The paper's GPU inference times (Table 6), the only GPU times it states, as one note. */
function gpuNote(paperNumbersPath: string): string {
  let inference: { variant: string; value: number; mark: string; note?: string }[] = [];
  try {
    const json = JSON.parse(Deno.readTextFileSync(paperNumbersPath)) as { rows: { metric: string; variant: string; value: number; mark: string; note?: string }[] };
    inference = json.rows.filter((r) => r.metric === "inference_ms");
  } catch { /* no paper numbers: the note says only what is not measured */ }
  const base = "GPU-hours: not measured here (no GPU on this machine, no measured GPU step time)";
  if (!inference.length) return `${base}.`;
  const gpu = (inference.find((r) => r.note)?.note ?? "GPU").split(";")[0];
  const marks = [...new Set(inference.map((r) => r.mark))].join(", ");
  return `${base}. The paper states no training times; its only GPU times are inference per image (Table 6 [${marks}], ${gpu}: ` +
    `${inference.map((r) => `${r.variant.replace("ast,", "")} ${r.value} ms`).join(", ")}; data/paper_numbers.json, from docs/PAPER_NUMBERS.md).`;
}

/** "teacher_h64 x FLOPs: flow h64x4 64ch 0.17, ..." one line per source row. */
function scalingNotes(scalings: Scaling[]): string[] {
  const byRow = new Map<string, Scaling[]>();
  for (const s of scalings) byRow.set(s.from, [...(byRow.get(s.from) ?? []), s]);
  return [...byRow].map(([from, list]) => `${from} x ${list[0].by} ratio: ${list.map((s) => `${s.shape} ${s.ratio.toFixed(2)}`).join("; ")}`);
}

function countsNote(counts: Map<string, ClassCounts>): string {
  const of = (src: string) => [...counts].filter(([, c]) => c.source === src).map(([k]) => k);
  const published = of("published"), measured = of("measured");
  return [
    ...(measured.length ? [`measured from the data for ${measured.length} classes`] : []),
    ...(published.length
      ? [`published per-class counts for ${published.length} classes not on disk (MVTec AD: Bergmann et al., CVPR 2019, 3629 train / 1725 test; ` +
        `MVTec 3D-AD: Bergmann et al., VISAPP 2022, 2656 train / 294 validation / 1197 test; lib/data/published_counts.ts)`]
      : []),
  ].join("; ");
}

/** End-to-end scoring row (features + preprocessing + model in one process) against this estimate's parts. */
function scoreCrossCheck(record: BenchRecord, times: BenchStepTimes, cells: CostCell[]): string | null {
  const score = record.workloads.find((w) => w.name === "score_paper");
  const combi = cells.find((c) => c.mode === "combi" && c.student.kind === "asymmetric" && c.student.nBlocks === 4 && c.teacher.hidden === 64 && c.features);
  if (!score || !combi || !combi.features) return null;
  const features = times.extractionMsPerImage(combi.features.backbone, combi.features.mapLen);
  const model = times.forwardMsPerImage(combi.teacher) + times.forwardMsPerImage(combi.student);
  return `Cross-check: the bench's score_paper row scores a new RGB+3D image end to end in ${score.ms_per_step} ms (decode, 3D preprocessing, ` +
    `EfficientNet-B5, teacher, student, map); this estimate's parts for that shape: features ${features.toFixed(0)} ms + teacher and student ` +
    `${model.toFixed(0)} ms; the remaining ${Math.max(0, score.ms_per_step - features - model).toFixed(0)} ms (decoding, preprocessing, map) is in ` +
    `no column here, except 3D preprocessing through a depth_800 row.`;
}

/** Epochs and widths per dataset layout, as the cells have them (from the preset). */
function presetNote(cells: CostCell[]): string {
  const seen = new Map<string, string>();
  for (const c of cells) {
    if (c.variant !== "ast") continue;
    seen.set(c.counts.layout, `${c.counts.layout === "mvtecad" ? "MVTec AD" : "MVTec 3D-AD"}: teacher h${c.teacher.hidden} ${c.epochs.teacher} epochs, ` +
      `student h${c.student.hidden}x${c.student.nBlocks} ${c.epochs.student} epochs, trained on ${c.counts.validation ? "train (validation held apart)" : "all train/good"}`);
  }
  return [...seen.values()].join("; ");
}

export interface EstimateInput {
  record: BenchRecord;
  benchPath: string;
  defs: ExperimentDefinition[];
  counts: Map<string, ClassCounts>;
  paperNumbersPath?: string;
}

/** The estimate's text (markdown or aligned) for a bench record. */
export function estimateText(i: EstimateInput, markdown: boolean): string {
  const times = benchStepTimes(i.record);
  const cells = costCells(i.defs, i.counts, "paper");
  const estimate = estimateCost(i.defs, cells, times, i.record.threads);
  const effnet = i.record.workloads.find((w) => w.name === "effnet_b5_768");
  const depth = times.depthMsPerImage;
  const notes = [
    `Wall-hours on the bench host with its ${i.record.threads} threads, one cell after another; core-h = wall-h x ${i.record.threads}. ` +
    `Steps per epoch = ceil(train images / batch ${cells[0]?.teacher.batch ?? 8}). Paper preset: ${presetNote(cells)}; 3 seeds.`,
    "A cell is identified by data, class and effective config (as the grid content-addresses runs): a cell an earlier table has is trained once, " +
    "by the first table in order ('cells owned by'); Table 4 is Tables 2 and 3's runs. 'teachers reused': student-only variants whose teacher " +
    "config equals the reference cell's take its teacher (grid.ts, teacherConfigKey). The total counts every cell and extraction once.",
    "Student steps include the frozen teacher's forward on the batch (its targets). Scoring: validation + test images through teacher and " +
    "student, plus the test images through the teacher alone (the teacher-NLL row every run records); a forward pass per image is taken as " +
    "1/3 of a training step's time / batch (the FLOP fraction).",
    `Features: ${effnet ? `EfficientNet-B5 at 768 px, ${effnet.ms_per_step} ms/image (effnet_b5_768, network only)` : "backbone rows"} over ` +
    `train + validation + test, once per class (the feature cache is shared by seeds, modes and variants); 3D preprocessing per run with depth: ` +
    `${depth == null ? "not in this record (no depth_800 row), counted as 0" : `${depth} ms/image (depth_800)`}.`,
    `Step times scaled from the nearest measured row of the same kind (shapes the bench did not run): ${scalingNotes(times.scalings()).join(" | ")}.`,
    `Image counts: ${countsNote(i.counts)}.`,
    ...[scoreCrossCheck(i.record, times, cells)].filter((x): x is string => x !== null),
    gpuNote(i.paperNumbersPath ?? PAPER_NUMBERS),
    "Not counted: metrics (AUROC, AUPRO), checkpoints and records, image decoding. The bench ran beside other processes (load average in the header).",
  ];
  const paperOf = Object.fromEntries(i.defs.map((d) => [d.name, d.paper]));
  return formatEstimate(estimate, { benchPath: i.benchPath, record: i.record, paperOf, notes }, markdown);
}

export async function main(argv: string[], runtime: RuntimeOptions = runtimeFromEnv()): Promise<string> {
  const { values } = parseArgs({ args: argv, options: { bench: { type: "string" }, markdown: { type: "boolean", default: false } }, strict: true });
  const benchPath = values.bench ?? DEFAULT_BENCH;
  let record: BenchRecord;
  try {
    record = JSON.parse(await Deno.readTextFile(resolve(benchPath)));
  } catch (e) {
    throw new StepTimeError(`cannot read the bench record ${benchPath} (${(e as Error).message}); run \`deno task bench\` first`);
  }
  const defs = Object.values(EXPERIMENTS);
  const counts = await countsOfRefs(defs.flatMap((d) => d.scales.paper.datasets), runtime);
  const shown = values.bench ?? "results/bench/latest.json";
  return estimateText({ record, benchPath: shown, defs, counts }, values.markdown);
}

if (import.meta.main) {
  try {
    console.log(await main(Deno.args));
  } catch (e) {
    if (e instanceof StepTimeError || (e as Error)?.name === "TypeError") {
      console.error(`estimate: ${(e as Error).message}`);
      Deno.exit(2);
    }
    throw e;
  }
}
