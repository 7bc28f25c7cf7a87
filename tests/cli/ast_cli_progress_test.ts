/**
 * `ast run`'s progress on a terminal (a pseudo-terminal from util-linux `script`): each phase is
 * one line updated in place; with CI set, the plain lines as when piped (the other CLI tests).
 */
import { runArgs } from "../_cli.ts";
import { assert } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "../run/_tiny.ts";

const CLI = new URL("../../lib/cli/ast.ts", import.meta.url).pathname;
const hasScript = await new Deno.Command("script", { args: ["--version"], stdout: "null", stderr: "null" }).output()
  .then((r) => r.success, () => false);
const opts = { sanitizeOps: false, sanitizeResources: false, ignore: !hasScript };
const root = hasScript ? await tinyMvtec3d(4) : "";

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/** `ast run` (2 epochs) with stdout on a pseudo-terminal; its transcript. */
async function runOnTerminal(ci: string): Promise<string> {
  const out = `${await Deno.makeTempDir()}/run`;
  const sets = TINY_SETS.flatMap((s) => ["--set", s]);
  const args = runArgs("ast", CLI, "run", "--data", root, "--class", "puck", "--mode", "depth", "--epochs", "2", ...sets, "--out", out);
  const command = [Deno.execPath(), ...args].map(quote).join(" ");
  const r = await new Deno.Command("script", { args: ["-qec", command, "/dev/null"], stdout: "piped", stderr: "piped", env: { NO_COLOR: "1", CI: ci } }).output();
  const text = new TextDecoder().decode(r.stdout);
  assert(r.success, text + new TextDecoder().decode(r.stderr));
  return text.replaceAll("\r\n", "\n"); // the terminal's line endings
}

const CLEAR = "\r\x1b[2K";
const PLAIN_EPOCH = /^teacher epoch 2\/2 {2}loss \S+ {2}[\d.]+ s {2}rss \d+ MB$/m;

Deno.test({ name: "ast run on a terminal: one updating line per phase (features, epochs) with elapsed and ETA, a newline when done", ...opts, fn: async () => {
  const text = await runOnTerminal("false");
  assert(text.includes(`${CLEAR}features train (depth) 8/8  done in `), text);
  const marked = text.replaceAll(CLEAR, "<clear>");
  assert(/teacher epoch 1\/2 {2}loss \S+ {2}elapsed [\d.]+ s {2}ETA [\d.]+ s<clear>teacher epoch 2\/2 {2}loss \S+ {2}done in [\d.]+ s\n/.test(marked), text);
  assert(/student epoch 2\/2 {2}loss \S+ {2}done in [\d.]+ s\n/.test(marked), text);
  assert(!PLAIN_EPOCH.test(text), text);
} });

Deno.test({ name: "ast run on a terminal under CI: the plain lines, nothing updated in place", ...opts, fn: async () => {
  const text = await runOnTerminal("true");
  assert(PLAIN_EPOCH.test(text), text);
  assert(text.includes("\nfeatures train (depth) 8/8\n"), text);
  assert(!text.includes(CLEAR), text);
} });
