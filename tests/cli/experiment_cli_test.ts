/** `deno task experiment NAME --data ROOT --class NAME ... --json FILE` on data the experiments never named. */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { runArgs } from "../_cli.ts";
import { TINY_SETS, tinyMvtec3d, tinyMvtecAd } from "../run/_tiny.ts";

const CLI = new URL("../../lib/cli/experiment.ts", import.meta.url).pathname;

async function experiment(cwd: string, ...args: string[]) {
  const r = await new Deno.Command(Deno.execPath(), { args: runArgs("experiment", CLI, ...args), cwd, stdout: "piped", stderr: "piped", env: { NO_COLOR: "1" } }).output();
  return { code: r.code, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
}

const sets = TINY_SETS.flatMap((s) => ["--set", s]);

Deno.test({ name: "cli experiment: an ablation on your own data prints the paired comparison and writes --json", sanitizeResources: false, fn: async () => {
  const root = await tinyMvtec3d(5);
  const work = await Deno.makeTempDir();
  const json = join(work, "out", "table5.json");
  const r = await experiment(work, "table5_students", "--data", root, "--class", "puck", "--mode", "depth", "--seeds", "0,1,2", "--scale", "demo", "--json", json, "--results", join(work, "results"), ...sets);
  assertEquals(r.code, 0, r.stderr + r.stdout);
  const out = JSON.parse(await Deno.readTextFile(json));
  assertEquals([out.experiment, out.class, out.data], ["table5_students", "puck", root]);
  const variants = out.rows.map((row: { variant: string }) => row.variant);
  assertEquals(variants, ["teacher-nll", "nf-student", "nf-student-8", "ast"]); // the paper's row order
  const index = JSON.parse(await Deno.readTextFile(join(work, "results", "experiments", "table5_students", "demo.json")));
  assertEquals(index.cells.length, 9);
  for (const row of out.rows) {
    assertEquals(row.mode, "depth");
    assertEquals(row.n_seeds, 3);
    assert(row.image_auroc >= 0 && row.image_auroc <= 1 && row.image_auroc_sd >= 0, JSON.stringify(row));
    if (row.variant === "ast") {
      assertEquals([row.diff_vs_ast, row.diff_ci95, row.verdict], [null, null, null]);
    } else {
      assert(row.diff_ci95[0] <= row.diff_vs_ast && row.diff_vs_ast <= row.diff_ci95[1], JSON.stringify(row));
      assert(["same direction as the paper", "opposite", "not distinguishable"].includes(row.verdict), row.verdict);
    }
  }
  // the student variants reused the AST teacher of their seed
  assertEquals(out.rows.find((row: { variant: string }) => row.variant === "nf-student").shared_teacher_seeds, 3);
  // the printed table and the words say the same as the file
  assert(r.stdout.includes("Δ vs AST [95% CI]"), r.stdout);
  for (const row of out.rows.filter((x: { verdict: string | null }) => x.verdict)) assert(r.stdout.includes(row.verdict), row.verdict);
}});

Deno.test({ name: "cli experiment: RGB-only data runs only the RGB cells; bad input is one line", sanitizeResources: false, fn: async () => {
  const root = await tinyMvtecAd(1);
  const work = await Deno.makeTempDir();
  const dry = await experiment(work, "table7_posenc_mask", "--data", root, "--class", "tex", "--seeds", "0", "--dry-run", "--results", join(work, "results"), ...sets);
  assertEquals(dry.code, 0, dry.stderr);
  const planned = dry.stdout.split("\n").filter((l) => l.includes("would run"));
  assertEquals(planned.length, 2, dry.stdout);
  assert(planned.every((l) => / tex rgb /.test(l)), dry.stdout);
  for (const [args, message] of [
    [["table5_students", "--data", root], /--data ROOT and --class NAME go together/],
    [["table5_students", "--data", root, "--class", "nope"], /nope/],
    [["table5_students", "--mode", "xray"], /--mode must be/],
    [["no_such_experiment"], /unknown experiment/],
    [["table5_students", "--data", root, "--class", "../tex"], /--class must be a plain folder name/],
    [["table5_students", "--data", root, "--class", "a/b"], /--class must be a plain folder name/],
    [["table5_students", "--seeds", "0,1e23"], /--seeds must be comma-separated integers in 0\.\.4294967295/],
  ] as [string[], RegExp][]) {
    const r = await experiment(work, ...args);
    assert(r.code !== 0, `${args}: exit ${r.code}`);
    const first = r.stderr.trim().split("\n")[0];
    assert(first.startsWith("experiment: error: ") && message.test(first), `${args}: ${r.stderr}`);
  }
}});

Deno.test({ name: "cli experiment: exact names; a unique prefix is reported; an ambiguous or unknown one lists names (exit 2); unknown flags are one clean line", sanitizeResources: false, fn: async () => {
  const root = await tinyMvtec3d(2);
  const work = await Deno.makeTempDir();
  const dry = ["--data", root, "--class", "puck", "--mode", "depth", "--seeds", "0", "--dry-run", "--results", join(work, "results"), ...sets];
  const prefix = await experiment(work, "table5", ...dry);
  assertEquals(prefix.code, 0, prefix.stderr);
  assert(prefix.stdout.includes("'table5' -> table5_students (unique prefix)"), prefix.stdout);
  assert(prefix.stdout.includes("table5_students:"), prefix.stdout);
  const exact = await experiment(work, "table5_students", ...dry);
  assertEquals(exact.code, 0, exact.stderr);
  assert(!exact.stdout.includes("unique prefix"), exact.stdout);
  const ambiguous = await experiment(work, "table", ...dry);
  assertEquals(ambiguous.code, 2, ambiguous.stderr);
  assertEquals(ambiguous.stderr.split("\n")[0], "experiment: error: experiment 'table' is ambiguous: table2_mvtec_ad, table3_mvtec3d, table4_pixel, table5_students, table6_student_depth, table7_posenc_mask");
  const unknown = await experiment(work, "table9", ...dry);
  assertEquals(unknown.code, 2, unknown.stderr);
  assert(/^experiment: error: unknown experiment 'table9' \(experiments: table2_mvtec_ad, .*table7_posenc_mask, or all\)$/.test(unknown.stderr.split("\n")[0]), unknown.stderr);
  const flag = await experiment(work, "table5_students", "--foo");
  assertEquals(flag.code, 2, flag.stderr);
  assertEquals(flag.stderr.split("\n")[0], "experiment: error: Unknown option '--foo'");
}});

Deno.test({ name: "cli experiment: a paper table prints ours vs the paper after running, as its notebook shows it", sanitizeResources: false, fn: async () => {
  const root = await tinyMvtec3d(3);
  const work = await Deno.makeTempDir();
  const r = await experiment(work, "table3_mvtec3d", "--data", root, "--class", "puck", "--mode", "depth", "--seeds", "0", "--scale", "demo", "--results", join(work, "results"), ...sets, "--set", "teacher.epochs=1", "--set", "student.epochs=1");
  assertEquals(r.code, 0, r.stderr + r.stdout);
  const lines = r.stdout.split("\n");
  const caption = lines.findIndex((l) => l.endsWith("(Table 3) at demo scale: image AUROC, ours vs the paper"));
  assert(caption >= 0, r.stdout);
  assert(/^mode\s+variant\s+class\s+ours ± seed sd\s+95% CI\s+paper/.test(lines[caption + 1]), lines[caption + 1]);
  assert(lines.some((l) => /^depth\s+ast\s+puck\s+0\.\d{3}/.test(l)), r.stdout);
  assert(r.stdout.includes("ours alone: puck is not a class of the paper's dataset"), r.stdout);
}});

Deno.test({ name: "cli experiment: --slurm writes one job array of the cells not recorded; --cell runs exactly one; --status lists them; misuse is one line (exit 2)", sanitizeResources: false, fn: async () => {
  const root = await tinyMvtec3d(4);
  const work = await Deno.makeTempDir();
  const results = join(work, "results");
  const grid = ["table5_students", "--data", root, "--class", "puck", "--mode", "depth", "--seeds", "0", "--results", results, ...sets, "--set", "teacher.epochs=1", "--set", "student.epochs=1"];
  const status = await experiment(work, ...grid, "--status");
  assertEquals(status.code, 0, status.stderr + status.stdout);
  const ids = status.stdout.split("\n").map((l) => l.trim().split(/\s{2,}/)).filter((f) => /^\d+$/.test(f[0]) && f.length >= 7);
  assertEquals(ids.map((f) => [f[3], f[5]]), [["ast", "missing"], ["nf-student", "missing"], ["nf-student-8", "missing"]], status.stdout);
  assert(status.stdout.includes("3 missing"), status.stdout);

  const one = await experiment(work, ...grid, "--cell", ids[1][6]);
  assertEquals(one.code, 0, one.stderr + one.stdout);
  assert(/^node \S+: backend /m.test(one.stdout), one.stdout); // the node's check comes first
  assert(one.stdout.includes("[2/3] puck depth nf-student seed 0: trained"), one.stdout);
  const written = await experiment(work, ...grid, "--slurm", "--cpus", "2", "--mem", "2G", "--max-parallel", "1");
  assertEquals(written.code, 0, written.stderr + written.stdout);
  assert(written.stdout.includes("2 cells to run (1 recorded left alone)"), written.stdout);
  const script = written.stdout.match(/job array script: (\S+)/)![1];
  const text = await Deno.readTextFile(script.startsWith("/") ? script : join(work, script));
  assert(text.includes("#SBATCH --array=0-1%1\n") && text.includes("#SBATCH --cpus-per-task=2\n") && text.includes("#SBATCH --mem=2G\n"), text);
  assert(text.includes(`  ${ids[0][6]}  # [1/3] puck depth ast seed 0`) && text.includes(`  ${ids[2][6]}  # [3/3]`) && !text.includes(ids[1][6]), text);
  assert(written.stdout.includes("submit it with: sbatch "), written.stdout);

  const wrong = await experiment(work, ...grid, "--cell", "puck-depth-000000000000");
  assertEquals(wrong.code, 2, wrong.stderr);
  assert(wrong.stderr.startsWith("experiment: error: --cell puck-depth-000000000000 is not a cell of this grid with these options"), wrong.stderr);
  for (const [args, message] of [
    [["--submit"], "--submit goes with --slurm"],
    [["--slurm", "--status"], "--slurm and --status cannot be combined"],
    [["--slurm", "--mem", "lots"], "--mem must be a size like 4G or 500M, got 'lots'"],
    [["--slurm", "--cpus", "two"], "--cpus must be a whole number, got 'two'"],
    [["--status", "--json", "x.json"], "--json is for a local run, not with --status"],
  ] as const) {
    const r = await experiment(work, ...grid, ...args);
    assertEquals([r.code, r.stderr.split("\n")[0]], [2, `experiment: error: ${message}`]);
  }
}});
