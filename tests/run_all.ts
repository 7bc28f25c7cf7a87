/**
 * The project's test command (`deno task test`): runs the whole suite with Deno's runner, then
 * the notebook stage, and ends with the plain line CI reads, `N passed, N failed, N skipped`.
 * Extra arguments are passed to `deno test` (e.g. a path or `--filter`) and skip the notebook
 * stage, as do `--quick` and AST_SKIP_NOTEBOOKS=1.
 *
 * Notebook stage: every notebooks/*.ipynb is executed on the Deno kernel, its outputs checked,
 * exported to HTML and rendered in headless Chromium (tools/notebooks/). Two tests per notebook:
 * execution (+ output checks) and HTML (+ page check). Missing Jupyter, kernel or Chromium
 * skips them with a message, except under CI (env CI set), where they fail.
 */
interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const quick = Deno.args.includes("--quick");
const testArgs = Deno.args.filter((a) => a !== "--quick");
// Broad (tests spawn the CLIs, compilers, Jupyter; write temp folders) but never --allow-net:
// no test may reach the network. Spawned entry points get their task's own flags (tests/_cli.ts).
const PERMISSIONS = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys", "--allow-run"];
const args = ["test", ...PERMISSIONS, "--no-check=remote", ...(testArgs.length ? testArgs : ["tests/"])];
// Pretrained weights for the backbone tests: $AST_WEIGHTS_DIR, else ../shared/weights when present.
const env: Record<string, string> = { NO_COLOR: "1" };
const sharedWeights = new URL("../../shared/weights", import.meta.url).pathname;
if (!Deno.env.get("AST_WEIGHTS_DIR")) {
  try {
    if (Deno.statSync(sharedWeights).isDirectory) env.AST_WEIGHTS_DIR = sharedWeights;
  } catch { /* absent: those tests skip */ }
}
const child = new Deno.Command(Deno.execPath(), {
  args,
  stdout: "piped",
  stderr: "inherit",
  env,
}).spawn();

let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  const text = decoder.decode(chunk, { stream: true });
  await Deno.stdout.write(chunk);
  tail = (tail + text).slice(-4000);
}
const status = await child.status;
const m = tail.match(/(ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \| (\d+) ignored)?/);
const unit: Counts = m ? { passed: Number(m[2]), failed: Number(m[4]), skipped: Number(m[5] ?? 0) } : { passed: 0, failed: 1, skipped: 0 };
if (!m) console.log(`the unit test runner printed no summary (exit code ${status.code}): counted as 1 failed`);

const skipNotebooks = quick
  ? "--quick"
  : testArgs.length
  ? "test arguments given"
  : Deno.env.get("AST_SKIP_NOTEBOOKS") === "1"
  ? "AST_SKIP_NOTEBOOKS=1"
  : null;
let notebooks: Counts = { passed: 0, failed: 0, skipped: 0 };
if (skipNotebooks) console.log(`\nnotebooks: stage skipped (${skipNotebooks})`);
else notebooks = await notebookStage();

const total: Counts = {
  passed: unit.passed + notebooks.passed,
  failed: unit.failed + notebooks.failed,
  skipped: unit.skipped + notebooks.skipped,
};
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
Deno.exit(total.failed === 0 && status.success && m ? 0 : status.code || 1);

/** CI sets CI (to "true"); a missing tool there is a failure, not a skip. */
function inCI(): boolean {
  const v = Deno.env.get("CI");
  return !!v && v !== "false" && v !== "0";
}

/** The notebook stage (tools/notebooks/execute.ts), loaded here so a broken module cannot stop the unit tests. */
async function notebookStage(): Promise<Counts> {
  console.log("\n== notebooks");
  try {
    const { notebookStage } = await import("../tools/notebooks/mod.ts");
    return await notebookStage({ ci: inCI() });
  } catch (e) {
    console.log(`notebooks: FAILED: ${(e as Error).stack ?? e}`);
    return { passed: 0, failed: 1, skipped: 0 };
  }
}
