/** One config path: presets, patches in a fixed order, typed `--set`, the backbone fallback rule, runtime options. */
import { join } from "node:path";
import { applyPatch, ConfigError, patchFromSets } from "../../lib/config/patch.ts";
import { presetConfig } from "../../lib/config/presets.ts";
import { loadExperimentFile, resolveConfig } from "../../lib/config/resolve.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { assertEquals, assertRejects, assertThrows } from "../assert.ts";

Deno.test("config: patches apply in order — file, --set, flags, variant — and the cell keeps its mode and seed", () => {
  const cfg = resolveConfig({
    preset: "demo",
    mode: "depth",
    layout: "mvtec3d",
    file: { path: "f.json", patch: { student: { hidden: 64 }, teacher: { epochs: 3 }, seed: 9 } },
    sets: ["student.hidden=32", "teacher.clamp=2.5"],
    flags: { epochs: 5, seed: 1 },
    variant: { name: "v", patch: { student: { nBlocks: 1 }, mode: "rgb", seed: 7 } },
  });
  assertEquals(cfg.student.hidden, 32); // --set after the file
  assertEquals([cfg.teacher.epochs, cfg.student.epochs], [5, 5]); // --epochs after both
  assertEquals(cfg.teacher.clamp, 2.5);
  assertEquals(cfg.student.nBlocks, 1); // the variant's change
  assertEquals([cfg.mode, cfg.seed], ["depth", 1]); // but not the cell's mode and seed
  assertEquals(cfg.teacher.hidden, presetConfig("demo", "depth", "mvtec3d").teacher.hidden); // untouched fields stay
});

Deno.test("config: --set is typed and checked; unknown keys fail at any depth, naming the source", () => {
  const base = presetConfig("demo", "rgb", "mvtecad");
  assertEquals(patchFromSets(base, ["mapLen=8", "student.kind=flow", "layer=block_6_add", "weights=null"]),
    { mapLen: 8, student: { kind: "flow" }, layer: "block_6_add", weights: null });
  assertThrows(() => patchFromSets(base, ["student.width=3"]), ConfigError, "unknown config key 'student.width'");
  assertThrows(() => patchFromSets(base, ["mapLen=abc"]), ConfigError, "'mapLen' must be number, got string");
  assertThrows(() => patchFromSets(base, ["mapLen"]), ConfigError, "--set expects key=value");
  assertThrows(() => applyPatch(base, { teacher: { depth: 3 } } as never, "--config x.ts"), ConfigError, "--config x.ts: unknown config key 'teacher.depth'");
  assertThrows(() => applyPatch(base, { nope: 1 } as never, "variant v"), ConfigError, "variant v: unknown config key 'nope'");
  assertThrows(() => applyPatch(base, { posEnc: "yes" } as never), ConfigError, "'posEnc' must be boolean, got string");
  assertThrows(() => resolveConfig({ mode: "depth", layout: "mvtec3d", sets: ["teacher.hidden=0"] }), Error, "teacher.hidden must be an integer >= 1");
  assertThrows(() => resolveConfig({ preset: "huge" as never, mode: "depth", layout: "mvtec3d" }), ConfigError, "--preset must be one of");
});

Deno.test("config: a chosen backbone, layer or weights is never substituted; a preset's own choice may fall back", () => {
  const base = { preset: "demo" as const, mode: "combi" as const, layout: "mvtec3d" as const };
  assertEquals(resolveConfig(base).backboneFallback, true);
  assertEquals(resolveConfig({ ...base, flags: { backbone: "mobilenet_v2" } }).backboneFallback, false);
  assertEquals(resolveConfig({ ...base, flags: { layer: "block_6_add" } }).backboneFallback, false);
  assertEquals(resolveConfig({ ...base, sets: ["backbone=efficientnet-b5"] }).backboneFallback, false);
  assertEquals(resolveConfig({ ...base, sets: ["backbone=mobilenet_v2"] }).backboneFallback, true); // the preset's own
  assertEquals(resolveConfig({ ...base, preset: "paper" }).backboneFallback, false);
  const w = resolveConfig({ ...base, flags: { weights: "/w" } });
  assertEquals([w.weights, w.backboneFallback], ["/w", false]);
});

