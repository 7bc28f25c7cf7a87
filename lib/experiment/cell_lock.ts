/**
 * A grid cell's lock, so two experiment runners never train the same cell at once: a file
 * `<cell folder>.lock` created exclusively, holding {pid, hostname, started}. A live lock means
 * "running elsewhere"; a stale one (same host, its process gone) is taken over: renamed away to a
 * unique name (only one taker's rename can succeed) and then created anew.
 */
import { dirname } from "node:path";

export interface LockOwner {
  pid: number;
  hostname: string;
  started: string;
}

export type LockResult =
  | { acquired: true; path: string; release: () => Promise<void> }
  | { acquired: false; path: string; owner: LockOwner | null };

function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

/** Whether a process of this machine is alive (Linux: /proc/<pid> exists). */
export function processAlive(pid: number): boolean {
  if (pid === Deno.pid) return true;
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    // no /proc (not Linux): assume alive rather than take over a running cell
    return !(e instanceof Deno.errors.NotFound) || !procAvailable();
  }
}

function procAvailable(): boolean {
  try {
    return Deno.statSync("/proc/self").isDirectory;
  } catch {
    return false;
  }
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const o = JSON.parse(await Deno.readTextFile(path));
    return typeof o?.pid === "number" && typeof o?.hostname === "string" ? o : null;
  } catch {
    return null; // being written right now, or gone
  }
}

async function lockExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

const sameOwner = (a: LockOwner | null, b: LockOwner | null) => !!a && !!b && a.pid === b.pid && a.hostname === b.hostname && a.started === b.started;

function isStale(owner: LockOwner | null): owner is LockOwner {
  return !!owner && owner.hostname === hostname() && !processAlive(owner.pid);
}

const uniqueSuffix = () => `${Deno.pid}-${Date.now()}-${Math.floor(Math.random() * 1e9)}`;

/**
 * Create the lock file with its whole content at once: written to a private file, then
 * hard-linked to `path` (link fails when `path` exists, so a reader never sees a half-written lock).
 */
async function createLock(path: string, owner: LockOwner): Promise<boolean> {
  const tmp = `${path}.new-${uniqueSuffix()}`;
  await Deno.writeTextFile(tmp, JSON.stringify(owner) + "\n", { createNew: true });
  try {
    await Deno.link(tmp, path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  } finally {
    await Deno.remove(tmp).catch(() => {});
  }
}

/**
 * Move a stale lock out of the way. Only one taker's rename finds the file; a taker that renamed
 * a lock that is no longer the stale one (another taker already replaced it) puts it back.
 */
async function removeStale(path: string, stale: LockOwner): Promise<void> {
  const aside = `${path}.stale-${uniqueSuffix()}`;
  try {
    await Deno.rename(path, aside);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return; // another taker moved it first
    throw e;
  }
  if (!sameOwner(await readOwner(aside), stale)) {
    // a live lock created in between: restore it (link fails if yet another lock appeared)
    await Deno.link(aside, path).catch(() => {});
  }
  await Deno.remove(aside).catch(() => {});
}

/** Take the lock at `path` (e.g. `<cell folder>.lock`), or say who holds it. */
export async function acquireCellLock(path: string): Promise<LockResult> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const me: LockOwner = { pid: Deno.pid, hostname: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createLock(path, me)) {
      return {
        acquired: true,
        path,
        release: async () => {
          // remove it only while it is still ours
          if (sameOwner(await readOwner(path), me)) await Deno.remove(path).catch(() => {});
        },
      };
    }
    const owner = await readOwner(path);
    if (owner === null && !(await lockExists(path))) continue; // released meanwhile: try again
    if (!isStale(owner)) return { acquired: false, path, owner };
    await removeStale(path, owner);
  }
  return { acquired: false, path, owner: await readOwner(path) };
}
