/** Issue 14, case 8: a --config that cannot be used names the file and the problem, in one line. */
import { join } from "node:path";
import { ConfigError } from "../../lib/config/patch.ts";
import { loadExperimentFile } from "../../lib/config/resolve.ts";
import { assert, assertEquals } from "../assert.ts";

/** The error message of a rejected load (its class checked too). */
async function loadError(path: string): Promise<string> {
  try {
    await loadExperimentFile(path);
  } catch (e) {
    assert(e instanceof ConfigError, `ConfigError expected, got ${e}`);
    assert(!(e as Error).message.includes("\n"), "one line");
    return (e as Error).message;
  }
  throw new Error(`${path} loaded`);
}

Deno.test("config file: a broken TS file, a folder, a non-object export or JSON name the file and the problem", async () => {
  const dir = await Deno.makeTempDir();
  const broken = join(dir, "broken.ts");
  await Deno.writeTextFile(broken, "export default { posEnc: false ;\n");
  assert(/^--config .*broken\.ts: cannot load: SyntaxError: /.test(await loadError(broken)), await loadError(broken));
  const throwing = join(dir, "throwing.ts");
  await Deno.writeTextFile(throwing, "throw new RangeError('nope');\nexport default {};\n");
  assert(/throwing\.ts: cannot load: RangeError: nope/.test(await loadError(throwing)));
  assertEquals(await loadError(dir), `--config ${dir}: is a folder, expected a .ts or .json file`);
  for (const [name, body, got] of [
    ["number.ts", "export default 5;\n", "number"],
    ["array.ts", "export default [1, 2];\n", "an array"],
    ["null.ts", "export default null;\n", "null"],
  ]) {
    const p = join(dir, name);
    await Deno.writeTextFile(p, body);
    assertEquals(await loadError(p), `--config ${p}: the default export must be a config object (a patch), got ${got}`);
  }
  const none = join(dir, "none.ts");
  await Deno.writeTextFile(none, "export const other = {};\n");
  assert(/none\.ts: no default export/.test(await loadError(none)));
  const list = join(dir, "list.json");
  await Deno.writeTextFile(list, "[1]");
  assertEquals(await loadError(list), `--config ${list}: expected a JSON object (a config patch), got an array`);
});

Deno.test("config file: a TS config that others can change is refused before it runs", async () => {
  const dir = await Deno.makeTempDir();
  const marker = join(dir, "ran");
  const body = `Deno.writeTextFileSync(${JSON.stringify(marker)}, "x");\nexport default { posEnc: false };\n`;
  const ok = join(dir, "ok.ts");
  await Deno.writeTextFile(ok, body);
  assertEquals((await loadExperimentFile(ok)).patch, { posEnc: false });
  await Deno.remove(marker);

  const open = join(dir, "open.ts");
  await Deno.writeTextFile(open, body);
  await Deno.chmod(open, 0o666);
  assert(/open\.ts: refusing to run it: its file .*open\.ts is writable by others \(mode 0666\)/.test(await loadError(open)), await loadError(open));

  const shared = join(dir, "shared");
  await Deno.mkdir(shared);
  const inShared = join(shared, "cfg.ts");
  await Deno.writeTextFile(inShared, body);
  await Deno.chmod(shared, 0o777);
  assert(/refusing to run it: its folder .*shared is writable by others \(mode 0777\)/.test(await loadError(inShared)), await loadError(inShared));
  await Deno.chmod(shared, 0o1777); // sticky, as /tmp: others cannot replace our file
  assertEquals((await loadExperimentFile(inShared)).patch, { posEnc: false });
  assert(await Deno.stat(marker).then(() => true), "the accepted file ran");
  await Deno.remove(marker);
  for (const refused of [open]) {
    await loadError(refused);
    assert(!(await Deno.stat(marker).then(() => true, () => false)), "a refused file never runs");
  }
});
