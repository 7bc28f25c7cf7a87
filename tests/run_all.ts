/**
 * The project's test command (`deno task test`): runs the whole suite with Deno's runner and
 * ends with the plain line CI reads, `N passed, N failed, N skipped`. Exit code is Deno's.
 * Extra arguments are passed to `deno test` (e.g. a path or `--filter`).
 */
const args = ["test", "-A", "--no-check=remote", ...(Deno.args.length ? Deno.args : ["tests/"])];
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
if (m) {
  console.log(`${m[2]} passed, ${m[4]} failed, ${m[5] ?? 0} skipped`);
} else {
  console.log(`0 passed, 1 failed (the test runner printed no summary; exit code ${status.code})`);
}
Deno.exit(status.success && m ? 0 : status.code || 1);
