/**
 * The label check: geometry and problem messages on hand-made measurements, then the probe in
 * Chromium on small synthetic pages (overlapping -> fails, spaced -> passes) and on the real
 * long-label bar chart (Table 7's labels). The Chromium tests are skipped without Chromium.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../assert.ts";
import { checkPage, findChromium } from "../../../tools/notebooks/chromium.ts";
import { type LabelReport, labelProblems, type MeasuredLabel, outsideBy, type Point, quadsOverlap } from "../../../tools/notebooks/label_check.ts";
import { barChart, type BarRow } from "../../../lib/viz/charts.ts";
import { rocChart } from "../../../lib/viz/charts.ts";
import { vegaLiteToSvg } from "../../../lib/viz/render.ts";

const box = (x: number, y: number, w: number, h: number): Point[] => [[x, y], [x + w, y], [x + w, y + h], [x, y + h]];
/** A w x h box rotated by `deg` about (cx, cy). */
function rotated(cx: number, cy: number, w: number, h: number, deg: number): Point[] {
  const a = (deg * Math.PI) / 180, c = Math.cos(a), s = Math.sin(a);
  return box(0, -h / 2, w, h).map(([x, y]) => [cx + x * c - y * s, cy + x * s + y * c]);
}

Deno.test("quadsOverlap: boxes, touching edges within the tolerance, rotated parallel labels", () => {
  assert(quadsOverlap(box(0, 0, 50, 10), box(40, 2, 50, 10)));
  assert(!quadsOverlap(box(0, 0, 50, 10), box(60, 0, 50, 10)));
  assert(!quadsOverlap(box(0, 0, 50, 10), box(49.5, 0, 50, 10)), "0.5 px shared is within the tolerance");
  // two -45 degree labels 20 px apart: their axis-aligned boxes overlap, the labels do not
  assert(!quadsOverlap(rotated(100, 0, 80, 12, -45), rotated(120, 0, 80, 12, -45)));
  assert(quadsOverlap(rotated(100, 0, 80, 12, -45), rotated(105, 0, 80, 12, -45)));
  assertEquals(outsideBy(box(0, 0, 10, 10), [0, 0, 100, 100]), 0);
  assertEquals(outsideBy(box(95, 0, 10, 10), [0, 0, 100, 100]), 5);
});

function label(text: string, quad: Point[], extra: Partial<MeasuredLabel> = {}): MeasuredLabel {
  return { figure: 0, svgTitle: "Bars", kind: "axis", container: 0, containerName: "x axis", text, quad, svgBox: [0, 0, 400, 300], ...extra };
}

Deno.test("labelProblems: names the page, the figure and both overlapping labels; ellipsis; clipped", () => {
  const report: LabelReport = {
    figures: [{ title: "Bars" }],
    labels: [
      label("depth: pos_enc=yes mask=no", box(10, 280, 120, 11)),
      label("depth: pos_enc=no mask=no", box(100, 280, 120, 11)),
      label("rgb", box(250, 280, 20, 11)),
      // another axis: not compared with the x axis
      label("0.5", box(100, 280, 20, 11), { container: 1, containerName: "y axis" }),
      label("AST (student-teacher dist\u2026", box(300, 20, 90, 11), { kind: "legend", container: 2, containerName: "legend" }),
      label("teacher NLL (AUC 0.912)", box(390, 40, 90, 11), { kind: "legend", container: 2, containerName: "legend" }),
    ],
  };
  assertEquals(labelProblems(report, "06_table7"), [
    '06_table7: figure 1 "Bars": x axis labels overlap: "depth: pos_enc=yes mask=no" and "depth: pos_enc=no mask=no"',
    '06_table7: figure 1 "Bars": legend label cut with an ellipsis: "AST (student-teacher dist…"',
    '06_table7: figure 1 "Bars": legend label "teacher NLL (AUC 0.912)" reaches 80 px outside the figure (clipped)',
  ]);
  assertEquals(labelProblems({ figures: [{ title: "Bars" }], labels: [label("a", box(0, 0, 10, 10)), label("b", box(20, 0, 10, 10))] }, "p"), []);
});

// ---- in Chromium ---------------------------------------------------------------------------

const chromium = findChromium({ override: Deno.env.get("CHROMIUM"), searchPath: Deno.env.get("PATH") ?? "" });
const inChromium = { ignore: !chromium, sanitizeResources: false, sanitizeOps: false };
if (!chromium) console.warn("SKIP label check in Chromium: chromium missing");

