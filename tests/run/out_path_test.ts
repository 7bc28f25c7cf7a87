/** Issue 14, case 4: --out is judged by its real path: no `..` or symlink into a run folder or the dataset. */
import { join } from "node:path";
import { isInside, outPathProblem, realPathOf } from "../../lib/run/out_path.ts";
import { assert, assertEquals } from "../assert.ts";

async function fixture() {
  const base = await Deno.realPath(await Deno.makeTempDir());
  const data = join(base, "data");
  await Deno.mkdir(join(data, "puck", "train"), { recursive: true });
  const finished = join(base, "runs", "done");
  await Deno.mkdir(finished, { recursive: true });
  for (const f of ["config.json", "model.json", "metrics.json"]) await Deno.writeTextFile(join(finished, f), "{}");
  const started = join(base, "runs", "started");
  await Deno.mkdir(join(started, "checkpoint"), { recursive: true });
  await Deno.writeTextFile(join(started, "config.json"), "{}");
  return { base, data, finished, started };
}

Deno.test("out path: real path of a path that does not exist yet, through a symlink", async () => {
  const { base, finished } = await fixture();
  await Deno.symlink(finished, join(base, "link"));
  assertEquals(await realPathOf(join(base, "link", "new", "deeper")), join(finished, "new", "deeper"));
  assert(isInside(join(base, "a", "b"), base) && isInside(base, base));
  assert(isInside(join(base, "..x"), base), "a child named '..x' is inside");
  assert(!isInside("/tmp/ab", "/tmp/a") && !isInside("/tmp", "/tmp/a"));
});

Deno.test("out path: inside a run folder or the dataset (class folder) is refused, via `..` or a symlink; beside them is fine", async () => {
  const { base, data: root, finished, started } = await fixture();
  const data = join(root, "puck"); // the dataset a run reads: the class folder
  await Deno.symlink(finished, join(base, "to-model"));
  await Deno.symlink(data, join(base, "to-data"));
  const refused: [string, RegExp][] = [
    [join(finished, "sub"), /inside the run folder .*done/],
    [join(base, "runs", "other", "..", "done", "sub"), /inside the run folder .*done/],
    [join(base, "to-model", "sub"), /inside the run folder .*done/],
    [join(started, "sub", "deeper"), /inside the run folder .*started/],
    [join(data, "out"), /inside the dataset/],
    [join(base, "runs", "..", "data", "puck", "train", "out"), /inside the dataset/],
    [join(base, "to-data", "out"), /inside the dataset/],
    [data, /inside the dataset/],
  ];
  for (const [out, re] of refused) {
    const p = await outPathProblem(out, data);
    assert(p !== null && re.test(p), `${out}: ${p}`);
  }
  for (const out of [join(base, "runs", "new"), join(base, "elsewhere", "x"), join(root, "beside-the-class"), finished]) {
    assertEquals(await outPathProblem(out, data), null, out); // `finished` itself: the caller refuses an existing --out
  }
});
