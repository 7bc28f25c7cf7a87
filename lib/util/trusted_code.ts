/**
 * A TypeScript file we are asked to import (an experiment config, `--config FILE.ts`) runs in this
 * process with the task's permissions: it must be a file only the user (or root) can change.
 * The file and every folder above it are checked: owned by the user or root, not writable by
 * others, and not writable by the group unless it is the user's own group. A folder writable by
 * all is accepted only with the sticky bit (as /tmp): there no one else can replace our file.
 */
import { dirname, resolve } from "node:path";
import { currentUid, octalMode } from "./private_dir.ts";

/** Why `path` is not safe to import, or null when it is (or when the platform has no modes). */
export function untrustedCodeProblem(path: string): string | null {
  const uid = currentUid("checks who can change the code it loads");
  if (uid === null) return null;
  const gid = Deno.gid();
  let target: string;
  try {
    target = Deno.realPathSync(path);
  } catch {
    return null; // missing: the import reports that, naming the file
  }
  for (let p = target, isFile = true;; isFile = false) {
    const info = Deno.statSync(p);
    if (info.mode === null || info.uid === null) return null;
    const what = isFile ? "file" : "folder";
    if (info.uid !== uid && info.uid !== 0) return `its ${what} ${p} is owned by uid ${info.uid}, not by you (uid ${uid}) or root`;
    const sticky = (info.mode & 0o1000) !== 0;
    if ((info.mode & 0o002) && !(sticky && !isFile)) return `its ${what} ${p} is writable by others (mode ${octalMode(info.mode)})`;
    if ((info.mode & 0o020) && info.gid !== gid && !(sticky && !isFile)) return `its ${what} ${p} is writable by group ${info.gid} (mode ${octalMode(info.mode)})`;
    const parent = dirname(p);
    if (parent === p) return null;
    p = resolve(parent);
  }
}
