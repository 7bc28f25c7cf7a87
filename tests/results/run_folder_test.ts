/** Issue 14, case 1: a run folder is claimed exclusively, so two runs never share a record. */
import { join } from "node:path";
import { claimExactFolder, claimRunFolder, defaultRunName } from "../../lib/results/run_folder.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";

const CLAIM_SCRIPT = new URL("./_claim_folders.ts", import.meta.url).pathname;

/** A second process claiming folders at the same time (the one spawn of this file). */
function claimInChild(parent: string, base: string, n: number) {
  return new Deno.Command(Deno.execPath(), { args: ["run", "-A", CLAIM_SCRIPT, parent, base, String(n)], stdout: "piped", stderr: "piped" }).output();
}

Deno.test("run folder: the default name is time-class-mode", () => {
  assertEquals(defaultRunName("puck", "depth", new Date("2026-12-06T13:19:49.123Z")), "20261206T131949Z-puck-depth");
});

Deno.test("run folder: many concurrent claims of one name in one process get distinct new folders", async () => {
  const parent = join(await Deno.makeTempDir(), "results", "runs"); // the parent is created on demand
  const base = defaultRunName("puck", "depth");
  const claimed = await Promise.all(Array.from({ length: 40 }, () => claimRunFolder(parent, base)));
  assertEquals(new Set(claimed).size, 40);
  assert(claimed.includes(join(parent, base)), "the plain name is taken by one of them");
  for (const dir of claimed) assert(dir.startsWith(join(parent, base)) && (await Deno.stat(dir)).isDirectory, dir);
  assertEquals([...Deno.readDirSync(parent)].length, 40);
});

Deno.test("run folder: claims from two processes at once never share a folder", async () => {
  const parent = join(await Deno.makeTempDir(), "runs");
  const base = "20261206T131949Z-puck-depth";
  const [a, b] = await Promise.all([claimInChild(parent, base, 15), claimInChild(parent, base, 15)]);
  assertEquals([a.code, b.code], [0, 0], new TextDecoder().decode(a.stderr) + new TextDecoder().decode(b.stderr));
  const all = [a, b].flatMap((r) => JSON.parse(new TextDecoder().decode(r.stdout)) as string[]);
  assertEquals(new Set(all).size, 30);
  assertEquals([...Deno.readDirSync(parent)].length, 30);
});

Deno.test("run folder: an explicit folder is created exactly, an existing one refused", async () => {
  const dir = join(await Deno.makeTempDir(), "a", "run");
  assertEquals(await claimExactFolder(dir, () => new Error("exists")), dir);
  await assertRejects(() => claimExactFolder(dir, () => new Error("run exists")), /run exists/);
  // two at once: exactly one wins
  const other = join(await Deno.makeTempDir(), "run");
  const results = await Promise.allSettled(Array.from({ length: 8 }, () => claimExactFolder(other, () => new Error("taken"))));
  assertEquals(results.filter((r) => r.status === "fulfilled").length, 1);
});
