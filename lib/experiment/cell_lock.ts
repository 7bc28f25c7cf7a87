/**
 * A grid cell's lock, so two experiment runners never train the same cell at once: a file
 * `<cell folder>.lock` created exclusively, holding {pid, hostname, started}. A live lock means
 * "running elsewhere"; a stale one is taken over: removed under a short-lived guard lock (only
 * one taker at a time) and then created anew. Stale: on this host, its process is gone; on
 * another host, only when it names a Slurm job that Slurm says has ended (a node that died
 * mid-cell); any other lock of another host is taken to be alive.
 */
import { dirname } from "node:path";
import type { SlurmJob } from "../config/runtime.ts";
import { processAlive } from "../util/process_alive.ts";
import { slurmJobEnded } from "./slurm/squeue.ts";

export interface LockOwner {
  pid: number;
  hostname: string;
  started: string;
  /** the Slurm job (array task) holding the lock, when it runs in one */
  slurm?: SlurmJob;
}

export type LockResult =
  | { acquired: true; path: string; release: () => Promise<void> }
  | { acquired: false; path: string; owner: LockOwner | null };

/** This machine's name, as locks record it ("unknown" when it cannot be read). */
export function hostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown";
  }
}

export { processAlive };

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

async function isStale(owner: LockOwner | null, me?: LockOwner): Promise<boolean> {
  if (!owner) return false;
  // An earlier attempt of this very Slurm task (requeued after a node failure or preemption): its
  // job id is still "running" (it is us), but the process that took the lock is gone.
  if (me?.slurm && owner.slurm?.job === me.slurm.job && !sameOwner(owner, me)) return owner.hostname !== me.hostname || !processAlive(owner.pid);
  if (owner.hostname === hostname()) return !processAlive(owner.pid);
  return owner.slurm ? await slurmJobEnded(owner.slurm.job) === true : false;
}

/** The owner of the lock at `path` while it is held by a live runner, else null (no lock, or stale). */
export async function liveLockOwner(path: string): Promise<LockOwner | null> {
  const owner = await readOwner(path);
  if (owner === null) return null;
  return (await isStale(owner)) ? null : owner;
}

/** The owner of the lock at `path` as recorded, alive or not (null: no lock). */
export async function lockOwner(path: string): Promise<LockOwner | null> {
  return await readOwner(path);
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

/** A takeover guard older than this was left by a taker that died (it is held for milliseconds). */
const ABANDONED_GUARD_MS = 30_000;

/**
 * Remove a stale lock, under a second, short-lived guard lock (`<lock>.takeover`), so that two
 * takers never both remove a lock: under the guard the lock is read again and removed only while
 * it is still the stale one (no one else removes locks, and a new one cannot be created while the
 * file exists). A taker that finds the guard held just tries again.
 */
async function removeStale(path: string, stale: LockOwner, me: LockOwner): Promise<void> {
  const guard = `${path}.takeover`;
  if (!(await createLock(guard, me))) {
    const age = await Deno.lstat(guard).then((st) => Date.now() - (st.mtime?.getTime() ?? Date.now()), () => 0);
    if (age > ABANDONED_GUARD_MS) await Deno.remove(guard).catch(() => {});
    await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
    return;
  }
  try {
    if (sameOwner(await readOwner(path), stale)) await Deno.remove(path).catch(() => {});
  } finally {
    await Deno.remove(guard).catch(() => {});
  }
}

/** Take the lock at `path` (e.g. `<cell folder>.lock`), or say who holds it. */
export async function acquireCellLock(path: string, slurm?: SlurmJob): Promise<LockResult> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const me: LockOwner = { pid: Deno.pid, hostname: hostname(), started: new Date().toISOString(), ...(slurm ? { slurm } : {}) };
  for (let attempt = 0; attempt < 50; attempt++) {
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
    if (!owner || !(await isStale(owner, me))) return { acquired: false, path, owner };
    await removeStale(path, owner, me);
  }
  return { acquired: false, path, owner: await readOwner(path) };
}
