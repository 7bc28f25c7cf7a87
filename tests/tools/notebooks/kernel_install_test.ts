/** The test command installs the Deno Jupyter kernel itself; a stage that cannot run says so loudly, with the fix. */
import { join } from "node:path";
import { installDenoKernel, skippedStageBanner } from "../../../tools/notebooks/execute.ts";
import { assert, assertEquals } from "../../assert.ts";

Deno.test("notebooks: the Deno kernel is installed for the deno running the tests (into that user's Jupyter folder)", async () => {
  const home = await Deno.makeTempDir({ prefix: "ast-kernel-home-" });
  const line = await installDenoKernel(Deno.execPath(), { HOME: home, PATH: Deno.env.get("PATH") ?? "" });
  assert(line.startsWith("notebooks: installed the Deno Jupyter kernel"), line);
  const spec = JSON.parse(await Deno.readTextFile(join(home, ".local", "share", "jupyter", "kernels", "deno", "kernel.json")));
  assertEquals(Deno.realPathSync(spec.argv[0]), Deno.realPathSync(Deno.execPath()), "the kernelspec runs this deno");
});

Deno.test("notebooks: an install that fails is one line saying why", async () => {
  const line = await installDenoKernel("/nonexistent/deno");
  assert(/^notebooks: could not install the Deno Jupyter kernel: /.test(line) && !line.includes("\n"), line);
});

Deno.test("notebooks: a stage that cannot run is a banner with each reason and the fix", () => {
  const text = skippedStageBanner(20, "skipped", ["jupyter missing (/usr/bin/python3 cannot import nbconvert/nbclient): sudo apt-get install ..."]);
  const lines = text.split("\n");
  assertEquals(lines[1], "NOTEBOOKS NOT RUN: 20 tests skipped");
  assert(lines[0] === lines.at(-1) && /^=+$/.test(lines[0]), "set off by rules");
  assert(lines.some((l) => l.includes("sudo apt-get install")), text);
});
