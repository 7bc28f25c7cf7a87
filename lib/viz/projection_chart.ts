/**
 * Teacher vs student output vectors under one random orthographic projection (AST paper,
 * Fig. 5 right): each pair joined by a segment, so long segments = large teacher-student
 * discrepancy. Built with Vega-Lite (a rule layer for the segments) for free axes and legends.
 */
import type { VegaLiteSpec } from "./render.ts";
import { balancedSubsample, projectRows, randomOrthoProjection } from "./projection.ts";
import { round6, titleOf, VEGA_LITE_SCHEMA } from "./spec_defaults.ts";

export interface ProjectionChartOptions {
  seed: number;
  /** Per vector: 1 = anomalous, 0 = normal. */
  labels?: Uint8Array;
  /** Pairs drawn at most (deterministic subsample; ~300 bytes of SVG each). Default 500. */
  maxPoints?: number;
  title?: string;
}

const ROLE_COLOURS = { domain: ["teacher", "student"], range: ["#1f77b4", "#ff7f0e"] };
const SIZE = 360;

/**
 * `teacher` and `student` hold n row-major vectors of length `dims` (e.g. the per-pixel outputs
 * of a normal and an anomalous image, with `labels` from the ground-truth mask).
 */
export function projectionChart(
  teacher: Float32Array,
  student: Float32Array,
  n: number,
  dims: number,
  { seed, labels, maxPoints = 500, title = "Teacher vs student outputs" }: ProjectionChartOptions,
): VegaLiteSpec {
  if (teacher.length !== n * dims || student.length !== n * dims) {
    throw new Error(`teacher/student must hold n*dims = ${n * dims} values (got ${teacher.length}, ${student.length})`);
  }
  const matrix = randomOrthoProjection(dims, seed);
  const rows = balancedSubsample(n, maxPoints, seed, labels);
  const t = projectRows(teacher, dims, matrix, rows);
  const s = projectRows(student, dims, matrix, rows);

  const labelOf = (k: number) => (labels ? (labels[rows[k]] ? "anomalous" : "normal") : undefined);
  const points: Record<string, unknown>[] = [];
  const segments: Record<string, unknown>[] = [];
  let lo = Infinity, hi = -Infinity;
  for (let k = 0; k < rows.length; k++) {
    const [tx, ty, sx, sy] = [t[2 * k], t[2 * k + 1], s[2 * k], s[2 * k + 1]].map(round6) as number[];
    lo = Math.min(lo, tx, ty, sx, sy);
    hi = Math.max(hi, tx, ty, sx, sy);
    const label = labelOf(k);
    points.push({ role: "teacher", label, x: tx, y: ty }, { role: "student", label, x: sx, y: sy });
    segments.push({ label, x: tx, y: ty, x2: sx, y2: sy });
  }
  // One domain for both axes at equal size: the projection preserves angles, so should the plot.
  const pad = (hi - lo) * 0.05 || 1;
  const domain = rows.length ? [round6(lo - pad), round6(hi + pad)] : [0, 1];
  const x = { field: "x", type: "quantitative", title: "projection axis 1", scale: { domain, nice: false } };
  const y = { field: "y", type: "quantitative", title: "projection axis 2", scale: { domain, nice: false } };
  const shown = rows.length < n ? `${rows.length} of ${n} pairs` : `${n} pairs`;

  return {
    $schema: VEGA_LITE_SCHEMA,
    title: titleOf(title, `${shown}, ${dims}-d outputs, random orthographic projection (seed ${seed})`),
    width: SIZE,
    height: SIZE,
    layer: [
      {
        data: { values: segments },
        mark: { type: "rule", strokeWidth: 0.7, opacity: 0.6, aria: false }, // aria labels would triple the SVG size
        encoding: {
          x,
          y,
          x2: { field: "x2" },
          y2: { field: "y2" },
          // Anomalous pairs in red: their segments are the long ones.
          color: labels ? { condition: { test: "datum.label === 'anomalous'", value: "#d62728" }, value: "#9e9e9e" } : { value: "#9e9e9e" },
        },
      },
      {
        data: { values: points },
        mark: { type: "point", filled: true, size: 18, opacity: 0.85, aria: false },
        encoding: {
          x,
          y,
          color: { field: "role", type: "nominal", title: "output", scale: ROLE_COLOURS },
          ...(labels
            ? { shape: { field: "label", type: "nominal", title: "pixel", scale: { domain: ["normal", "anomalous"], range: ["circle", "triangle-up"] } } }
            : {}),
        },
      },
    ],
  } as VegaLiteSpec;
}
