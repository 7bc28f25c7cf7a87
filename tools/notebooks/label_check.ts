/**
 * Legibility of the figures on a rendered page: a script injected into the page (LABEL_PROBE)
 * measures every text label of every SVG figure as Chromium lays it out (real fonts, real
 * transforms), and the pure functions here turn the measurements into problems:
 *
 * - two labels of the same axis, the same legend, or (hand-built SVG without vega marks) the
 *   same figure overlap by more than OVERLAP_TOLERANCE_PX;
 * - an axis, legend or title label cut with an ellipsis ("…", what vega writes when a label is
 *   longer than its `labelLimit`);
 * - a label that reaches outside its <svg> (the SVG viewport clips it).
 *
 * Which texts are which comes from vega's SVG classes: `g.role-axis-label` inside `g.role-axis`,
 * `g.role-legend-label` inside `g.role-legend`, `role-title-text` / `role-axis-title` /
 * `role-legend-title`. Other texts in a vega SVG (text marks) are not checked.
 */

/** Label boxes may share this much (px, along every separating direction) before they count as overlapping. */
export const OVERLAP_TOLERANCE_PX = 1;
/** How far (px) a label may reach past its <svg> edge before it counts as clipped. */
export const OUTSIDE_TOLERANCE_PX = 1;
/** Overlaps listed per axis / legend (the rest are counted). */
const MAX_LISTED = 3;

export type Point = [number, number];
export type LabelKind = "axis" | "legend" | "title" | "text";

export interface MeasuredLabel {
  /** 0-based index of the top-level <svg> on the page */
  figure: number;
  /** title of the innermost <svg> holding the label (the chart's title, or the <title>) */
  svgTitle: string;
  kind: LabelKind;
  /** labels with the same container are compared with each other (one axis, one legend, one hand-built SVG) */
  container: number;
  /** "x axis", "y axis", "legend", "text" */
  containerName: string;
  text: string;
  /** the text's box corners in page px (after rotation and scaling) */
  quad: Point[];
  /** the innermost <svg>'s box: left, top, right, bottom */
  svgBox: [number, number, number, number];
}

export interface LabelReport {
  figures: { title: string }[];
  labels: MeasuredLabel[];
}

/** Id of the JSON the probe writes into the page (read back from `--dump-dom`). */
export const LABEL_REPORT_ID = "ast-label-check";

/**
 * Browser script (runs in the page): waits for load and fonts, measures the labels and appends
 * `<script type="application/json" id="ast-label-check">` with a LabelReport.
 */
export const LABEL_PROBE = `
(() => {
  const round = (v) => Math.round(v * 10) / 10;
  const svgName = (svg) => {
    const own = [...svg.children].find((c) => c.tagName.toLowerCase() === "title");
    if (own && own.textContent.trim()) return own.textContent.trim();
    const t = svg.querySelector(".role-title-text text");
    return t ? t.textContent.trim() : "";
  };
  const hidden = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.display === "none" || s.visibility === "hidden" || Number(s.opacity) === 0) return true;
      if (e.tagName.toLowerCase() === "svg" && !e.parentElement.closest("svg")) break;
    }
    return false;
  };
  const measure = () => {
    const roots = [...document.querySelectorAll("svg")].filter((s) => !s.parentElement || !s.parentElement.closest("svg"));
    const containers = new Map();
    const containerId = (el) => {
      if (!containers.has(el)) containers.set(el, containers.size);
      return containers.get(el);
    };
    const figures = [], labels = [];
    roots.forEach((root, figure) => {
      figures.push({ title: svgName(root) });
      for (const t of root.querySelectorAll("text")) {
        const text = t.textContent.replace(/\\s+/g, " ").trim();
        if (!text || hidden(t)) continue;
        const svg = t.closest("svg");
        const isVega = !!svg.querySelector("g[class*='mark-']");
        let kind, container, containerName;
        const axisLabel = t.closest("g.role-axis-label"), legendLabel = t.closest("g.role-legend-label");
        if (axisLabel) {
          kind = "axis";
          container = axisLabel.closest("g.role-axis") || axisLabel;
          const aria = container.getAttribute("aria-label") || "";
          containerName = /^X-axis/.test(aria) ? "x axis" : /^Y-axis/.test(aria) ? "y axis" : "axis";
        } else if (legendLabel) {
          kind = "legend";
          container = legendLabel.closest("g.role-legend") || legendLabel;
          containerName = "legend";
        } else if (t.closest("g.role-title-text, g.role-title-subtitle, g.role-axis-title, g.role-legend-title")) {
          kind = "title";
          container = t;
          containerName = "title";
        } else if (!isVega) {
          kind = "text";
          container = svg;
          containerName = "text";
        } else continue;
        const b = t.getBBox(), m = t.getScreenCTM();
        if (!m || (b.width === 0 && b.height === 0)) continue;
        const quad = [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]]
          .map(([x, y]) => { const p = new DOMPoint(x, y).matrixTransform(m); return [round(p.x), round(p.y)]; });
        const r = svg.getBoundingClientRect();
        labels.push({ figure, svgTitle: svgName(svg), kind, container: containerId(container), containerName, text, quad,
          svgBox: [round(r.left), round(r.top), round(r.right), round(r.bottom)] });
      }
    });
    const out = document.createElement("script");
    out.type = "application/json";
    out.id = "${LABEL_REPORT_ID}";
    out.textContent = JSON.stringify({ figures, labels }).replace(/</g, "\\\\u003c");
    document.body.appendChild(out);
  };
  const start = () => (document.fonts ? document.fonts.ready : Promise.resolve()).then(() => setTimeout(measure, 0));
  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
`;

