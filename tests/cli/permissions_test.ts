/**
 * deno.json's permission flags are enough for a tiny run, and a missing one is a one-line
 * `ast: error: needs --allow-...` naming the flag, never a silent fall-back (issue 14: without
 * --allow-env the backend became cpu, 60x slower; without temp write wasm ran 1 thread).
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { taskFlags } from "../_cli.ts";
import { TINY_SETS, tinyMvtec3d } from "../run/_tiny.ts";

const CLI = new URL("../../lib/cli/ast.ts", import.meta.url).pathname;
const root = await tinyMvtec3d(3);
const sets = TINY_SETS.flatMap((s) => ["--set", s]);

async function ast(flags: string[], env: Record<string, string>, ...args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  return { code: r.code, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
}

function oneLineError(r: { code: number; stderr: string }, message: RegExp): void {
  assert(r.code !== 0, `exit code ${r.code}`);
  const first = r.stderr.trim().split("\n")[0];
  assert(first.startsWith("ast: error: ") && message.test(first), `expected ${message} in '${first}'`);
  assert(!/^\s+at /m.test(r.stderr), "no stack trace");
}

const run = (out: string) => ["run", "--data", root, "--class", "puck", "--mode", "depth", "--epochs", "1", "--out", out, ...sets];
const flags = taskFlags("ast");

/**
 * A folder the task may not write: the first of $HOME, /var/tmp, /opt, /srv, / that lies outside
 * every --allow-write path (a checkout or HOME below /tmp is inside the task's list). Not created.
 */
function outsideWriteList(name: string): string {
  const allowed = flags.filter((f) => f.startsWith("--allow-write=")).flatMap((f) => f.slice("--allow-write=".length).split(","));
  const inside = (p: string) => allowed.some((a) => p === a || p.startsWith(a.endsWith("/") ? a : `${a}/`));
  const base = [Deno.env.get("HOME"), "/var/tmp", "/opt", "/srv", "/"].find((b) => b && !inside(join(b, name)))!;
  return join(base, name);
}

Deno.test({ name: "permissions: without --allow-env -> 'needs --allow-env', not the cpu backend", sanitizeResources: false, fn: async () => {
  const r = await ast(flags.filter((f) => f !== "--allow-env"), {}, ...run(join(await Deno.makeTempDir(), "out")));
  oneLineError(r, /^ast: error: needs --allow-env \(reads AST_BACKEND, AST_THREADS, .*TMPDIR/);
} });

Deno.test({ name: "permissions: no write permission for the wasm worker folder -> 'needs --allow-write=<dir>', not 1 thread", sanitizeResources: false, fn: async () => {
  // a TMPDIR outside the task's --allow-write list
  const tmpdir = outsideWriteList(`.ast-perm-test-${Deno.pid}`);
  const r = await ast(flags, { TMPDIR: tmpdir, AST_BACKEND: "wasm", AST_THREADS: "2" }, ...run(join(await Deno.makeTempDir(), "out")));
  oneLineError(r, new RegExp(`needs --allow-write=${tmpdir}/ast-lab-\\d+ for the wasm worker folder`));
  assert(!(await Deno.stat(tmpdir).then(() => true, () => false)), "nothing created");
} });

Deno.test({ name: "permissions: without --allow-ffi the backend stops with 'needs --allow-ffi', not wasm's own kernels", sanitizeResources: false, fn: async () => {
  // the backend alone: the CLI itself stops earlier without --allow-ffi (nodejs-polars' addon, Deno's own message)
  const script = join(await Deno.makeTempDir(), "backend.ts");
  const lib = new URL("../../lib/", import.meta.url).href;
  await Deno.writeTextFile(script, `
    import { initBackend } from "${lib}backend/backend.ts";
    import { runtimeFromEnv } from "${lib}config/runtime.ts";
    try { console.log(JSON.stringify(await initBackend(runtimeFromEnv().backend))); } catch (e) { console.error("ast: error: " + e.message); Deno.exit(1); }
  `);
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", new URL("../../deno.json", import.meta.url).pathname, ...flags.filter((f) => f !== "--allow-ffi"), script],
    cwd: new URL("../..", import.meta.url),
    env: { NO_COLOR: "1", AST_BACKEND: "wasm", AST_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  oneLineError({ code: r.code, stderr: new TextDecoder().decode(r.stderr) }, /needs --allow-ffi to load the native libraries/);
} });

Deno.test({ name: "permissions: an --out the task may not write -> one line naming --allow-write and the path, nothing created", sanitizeResources: false, fn: async () => {
  const elsewhere = outsideWriteList(`.ast-perm-out-${Deno.pid}`);
  const r = await ast(flags, {}, ...run(elsewhere));
  oneLineError(r, new RegExp(`needs --allow-write=${elsewhere} for the run folder ${elsewhere}`));
  assert(!(await Deno.stat(elsewhere).then(() => true, () => false)), "nothing created");
} });

Deno.test({ name: "permissions: the ast task's flags suffice for a tiny run (wasm, 2 threads, fused kernels)", sanitizeResources: false, fn: async () => {
  const out = join(await Deno.makeTempDir(), "out");
  const r = await ast(flags, { AST_BACKEND: "wasm", AST_THREADS: "2" }, ...run(out));
  assertEquals(r.code, 0, r.stderr);
  const m = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")));
  assertEquals([m.backend, m.threads], ["wasm", 2], JSON.stringify(m));
} });
