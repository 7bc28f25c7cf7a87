/**
 * What Slurm says about jobs, through `squeue` (accounting, and so `sacct`, may be off on a
 * cluster; squeue always answers for jobs the controller still knows). Every answer may be
 * "unknown" (null): no squeue, not permitted (the task lacks --allow-run=squeue), or the
 * controller is unreachable. Callers treat unknown as "still running", never as "ended".
 */

/** Job states in which a task still runs or will run. */
const ACTIVE_STATES = new Set([
  "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "STOPPED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING", "SIGNALING", "STAGE_OUT", "RESV_DEL_HOLD",
]);

/** Whether a state means the job or task still runs or will run. */
export function activeState(state: string): boolean {
  return ACTIVE_STATES.has(state);
}

async function squeue(args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string } | null> {
  try {
    const r = await new Deno.Command("squeue", { args, stdout: "piped", stderr: "piped" }).output();
    return { ok: r.success, stdout: new TextDecoder().decode(r.stdout), stderr: new TextDecoder().decode(r.stderr) };
  } catch {
    return null; // not installed, or not permitted
  }
}

/**
 * The state of each array task (`<job>_<task>`) and plain job of the given job ids, as squeue
 * lists them (array tasks one per line); null when squeue cannot be asked. One squeue per id: a
 * job the controller has already forgotten is an error ("Invalid job id specified") that would
 * otherwise hide the others.
 */
export async function jobStates(jobIds: string[]): Promise<Map<string, string> | null> {
  const states = new Map<string, string>();
  for (const id of jobIds) {
    const r = await squeue(["-h", "-r", "-o", "%i %T", "-j", id]);
    if (!r) return null;
    if (!r.ok) {
      if (/invalid job id/i.test(r.stderr)) continue; // ended long enough ago to be forgotten
      return null;
    }
    for (const line of r.stdout.split("\n")) {
      const [task, state] = line.trim().split(/\s+/);
      if (task && state) states.set(task, state);
    }
  }
  return states;
}

/** Whether a job or array task (`40_3`) has ended: true/false, or null when Slurm cannot be asked. */
export async function slurmJobEnded(job: string): Promise<boolean | null> {
  const states = await jobStates([job]);
  if (!states) return null;
  const state = states.get(job);
  return state === undefined ? true : !activeState(state);
}
