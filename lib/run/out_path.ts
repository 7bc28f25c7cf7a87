/**
 * Where a run may write: never inside another run's folder (a finished record is a model that
 * scoring reads) nor inside the dataset. Compared by real paths, so `..` and symlinks do not
 * get around it.
 */
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { RUN_FILES } from "../results/run_files.ts";

/**
 * A run record: config.json (written first) with what only runs write beside it, or the files
 * of a finished run. config.json alone is too common a name to mark one.
 */
const FINISHED_MARKERS = [RUN_FILES.metrics, "model.json"];
const STARTED_MARKERS = [RUN_FILES.checkpointDir, RUN_FILES.history, RUN_FILES.teacher];

/** The real path of `path`, which need not exist: the real path of its nearest existing ancestor, plus the rest. */
export async function realPathOf(path: string): Promise<string> {
  let head = resolve(path);
  const rest: string[] = [];
  for (;;) {
    try {
      return join(await Deno.realPath(head), ...rest.reverse());
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      const up = dirname(head);
      if (up === head) return resolve(path);
      rest.push(basename(head));
      head = up;
    }
  }
}

/** Whether `inner` is `outer` or below it (both real, absolute). */
export function isInside(inner: string, outer: string): boolean {
  const r = relative(outer, inner);
  return r === "" || (!r.startsWith(`..${sep}`) && r !== ".." && !r.startsWith(sep));
}

async function has(dir: string, name: string): Promise<boolean> {
  try {
    await Deno.stat(join(dir, name));
    return true;
  } catch {
    return false;
  }
}

async function isRunFolder(dir: string): Promise<boolean> {
  for (const f of FINISHED_MARKERS) if (await has(dir, f)) return true;
  if (!(await has(dir, RUN_FILES.config))) return false;
  for (const f of STARTED_MARKERS) if (await has(dir, f)) return true;
  return false;
}

/**
 * Refuse an output folder inside the dataset (the class folder the run reads: a folder under its
 * test/ would even become a defect type) or inside an existing run folder (checked on its
 * ancestors: the folder itself is checked by the caller — new runs need it absent, --resume
 * needs a run there). Returns the reason, or null when `out` is fine. Beside the class folder,
 * in the data root, is allowed: for your own images that root is often just a parent folder.
 */
export async function outPathProblem(out: string, datasetDir: string): Promise<string | null> {
  const real = await realPathOf(out);
  const data = await realPathOf(datasetDir);
  if (isInside(real, data)) return `--out ${out} is inside the dataset ${data}: a run never writes into its data`;
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    if (await isRunFolder(dir)) return `--out ${out} is inside the run folder ${dir}: run folders are immutable records`;
    if (dirname(dir) === dir) return null;
  }
}
