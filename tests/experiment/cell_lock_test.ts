/** Issue 14, case 1 (grids): a cell is trained by one runner at a time; a dead runner's lock is taken over once. */
import { join } from "node:path";
import { acquireCellLock, processAlive } from "../../lib/experiment/cell_lock.ts";
import { assert, assertEquals } from "../assert.ts";
import { deadPid } from "./_tiny_grid.ts";

async function writeLock(path: string, owner: { pid: number; hostname: string; slurm?: { job: string } }) {
  await Deno.writeTextFile(path, JSON.stringify({ ...owner, started: "2026-01-01T00:00:00.000Z" }));
}

Deno.test("cell lock: of two concurrent claims one wins, the other is told who runs it; released when done", async () => {
  const path = join(await Deno.makeTempDir(), "runs", "puck-depth-abc.lock");
  const [a, b] = await Promise.all([acquireCellLock(path), acquireCellLock(path)]);
  const won = [a, b].filter((r) => r.acquired);
  assertEquals(won.length, 1);
  const lost = [a, b].find((r) => !r.acquired)!;
  assert(!lost.acquired && lost.owner?.pid === Deno.pid, JSON.stringify(lost));
  const held = JSON.parse(await Deno.readTextFile(path));
  assertEquals([held.pid, held.hostname, typeof held.started], [Deno.pid, Deno.hostname(), "string"]);
  if (won[0].acquired) await won[0].release();
  assert(!(await Deno.stat(path).then(() => true, () => false)), "lock removed on release");
  const again = await acquireCellLock(path);
  assert(again.acquired);
  if (again.acquired) await again.release();
});

Deno.test("cell lock: a stale lock (same host, process gone) is taken over by exactly one of many takers", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "cell.lock");
  const pid = await deadPid();
  assert(!processAlive(pid), `pid ${pid} should be gone`);
  await writeLock(path, { pid, hostname: Deno.hostname() });
  const results = await Promise.all(Array.from({ length: 8 }, () => acquireCellLock(path)));
  assertEquals(results.filter((r) => r.acquired).length, 1);
  assertEquals(JSON.parse(await Deno.readTextFile(path)).pid, Deno.pid);
  for (const r of results) if (r.acquired) await r.release();
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), [], "no stale or temporary files left");
});

Deno.test("cell lock: a live process's lock and another host's lock are respected", async () => {
  const dir = await Deno.makeTempDir();
  const live = join(dir, "live.lock");
  await writeLock(live, { pid: 1, hostname: Deno.hostname() }); // pid 1 is always alive
  const r1 = await acquireCellLock(live);
  assert(!r1.acquired && r1.owner?.pid === 1);
  const remote = join(dir, "remote.lock");
  await writeLock(remote, { pid: await deadPid(), hostname: "another-machine" }); // cannot tell: not taken over
  const r2 = await acquireCellLock(remote);
  assert(!r2.acquired && r2.owner?.hostname === "another-machine");
});

Deno.test("cell lock: Slurm tasks; a requeued task takes over its own earlier attempt's lock, another task's live lock stays", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "cell.lock");
  // another host's lock naming a Slurm job: alive unless Slurm says the job ended (here squeue cannot be asked: alive)
  await writeLock(path, { pid: 4242, hostname: "node-elsewhere", slurm: { job: "77_1" } });
  const other = await acquireCellLock(path, { job: "78_0" });
  assert(!other.acquired && other.owner?.slurm?.job === "77_1", JSON.stringify(other));
  // the same array task, requeued onto another node: its earlier attempt is gone, the lock is taken over
  const again = await acquireCellLock(path, { job: "77_1", node: "node-new" });
  assert(again.acquired, JSON.stringify(again));
  const held = JSON.parse(await Deno.readTextFile(path));
  assertEquals([held.pid, held.slurm], [Deno.pid, { job: "77_1", node: "node-new" }]);
  if (again.acquired) await again.release();
  // requeued onto the same node: taken over only when the earlier process is gone
  await writeLock(path, { pid: 1, hostname: Deno.hostname(), slurm: { job: "77_1" } });
  assert(!(await acquireCellLock(path, { job: "77_1" })).acquired, "pid 1 is alive: not taken");
  await writeLock(path, { pid: await deadPid(), hostname: Deno.hostname(), slurm: { job: "77_1" } });
  const mine = await acquireCellLock(path, { job: "77_1" });
  assert(mine.acquired);
  if (mine.acquired) await mine.release();
});
