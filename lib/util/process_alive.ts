/**
 * Whether a process of this machine is alive, for stale-lock takeover. Linux: /proc/<pid>
 * exists. Deno lets only --allow-all read /proc, so under the tasks' own permissions the answer
 * comes from libc's kill(pid, 0) through --allow-ffi instead (0: alive; -1 with EPERM: alive but
 * another user's; -1 with ESRCH: gone). When neither works the process is taken to be alive: a
 * running cell must never be taken over.
 */
const ESRCH = 3;

function viaProc(pid: number): boolean | null {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      try {
        return Deno.statSync("/proc/self").isDirectory ? false : null;
      } catch {
        return null; // no /proc: not Linux
      }
    }
    return null; // not permitted (NotCapable) or other: ask libc
  }
}

function viaLibc(pid: number): boolean | null {
  let libc;
  try {
    libc = Deno.dlopen("libc.so.6", {
      kill: { parameters: ["i32", "i32"], result: "i32" },
      __errno_location: { parameters: [], result: "pointer" },
    });
  } catch {
    return null;
  }
  try {
    if (libc.symbols.kill(pid, 0) === 0) return true;
    const errno = libc.symbols.__errno_location();
    return !(errno && new Deno.UnsafePointerView(errno).getInt32() === ESRCH);
  } finally {
    libc.close();
  }
}

export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === Deno.pid) return true;
  return viaProc(pid) ?? viaLibc(pid) ?? true;
}