Deno.test("config: experiment files (JSON, TS default export) load as patches; errors name the file", async () => {
  const dir = await Deno.makeTempDir();
  const json = join(dir, "e.json");
  await Deno.writeTextFile(json, JSON.stringify({ student: { hidden: 16 } }));
  assertEquals((await loadExperimentFile(json)).patch, { student: { hidden: 16 } });
  const ts = join(dir, "e.ts");
  await Deno.writeTextFile(ts, "export default { posEnc: false };\n");
  assertEquals((await loadExperimentFile(ts)).patch, { posEnc: false });
  await assertRejects(() => loadExperimentFile(join(dir, "none.ts")), ConfigError, "file not found");
  await Deno.writeTextFile(join(dir, "bad.json"), "{");
  await assertRejects(() => loadExperimentFile(join(dir, "bad.json")), ConfigError, "cannot read JSON");
  const cfg = resolveConfig({ mode: "depth", layout: "mvtec3d", file: await loadExperimentFile(json) });
  assertEquals(cfg.student.hidden, 16);
});

Deno.test("runtime options: every variable maps to one field; nothing else is read", () => {
  const env: Record<string, string> = {
    AST_BACKEND: "cpu", AST_THREADS: "3", AST_NATIVE_CONV: "openblas", AST_NATIVE_FUSED: "0", AST_NATIVE_CACHE: "/nc",
    CC: "clang", TMPDIR: "/t", OMP_NUM_THREADS: "1", AST_WEIGHTS_DIR: "/w", AST_CACHE_DIR: "/c", AST_SCALE: "cpu",
    AST_MVTEC_AD: "/ad", AST_MVTEC3D: "/3d", AST_DEBUG: "1",
  };
  const asked: string[] = [];
  const r = runtimeFromEnv((name) => (asked.push(name), env[name]));
  assertEquals(r.backend, {
    prefer: "cpu", threads: 3, nativeConv: "openblas", nativeFused: false, nativeCacheDir: "/nc", compiler: "clang", tempDir: "/t",
    nativeEnv: { OMP_NUM_THREADS: "1" },
  });
  assertEquals([r.weightsDir, r.featureCacheDir, r.scale, r.datasets, r.debug], ["/w", "/c/features", "cpu", { mvtecAd: "/ad", mvtec3d: "/3d" }, true]);
  for (const name of asked) assertEquals(/^(AST_|OMP_|GOMP_|OPENBLAS_|SLURM_|SLURMD_NODENAME$|CC$|TMPDIR$|XDG_CACHE_HOME$|HOME$|CI$)/.test(name), true, name);
  assertEquals([r.resultsDir, r.slurm], [undefined, undefined]);
  const empty = runtimeFromEnv(() => undefined);
  assertEquals([empty.weightsDir, empty.featureCacheDir, empty.backend.prefer, empty.debug], [undefined, undefined, undefined, false]);
  assertEquals(runtimeFromEnv((n) => ({ HOME: "/h" } as Record<string, string>)[n]).backend.nativeCacheDir, "/h/.cache/ast-lab/native");
  assertEquals(runtimeFromEnv((n) => ({ AST_THREADS: "many" } as Record<string, string>)[n]).backend.threads, "many");
  // inside a Slurm array task: its ids for cell locks, its CPUs as threads unless AST_THREADS says otherwise
  const slurm: Record<string, string> = { SLURM_ARRAY_JOB_ID: "40", SLURM_ARRAY_TASK_ID: "3", SLURM_JOB_ID: "44", SLURMD_NODENAME: "n7", SLURM_CPUS_PER_TASK: "4", AST_RESULTS: "/shared/r" };
  const inJob = runtimeFromEnv((n) => slurm[n]);
  assertEquals([inJob.slurm, inJob.backend.threads, inJob.resultsDir], [{ job: "40_3", node: "n7", cpusPerTask: 4 }, 4, "/shared/r"]);
  assertEquals(runtimeFromEnv((n) => ({ ...slurm, AST_THREADS: "2" })[n]).backend.threads, 2);
  assertEquals(runtimeFromEnv((n) => ({ SLURM_JOB_ID: "44" } as Record<string, string>)[n]).slurm, { job: "44" });
  // CI: plain progress lines (lib/report/terminal_progress.ts); "false" and "0" are not CI
  for (const [value, ci] of [["true", true], ["1", true], ["false", undefined], ["0", undefined], [undefined, undefined]] as const) {
    assertEquals(runtimeFromEnv((n) => (n === "CI" ? value : undefined)).ci, ci, `CI=${value}`);
  }
});