/** A notebook-like page (the jp-Notebook class checkPage looks for) with the given figures and a colourful strip so it is not blank. */
function page(...svgs: string[]): string {
  const strip = Array.from({ length: 32 }, (_, i) => `<span style="display:inline-block;width:20px;height:60px;background:hsl(${i * 11},80%,50%)"></span>`).join("");
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{font-family:sans-serif}</style></head><body><div class="jp-Notebook">${strip}` +
    svgs.map((s) => `<div class="jp-OutputArea-output">${s}</div>`).join("") + `</div></body></html>`;
}

/** A vega-like chart: x-axis labels at the given x positions, one bar, an optional legend label. */
function vegaLike(title: string, labels: [string, number][], legend?: string): string {
  const texts = labels.map(([t, x]) => `<text text-anchor="middle" transform="translate(${x},15)" font-family="sans-serif" font-size="10px">${t}</text>`).join("");
  const leg = legend
    ? `<g class="mark-group role-legend" aria-label="Symbol legend"><g class="mark-text role-legend-label"><text transform="translate(250,40)" font-family="sans-serif" font-size="10px">${legend}</text></g></g>`
    : "";
  return `<svg xmlns="http://www.w3.org/2000/svg" class="marks" width="400" height="120" viewBox="0 0 400 120">` +
    `<rect width="400" height="120" fill="white"/><g class="mark-group role-frame root">` +
    `<g class="mark-group role-title"><g class="mark-text role-title-text"><text transform="translate(10,12)" font-size="13px">${title}</text></g></g>` +
    `<g class="mark-rect role-mark marks"><path d="M20,30h30v60h-30Z" fill="#4c78a8"/></g>` +
    `<g class="mark-group role-axis" aria-label="X-axis for a discrete scale"><g transform="translate(0,90)"><g class="mark-text role-axis-label">${texts}</g></g></g>` +
    `${leg}</g></svg>`;
}

async function check(html: string, expectedSvgs = 1) {
  const dir = await Deno.makeTempDir({ prefix: "ast-labels-" });
  try {
    await Deno.writeTextFile(join(dir, "synthetic.html"), html);
    return await checkPage(chromium!, join(dir, "synthetic.html"), join(dir, "synthetic.png"), expectedSvgs);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({ name: "label check in Chromium: overlapping axis labels and an ellipsis fail, spaced labels pass", ...inChromium }, async () => {
  const bad = await check(page(vegaLike("Crowded", [["depth: pos_enc=yes mask=no", 80], ["depth: pos_enc=no mask=no", 130], ["rgb", 300]], "AST (student-teacher dist\u2026")));
  assert(bad.labels !== null, bad.problems.join("\n"));
  assertEquals(bad.problems, [
    'synthetic: figure 1 "Crowded": x axis labels overlap: "depth: pos_enc=yes mask=no" and "depth: pos_enc=no mask=no"',
    'synthetic: figure 1 "Crowded": legend label cut with an ellipsis: "AST (student-teacher dist…"',
  ]);
  const good = await check(page(vegaLike("Spaced", [["rgb", 60], ["depth", 160], ["combi", 260]], "AST (AUC 0.950)")));
  assertEquals(good.problems, []);
  assertEquals(good.labels!.labels.filter((l) => l.kind === "axis").length, 3);
});

Deno.test({ name: "label check in Chromium: a hand-built SVG's texts, and one clipped by the SVG edge", ...inChromium }, async () => {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><title>map</title><rect width="200" height="100" fill="white"/>` +
    `<circle cx="50" cy="50" r="20" fill="red"/><text x="10" y="20" font-size="11">input</text><text x="20" y="22" font-size="11">anomaly</text>` +
    `<text x="170" y="60" font-size="11">colour scale</text></svg>`;
  const r = await check(page(svg));
  assertEquals(r.problems.length, 2, r.problems.join("\n"));
  assert(r.problems[0].startsWith('synthetic: figure 1 "map": text labels overlap: "input" and "anomaly"'), r.problems[0]);
  assert(/text label "colour scale" reaches \d+ px outside the figure/.test(r.problems[1]), r.problems[1]);
});

/** Table 7's groups: mode x (pos_enc, mask), two methods each, as the notebook labels them. */
export function table7Rows(): BarRow[] {
  const rows: BarRow[] = [];
  let k = 0;
  for (const mode of ["combi", "depth", "rgb"]) {
    for (const pe of ["no", "yes"]) {
      for (const mask of ["no", "yes"]) {
        for (const name of ["AST", "teacher NLL"]) rows.push({ group: `${mode}: pos_enc=${pe} mask=${mask}`, name, value: 0.55 + 0.03 * (k++ % 13) });
      }
    }
  }
  return rows;
}

Deno.test({ name: "label check in Chromium: the Table 7 bar chart and a long-legend ROC chart are legible", ...inChromium }, async () => {
  const bars = await vegaLiteToSvg(barChart(table7Rows(), { title: "Positional encoding and foreground mask", yLabel: "image AUROC", domain: [0, 1] }));
  const roc = await vegaLiteToSvg(rocChart([
    { name: "AST (student-teacher distance)", fpr: [0, 0.1, 1], tpr: [0, 0.9, 1] },
    { name: "teacher NLL", fpr: [0, 0.3, 1], tpr: [0, 0.7, 1] },
  ], { title: "Image-level ROC" }));
  const r = await check(page(bars, roc), 2);
  assertEquals(r.problems, []);
  const texts = r.labels!.labels.map((l) => l.text);
  assert(texts.some((t) => t.includes("AST (student-teacher distance) (AUC")), texts.join(" | "));
  assert(texts.some((t) => t.includes("pos_enc=yes")), texts.join(" | "));

  // the same bars forced under a 400 px wide plot (12 columns of 33 px): the check catches the pile-up
  const forced = await vegaLiteToSvg(barChart(table7Rows(), { title: "forced vertical", orient: "vertical" }));
  const crowded = await check(page(forced));
  assert(crowded.problems.some((p) => p.startsWith('synthetic: figure 1 "forced vertical": x axis labels overlap: "combi:')), crowded.problems.join("\n"));
});
