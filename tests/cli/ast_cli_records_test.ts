/**
 * Issue 14 through the command line: concurrent runs get their own records, bad input is one line
 * and leaves no folder, --out cannot reach into a run folder or the dataset, and a run killed
 * during training resumes to completion with its recorded config.
 */
import { join } from "node:path";
import { runArgs } from "../_cli.ts";
import { assert, assertEquals } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "../run/_tiny.ts";

const CLI = new URL("../../lib/cli/ast.ts", import.meta.url).pathname;
const opts = { sanitizeOps: false, sanitizeResources: false };

/** The one place this file starts the CLI (`.output()` to wait for it, `.spawn()` to kill it). */
function astCommand(args: string[], cwd?: string, quiet = false): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: runArgs("ast", CLI, ...args),
    cwd,
    stdout: quiet ? "null" : "piped",
    stderr: quiet ? "null" : "piped",
    env: { NO_COLOR: "1" },
  });
}

async function ast(args: string[], cwd?: string) {
  const r = await astCommand(args, cwd).output();
  return { code: r.code, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
}

const present = (p: string) => Deno.stat(p).then(() => true, () => false);
const readJson = async (p: string) => JSON.parse(await Deno.readTextFile(p));
const root = await tinyMvtec3d(3);
const sets = TINY_SETS.flatMap((s) => ["--set", s]);
const base = ["run", "--data", root, "--class", "puck", "--mode", "depth"];

Deno.test({ name: "cli records: two runs started together without --out get separate, consistent records", ...opts, fn: async () => {
  const cwd = await Deno.makeTempDir();
  const [a, b] = await Promise.all([1, 2].map((seed) => ast([...base, "--epochs", "1", "--seed", String(seed), ...sets], cwd)));
  assertEquals([a.code, b.code], [0, 0], a.stderr + b.stderr);
  const runs = join(cwd, "results", "runs");
  const folders = [...Deno.readDirSync(runs)].map((e) => join(runs, e.name)).sort();
  assertEquals(folders.length, 2, folders.join(", "));
  const seeds = [];
  for (const dir of folders) {
    const [config, metrics] = [await readJson(join(dir, "config.json")), await readJson(join(dir, "metrics.json"))];
    assertEquals(metrics.seed, config.config.seed, `${dir}: metrics.json and config.json describe one run`);
    const history = (await readJson(join(dir, "history.json"))).epochs;
    assertEquals(history.length, 2, `${dir}: one teacher and one student epoch, not two runs' epochs`);
    seeds.push(config.config.seed);
  }
  assertEquals(seeds.sort(), [1, 2]);
  for (const [r, seed] of [[a, 1], [b, 2]] as const) {
    const out = r.stdout.match(/-> (\S+)\n/)![1];
    assertEquals((await readJson(join(out, "metrics.json"))).seed, seed, "each run reports its own folder");
  }
} });

Deno.test({ name: "cli records: bad input is one line, exits non-zero and creates no folder", ...opts, fn: async () => {
  const cwd = await Deno.makeTempDir();
  const out = join(cwd, "out");
  const brokenTs = join(cwd, "broken.ts");
  await Deno.writeTextFile(brokenTs, "export default { posEnc: false ;\n");
  const notObject = join(cwd, "five.ts");
  await Deno.writeTextFile(notObject, "export default 5;\n");
  const cases: [string[], RegExp][] = [
    [["--epochs", "99999999999999999999"], /--epochs must be an integer in 1\.\.100000, got '99999999999999999999'/],
    [["--seed", "1e23"], /--seed must be an integer in 0\.\.4294967295, got '1e23'/],
    [["--set", 'teacher.kernelSizes=[3,"x"]'], /'teacher\.kernelSizes' must be an array of numbers, got "x" at index 1/],
    [["--config", brokenTs], /--config .*broken\.ts: cannot load: SyntaxError/],
    [["--config", cwd], /--config .*: is a folder, expected a \.ts or \.json file/],
    [["--config", notObject], /five\.ts: the default export must be a config object \(a patch\), got number/],
  ];
  for (const [extra, message] of cases) {
    for (const where of [["--out", out], []]) { // explicit --out, and the default results/runs/<name>
      const r = await ast([...base, "--epochs", "1", ...sets, ...extra, ...where], cwd);
      const first = r.stderr.split("\n")[0];
      assert(r.code !== 0 && first.startsWith("ast: error: ") && message.test(first), `${extra.join(" ")}: ${r.code} ${r.stderr}`);
      assert(!/^\s+at /m.test(r.stderr), "no stack trace");
      assertEquals([...Deno.readDirSync(cwd)].map((e) => e.name).sort(), ["broken.ts", "five.ts"], `${extra.join(" ")}: nothing created`);
    }
  }
  for (const className of ["a/b", "..", ".", "/etc", "a\\b", ".hidden"]) {
    const r = await ast(["run", "--data", root, "--class", className, "--mode", "depth", ...sets], cwd);
    assert(r.code === 2 && /--class must be a plain folder name/.test(r.stderr), `${className}: ${r.stderr}`);
  }
  assertEquals([...Deno.readDirSync(cwd)].length, 2);
  assert(!(await present(join(root, "results"))) && !(await present(join(root, "puck", "results"))));
} });

Deno.test({ name: "cli records: --out through a symlink or `..` into a run folder or the dataset is refused", ...opts, fn: async () => {
  const cwd = await Deno.makeTempDir();
  const model = join(cwd, "model");
  await Deno.mkdir(model);
  for (const f of ["config.json", "model.json", "metrics.json"]) await Deno.writeTextFile(join(model, f), "{}");
  await Deno.symlink(model, join(cwd, "link"));
  await Deno.symlink(join(root, "puck"), join(cwd, "data-link"));
  const cases: [string, RegExp][] = [
    [join(cwd, "link", "run"), /is inside the run folder .*model/],
    [join(cwd, "elsewhere", "..", "model", "run"), /is inside the run folder .*model/],
    [join(cwd, "data-link", "run"), /is inside the dataset/],
    [join(root, "puck", "..", "puck", "test", "run"), /is inside the dataset/],
  ];
  for (const [out, message] of cases) {
    const r = await ast([...base, "--epochs", "1", ...sets, "--out", out], cwd);
    assert(r.code !== 0 && message.test(r.stderr.split("\n")[0]), `${out}: ${r.stderr}`);
  }
  assertEquals([...Deno.readDirSync(model)].map((e) => e.name).sort(), ["config.json", "metrics.json", "model.json"]);
  assert(!(await present(join(root, "puck", "test", "run"))) && !(await present(join(cwd, "elsewhere"))));
} });

Deno.test({ name: "cli records: a run killed during training refuses changed flags and resumes to completion", ...opts, fn: async () => {
  const cwd = await Deno.makeTempDir();
  const out = join(cwd, "run");
  // checkpoints every 2 epochs: a kill between two of them leaves epochs to train again
  const runArgs = (epochs: number, seed: number) => [...base, "--epochs", String(epochs), "--seed", String(seed), ...sets, "--set", "checkpointEvery=2", "--out", out];
  const args = runArgs(30, 4);
  const child = astCommand(args, cwd, true).spawn();
  const checkpoint = join(out, "checkpoint", "teacher.safetensors");
  const deadline = Date.now() + 60_000;
  while (!(await present(checkpoint))) {
    if (Date.now() > deadline) throw new Error("no checkpoint within 60 s");
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill("SIGKILL");
  assert(!(await child.status).success);
  assert(!(await present(join(out, "metrics.json"))), "killed during the teacher's training: the record is incomplete");
  const recorded = await Deno.readTextFile(join(out, "config.json"));

  const changed = await ast([...runArgs(3, 4), "--resume"], cwd);
  assert(changed.code !== 0 && /--resume: teacher\.epochs differs: recorded 30, given 3 \(a resumed run keeps its recorded config\)/.test(changed.stderr), changed.stderr);
  const seed = await ast([...runArgs(30, 5), "--resume"], cwd);
  assert(seed.code !== 0 && /seed differs: recorded 4, given 5/.test(seed.stderr), seed.stderr);

  const resumed = await ast([...args, "--resume"], cwd);
  assertEquals(resumed.code, 0, resumed.stderr);
  assert(/teacher: resuming after epoch \d+/.test(resumed.stdout), resumed.stdout);
  const metrics = await readJson(join(out, "metrics.json"));
  assertEquals([metrics.seed, metrics.epochs], [4, { teacher: 30, student: 30 }]);
  assertEquals(await Deno.readTextFile(join(out, "config.json")), recorded, "config.json unchanged by the resume");
  const history = (await readJson(join(out, "history.json"))).epochs as { phase: string; epoch: number }[];
  for (const phase of ["teacher", "student"]) {
    const epochs = history.filter((h) => h.phase === phase).map((h) => h.epoch);
    assert(epochs.every((e, i) => i === 0 || e > epochs[i - 1]) && epochs.at(-1) === 30, `${phase} epochs once each: ${epochs}`);
  }
} });
