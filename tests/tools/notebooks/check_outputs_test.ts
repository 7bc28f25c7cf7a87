import { assert, assertEquals } from "../../assert.ts";
import { checkOutputs, countDisplayCalls, formatProblem, hiddenCaption, notebookStats } from "../../../tools/notebooks/check_outputs.ts";
import { code, display, error, markdown, notebook, stream, VEGA_SVG } from "./_notebooks.ts";

const chart = { "application/vnd.vegalite.v5+json": { mark: "bar" }, "image/svg+xml": VEGA_SVG, "text/plain": "chart" };

Deno.test("a clean notebook has no problems", () => {
  const nb = notebook(
    markdown("# Title"),
    code("const x = 1;"),
    code(["await show(chart);\n", "await showTable(rows);"], [display(chart), display({ "text/html": "<table></table>" })]),
    code("", [], { execution_count: null }), // empty cells are never run
  );
  assertEquals(checkOutputs(nb), []);
});

Deno.test("error outputs are reported with cell index, ename and evalue", () => {
  const nb = notebook(code("ok()"), code("boom()", [error("TypeError", "boom is not a function\n    at <anonymous>:1:1")]));
  const problems = checkOutputs(nb);
  assertEquals(problems, [{ cell: 1, kind: "error", message: "TypeError: boom is not a function" }]);
  assertEquals(formatProblem(problems[0]), "cell 1: error: TypeError: boom is not a function");
});

Deno.test("an error in a cell tagged raises-exception is expected", () => {
  const nb = notebook(code("throw 1", [error("Error", "1")], { metadata: { tags: ["raises-exception"] } }));
  assertEquals(checkOutputs(nb), []);
});

Deno.test("Deno errors on stderr are reported; ordinary stderr is not", () => {
  const nb = notebook(
    code("a()", [stream("stderr", "loading...\nerror: Uncaught (in promise) Error: nope\n")]),
    code("b()", [stream("stderr", ["Uncaught ", "TypeError: x\n"] as unknown as string)]),
    code("c()", [stream("stderr", "Warning: slow backend\n"), stream("stdout", "error: in stdout is fine\n")]),
  );
  const problems = checkOutputs(nb);
  assertEquals(problems.map((p) => [p.cell, p.kind]), [[0, "stderr"], [1, "stderr"]]);
  assert(problems[0].message.includes("error: Uncaught (in promise) Error: nope"), problems[0].message);
});

Deno.test("fewer display_data outputs than display calls is a missing output", () => {
  const nb = notebook(
    code("await show(a);\nawait showImage(b);\nawait Deno.jupyter.display(c, { raw: true });", [display(chart), display(chart)]),
    code("// await show(old);\n/* await showTable(t) */\nconst y = 2;", []),
    code("await show(a)", [{ output_type: "execute_result", data: { "text/plain": "1" } }]),
  );
  const problems = checkOutputs(nb);
  assertEquals(problems, [
    { cell: 0, kind: "missing-display", message: "expected >= 3 displays, got 2" },
    { cell: 2, kind: "missing-display", message: "expected >= 1 displays, got 0" },
  ]);
});

Deno.test("a cell that failed is not also reported for its missing displays", () => {
  const nb = notebook(code("await show(a); await show(b);", [display(chart), error("Error", "x")]));
  assertEquals(checkOutputs(nb).map((p) => p.kind), ["error"]);
});

Deno.test("a Vega-Lite display without SVG is reported", () => {
  const nb = notebook(code("await show(c)", [display({ "application/vnd.vegalite.v5+json": {}, "text/plain": "c" })]));
  assertEquals(checkOutputs(nb).map((p) => [p.cell, p.kind]), [[0, "chart-without-svg"]]);
});

Deno.test("cells tagged skip-output-check are exempt", () => {
  const tags = { tags: ["skip-output-check"] };
  const nb = notebook(
    code("await show(a)", [], { metadata: tags }),
    code("x()", [error("Error", "x"), stream("stderr", "error: y")], { metadata: tags }),
    code("z()", [], { metadata: tags, execution_count: null }),
  );
  assertEquals(checkOutputs(nb), []);
});

Deno.test("code cells that never ran are reported once", () => {
  const nb = notebook(
    code("a()", [error("Error", "stop")]),
    code("b()", [], { execution_count: null }),
    code("c()", [], { execution_count: null }),
  );
  const problems = checkOutputs(nb);
  assertEquals(problems.map((p) => p.kind), ["error", "not-executed"]);
  assertEquals(problems[1].message, "code cells not executed: 1, 2");
});

Deno.test("countDisplayCalls counts awaited show* and Deno.jupyter.display calls", () => {
  assertEquals(countDisplayCalls("await show(x)"), 1);
  assertEquals(countDisplayCalls("await showTable(x); await  showImage (y)"), 2);
  assertEquals(countDisplayCalls("await Deno.jupyter.display({}, {raw: true})"), 1);
  assertEquals(countDisplayCalls("show(x); const showing = 1; await shown"), 0);
  assertEquals(countDisplayCalls("fetch('https://x'); await show(a) // await show(b)"), 1);
});

Deno.test("notebookStats counts code cells, outputs, displays and SVGs", () => {
  const nb = notebook(
    markdown("x"),
    code("a", [display(chart), stream("stdout", "hi")]),
    code("b", [{ output_type: "execute_result", data: { "image/svg+xml": "<svg/>" } }], { execution_count: null }),
  );
  assertEquals(notebookStats(nb), { cells: 2, executed: 1, outputs: 3, displays: 1, svgs: 2 });
});

Deno.test("a raster image whose caption is only in text/plain is reported; captions in text/html are not", () => {
  const png = "iVBORw==";
  assertEquals(hiddenCaption({ "image/png": png, "text/plain": "[image] a defective part (crack)" }), "a defective part (crack)");
  assertEquals(hiddenCaption({ "image/png": png, "text/plain": "[image] 1234 byte PNG" }), null, "no caption given");
  assertEquals(hiddenCaption({ "image/png": png, "text/plain": "<Image object>" }), null);
  assertEquals(hiddenCaption({ "image/png": png }), null);
  assertEquals(hiddenCaption({ "text/html": "<figure><img/><figcaption>c</figcaption></figure>", "image/png": png, "text/plain": "[image] c" }), null);
  // an SVG figure carries its own title inside the drawing
  assertEquals(hiddenCaption({ "image/svg+xml": "<svg/>", "text/plain": "[figure] map" }), null);
  const nb = notebook(code("await showImage(x, 'crack')", [display({ "image/png": png, "text/plain": "[image] crack" })]));
  assertEquals(checkOutputs(nb), [{ cell: 0, kind: "hidden-caption", message: 'image caption only in text/plain (not shown): "crack"' }]);
});
