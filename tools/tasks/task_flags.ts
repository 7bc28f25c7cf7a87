/**
 * The permission flags of a deno.json task, so a tool or test that starts an entry point itself
 * gives it exactly what `deno task NAME` gives it (not -A). `$HOME` is expanded and relative
 * paths are made absolute from the project root, as `deno task` (which runs in the folder of
 * deno.json) does.
 */
import { isAbsolute, join } from "node:path";
import { PROJECT_ROOT } from "../../lib/util/project.ts";

const tasks: Record<string, string> = JSON.parse(Deno.readTextFileSync(join(PROJECT_ROOT, "deno.json"))).tasks;

/** The `--allow-*` / `--deny-*` flags of task `name` ("ast", "experiment", ...). */
export function taskFlags(name: string): string[] {
  const command = tasks[name];
  if (!command) throw new Error(`deno.json has no task "${name}"`);
  const home = Deno.env.get("HOME") ?? "";
  return command.split(/\s+/).filter((t) => /^--(allow|deny)-/.test(t)).map((flag) => {
    const eq = flag.indexOf("=");
    if (eq < 0) return flag;
    const values = flag.slice(eq + 1).split(",").map((v) => {
      const expanded = v.replace(/^\$HOME\b/, home);
      // only file paths: --allow-run / --allow-net / --allow-env take names
      return /^--(allow|deny)-(read|write|ffi)=/.test(flag) && !isAbsolute(expanded) ? join(PROJECT_ROOT, expanded) : expanded;
    });
    return `${flag.slice(0, eq)}=${values.join(",")}`;
  });
}

/** `deno run <task's flags>` followed by `args`: the argument list for Deno.Command(Deno.execPath(), ...). */
export function runArgs(task: string, ...args: string[]): string[] {
  return ["run", ...taskFlags(task), ...args];
}
