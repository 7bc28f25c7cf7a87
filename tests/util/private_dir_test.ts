/** Private folders for code we load (issue 14): created 0700; symlinks, foreign or open folders refused. */
import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { ensurePrivateDir, UnsafeFolderError, userTempDir } from "../../lib/util/private_dir.ts";

const posix = Deno.build.os !== "windows";

function refused(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert(err instanceof UnsafeFolderError, `expected UnsafeFolderError, got ${err}`);
    assert(message.test(err.message), `expected ${message} in '${err.message}'`);
    assert(!err.message.includes("\n"), "one line");
    return;
  }
  throw new Error(`not refused (expected ${message})`);
}

Deno.test({ name: "private dir: created with mode 0700; an existing 0755 folder of ours is accepted", ignore: !posix, fn: async () => {
  const root = await Deno.makeTempDir();
  try {
    const dir = ensurePrivateDir(join(root, "a", "b"), { what: "test folder" });
    assertEquals(Deno.statSync(dir).mode! & 0o777, 0o700);
    await Deno.mkdir(join(root, "shared"), { mode: 0o755 });
    await Deno.chmod(join(root, "shared"), 0o755);
    ensurePrivateDir(join(root, "shared"), { what: "test folder" });
    refused(() => ensurePrivateDir(join(root, "shared"), { what: "test folder", strict: true }), /accessible to group\/others \(mode 0755\)/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
} });

Deno.test({ name: "private dir: group/other-writable, symlink and plain-file folders are refused in one line", ignore: !posix, fn: async () => {
  const root = await Deno.makeTempDir();
  try {
    const open = join(root, "open");
    await Deno.mkdir(open);
    await Deno.chmod(open, 0o777);
    refused(() => ensurePrivateDir(open, { what: "native kernel cache", fix: "or set AST_NATIVE_CACHE" }),
      new RegExp(`^native kernel cache ${open} is writable by group/others \\(mode 0777\\): refusing to load code from it; chmod 700 ${open}, or set AST_NATIVE_CACHE$`));
    const mine = ensurePrivateDir(join(root, "mine"), { what: "x" });
    await Deno.symlink(mine, join(root, "link"));
    refused(() => ensurePrivateDir(join(root, "link"), { what: "x" }), /is a symbolic link/);
    await Deno.writeTextFile(join(root, "file"), "");
    refused(() => ensurePrivateDir(join(root, "file"), { what: "x" }), /is not a directory/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
} });

Deno.test({ name: "private dir: the per-user temporary folder is reused, and refused when opened up", ignore: !posix, fn: async () => {
  const tmp = await Deno.makeTempDir();
  try {
    const a = userTempDir(tmp, "sub", "test folder");
    const b = userTempDir(tmp, "sub", "test folder");
    assertEquals(a, b);
    assertEquals(a, join(tmp, `ast-lab-${Deno.uid()}`, "sub"));
    await Deno.chmod(join(tmp, `ast-lab-${Deno.uid()}`), 0o755);
    refused(() => userTempDir(tmp, "sub", "test folder"), /mode 0755/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
} });
