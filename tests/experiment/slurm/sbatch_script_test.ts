/** The job array script: valid bash, one task per cell, the task's permissions, and the checks that name what a node lacks. */
import { join } from "node:path";
import { resourceProblem, sbatchScript, type SbatchScriptInput, shellQuote } from "../../../lib/experiment/slurm/sbatch_script.ts";
import { assert, assertEquals, assertStringIncludes } from "../../assert.ts";

const input = (over: Partial<SbatchScriptInput> = {}): SbatchScriptInput => ({
  experiment: "table5_students",
  scale: "demo",
  cells: [{ id: "puck-depth-aaa", tag: "[1/2] puck depth ast seed 0" }, { id: "my class-depth-bbb", tag: "[2/2] my class depth nf seed 0" }],
  resources: { cpus: 2, mem: "4G", time: "01:00:00", partition: "cpu", maxParallel: 3, account: "lab", gpus: 1 },
  jobDir: "/shared/results/experiments/t/slurm/demo-x",
  project: "/shared/ast lab",
  deno: "/opt/deno/bin/deno",
  results: "/shared/results",
  taskFlags: ["--allow-read", "--allow-write=results,data,$HOME/.cache/ast-lab,/tmp", "--allow-env", "--allow-run=cc,gcc,git,sbatch,squeue"],
  selection: ["--class", "my class", "--set", "student.hidden=8"],
  env: { AST_CACHE_DIR: "/shared/cache" },
  origin: "test",
  ...over,
});

async function bash(script: string, env: Record<string, string>): Promise<{ code: number; out: string }> {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "job.sbatch");
  await Deno.writeTextFile(path, script);
  const r = await new Deno.Command("bash", { args: [path], env, clearEnv: true, stdout: "piped", stderr: "piped" }).output();
  return { code: r.code, out: new TextDecoder().decode(r.stdout) + new TextDecoder().decode(r.stderr) };
}

Deno.test("sbatch script: directives, one array task per cell, quoted arguments, the task's permissions plus the store and $TMPDIR", async () => {
  const s = sbatchScript(input());
  for (const d of ["--array=0-1%3", "--cpus-per-task=2", "--mem=4G", "--time=01:00:00", "--partition=cpu", "--account=lab", "--gpus=1", "--output=/shared/results/experiments/t/slurm/demo-x/logs/%A_%a.out"]) {
    assertStringIncludes(s, `#SBATCH ${d}\n`);
  }
  assertStringIncludes(s, `  'my class-depth-bbb'  # [2/2]`);
  assertStringIncludes(s, `"--allow-write=results,data,$HOME/.cache/ast-lab,/tmp,\${TMPDIR:-/tmp},$AST_RESULTS\${AST_CACHE_DIR:+,$AST_CACHE_DIR}\${AST_NATIVE_CACHE:+,$AST_NATIVE_CACHE}"`);
  assertStringIncludes(s, `--cell "$cell" --results "$AST_RESULTS" --class 'my class' --set student.hidden=8\n`);
  assertStringIncludes(s, `export AST_CACHE_DIR="\${AST_CACHE_DIR:-/shared/cache}"`);
  assert(!s.includes("--allow-all") && !/\s-A\s/.test(s));
  const syntax = await new Deno.Command("bash", { args: ["-n", "-c", s] }).output();
  assertEquals(syntax.code, 0, new TextDecoder().decode(syntax.stderr));
});

Deno.test("sbatch script: each task checks its node first and names what is missing (exit 3)", async () => {
  const s = sbatchScript(input({ deno: "/nonexistent/deno" }));
  const noTask = await bash(s, { PATH: "/usr/bin:/bin" });
  assertEquals(noTask.code, 3);
  assertStringIncludes(noTask.out, "not an array task");
  const beyond = await bash(s, { PATH: "/usr/bin:/bin", SLURM_ARRAY_TASK_ID: "5" });
  assertStringIncludes(beyond.out, "array task 5 has no cell (this array has 2)");
  const noDeno = await bash(s, { PATH: "/usr/bin:/bin", SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_JOB_ID: "77" });
  assertEquals(noDeno.code, 3);
  assertStringIncludes(noDeno.out, "ast-lab: error: Deno not found at /nonexistent/deno: install Deno on the nodes, or set AST_LAB_DENO");
  assertStringIncludes(noDeno.out, "job 77_1");
  const project = await Deno.makeTempDir();
  const noProject = await bash(s, { PATH: "/usr/bin:/bin", SLURM_ARRAY_TASK_ID: "0", AST_LAB_DENO: "/bin/true", AST_LAB_PROJECT: project });
  assertStringIncludes(noProject.out, `the project is not at ${project}`);
  await Deno.writeTextFile(join(project, "deno.json"), "{}");
  await Deno.mkdir(join(project, "node_modules"));
  const readOnly = await bash(s, { PATH: "/usr/bin:/bin", SLURM_ARRAY_TASK_ID: "0", AST_LAB_DENO: "/bin/true", AST_LAB_PROJECT: project, AST_RESULTS: "/proc/no-store" });
  assertStringIncludes(readOnly.out, "the results store /proc/no-store/runs is not writable here");
  // everything present: the task starts Deno with its cell (here /bin/echo stands in for Deno)
  const results = await Deno.makeTempDir();
  const ok = await bash(s, { PATH: "/usr/bin:/bin", SLURM_ARRAY_TASK_ID: "1", AST_LAB_DENO: "/bin/echo", AST_LAB_PROJECT: project, AST_RESULTS: results, HOME: "/home/u" });
  assertEquals(ok.code, 0, ok.out);
  assertStringIncludes(ok.out, `--cell my class-depth-bbb --results ${results} --class my class`);
  assertStringIncludes(ok.out, `--allow-write=results,data,/home/u/.cache/ast-lab,/tmp,/tmp,${results},/shared/cache`);
});

Deno.test("sbatch script: resources are checked before sbatch sees them; quoting", () => {
  assertEquals(resourceProblem({ mem: "4G", time: "1-02:00:00", cpus: 4, gpus: 0, partition: "gpu-a100" }), null);
  assertStringIncludes(resourceProblem({ mem: "4 GB" })!, "--mem must be a size");
  assertStringIncludes(resourceProblem({ time: "1h" })!, "--time must be");
  assertStringIncludes(resourceProblem({ cpus: 0 })!, "--cpus must be a whole number from 1");
  assertStringIncludes(resourceProblem({ partition: "a;rm -rf /" })!, "--partition must be a Slurm name");
  assertEquals(shellQuote("plain-1.2/x"), "plain-1.2/x");
  assertEquals(shellQuote("it's $x"), `'it'\\''s $x'`);
});
