/**
 * Issue 15, item 4: `deno task clean [--dry-run] [--all]` on a temporary project root: it lists
 * each folder with its size and the total, --dry-run deletes nothing, and a clean removes exactly
 * the regenerable folders (run records only with --all; committed files never).
 */
import { dirname, join } from "node:path";
import { CLEAN_TARGETS, cleanProject } from "../../lib/cli/clean.ts";
import { runArgs } from "../_cli.ts";
import { exists } from "../../lib/util/fs.ts";
import { assert, assertEquals } from "../assert.ts";

const CLI = new URL("../../lib/cli/clean.ts", import.meta.url).pathname;
const KEPT_ALWAYS = ["data/pretrained/w.bin", "data/paper_numbers.json", "results/bench/latest.json", "results/calibration/a.json", "results/README.md"];
const DEFAULT = ["data/generated", "data/testbeds", "data/own_example", "data/cache", "results/demo", "results/notebooks", "results/figures"];
const ONLY_ALL = ["results/runs", "results/experiments", "results/scores"];

/** A project root with 1000 bytes in each target folder (2 files) and in each file that must stay. */
async function fakeProject(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ast-clean-" });
  const put = async (rel: string, bytes: number) => {
    await Deno.mkdir(dirname(join(root, rel)), { recursive: true });
    await Deno.writeFile(join(root, rel), new Uint8Array(bytes));
  };
  for (const t of [...DEFAULT, ...ONLY_ALL]) {
    await put(`${t}/a/x.bin`, 600);
    await put(`${t}/y.bin`, 400);
  }
  for (const f of KEPT_ALWAYS) await put(f, 10);
  return root;
}

Deno.test("clean: the targets are the regenerable folders; run records, experiments and scores only with --all", () => {
  assertEquals(CLEAN_TARGETS.filter((t) => !t.all).map((t) => t.path), DEFAULT);
  assertEquals(CLEAN_TARGETS.filter((t) => t.all).map((t) => t.path), ONLY_ALL);
});

Deno.test("clean --dry-run: lists each folder with its size and the total, deletes nothing", async () => {
  const root = await fakeProject();
  const lines: string[] = [];
  const plan = await cleanProject(root, { dryRun: true }, (l) => lines.push(l));
  assertEquals(plan.map((e) => [e.path, e.bytes]), DEFAULT.map((p) => [p, 1000]));
  for (const p of DEFAULT) assert(lines.some((l) => l.startsWith(`would remove ${p} `) && l.includes("1000 B")), `${p}: ${lines.join("\n")}`);
  assertEquals(lines[0], `in ${root}:`, "the project the paths belong to, when it is not the current folder");
  assert(lines.includes("would free 6.8 KB in 7 folders"), lines.join("\n"));
  for (const p of [...DEFAULT, ...ONLY_ALL]) assert(await exists(join(root, p, "y.bin")), `${p} still there`);
});

Deno.test("clean: removes exactly the default folders; --all also the run records; committed files stay", async () => {
  const root = await fakeProject();
  const lines: string[] = [];
  await cleanProject(root, {}, (l) => lines.push(l));
  for (const p of DEFAULT) assert(!(await exists(join(root, p))), `${p} removed`);
  for (const p of ONLY_ALL) assert(await exists(join(root, p, "a", "x.bin")), `${p} kept`);
  for (const f of KEPT_ALWAYS) assert(await exists(join(root, f)), `${f} kept`);
  assert(lines.includes("freed 6.8 KB in 7 folders"), lines.join("\n"));
  const again: string[] = [];
  await cleanProject(root, {}, (l) => again.push(l));
  assertEquals(again[0], "nothing to clean");
  const all: string[] = [];
  await cleanProject(root, { all: true }, (l) => all.push(l));
  for (const p of ONLY_ALL) assert(!(await exists(join(root, p))), `${p} removed with --all`);
  for (const f of KEPT_ALWAYS) assert(await exists(join(root, f)), `${f} kept with --all`);
  assert(all.includes("freed 2.9 KB in 3 folders"), all.join("\n"));
});

Deno.test("clean: a symlinked data folder is removed as a link, what it points to stays", async () => {
  const root = await Deno.makeTempDir({ prefix: "ast-clean-" });
  const elsewhere = await Deno.makeTempDir();
  await Deno.writeTextFile(join(elsewhere, "keep.txt"), "mine");
  await Deno.mkdir(join(root, "data"));
  await Deno.symlink(elsewhere, join(root, "data", "generated"));
  await cleanProject(root, {}, () => {});
  assert(!(await exists(join(root, "data", "generated"))), "link removed");
  assertEquals(await Deno.readTextFile(join(elsewhere, "keep.txt")), "mine");
});

Deno.test({ name: "clean: the task's own flags suffice for --dry-run; unknown flags are one line (exit 2)", sanitizeResources: false, fn: async () => {
  const root = await fakeProject();
  const run = async (...args: string[]) => {
    const r = await new Deno.Command(Deno.execPath(), { args: runArgs("clean", CLI, ...args), cwd: root, stdout: "piped", stderr: "piped", env: { NO_COLOR: "1" } }).output();
    return { code: r.code, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
  };
  const dry = await run("--root", root, "--dry-run");
  assertEquals(dry.code, 0, dry.stderr);
  assert(dry.stdout.includes("would free 6.8 KB in 7 folders"), dry.stdout);
  for (const p of DEFAULT) assert(await exists(join(root, p, "y.bin")), `${p} still there`);
  const bad = await run("--root", root, "--everything");
  assertEquals(bad.code, 2);
  assertEquals(bad.stderr.split("\n")[0], "clean: error: Unknown option '--everything'");
}});
