/**
 * Issue 14, cases 2, 3 and 5 in process: every input is checked before the run folder exists
 * (a bad input leaves nothing behind), and --resume refuses arguments that describe another run.
 */
import { join } from "node:path";
import { runExperiment } from "../../lib/run/run.ts";
import type { RunOptions } from "../../lib/run/resolve.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "./_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};
const root3d = await tinyMvtec3d();
const present = (p: string) => Deno.stat(p).then(() => true, () => false);

/** A run that must fail on its input and leave neither its --out nor the default runs folder. */
async function assertFailsLeavingNothing(o: Partial<RunOptions>, message: RegExp) {
  const base = await Deno.makeTempDir();
  for (const where of [{ out: join(base, "explicit") }, { runsDir: join(base, "runs") }]) {
    await assertRejects(() => runExperiment({ data: root3d, className: "puck", mode: "depth", epochs: 1, sets: TINY_SETS, log: quiet, ...o, ...where }), message);
    assertEquals([...Deno.readDirSync(base)].map((e) => e.name), [], `${JSON.stringify(o)}: nothing created`);
  }
}

Deno.test({ name: "inputs: a bad --set, missing weights, an empty class or a damaged image leave no run folder", ...opts, fn: async () => {
  await assertFailsLeavingNothing({ sets: [...TINY_SETS, 'teacher.kernelSizes=[3,"x"]'] }, /'teacher\.kernelSizes' must be an array of numbers, got "x" at index 1/);
  await assertFailsLeavingNothing({ sets: [...TINY_SETS, "teacher.kernelSizes=[4]"] }, /odd integers/);
  await assertFailsLeavingNothing({ mode: "rgb", backbone: "mobilenet_v2", weights: "/nonexistent/weights" }, /nonexistent/);
  const empty = await Deno.makeTempDir();
  await Deno.mkdir(join(empty, "hollow", "train", "good"), { recursive: true });
  await assertFailsLeavingNothing({ data: empty, className: "hollow" }, /no training images/);
  // damaged data is found while the features are computed: still before the folder exists
  const damaged = await tinyMvtec3d(7);
  await Deno.writeTextFile(join(damaged, "puck", "test", "good", "xyz", "001.tiff"), "not a tiff");
  await assertFailsLeavingNothing({ data: damaged }, /001\.tiff|tiff/i);
} });

Deno.test({ name: "inputs: a class name that is not one plain folder name is refused before anything is read", ...opts, fn: async () => {
  for (const className of ["a/b", "..", ".", "/abs", "a\\b", "a\0b", "", "../puck"]) {
    await assertFailsLeavingNothing({ className }, /--class must be a plain folder name/);
  }
} });

Deno.test({ name: "resume: arguments that change the run are refused naming the field; the same ones resume", ...opts, fn: async () => {
  const base = await Deno.makeTempDir();
  const out = join(base, "run");
  const args = { data: root3d, className: "puck", mode: "depth" as const, epochs: 2, seed: 3, sets: TINY_SETS, log: quiet };
  await assertRejects(() => runExperiment({ ...args, out, onEpoch: () => { throw new Error("interrupted"); } }), /interrupted/);
  const recorded = await Deno.readTextFile(join(out, "config.json"));
  const other = await tinyMvtec3d(1);
  const configFile = join(base, "e.json");
  await Deno.writeTextFile(configFile, JSON.stringify({ checkpointEvery: 7 }));
  const refused: [Partial<RunOptions>, RegExp][] = [
    [{ epochs: 3 }, /--resume: teacher\.epochs differs: recorded 2, given 3 \(a resumed run keeps its recorded config\)$/],
    [{ seed: 4 }, /--resume: seed differs: recorded 3, given 4/],
    [{ sets: [...TINY_SETS, "student.hidden=16"] }, /--resume: student\.hidden differs: recorded 8, given 16/],
    [{ sets: [] }, /--resume: mapLen differs/],
    [{ preset: "cpu" }, /--resume: preset differs: recorded demo, given cpu/],
    [{ configFile }, /--resume: checkpointEvery differs: recorded \d+, given 7/],
    [{ data: other }, /--resume: data differs: recorded .*, given /],
    [{ mode: "combi" }, /--resume: mode differs: recorded depth, given combi/],
    [{ sets: [...TINY_SETS, 'teacher.kernelSizes=[3,"x"]'] }, /'teacher\.kernelSizes' must be an array of numbers/],
  ];
  for (const [change, message] of refused) {
    await assertRejects(() => runExperiment({ ...args, ...change, out, resume: true }), message, JSON.stringify(change));
  }
  await assertRejects(() => runExperiment({ ...args, resume: true }), /--resume needs --out RUN_DIR/);
  assertEquals(await Deno.readTextFile(join(out, "config.json")), recorded, "config.json untouched by refused resumes");
  assert(!(await present(join(out, "metrics.json"))));
  // the same arguments, or only --data/--class/--mode, resume
  const { metrics } = await runExperiment({ ...args, out, resume: true });
  assertEquals([metrics.seed, metrics.epochs.teacher], [3, 2]);
  assertEquals(await Deno.readTextFile(join(out, "config.json")), recorded);
} });

Deno.test({ name: "resume: with only --data, --class and --mode equal to the record, a run continues", ...opts, fn: async () => {
  const out = join(await Deno.makeTempDir(), "run");
  const args = { data: root3d, className: "puck", mode: "depth" as const, log: quiet };
  await assertRejects(() => runExperiment({ ...args, epochs: 1, seed: 2, sets: TINY_SETS, out, onEpoch: () => { throw new Error("interrupted"); } }), /interrupted/);
  const { metrics } = await runExperiment({ ...args, out, resume: true });
  assertEquals([metrics.seed, metrics.epochs.teacher], [2, 1]);
  await assertRejects(() => runExperiment({ ...args, className: "bagel", out, resume: true }), /bagel/);
} });
