/**
 * Folders we load code from (the compiled fused kernels, the wasm pthread worker script) must be
 * writable by us alone: a file planted or swapped there by another user would run in this
 * process (issue 14). `ensurePrivateDir` creates a missing folder with mode 0700 and then checks
 * what is there (lstat, so a symlink is seen as one): a real directory, owned by us, not writable
 * by group or others. Anything else is refused with one line naming the folder, what is wrong and
 * what to do; nothing is loaded from it.
 */
import os from "node:os";
import { join } from "node:path";
import { withPermission } from "./permission.ts";

/** A folder that is not safe to load code from; the message says why and what to do. */
export class UnsafeFolderError extends Error {
  override name = "UnsafeFolderError";
}

export interface PrivateDirOptions {
  /** what the folder is for, in the messages (e.g. "native kernel cache") */
  what: string;
  /** how to use another folder (e.g. "or set AST_NATIVE_CACHE to a folder only you can write") */
  fix?: string;
  /**
   * true: also refuse group/other read or execute bits (mode & 0o077). For the per-user folders
   * we create in the shared temporary folder, which nobody else has any business opening.
   */
  strict?: boolean;
}

/** This process's user id (null on Windows, where the mode bits below do not exist). */
export function currentUid(why: string): number | null {
  if (Deno.build.os === "windows") return null;
  return withPermission("--allow-sys=uid", `(${why})`, () => Deno.uid());
}

/** A file mode as `ls` users read it: 0755, 01777 (sticky and set-id bits shown when set). */
export const octalMode = (mode: number) => `0${(mode & 0o7777).toString(8).padStart(3, "0")}`;

/** Creates `dir` (mode 0700, parents included) when missing and checks it; returns `dir`. */
export function ensurePrivateDir(dir: string, opts: PrivateDirOptions): string {
  const why = `for the ${opts.what} ${dir}`;
  const refuse = (problem: string, todo: string) =>
    new UnsafeFolderError(`${opts.what} ${dir} ${problem}: refusing to load code from it; ${todo}${opts.fix ? `, ${opts.fix}` : ""}`);
  const lstat = () => withPermission(`--allow-read=${dir}`, why, () => Deno.lstatSync(dir));
  let info: Deno.FileInfo;
  try {
    info = lstat();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    withPermission(`--allow-write=${dir}`, why, () => Deno.mkdirSync(dir, { recursive: true, mode: 0o700 }));
    info = lstat(); // what is there now (someone may have raced us to the name)
  }
  if (info.isSymlink) throw refuse("is a symbolic link", `remove it (rm ${dir})`);
  if (!info.isDirectory) throw refuse("is not a directory", `remove it (rm ${dir})`);
  const uid = currentUid(`checks who owns the ${opts.what}`);
  if (uid === null || info.mode === null) return dir;
  if (info.uid !== uid) throw refuse(`is owned by uid ${info.uid}, not by you (uid ${uid})`, `remove it or use a folder of your own`);
  const open = info.mode & (opts.strict ? 0o077 : 0o022);
  if (open) {
    const who = opts.strict ? "accessible to group/others" : "writable by group/others";
    throw refuse(`is ${who} (mode ${octalMode(info.mode)})`, `chmod 700 ${dir}`);
  }
  return dir;
}

/**
 * The per-user folder below the system's temporary folder, `<tempDir>/ast-lab-<uid>` (private,
 * strict), reused by every process of this user; `sub` a private folder inside it.
 */
export function userTempDir(tempDir: string, sub: string, what: string): string {
  const uid = currentUid(`names the per-user folder for the ${what}`);
  const base = ensurePrivateDir(join(tempDir, `ast-lab-${uid ?? "user"}`), { what, strict: true });
  return ensurePrivateDir(join(base, sub), { what, strict: true });
}

/** The system's temporary folder when none is configured (BackendOptions.tempDir, from $TMPDIR). */
export function defaultTempDir(): string {
  return Deno.build.os === "windows" ? os.tmpdir() : "/tmp";
}
