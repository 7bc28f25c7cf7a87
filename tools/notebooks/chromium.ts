/**
 * Opens exported notebook HTML in headless Debian Chromium and checks what a reader would see:
 * the rendered DOM has the SVG charts, each chart has drawn marks, and a screenshot is not
 * blank, and every figure's axis and legend labels are legible (label_check.ts: no overlaps, no
 * ellipsis cuts, nothing clipped). One Chromium call per page gives the DOM (`--dump-dom`, stdout,
 * with the label measurements the injected probe wrote into it) and the PNG.
 */
import { basename, dirname, join, resolve } from "node:path";
import { Buffer } from "node:buffer";
import { PNG } from "pngjs";
import { injectLabelProbe, type LabelReport, labelProblems, readLabelReport } from "./label_check.ts";

export const CHROMIUM_CANDIDATES = ["/usr/bin/chromium", "chromium", "chromium-browser"];

/**
 * Flags for a closed network: without the background-networking ones Chromium keeps trying
 * Google's hosts. `--no-sandbox` because CI runs as root.
 */
export const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where to look for Chromium; the entry point reads both from the environment. */
export interface ChromiumLookup {
  /** `$CHROMIUM`: a name or path used instead of the candidates */
  override?: string;
  /** `$PATH`: folders searched for a bare name, `:`-separated */
  searchPath: string;
}

/** The first executable named `name` in `searchPath` (or an absolute path that exists), else null. */
export function which(name: string, searchPath: string): string | null {
  const dirs = name.includes("/") ? [""] : searchPath.split(":").filter(Boolean);
  for (const dir of dirs) {
    const path = dir ? join(dir, name) : name;
    try {
      const info = Deno.statSync(path);
      if (info.isFile && (info.mode ?? 0o111) & 0o111) return path;
    } catch { /* not here */ }
  }
  return null;
}

/** Debian's Chromium (the override, when given, instead), or null. */
export function findChromium({ override, searchPath }: ChromiumLookup): string | null {
  if (override) return which(override, searchPath);
  for (const c of CHROMIUM_CANDIDATES) {
    const found = which(c, searchPath);
    if (found) return found;
  }
  return null;
}

export interface ChromiumRun {
  dom: string;
  seconds: number;
  /** null when Chromium exited normally */
  failure: string | null;
}

/**
 * Loads `htmlPath` once: rendered DOM from stdout, screenshot into `pngPath`. Killed after
 * `timeoutMs`. A fresh profile per call, removed afterwards.
 */
