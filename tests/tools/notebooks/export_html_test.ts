import { assert, assertEquals } from "../../assert.ts";
import { expectedInlineSvgs, networkResources, RAW_SVG_TEMPLATE_FILE, renderedMime } from "../../../tools/notebooks/export_html.ts";
import { code, display, notebook, VEGA_SVG } from "./_notebooks.ts";

Deno.test("networkResources lists what a page would fetch, not links or local files", () => {
  const html = `<html><head>
    <script src="https://cdn.example.org/require.js"></script>
    <script src="file:///usr/share/javascript/requirejs/require.min.js"></script>
    <link rel="stylesheet" href="//fonts.example.org/css">
    <link rel="canonical" href="https://example.org/page">
    <style>@import "https://example.org/a.css"; .x { background: url(http://example.org/b.png) }</style>
    </head><body><a href="https://github.com/x">a link</a><img src='https://example.org/c.png'>
    <img src="data:image/png;base64,AAAA"><svg xmlns="http://www.w3.org/2000/svg"></svg></body></html>`;
  assertEquals(networkResources(html).sort(), [
    "//fonts.example.org/css",
    "http://example.org/b.png",
    "https://cdn.example.org/require.js",
    "https://example.org/a.css",
    "https://example.org/c.png",
  ]);
  assertEquals(networkResources(`<script src="file:///x.js"></script><a href="http://y">y</a>`), []);
});

Deno.test("an SVG output is inline only when no richer MIME type wins", () => {
  assertEquals(renderedMime({ "image/svg+xml": "<svg/>", "image/png": "x", "text/plain": "p" }), "image/svg+xml");
  assertEquals(renderedMime({ "text/html": "<div/>", "image/svg+xml": "<svg/>" }), "text/html");
  assertEquals(renderedMime({ "application/vnd.vegalite.v5+json": {} }), null);
  const vl = "application/vnd.vegalite.v5+json";
  const nb = notebook(
    code("a", [display({ [vl]: {}, "image/svg+xml": VEGA_SVG })]),
    code("b", [display({ "image/svg+xml": "<svg/>" }), { output_type: "execute_result", data: { "image/svg+xml": "<svg/>" } }]),
    code("c", [display({ [vl]: {}, "image/svg+xml": VEGA_SVG, "text/html": "<div id=vis></div>" })]),
    // a captioned figure: its text/html holds the SVG inline
    code("d", [display({ [vl]: {}, "image/svg+xml": VEGA_SVG, "text/html": `<figure>${VEGA_SVG}<figcaption>c</figcaption></figure>` })]),
  );
  const { count, problems } = expectedInlineSvgs(nb);
  assertEquals(count, 4);
  assertEquals(problems, ["cell 2: chart renders as text/html in HTML, not as its SVG"]);
});

Deno.test("the HTML template prints SVG and HTML (captioned figures) unsanitised in the lab template", async () => {
  const template = await Deno.readTextFile(RAW_SVG_TEMPLATE_FILE);
  assert(template.includes("extends 'lab/index.html.j2'"));
  assert(template.includes("{{ output.data['image/svg+xml'] }}"));
  assert(template.includes("{{ output.data['text/html'] }}"));
  assert(!template.includes("clean_html"));
});
