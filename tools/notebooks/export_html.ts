/**
 * Executed notebook -> static HTML (`jupyter nbconvert --to html`), plus the checks that the
 * page works offline: no network resources, and every SVG chart inline.
 *
 * Debian's nbconvert 6.5 passes `image/svg+xml` outputs through lxml's `clean_html`, which
 * strips every SVG element and leaves only the text (the charts come out blank). The notebooks
 * are our own, executed by us, so a small template (templates/raw_svg.html.j2) prints the SVG as
 * it is.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Notebook, SVG_MIME, VEGALITE_MIME } from "./check_outputs.ts";
import { topLevelSvgs } from "./chromium.ts";

/**
 * nbconvert's `lab` template with only the SVG block changed (templates/raw_svg.html.j2), passed
 * to `--template-file` as it is: nbconvert adds its folder to the template search path.
 */
export const RAW_SVG_TEMPLATE_FILE: string = fileURLToPath(new URL("./templates/raw_svg.html.j2", import.meta.url));

/** nbconvert's HTMLExporter display priority (nbconvert 6.5 and 7): the first present MIME wins. */
export const HTML_DISPLAY_PRIORITY = [
  "application/vnd.jupyter.widget-view+json",
  "application/javascript",
  "text/html",
  "text/markdown",
  SVG_MIME,
  "text/latex",
  "image/png",
  "image/jpeg",
  "text/plain",
];

export interface HtmlExport {
  html: string | null;
  seconds: number;
  problems: string[];
  /** outputs that the HTML shows as their SVG */
  expectedSvgs: number;
  /** top-level <svg> elements in the HTML file */
  inlineSvgs: number;
}

/** The MIME type nbconvert's HTML shows for one output's data, or null when none is known. */
export function renderedMime(data: Record<string, unknown>): string | null {
  return HTML_DISPLAY_PRIORITY.find((m) => m in data) ?? null;
}

/**
 * SVG outputs the HTML must show inline (as image/svg+xml, or inline in the text/html of a
 * captioned figure), and problems with charts it would not show as SVG (a Vega-Lite output
 * whose text/html or markdown without the SVG wins over its SVG).
 */
export function expectedInlineSvgs(nb: Notebook): { count: number; problems: string[] } {
  let count = 0;
  const problems: string[] = [];
  nb.cells.forEach((cell, index) => {
    for (const out of cell.outputs ?? []) {
      if (!out.data) continue;
      const shown = renderedMime(out.data);
      // a captioned figure (lib/viz captionedHtml) shows its SVG inline in its text/html
      const htmlSvgs = shown === "text/html" ? topLevelSvgs(String(out.data["text/html"])).length : 0;
      if (shown === SVG_MIME) count++;
      else if (htmlSvgs > 0) count += htmlSvgs;
      else if (VEGALITE_MIME in out.data && SVG_MIME in out.data) {
        problems.push(`cell ${index}: chart renders as ${shown} in HTML, not as its SVG`);
      }
    }
  });
  return { count, problems };
}

/**
 * URLs the page would fetch from the network: src/href of script, link, img, iframe, source,
 * embed, object data, and CSS url()/@import. Plain <a href> links are not fetched and not listed.
 */
export function networkResources(html: string): string[] {
  const urls = new Set<string>();
  const remote = /^(?:https?:)?\/\//i;
  const tag = /<(script|link|img|iframe|source|embed|object|audio|video)\b[^>]*>/gi;
  for (const m of html.matchAll(tag)) {
    for (const a of m[0].matchAll(/\b(?:src|href|data)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/gi)) {
      const url = (a[1] ?? a[2] ?? a[3] ?? "").trim();
      // <link rel=...> that only names a document (canonical, author) is not fetched
      if (m[1].toLowerCase() === "link" && !/rel\s*=\s*["']?(?:stylesheet|preload|icon|modulepreload)/i.test(m[0])) continue;
      if (remote.test(url)) urls.add(url);
    }
  }
  for (const m of html.matchAll(/(?:url\(\s*["']?|@import\s+["'])((?:https?:)?\/\/[^"')\s]+)/gi)) urls.add(m[1]);
  return [...urls];
}

/**
 * Converts an executed notebook to `<outDir>/<name>.html` and checks it. `nbconvert` is the
 * command line prefix that runs nbconvert (e.g. `["/usr/bin/python3", "-m", "nbconvert"]`).
 */
export async function exportHtml(
  executedPath: string,
  outDir: string,
  name: string,
  nb: Notebook,
  nbconvert: string[],
): Promise<HtmlExport> {
  const started = performance.now();
  const [cmd, ...pre] = nbconvert;
  const result = await new Deno.Command(cmd, {
    args: [...pre, "--to", "html", "--template-file", RAW_SVG_TEMPLATE_FILE, "--output-dir", outDir, "--output", name, executedPath],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const seconds = (performance.now() - started) / 1000;
  const htmlPath = join(outDir, `${name}.html`);
  if (!result.success) {
    const err = new TextDecoder().decode(result.stderr).trim().split("\n").slice(-3).join(" | ");
    return { html: null, seconds, problems: [`nbconvert --to html failed (exit ${result.code}): ${err}`], expectedSvgs: 0, inlineSvgs: 0 };
  }
  const html = await Deno.readTextFile(htmlPath);
  const { count: expectedSvgs, problems } = expectedInlineSvgs(nb);
  const inlineSvgs = topLevelSvgs(html).length;
  for (const url of networkResources(html)) problems.push(`needs the network: ${url}`);
  if (inlineSvgs < expectedSvgs) problems.push(`${inlineSvgs} inline <svg> in the HTML, expected >= ${expectedSvgs}`);
  return { html: htmlPath, seconds, problems, expectedSvgs, inlineSvgs };
}
