/** Tests spawn entry points with exactly the permissions of their deno.json task (tools/tasks/task_flags.ts). */
export { runArgs, taskFlags } from "../tools/tasks/task_flags.ts";
