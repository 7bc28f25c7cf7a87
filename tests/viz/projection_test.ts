import { assert, assertEquals, assertThrows } from "../assert.ts";
import { balancedSubsample, projectRows, randomOrthoProjection, seededGaussian } from "../../lib/viz/projection.ts";
import { projectionChart } from "../../lib/viz/projection_chart.ts";
import { vegaLiteToSvg } from "../../lib/viz/render.ts";
import { mulberry32 } from "../../lib/util/random.ts";
import { vegaItems } from "./_helpers.ts";

Deno.test("seededGaussian: deterministic, mean ~0 and variance ~1", () => {
  const g = seededGaussian(11);
  const xs = Float64Array.from({ length: 200_000 }, g);
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length;
  assert(Math.abs(mean) < 0.01 && Math.abs(variance - 1) < 0.01, `mean ${mean} variance ${variance}`);
  assert(xs.every(Number.isFinite));
  const again = seededGaussian(11);
  assertEquals([again(), again(), again()], [xs[0], xs[1], xs[2]]);
});

Deno.test("randomOrthoProjection: orthonormal columns, fixed per seed, new per seed", () => {
  const dims = 384;
  const m = randomOrthoProjection(dims, 5);
  let aa = 0, bb = 0, ab = 0;
  for (let i = 0; i < dims; i++) {
    aa += m[2 * i] ** 2;
    bb += m[2 * i + 1] ** 2;
    ab += m[2 * i] * m[2 * i + 1];
  }
  assert(Math.abs(aa - 1) < 1e-12 && Math.abs(bb - 1) < 1e-12 && Math.abs(ab) < 1e-12, `${aa} ${bb} ${ab}`);
  assertEquals(randomOrthoProjection(dims, 5), m);
  assert(randomOrthoProjection(dims, 6)[0] !== m[0]);
  assertThrows(() => randomOrthoProjection(1, 0), /dims >= 2/);
});

Deno.test("projectRows: matrix product of the chosen rows", () => {
  const data = new Float32Array([1, 2, 3, 4, 5, 6]); // 3 rows x 2 dims
  const swap = new Float64Array([0, 1, 1, 0]); // (x, y) -> (y, x)
  assertEquals(Array.from(projectRows(data, 2, swap, [2, 0])), [6, 5, 2, 1]);
});

Deno.test("balancedSubsample: sorted, distinct, per-seed, labels share the budget", () => {
  const n = 10_000;
  const labels = new Uint8Array(n);
  for (let i = 0; i < 150; i++) labels[i * 61] = 1; // 1.5% anomalous
  const a = balancedSubsample(n, 400, 9, labels);
  assertEquals(a.length, 400);
  assertEquals(new Set(a).size, 400);
  assert(a.every((v, i) => i === 0 || v > a[i - 1]));
  assertEquals(a.filter((i) => labels[i] === 1).length, 150); // all anomalies (short of half), rest normal
  assertEquals(balancedSubsample(n, 400, 9, labels), a);
  assert(balancedSubsample(n, 400, 10, labels).some((v, i) => v !== a[i]));
  const many = new Uint8Array(n).fill(1, 0, 5000);
  assertEquals(balancedSubsample(n, 400, 1, many).filter((i) => many[i] === 1).length, 200);
  assertEquals(Array.from(balancedSubsample(3, 10, 1)), [0, 1, 2]);
});

function pairs(n: number, dims: number, seed: number) {
  const rng = mulberry32(seed);
  const teacher = Float32Array.from({ length: n * dims }, () => rng() - 0.5);
  const student = teacher.map((v) => v + 0.1 * (rng() - 0.5));
  const labels = new Uint8Array(n).map((_, i) => (i % 10 === 0 ? 1 : 0));
  for (let i = 0; i < n; i += 10) for (let d = 0; d < dims; d++) student[i * dims + d] += rng() - 0.5;
  return { teacher, student, labels };
}

Deno.test("projectionChart: a segment per pair, 2 points per pair, deterministic per seed", async () => {
  const { teacher, student, labels } = pairs(500, 32, 1);
  const spec = projectionChart(teacher, student, 500, 32, { seed: 4, labels, maxPoints: 120 });
  const svg = await vegaLiteToSvg(spec);
  assertEquals(vegaItems(svg, "rule"), 120);
  assertEquals(vegaItems(svg, "symbol"), 240);
  assert(svg.includes(">teacher</text>") && svg.includes(">student</text>") && svg.includes(">anomalous</text>"));
  assert(svg.includes("120 of 500 pairs"));
  assertEquals(await vegaLiteToSvg(projectionChart(teacher, student, 500, 32, { seed: 4, labels, maxPoints: 120 })), svg);
  assert(await vegaLiteToSvg(projectionChart(teacher, student, 500, 32, { seed: 5, labels, maxPoints: 120 })) !== svg);
  assertThrows(() => projectionChart(teacher, student, 501, 32, { seed: 4 }), /n\*dims/);
});

Deno.test("projectionChart: anomalous pairs project farther apart than normal ones", () => {
  const { teacher, student, labels } = pairs(400, 32, 2);
  const spec = projectionChart(teacher, student, 400, 32, { seed: 1, labels }) as unknown as {
    layer: { data: { values: { label: string; x: number; y: number; x2?: number; y2?: number }[] } }[];
  };
  const segments = spec.layer[0].data.values;
  const meanLength = (label: string) => {
    const s = segments.filter((r) => r.label === label);
    return s.reduce((acc, r) => acc + Math.hypot(r.x2! - r.x, r.y2! - r.y), 0) / s.length;
  };
  assert(meanLength("anomalous") > 3 * meanLength("normal"), `${meanLength("anomalous")} vs ${meanLength("normal")}`);
});
