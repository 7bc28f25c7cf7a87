/** The command line as the outside checks use it: bad input gives one line and a non-zero exit. */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { runArgs } from "../_cli.ts";
import { TINY_SETS, tinyMvtec3d } from "../run/_tiny.ts";

const CLI = new URL("../../lib/cli/ast.ts", import.meta.url).pathname;

async function ast(...args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: runArgs("ast", CLI, ...args),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code: r.code, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
}

const root = await tinyMvtec3d(3);

const cases: [string, string[], RegExp][] = [
  ["missing --data", ["run", "--class", "puck", "--mode", "depth"], /--data ROOT is required/],
  ["bad mode", ["run", "--data", root, "--class", "puck", "--mode", "xray"], /--mode must be depth, rgb or combi, got 'xray'/],
  ["unknown option", ["run", "--data", root, "--class", "puck", "--mode", "depth", "--bogus"], /bogus/],
  ["bad epochs", ["run", "--data", root, "--class", "puck", "--mode", "depth", "--epochs", "two"], /--epochs must be an integer/],
  ["bad preset", ["run", "--data", root, "--class", "puck", "--mode", "depth", "--preset", "huge"], /--preset must be/],
  ["missing data root", ["run", "--data", "/nonexistent/root", "--class", "puck", "--mode", "depth"], /\/nonexistent\/root/],
  ["missing class", ["run", "--data", root, "--class", "bagel", "--mode", "depth"], /bagel/],
  ["unknown command", ["train"], /unknown command 'train'/],
];

for (const [name, args, message] of cases) {
  Deno.test(`cli: ${name} -> one-line error, non-zero exit`, async () => {
    const r = await ast(...args);
    assert(r.code !== 0, `exit code ${r.code}`);
    const first = r.stderr.trim().split("\n")[0];
    assert(first.startsWith("ast: error: "), `stderr: ${r.stderr}`);
    assert(message.test(first), `expected ${message} in '${first}'`);
    assert(!/^\s+at /m.test(r.stderr), "no stack trace for user errors");
  });
}

Deno.test({ name: "cli: run trains, evaluates and writes metrics.json", sanitizeResources: false, fn: async () => {
  const out = join(await Deno.makeTempDir(), "cli-run");
  const sets = TINY_SETS.flatMap((s) => ["--set", s]);
  const r = await ast("run", "--data", root, "--class", "puck", "--mode", "depth", "--epochs", "1", "--seed", "2", "--out", out, ...sets);
  assertEquals(r.code, 0, r.stderr);
  assert(/teacher epoch 1\/1/.test(r.stdout), "progress per epoch is printed");
  const m = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")));
  for (const k of ["image_auroc_max", "image_auroc_mean", "pixel_auroc", "aupro", "backend", "seconds", "threads", "precision", "precision_isa"]) {
    assert(k in m, `metrics.json lacks ${k}`);
  }
  assertEquals(m.precision, "fp32", "the default runs fp32 (issue 17), and says so");
  assertEquals([m.seed, m.preset, m.class, m.mode], [2, "demo", "puck", "depth"]);
  // the summary line reports the recorded numbers
  assert(r.stdout.includes(`done: image AUROC max ${m.image_auroc_max.toFixed(4)}, mean ${m.image_auroc_mean.toFixed(4)}, pixel AUROC ${m.pixel_auroc.toFixed(4)}`), r.stdout);
  const again = await ast("run", "--data", root, "--class", "puck", "--mode", "depth", "--out", out);
  assert(again.code !== 0 && /already exists/.test(again.stderr));
} });
