/**
 * Failpoints for the fault-injection tests: named places in the code where a test can make the
 * process die on the spot (exit code 86, as a kill would, without running any cleanup), to check
 * that what is on disk then is never a record that looks complete and that `--resume` finishes
 * it. Armed only through the runtime options (AST_FAILPOINT=name[,name]); unarmed they cost one
 * Set lookup.
 */
export const FAILPOINT_EXIT_CODE = 86;

const armed = new Set<string>();

/** Arms the named failpoints for this process (replacing earlier ones). */
export function armFailpoints(names: readonly string[]): void {
  armed.clear();
  for (const n of names) armed.add(n);
}

/** Dies here when `name` is armed. */
export function failpoint(name: string): void {
  if (!armed.has(name)) return;
  console.error(`failpoint ${name}: exiting with code ${FAILPOINT_EXIT_CODE}`);
  Deno.exit(FAILPOINT_EXIT_CODE);
}