export async function renderPage(
  chromium: string,
  htmlPath: string,
  pngPath: string,
  { timeoutMs = 60_000, width = 1280, height = 4000 } = {},
): Promise<ChromiumRun> {
  const profile = await Deno.makeTempDir({ prefix: "ast-chromium-" });
  const started = performance.now();
  const child = new Deno.Command(chromium, {
    args: [
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      "--dump-dom",
      `--screenshot=${resolve(pngPath)}`,
      `--window-size=${width},${height}`,
      "--hide-scrollbars",
      // lets the page's scripts (MathJax) settle before the dump; virtual time, so no real wait
      "--virtual-time-budget=5000",
      fileUrl(htmlPath),
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      child.kill("SIGKILL"); // its helper processes exit when their parent's pipes close
    } catch { /* already gone */ }
  }, timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  const seconds = (performance.now() - started) / 1000;
  await Deno.remove(profile, { recursive: true }).catch(() => {});
  const dom = new TextDecoder().decode(out.stdout);
  let failure: string | null = null;
  if (timedOut) failure = `chromium timed out after ${timeoutMs / 1000} s`;
  else if (!out.success) {
    const lines = new TextDecoder().decode(out.stderr).split("\n").filter((l) => l.trim() && !/dbus|Fontconfig/i.test(l));
    failure = `chromium exited with ${out.code}: ${lines.slice(-2).join(" | ")}`;
  } else if (!dom.trim()) failure = "chromium printed no DOM";
  return { dom, seconds, failure };
}

function fileUrl(path: string): string {
  return "file://" + resolve(path).split("/").map(encodeURIComponent).join("/");
}

// ---- DOM checks (pure) ---------------------------------------------------------------------

const TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[^\s=>/]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']+))?)*)\s*(\/?)>/g;
const VOID_HTML = new Set(["br", "img", "input", "meta", "link", "hr", "source", "wbr", "area", "base", "col", "embed", "track"]);

/** Top-level <svg>…</svg> substrings of an HTML document, in order. */
export function topLevelSvgs(html: string): string[] {
  const found: string[] = [];
  let depth = 0, start = -1;
  for (const m of html.matchAll(TAG)) {
    if (m[2].toLowerCase() !== "svg") continue;
    const closing = m[1] === "/", selfClosing = m[4] === "/";
    if (!closing && selfClosing) {
      if (depth === 0) found.push(m[0]);
    } else if (!closing) {
      if (depth++ === 0) start = m.index!;
    } else if (depth > 0 && --depth === 0) {
      found.push(html.slice(start, m.index! + m[0].length));
    }
  }
  return found;
}

const DRAWN = new Set(["path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "image", "text", "use"]);

interface Element {
  name: string;
  attrs: string;
  children: Element[];
}

/** A forgiving element tree of an SVG string (enough for generated SVG). */
function parseSvg(svg: string): Element {
  const root: Element = { name: "#root", attrs: "", children: [] };
  const stack = [root];
  for (const m of svg.matchAll(TAG)) {
    const name = m[2].toLowerCase();
    if (m[1] === "/") {
      const at = stack.map((e) => e.name).lastIndexOf(name);
      if (at > 0) stack.length = at;
      continue;
    }
    const el: Element = { name, attrs: m[3], children: [] };
    stack[stack.length - 1].children.push(el);
    if (m[4] !== "/" && !VOID_HTML.has(name)) stack.push(el);
  }
  return root;
}

function* walk(el: Element): Generator<Element> {
  yield el;
  for (const c of el.children) yield* walk(c);
}

function className(el: Element): string {
  return el.attrs.match(/\bclass\s*=\s*["']([^"']*)["']/)?.[1] ?? "";
}

export interface SvgMarks {
  kind: "vega" | "svg";
  /** drawn elements counted as marks */
  marks: number;
  ok: boolean;
}

/**
 * Whether an SVG draws something. Vega SVG (groups `class="mark-… role-…"`): at least one
 * element inside a data-mark group (`role-mark`), since axes and the background are drawn even
 * with no data. Other SVG (d3, hand-made): a path/circle/line/image/text/…, or >= 2 rects (one
 * rect alone is usually a background).
 */
export function svgMarks(svg: string): SvgMarks {
  const tree = parseSvg(svg);
  const all = [...walk(tree)];
  const groups = all.filter((e) => e.name === "g" && /\bmark-\w+/.test(className(e)));
  if (groups.length) {
    let marks = 0;
    for (const g of groups) {
      if (!/\brole-mark\b/.test(className(g))) continue;
      marks += g.children.filter((c) => DRAWN.has(c.name) || c.name === "g").length;
    }
    return { kind: "vega", marks, ok: marks > 0 };
  }
  const drawn = all.filter((e) => DRAWN.has(e.name));
  const nonRect = drawn.filter((e) => e.name !== "rect").length;
  return { kind: "svg", marks: drawn.length, ok: nonRect > 0 || drawn.length >= 2 };
}

// ---- screenshot check (pure) ---------------------------------------------------------------

export interface PixelStats {
  width: number;
  height: number;
  /** pixels differing from the page background (the most common colour) by > 24 in a channel */
  drawn: number;
  /** rows from the top to the last row with a drawn pixel (the page's drawn extent) */
  extentRows: number;
  /** drawn share of the drawn extent (0 for a blank page); independent of the window height */
  drawnFraction: number;
  /** distinct RGB colours (counted up to 4096) */
  colours: number;
}

/** Decodes a PNG and measures how much is drawn on it. */
export function pixelStats(png: Uint8Array): PixelStats {
  const { width, height, data } = PNG.sync.read(Buffer.from(png));
  const counts = new Map<number, number>();
  for (let i = 0; i < data.length; i += 4) {
    const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    if (counts.size < 4096 || counts.has(key)) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  let bg = 0xffffff, best = -1;
  for (const [k, n] of counts) if (n > best) [bg, best] = [k, n];
  const [br, bgG, bb] = [bg >> 16, (bg >> 8) & 255, bg & 255];
  let drawn = 0, extentRows = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0, i = y * width * 4; x < width; x++, i += 4) {
      if (Math.max(Math.abs(data[i] - br), Math.abs(data[i + 1] - bgG), Math.abs(data[i + 2] - bb)) > 24) {
        drawn++;
        extentRows = y + 1;
      }
    }
  }
  return { width, height, drawn, extentRows, drawnFraction: extentRows ? drawn / (width * extentRows) : 0, colours: counts.size };
}

/**
 * "Not blank": at least this share of the drawn extent, this many pixels, this many colours.
 * Measured on 1280-wide notebook pages: one short cell ~6%, a bar chart and two cells ~4%.
 */
export const MIN_DRAWN_FRACTION = 0.005;
export const MIN_DRAWN_PIXELS = 1000;
export const MIN_COLOURS = 16;

/** Why a screenshot counts as blank, or null. */
export function blankReason(p: PixelStats): string | null {
  if (p.drawn >= MIN_DRAWN_PIXELS && p.drawnFraction >= MIN_DRAWN_FRACTION && p.colours >= MIN_COLOURS) return null;
  return `screenshot looks blank: ${p.drawn} drawn pixels (min ${MIN_DRAWN_PIXELS}), ${(p.drawnFraction * 100).toFixed(2)}% of the drawn area (min ${
    MIN_DRAWN_FRACTION * 100
  }%), ${p.colours} colours (min ${MIN_COLOURS})`;
}

// ---- one page ------------------------------------------------------------------------------

export interface PageCheck {
  ok: boolean;
  problems: string[];
  seconds: number;
  svgs: number;
  svgMarks: SvgMarks[];
  pixels: PixelStats | null;
  screenshot: string;
  /** the label measurements, null when the probe did not run */
  labels: LabelReport | null;
}

/**
 * Renders `htmlPath` and checks it against the executed notebook: >= `expectedSvgs` top-level
 * <svg> in the DOM, marks drawn in each, a screenshot that is not blank, legible labels. The page
 * is loaded as a copy beside it with the label probe added (same folder, so relative links
 * resolve); the copy is removed afterwards.
 */
export async function checkPage(
  chromium: string,
  htmlPath: string,
  pngPath: string,
  expectedSvgs: number,
  options: { timeoutMs?: number } = {},
): Promise<PageCheck> {
  const page = basename(htmlPath).replace(/\.html?$/i, "");
  const probed = join(dirname(htmlPath), `.${page}.label-check.html`);
  await Deno.writeTextFile(probed, injectLabelProbe(await Deno.readTextFile(htmlPath)));
  let run: ChromiumRun;
  try {
    run = await renderPage(chromium, probed, pngPath, options);
  } finally {
    await Deno.remove(probed).catch(() => {});
  }
  const problems: string[] = [];
  const labels = run.failure ? null : readLabelReport(run.dom);
  if (run.failure) problems.push(run.failure);
  const svgs = topLevelSvgs(run.dom);
  const marks = svgs.map(svgMarks);
  if (!run.failure) {
    // the notebook itself, not an error page
    if (!/class="[^"]*\bjp-Notebook\b/.test(run.dom)) problems.push("rendered page is not a notebook (no jp-Notebook element)");
    if (svgs.length < expectedSvgs) problems.push(`rendered DOM has ${svgs.length} <svg>, expected >= ${expectedSvgs}`);
    marks.forEach((m, i) => {
      if (!m.ok) problems.push(`svg #${i + 1} (${m.kind}) has no drawn marks`);
    });
    if (!labels) problems.push("the label probe wrote no measurements (page scripts did not run?)");
    else problems.push(...labelProblems(labels, page));
  }
  let pixels: PixelStats | null = null;
  try {
    pixels = pixelStats(await Deno.readFile(pngPath));
    const blank = blankReason(pixels);
    if (blank) problems.push(blank);
  } catch (e) {
    if (!run.failure) problems.push(`no readable screenshot: ${(e as Error).message}`);
  }
  return { ok: problems.length === 0, problems, seconds: run.seconds, svgs: svgs.length, svgMarks: marks, pixels, screenshot: pngPath, labels };
}
