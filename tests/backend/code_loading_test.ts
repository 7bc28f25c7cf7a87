/**
 * Code is loaded only from private folders and only as built (issue 14): a library planted in
 * the native cache is never dlopen'ed (its constructor would run) but removed and rebuilt; an
 * open or symlinked cache folder is refused; a tampered wasm worker file is replaced before load.
 * The subprocesses run with the `ast` task's own permission flags (tests/_cli.ts).
 */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { runArgs } from "../_cli.ts";
import { buildFusedLibrary, fusedLibraryName, libraryProblem } from "../../lib/backend/native/fused_library.ts";
import { UnsafeFolderError } from "../../lib/util/private_dir.ts";
import { workerDir, writeWorkerFile } from "../../lib/backend/wasm/threads.ts";

const posix = Deno.build.os !== "windows";
const cc = (() => {
  try {
    return new Deno.Command("cc", { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
})();
if (!cc) console.log("code loading tests: no C compiler (cc) here: the planted-library tests are skipped (apt-get install gcc)");

const ROOT = new URL("../..", import.meta.url);

/** Loads the fused kernels in a fresh process as `deno task ast` would; stdout's last line is JSON. */
async function loadInSubprocess(env: Record<string, string>) {
  const code = `
    import { loadFusedLibrary } from "./lib/backend/native/fused_library.ts";
    import { runtimeFromEnv } from "./lib/config/runtime.ts";
    const r = loadFusedLibrary(1, runtimeFromEnv().backend);
    console.log(JSON.stringify({ math: r.math?.name ?? null, reason: r.reason ?? null, notes: r.notes ?? [] }));
  `;
  const script = join(await Deno.makeTempDir(), "load.ts");
  await Deno.writeTextFile(script, code.replaceAll("./lib/", new URL("lib/", ROOT).href));
  const out = await new Deno.Command(Deno.execPath(), {
    args: runArgs("ast", script),
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout), stderr = new TextDecoder().decode(out.stderr);
  assert(out.success, stderr);
  return { ...JSON.parse(stdout.trim().split("\n").pop()!), stderr };
}

Deno.test({ name: "native cache: a planted library (with a constructor) is not loaded; it is removed, rebuilt, and said so", ignore: !cc || !posix, fn: async () => {
  const root = await Deno.makeTempDir({ prefix: "ast-planted-" });
  try {
    const cache = join(root, "cache"), marker = join(root, "constructor-ran");
    await Deno.mkdir(cache, { mode: 0o700 });
    const c = join(root, "evil.c");
    await Deno.writeTextFile(c, `#include <stdio.h>
__attribute__((constructor)) static void planted(void) { FILE *f = fopen("${marker}", "w"); if (f) fclose(f); }
int ast_fused_version(void) { return 1; }
`);
    const planted = join(cache, fusedLibraryName("cc"));
    const built = await new Deno.Command("cc", { args: ["-shared", "-fPIC", "-o", planted, c] }).output();
    assert(built.success, "compiling the planted library");
    // without a sidecar, then with a forged one that does not match
    for (const sidecar of [null, "0".repeat(64)]) {
      if (sidecar) await Deno.writeTextFile(`${planted}.sha256`, sidecar);
      const r = await loadInSubprocess({ AST_NATIVE_CACHE: cache, TMPDIR: root });
      assertEquals(r.math, "native");
      assert(!(await exists(marker)), "the planted library's constructor ran");
      const why = sidecar ? "does not match its recorded SHA-256" : "has no recorded SHA-256";
      const line = r.stderr.split("\n").find((l: string) => l.includes(planted));
      assert(line && line.includes(why) && /not loaded; removed and rebuilt/.test(line), `stderr: ${r.stderr}`);
      assertEquals(libraryProblem(planted), null); // the rebuilt library, with its sidecar
      // plant again for the next round
      await new Deno.Command("cc", { args: ["-shared", "-fPIC", "-o", planted, c] }).output();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
} });

Deno.test({ name: "native cache: a folder writable by group/others or a symlink is refused with one line", ignore: !posix, fn: async () => {
  const root = await Deno.makeTempDir({ prefix: "ast-opencache-" });
  try {
    const open = join(root, "open");
    await Deno.mkdir(open);
    await Deno.chmod(open, 0o777);
    const link = join(root, "link");
    await Deno.symlink(await Deno.makeTempDir({ dir: root }), link);
    for (const [dir, message] of [[open, /is writable by group\/others \(mode 0777\).*chmod 700/], [link, /is a symbolic link/]] as const) {
      let err: unknown = null;
      try {
        buildFusedLibrary({ nativeCacheDir: dir, tempDir: root });
      } catch (e) {
        err = e;
      }
      assert(err instanceof UnsafeFolderError, `expected a refusal for ${dir}, got ${err}`);
      assert(message.test(err.message) && err.message.includes(dir) && /AST_NATIVE_CACHE/.test(err.message), err.message);
      assertEquals([...Deno.readDirSync(dir)].length, 0, "nothing built there");
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
} });

Deno.test({ name: "wasm worker file: in the private per-user folder; a tampered file is replaced before load", ignore: !posix, fn: async () => {
  const tmp = await Deno.makeTempDir({ prefix: "ast-worker-" });
  try {
    const lines: string[] = [];
    const path = writeWorkerFile(tmp, (l) => lines.push(l));
    assertEquals(join(path, ".."), workerDir(tmp));
    assertEquals(Deno.statSync(workerDir(tmp)).mode! & 0o777, 0o700);
    assertEquals(Deno.statSync(join(tmp, `ast-lab-${Deno.uid()}`)).mode! & 0o777, 0o700);
    const expected = await Deno.readTextFile(path);
    assert(lines.length === 0, lines.join("\n"));
    await Deno.writeTextFile(path, "require('fs').writeFileSync('/tmp/pwned', '')");
    assertEquals(writeWorkerFile(tmp, (l) => lines.push(l)), path);
    assertEquals(await Deno.readTextFile(path), expected);
    assert(lines.length as number === 1 && lines[0].includes(path) && /replaced/.test(lines[0]), lines.join("\n"));
    // a symlink in its place is removed, not followed
    await Deno.remove(path);
    await Deno.symlink(join(tmp, "elsewhere.cjs"), path);
    writeWorkerFile(tmp, () => {});
    assert(Deno.lstatSync(path).isFile && (await Deno.readTextFile(path)) === expected);
    // an opened-up worker folder is refused
    await Deno.chmod(workerDir(tmp), 0o777);
    let err: unknown = null;
    try {
      writeWorkerFile(tmp, () => {});
    } catch (e) {
      err = e;
    }
    assert(err instanceof UnsafeFolderError && /mode 0777/.test(err.message), String(err));
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
} });

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
