/**
 * The whole notebook pipeline on three tiny notebooks (no imports): one good with a chart, one
 * with a deliberate error, one whose display never happens. Needs Jupyter and the Deno kernel
 * (skipped with a message without them; CI has them); the page check also needs Chromium.
 */
import { join } from "node:path";
import { assert, assertEquals } from "../../assert.ts";
import { checkPrerequisites, readNotebookSettings, runNotebooks } from "../../../tools/notebooks/execute.ts";
import { code, notebook, VEGA_SVG } from "./_notebooks.ts";

const settings = readNotebookSettings();
const pre = await checkPrerequisites(settings, { browser: true });
const blocking = pre.missing.filter((m) => m.what !== "chromium");
if (blocking.length) console.warn(`SKIP notebook pipeline test: ${blocking.map((m) => m.message).join("; ")}`);

const SETTLE = "await new Promise((r) => setTimeout(r, 10));"; // late outputs get dropped otherwise

Deno.test({
  name: "notebook pipeline: executes, catches errors and missing displays, exports and renders",
  ignore: blocking.length > 0,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "ast-nbpipe-" });
  const out = join(dir, "out");
  const chart = { "application/vnd.vegalite.v5+json": { mark: "bar" }, "image/svg+xml": VEGA_SVG, "text/plain": "chart" };
  const write = (name: string, nb: object) => Deno.writeTextFile(join(dir, `${name}.ipynb`), JSON.stringify({ ...nb, nbformat: 4, nbformat_minor: 5 }));
  const blank = (source: string) => ({ ...code(source), outputs: [], execution_count: null, id: crypto.randomUUID().slice(0, 8) });
  await write("good", notebook(
    blank(`await Deno.jupyter.display(${JSON.stringify(chart)}, { raw: true });\n${SETTLE}`),
    blank(`console.log("cwd", Deno.cwd());\nawait Deno.jupyter.display({ "text/markdown": "**done**" }, { raw: true });\n${SETTLE}`),
  ));
  await write("error", notebook(blank("const a = 1;"), blank('throw new Error("deliberate");'), blank('console.log("never");')));
  await write("missing", notebook(blank('if (Date.now() < 0) await Deno.jupyter.display({ "text/plain": "x" }, { raw: true });')));

  const lines: string[] = [];
  const results = await runNotebooks(["good", "error", "missing"].map((n) => join(dir, `${n}.ipynb`)), {
    outDir: out,
    python: settings.python,
    kernelEnv: settings.kernelEnv,
    timeout: 120,
    chromium: pre.chromium,
    log: (l) => lines.push(l),
  });
  const [good, error, missing] = results;
  const report = lines.join("\n");

  assert(good.ok, report);
  assertEquals([good.cells, good.displays, good.svgs], [2, 2, 1]);
  assert(lines.some((l) => /good: cell 2\/2 ok/.test(l)), report);
  const executed = await Deno.readTextFile(join(out, "good.ipynb"));
  assert(executed.includes(`cwd ${dir}`), "the kernel runs in the notebook's folder");
  const html = await Deno.readTextFile(join(out, "good.html"));
  assert(html.includes('<g class="mark-rect role-mark marks"><path'), "chart SVG inline and unsanitised");
  if (pre.chromium) assert(good.screenshot && good.timings.browser !== null, report);

  assert(!error.ok && !error.executeOk, report);
  assertEquals(error.errors.filter((e) => e.startsWith("outputs:")), [
    "outputs: cell 1: error: Error: deliberate",
    "outputs: cell 2: not-executed: code cells not executed: 2",
  ]);
  assertEquals(error.htmlOk, true, "a page that shows the error still renders");

  assert(!missing.ok, report);
  assertEquals(missing.errors, ["outputs: cell 0: missing-display: expected >= 1 displays, got 0"]);

  const summary = JSON.parse(await Deno.readTextFile(join(out, "summary.json")));
  assertEquals(summary.notebooks.map((n: { name: string; ok: boolean }) => [n.name, n.ok]), [["good", true], ["error", false], ["missing", false]]);
  await Deno.remove(dir, { recursive: true });
});
