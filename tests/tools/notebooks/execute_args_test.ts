import { join } from "node:path";
import { assertEquals, assertThrows } from "../../assert.ts";
import { listNotebooks, parseArgs, resolveNotebooks } from "../../../tools/notebooks/execute.ts";

Deno.test("parseArgs: names, --only, timeouts, folders", () => {
  const o = parseArgs(["a", "--only", "b, c", "--timeout", "60", "--tick", "5", "--out", "/tmp/o", "--no-browser"]);
  assertEquals([o.names, o.timeout, o.tick, o.outDir, o.html, o.browser], [["a", "b", "c"], 60, 5, "/tmp/o", true, false]);
  assertThrows(() => parseArgs(["--timeout", "soon"]), Error, "--timeout must be a positive number");
  assertThrows(() => parseArgs(["--only"]), Error, "--only needs a value");
  assertThrows(() => parseArgs(["--bogus"]), Error, "unknown option --bogus");
});

Deno.test("resolveNotebooks: by name or path, sorted, one-line errors", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ast-nbargs-" });
  for (const n of ["b.ipynb", "a.ipynb", "notes.md"]) await Deno.writeTextFile(join(dir, n), "{}");
  assertEquals(listNotebooks(dir), [join(dir, "a.ipynb"), join(dir, "b.ipynb")]);
  assertEquals(resolveNotebooks([], dir), [join(dir, "a.ipynb"), join(dir, "b.ipynb")]);
  assertEquals(resolveNotebooks(["b", "a.ipynb"], dir), [join(dir, "b.ipynb"), join(dir, "a.ipynb")]);
  assertEquals(resolveNotebooks([join(dir, "a.ipynb")], "/nonexistent"), [join(dir, "a.ipynb")]);
  assertThrows(() => resolveNotebooks(["c"], dir), Error, `no notebook 'c' in ${dir} (have: a, b)`);
  assertThrows(() => resolveNotebooks(["a", "a.ipynb"], dir), Error, "two notebooks named 'a'");
  assertEquals(listNotebooks(join(dir, "missing")), []);
  await Deno.remove(dir, { recursive: true });
});
