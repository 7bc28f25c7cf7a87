/**
 * Issue 15, item 3: the demo ends with the exact command that scores a real test image with each
 * model it trained (here depth only, one epoch, on its own data folder), and that command works.
 */
import { join } from "node:path";
import { runArgs } from "../_cli.ts";
import { assert, assertEquals } from "../assert.ts";

const DEMO = new URL("../../lib/cli/demo.ts", import.meta.url).pathname;
const AST = new URL("../../lib/cli/ast.ts", import.meta.url).pathname;
const ROOT = new URL("../../", import.meta.url).pathname;

async function run(task: string, script: string, args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), { args: runArgs(task, script, ...args), cwd: ROOT, stdout: "piped", stderr: "piped", env: { NO_COLOR: "1" } }).output();
  return { code: r.code, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
}

Deno.test({ name: "cli demo: ends with the command that scores a real test image with its model, and it works", sanitizeResources: false, fn: async () => {
  const work = await Deno.makeTempDir({ prefix: "ast-demo-" });
  const out = join(work, "out");
  const demo = await run("demo", DEMO, ["--modes", "depth", "--epochs", "1", "--data", join(work, "data"), "--out", out]);
  assertEquals(demo.code, 0, demo.stderr + demo.stdout);
  const lines = demo.stdout.trimEnd().split("\n");
  assert(/^score an image with the trained models \(a hole defect of the generated data\):$/.test(lines.at(-2)!), demo.stdout);
  const command = lines.at(-1)!.trim();
  // this test's Deno is not npx's, so the prefix is the plain one
  assertEquals(command, `deno task ast score --model ${out}/depth --depth ${work}/data/puck/test/hole/xyz/000.tiff`);
  const args = command.split(" ").slice(3); // after "deno task ast"
  const scored = await run("ast", AST, [...args, "--out", join(work, "scores")]);
  assertEquals(scored.code, 0, scored.stderr + scored.stdout);
  assert(scored.stdout.includes(`${work}/data/puck/test/hole/xyz/000.tiff  score `), scored.stdout);
}});