/** The page with the probe added before </body> (or at the end). */
export function injectLabelProbe(html: string): string {
  const tag = `<script>${LABEL_PROBE}</script>`;
  const at = html.toLowerCase().lastIndexOf("</body>");
  return at < 0 ? html + tag : html.slice(0, at) + tag + html.slice(at);
}

/** The probe's LabelReport from a dumped DOM, or null when the probe did not run. */
export function readLabelReport(dom: string): LabelReport | null {
  const m = dom.match(new RegExp(`<script[^>]*id="${LABEL_REPORT_ID}"[^>]*>([\\s\\S]*?)</script>`));
  if (!m) return null;
  try {
    return JSON.parse(m[1]) as LabelReport;
  } catch {
    return null;
  }
}

// ---- geometry (pure) -----------------------------------------------------------------------

function project(quad: Point[], [ax, ay]: Point): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const [x, y] of quad) {
    const v = x * ax + y * ay;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * Whether two convex quadrilaterals (label boxes, possibly rotated) overlap by more than
 * `tolerance` px in every direction (separating-axis test on both boxes' edge normals).
 */
export function quadsOverlap(a: Point[], b: Point[], tolerance = OVERLAP_TOLERANCE_PX): boolean {
  for (const quad of [a, b]) {
    for (let i = 0; i < quad.length; i++) {
      const [x0, y0] = quad[i], [x1, y1] = quad[(i + 1) % quad.length];
      const len = Math.hypot(x1 - x0, y1 - y0);
      if (len === 0) continue;
      const axis: Point = [-(y1 - y0) / len, (x1 - x0) / len];
      const [alo, ahi] = project(a, axis), [blo, bhi] = project(b, axis);
      if (Math.min(ahi, bhi) - Math.max(alo, blo) <= tolerance) return false;
    }
  }
  return true;
}

/** How far (px) a quad reaches outside a box (0 when inside). */
export function outsideBy(quad: Point[], [left, top, right, bottom]: [number, number, number, number]): number {
  let worst = 0;
  for (const [x, y] of quad) worst = Math.max(worst, left - x, x - right, top - y, y - bottom);
  return worst;
}

// ---- problems (pure) -----------------------------------------------------------------------

function figureName(report: LabelReport, label: MeasuredLabel): string {
  const outer = report.figures[label.figure]?.title ?? "";
  const inner = label.svgTitle && label.svgTitle !== outer ? `, panel "${label.svgTitle}"` : "";
  return `figure ${label.figure + 1} "${outer || "untitled"}"${inner}`;
}

const quote = (s: string) => JSON.stringify(s.length > 80 ? s.slice(0, 77) + "..." : s);

/**
 * Problems a reader would see in the figures of one page: overlapping labels, labels cut with an
 * ellipsis, labels clipped by their SVG. `page` (e.g. the notebook's name) starts each message.
 */
export function labelProblems(report: LabelReport, page: string): string[] {
  const problems: string[] = [];
  const byContainer = new Map<number, MeasuredLabel[]>();
  for (const l of report.labels) {
    if (!byContainer.has(l.container)) byContainer.set(l.container, []);
    byContainer.get(l.container)!.push(l);
  }
  for (const labels of byContainer.values()) {
    const first = labels[0];
    if (first.kind === "title") continue;
    const pairs: string[] = [];
    let count = 0;
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        if (!quadsOverlap(labels[i].quad, labels[j].quad)) continue;
        if (count++ < MAX_LISTED) pairs.push(`${quote(labels[i].text)} and ${quote(labels[j].text)}`);
      }
    }
    if (count) {
      const more = count > MAX_LISTED ? ` (and ${count - MAX_LISTED} more pairs)` : "";
      problems.push(`${page}: ${figureName(report, first)}: ${first.containerName} labels overlap: ${pairs.join("; ")}${more}`);
    }
  }
  for (const labels of byContainer.values()) {
    const cut = labels.filter((l) => l.kind !== "text" && l.text.includes("\u2026"));
    if (!cut.length) continue;
    const listed = cut.slice(0, MAX_LISTED).map((l) => quote(l.text)).join(", ");
    const more = cut.length > MAX_LISTED ? ` (and ${cut.length - MAX_LISTED} more)` : "";
    const what = cut.length === 1 ? `${cut[0].containerName} label cut` : `${cut.length} ${cut[0].containerName} labels cut`;
    problems.push(`${page}: ${figureName(report, cut[0])}: ${what} with an ellipsis: ${listed}${more}`);
  }
  for (const l of report.labels) {
    const out = outsideBy(l.quad, l.svgBox);
    if (out > OUTSIDE_TOLERANCE_PX) {
      problems.push(`${page}: ${figureName(report, l)}: ${l.containerName} label ${quote(l.text)} reaches ${out.toFixed(0)} px outside the figure (clipped)`);
    }
  }
  return problems;
}
