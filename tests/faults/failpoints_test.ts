/**
 * Fault injection at fixed places (lib/util/failpoint.ts): the process dies during training or
 * while the record is written, as a kill would. Whatever is on disk then must not look complete
 * (no metrics.json), `--resume` must finish it, and the finished record must equal the one an
 * uninterrupted run of the same config and seed writes (same backend): a resume changes nothing.
 */
import { join } from "node:path";
import { runArgs } from "../_cli.ts";
import { assert, assertEquals } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "../run/_tiny.ts";
import { FAILPOINT_EXIT_CODE } from "../../lib/util/failpoint.ts";
import { readScoresParquet } from "../../lib/results/run_files.ts";

const CLI = new URL("../../lib/cli/ast.ts", import.meta.url).pathname;
const opts = { sanitizeOps: false, sanitizeResources: false };
const root = await tinyMvtec3d(5);
const present = (p: string) => Deno.stat(p).then(() => true, () => false);
const readJson = async (p: string) => JSON.parse(await Deno.readTextFile(p));

async function ast(args: string[], failpoint?: string) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: runArgs("ast", CLI, ...args),
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...(failpoint ? { AST_FAILPOINT: failpoint } : {}) },
  }).output();
  return { code: r.code, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
}

const runFlags = (out: string) => [
  "run", "--data", root, "--class", "puck", "--mode", "depth", "--epochs", "3", "--seed", "7",
  ...TINY_SETS.flatMap((s) => ["--set", s]), "--set", "checkpointEvery=2", "--out", out,
];

/** What a finished record says about the model: per-image scores and the headline metrics. */
async function outcome(dir: string) {
  const m = await readJson(join(dir, "metrics.json"));
  const scores = readScoresParquet(dir).getColumn("score_max").toArray() as number[];
  const card = await readJson(join(dir, "model.json"));
  return { auroc: [m.image_auroc_max, m.pixel_auroc], scores, weights: card.trained_weights_sha256 };
}

const baselineDir = join(await Deno.makeTempDir({ prefix: "ast-faults-" }), "uninterrupted");
let baseline: Awaited<ReturnType<typeof outcome>> | null = null;

Deno.test({ name: "faults: the uninterrupted reference run", ...opts, fn: async () => {
  const r = await ast(runFlags(baselineDir));
  assertEquals(r.code, 0, r.stderr);
  baseline = await outcome(baselineDir);
  assertEquals(Object.keys(baseline.weights ?? {}).sort(), ["student.safetensors", "teacher.safetensors"], "model.json records the trained weights' SHA-256");
} });

// teacher and student checkpoints, the final weights, and each file of the record
const FAILPOINTS = [
  "teacher:after-checkpoint",
  "teacher:after-final-weights",
  "student:before-final-weights",
  "record:after-scores",
  "record:after-maps",
  "record:before-metrics",
];

for (const fp of FAILPOINTS) {
  Deno.test({ name: `faults: dying at ${fp} leaves an incomplete record that --resume finishes, equal to the uninterrupted run`, ...opts, fn: async () => {
    assert(baseline, "the reference run failed");
    const out = join(await Deno.makeTempDir({ prefix: "ast-faults-" }), "run");
    const died = await ast(runFlags(out), fp);
    assertEquals(died.code, FAILPOINT_EXIT_CODE, `expected to die at ${fp}: ${died.stderr}`);
    assert(died.stderr.includes(`failpoint ${fp}`), died.stderr);
    assert(await present(join(out, "config.json")), "the run folder was claimed");
    assert(!(await present(join(out, "metrics.json"))), "no metrics.json: the record does not look complete");
    const resumed = await ast([...runFlags(out), "--resume"]);
    assertEquals(resumed.code, 0, resumed.stderr);
    const got = await outcome(out);
    assertEquals(got.auroc, baseline.auroc);
    assertEquals(got.scores, baseline.scores, "per-image scores equal the uninterrupted run's");
    assertEquals(got.weights, baseline.weights, "trained weights are byte-identical (their recorded SHA-256)");
    const leftovers = [...Deno.readDirSync(out)].filter((e) => e.name.includes(".tmp-"));
    assertEquals(leftovers.map((e) => e.name), [], "no temporary files left in the record");
  } });
}

/** Score one test image with the model folder `dir`; returns the exit code and first stderr line. */
async function scoreWith(dir: string) {
  const rgb = join(root, "puck", "test", "good", "rgb", "000.png");
  const r = await ast(["score", "--model", dir, "--image", rgb, "--depth", rgb.replace("/rgb/", "/xyz/").replace(/\.png$/, ".tiff"), "--out", join(dir, "..", `scored-${crypto.randomUUID().slice(0, 6)}`)]);
  return { code: r.code, error: r.stderr.split("\n").find((l) => l.startsWith("ast: error:")) ?? "" };
}

/** A copy of the reference model folder with `edit` applied. */
async function tamperedCopy(edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = join(await Deno.makeTempDir({ prefix: "ast-faults-" }), "model");
  await Deno.mkdir(dir);
  for (const e of Deno.readDirSync(baselineDir)) if (e.isFile) await Deno.copyFile(join(baselineDir, e.name), join(dir, e.name));
  await edit(dir);
  return dir;
}

const editJson = (file: string, change: (o: Record<string, unknown>) => void) => async (dir: string) => {
  const o = await readJson(join(dir, file));
  change(o);
  await Deno.writeTextFile(join(dir, file), JSON.stringify(o, null, 2));
};

const TAMPERED: [string, (dir: string) => Promise<void>, RegExp][] = [
  ["model.json cut short", (dir) => Deno.writeTextFile(join(dir, "model.json"), '{"format": "ast-lab'), /model\.json: cannot read JSON/],
  ["model.json says another mode", editJson("model.json", (o) => (o.mode = "rgb")), /model\.json: mode is "rgb" but config\.json says "depth"/],
  ["model.json says another map side", editJson("model.json", (o) => (o.map_side = 3)), /model\.json: map_side is 3 but config\.json says 64/],
  ["config.json edited (scoring changed)", editJson("config.json", (o) => ((o.config as Record<string, unknown>).evalMask = false)), /config\.json: SHA-256 \w+, but model\.json records \w+ from training: the file was changed/],
  ["teacher weights changed", async (dir) => {
    const f = join(dir, "teacher.safetensors"), b = await Deno.readFile(f);
    b[b.length - 3] ^= 0xff;
    await Deno.writeFile(f, b);
  }, /teacher\.safetensors: SHA-256 \w+, but model\.json records \w+ from training/],
];

Deno.test({ name: "faults: the untouched reference model scores", ...opts, fn: async () => {
  assert(baseline, "the reference run failed");
  const r = await scoreWith(await tamperedCopy(() => Promise.resolve()));
  assertEquals([r.code, r.error], [0, ""]);
} });

for (const [what, edit, message] of TAMPERED) {
  Deno.test({ name: `faults: a model folder with ${what} is refused in one line`, ...opts, fn: async () => {
    assert(baseline, "the reference run failed");
    const r = await scoreWith(await tamperedCopy(edit));
    assert(r.code !== 0 && message.test(r.error), `expected ${message}, got exit ${r.code}: '${r.error}'`);
  } });
}
