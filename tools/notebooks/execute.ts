/**
 * Runs the project's notebooks headless and checks them (`deno task notebooks`):
 * execute with `nbconvert --execute` on the Deno kernel -> check outputs -> export HTML ->
 * render in headless Chromium. Writes `results/notebooks/<name>.{ipynb,html,png}` and
 * `results/notebooks/summary.json`; exits 1 when any notebook failed.
 *
 *   deno run -A tools/notebooks/execute.ts [NAME|PATH ...] [--only a,b] [--timeout SECONDS]
 *     [--out DIR] [--dir DIR] [--no-html] [--no-browser] [--tick SECONDS]
 *
 * The kernel gets NO_COLOR=1, AST_SCALE=demo (unless set) and every other AST_* variable.
 * Jupyter runs on Debian's /usr/bin/python3 (`$JUPYTER_PYTHON` overrides): a pyenv python3
 * first on PATH cannot import Debian's Jupyter packages. `$AST_NOTEBOOKS_DIR` and
 * `$AST_NOTEBOOKS_OUT` override the folders, `$CHROMIUM` the browser. The environment is read
 * once, by the entry points (`main`, `notebookStage`: readNotebookSettings), and passed down.
 * The Python this runs is in python/ (check_jupyter.py, execute_hooks.py).
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { checkOutputs, formatProblem, type Notebook, notebookStats } from "./check_outputs.ts";
import { exportHtml } from "./export_html.ts";
import { checkPage, type ChromiumLookup, findChromium } from "./chromium.ts";
import { PROJECT_ROOT, sharedDir } from "../../lib/util/project.ts";
import { envVar } from "../../lib/config/runtime.ts";

export { PROJECT_ROOT };
/** The notebooks folder, unless `$AST_NOTEBOOKS_DIR` says otherwise. */
export const DEFAULT_NOTEBOOKS_DIR = join(PROJECT_ROOT, "notebooks");
/** Where executed notebooks, HTML, screenshots and summary.json go, unless `$AST_NOTEBOOKS_OUT` says otherwise. */
export const DEFAULT_OUT_DIR = join(PROJECT_ROOT, "results", "notebooks");
/** Debian's Python, which has the Jupyter packages, unless `$JUPYTER_PYTHON` says otherwise. */
export const DEFAULT_JUPYTER_PYTHON = "/usr/bin/python3";
export const DEFAULT_CELL_TIMEOUT = 3600;

export const INSTALL_JUPYTER = "sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client (Debian/Ubuntu; or pip install notebook nbconvert nbclient and set JUPYTER_PYTHON)";
export const INSTALL_KERNEL = "run deno jupyter --install";
export const INSTALL_CHROMIUM = "sudo apt-get install chromium (or set CHROMIUM to a Chromium/Chrome binary)";

// The Python files the Jupyter Python runs (python/).
const CHECK_JUPYTER_SCRIPT = fileURLToPath(new URL("./python/check_jupyter.py", import.meta.url));
const EXECUTE_HOOKS_CONFIG = fileURLToPath(new URL("./python/execute_hooks.py", import.meta.url));

// ---- settings from the environment -----------------------------------------------------------

/** Everything the notebook tools take from the environment, read once by an entry point. */
export interface NotebookSettings {
  /** the notebooks folder (`$AST_NOTEBOOKS_DIR`) */
  notebooksDir: string;
  /** the results folder (`$AST_NOTEBOOKS_OUT`) */
  outDir: string;
  /** the Python that runs Jupyter (`$JUPYTER_PYTHON`) */
  python: string;
  /** where to look for Chromium (`$CHROMIUM`, `$PATH`) */
  chromium: ChromiumLookup;
  /** variables the kernel gets on top of the inherited environment (`$AST_SCALE`, `$AST_WEIGHTS_DIR`) */
  kernelEnv: Record<string, string>;
}


/** The settings from the environment; entry points call this once and pass the values down. */
export function readNotebookSettings(): NotebookSettings {
  return {
    notebooksDir: envVar("AST_NOTEBOOKS_DIR") ?? DEFAULT_NOTEBOOKS_DIR,
    outDir: envVar("AST_NOTEBOOKS_OUT") ?? DEFAULT_OUT_DIR,
    python: envVar("JUPYTER_PYTHON") ?? DEFAULT_JUPYTER_PYTHON,
    chromium: { override: envVar("CHROMIUM"), searchPath: envVar("PATH") ?? "" },
    kernelEnv: notebookEnv({ scale: envVar("AST_SCALE"), weightsDir: envVar("AST_WEIGHTS_DIR") }),
  };
}

/** The nbconvert command line prefix for the Jupyter Python `python`. */
export function nbconvertCommand(python: string): string[] {
  return [python, "-m", "nbconvert"];
}

// ---- prerequisites -------------------------------------------------------------------------

export interface Prerequisite {
  what: "jupyter" | "kernel" | "chromium";
  message: string;
}
export interface Prerequisites {
  /** deno binary the kernelspec runs, when found */
  kernel: string | null;
  chromium: string | null;
  missing: Prerequisite[];
}

/**
 * Jupyter (on `settings.python`), the Deno kernelspec (and the binary it names) and, if asked,
 * Chromium.
 */
export async function checkPrerequisites(
  settings: Pick<NotebookSettings, "python" | "chromium">,
  { browser = true } = {},
): Promise<Prerequisites> {
  const { python } = settings;
  const missing: Prerequisite[] = [];
  let kernel: string | null = null;
  let out: Deno.CommandOutput | null = null;
  try {
    // prints the kernelspec's argv as one JSON line; fails when nbconvert/nbclient do not import
    out = await new Deno.Command(python, { args: [CHECK_JUPYTER_SCRIPT], stdout: "piped", stderr: "piped" }).output();
  } catch { /* no such python */ }
  if (!out?.success) {
    missing.push({ what: "jupyter", message: `jupyter missing (${python} cannot import nbconvert/nbclient): ${INSTALL_JUPYTER}` });
  } else {
    const argv = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "null") as string[] | null;
    if (!argv) missing.push({ what: "kernel", message: `deno kernel missing: ${INSTALL_KERNEL}` });
    else if (!isFile(argv[0])) missing.push({ what: "kernel", message: `deno kernel names ${argv[0]}, which does not exist: ${INSTALL_KERNEL}` });
    else kernel = argv[0];
  }
  const chromium = browser ? findChromium(settings.chromium) : null;
  if (browser && !chromium) missing.push({ what: "chromium", message: `chromium missing: ${INSTALL_CHROMIUM}` });
  return { kernel, chromium, missing };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

// ---- which notebooks ------------------------------------------------------------------------

/** `*.ipynb` in `dir`, sorted; [] when the folder is missing. */
export function listNotebooks(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
      .map((e) => join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

/**
 * Notebook paths for the CLI's names: a path to an existing file, or a name in `dir`
 * (`quickstart`, `quickstart.ipynb`). Throws one line naming what is there when not found.
 */
export function resolveNotebooks(names: string[], dir: string): string[] {
  if (!names.length) return listNotebooks(dir);
  const paths = names.map((name) => {
    if (isFile(name)) return resolve(name);
    const inDir = join(dir, name.endsWith(".ipynb") ? name : `${name}.ipynb`);
    if (isFile(inDir)) return inDir;
    const have = listNotebooks(dir).map((p) => basename(p, ".ipynb"));
    throw new Error(`no notebook '${name}' in ${dir} (have: ${have.join(", ") || "none"})`);
  });
  const stems = paths.map((p) => basename(p, ".ipynb"));
  const dup = stems.find((s, i) => stems.indexOf(s) !== i);
  if (dup) throw new Error(`two notebooks named '${dup}': outputs would collide`);
  return paths;
}

// ---- execution ------------------------------------------------------------------------------

/**
 * Environment for the kernel: no ANSI colours, demo scale unless set; other AST_* inherited.
 * `scale` and `weightsDir` are `$AST_SCALE` and `$AST_WEIGHTS_DIR`; without the latter,
 * ../shared/weights when present.
 */
export function notebookEnv({ scale, weightsDir }: { scale?: string; weightsDir?: string }): Record<string, string> {
  const env: Record<string, string> = {
    NO_COLOR: "1",
    DENO_NO_UPDATE_CHECK: "1",
    AST_SCALE: scale || "demo",
  };
  const shared = sharedDir();
  if (!weightsDir && shared && isDir(join(shared, "weights"))) env.AST_WEIGHTS_DIR = join(shared, "weights");
  return env;
}

function isDir(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/** Lines nbconvert / the kernel print that say nothing useful here. */
const NOISE = [
  /Debugger warning|frozen modules|-Xfrozen_modules|PYDEVD_DISABLE_FILE_VALIDATION/,
  /MissingIDFieldWarning|^\s*validate\(nb\)|^\s*warnings\.warn/,
  /"deno jupyter" is unstable/,
  /^\[NbConvertApp\] (Converting notebook|Writing \d+ bytes)/,
];

export interface Execution {
  /** executed notebook (complete, or as far as it ran), or null */
  executed: string | null;
  exitOk: boolean;
  /** why nbconvert failed (last lines of its error), or null */
  failure: string | null;
  seconds: number;
  /** spawn -> first cell starts (Python, nbconvert, kernel start) */
  startupSeconds: number | null;
  /** last cell done -> exit (kernel shutdown, writing) */
  shutdownSeconds: number | null;
  /** seconds per executed cell index */
  cellSeconds: Record<number, number>;
}

export interface ExecuteOptions {
  outDir: string;
  /** the Python that runs Jupyter (NotebookSettings.python) */
  python: string;
  /** variables for the kernel (NotebookSettings.kernelEnv) */
  kernelEnv: Record<string, string>;
  /** per-cell timeout, seconds */
  timeout?: number;
  /** seconds between "still running" lines */
  tick?: number;
  log?: (line: string) => void;
}

interface HookEvent {
  event: string;
  index?: number;
  code?: number[];
  status?: string;
}

function parseEvent(json: string): HookEvent | null {
  try {
    return JSON.parse(json) as HookEvent;
  } catch {
    return null;
  }
}

/** Executes one notebook into `<outDir>/<name>.ipynb`, streaming progress lines. */
export async function executeNotebook(notebookPath: string, options: ExecuteOptions): Promise<Execution> {
  const path = resolve(notebookPath), outDir = resolve(options.outDir); // the child runs in the notebook's folder
  const { timeout = DEFAULT_CELL_TIMEOUT, tick = 30, log = console.log } = options;
  const name = basename(path, ".ipynb");
  const output = join(outDir, `${name}.ipynb`);
  const snapshot = join(outDir, `${name}.partial.ipynb`);
  const [cmd, ...pre] = nbconvertCommand(options.python);
  const started = performance.now();
  const since = () => (performance.now() - started) / 1000;
  const child = new Deno.Command(cmd, {
    args: [
      ...pre,
      "--config",
      EXECUTE_HOOKS_CONFIG, // progress lines on stderr, snapshot at $NBEXEC_SNAPSHOT
      "--to",
      "notebook",
      "--execute",
      "--ExecutePreprocessor.kernel_name=deno",
      `--ExecutePreprocessor.timeout=${timeout}`,
      "--output-dir",
      outDir,
      "--output",
      name,
      path,
    ],
    cwd: dirname(path), // nbconvert also starts the kernel in the notebook's folder
    env: { ...options.kernelEnv, NBEXEC_SNAPSHOT: snapshot },
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  let code: number[] = [];
  let running: { index: number; at: number } | null = null;
  let firstCell: number | null = null, lastDone: number | null = null;
  const cellSeconds: Record<number, number> = {};
  const errorTail: string[] = [];
  let exception: string | null = null; // last line naming a Python exception, e.g. CellTimeoutError
  let inTraceback = false;
  const position = (index: number) => `${code.indexOf(index) + 1}/${code.length}`;

  const ticker = setInterval(() => {
    const cell = running
      ? `, cell ${position(running.index)} running ${(since() - running.at).toFixed(0)} s`
      : firstCell === null
      ? " (starting the kernel)"
      : "";
    log(`  ${name}: ${since().toFixed(0)} s${cell}`);
  }, tick * 1000);

  const onLine = (line: string) => {
    const ev = line.startsWith("@@nb ") ? parseEvent(line.slice(5)) : null;
    if (ev) {
      const t = since();
      if (ev.event === "start") code = ev.code ?? [];
      else if (ev.event === "cell") {
        firstCell ??= t;
        running = { index: ev.index!, at: t };
      } else if (ev.event === "done" && running) {
        const s = t - running.at;
        cellSeconds[ev.index!] = s;
        lastDone = t;
        log(`  ${name}: cell ${position(ev.index!)} ${ev.status ?? "?"} ${s.toFixed(1)} s  [${t.toFixed(1)} s]`);
        running = null;
      }
      return;
    }
    if (NOISE.some((re) => re.test(line))) return;
    // Python tracebacks: keep from the exception line on (CellExecutionError shows the cell).
    if (line.startsWith("Traceback (most recent call last):")) {
      inTraceback = true;
      return;
    }
    if (inTraceback) {
      if (!/^[\w.]+(Error|Exception|Interrupt|Exit)\b/.test(line)) return;
      inTraceback = false;
      exception = line.replace(/^[\w.]*\.(?=\w+:)/, ""); // drop the module path
    }
    errorTail.push(line);
    if (errorTail.length <= 12) log(`  ${name}| ${line}`);
  };

  const pump = async (stream: ReadableStream<Uint8Array>, handle: (line: string) => void) => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        handle(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    }
    if (buffer) handle(buffer);
  };
  await Promise.all([pump(child.stderr, onLine), pump(child.stdout, (l) => log(`  ${name}| ${l}`))]);
  const status = await child.status;
  clearInterval(ticker);
  const seconds = since();

  let executed: string | null = null;
  if (status.success && isFile(output)) {
    executed = output;
    await Deno.remove(snapshot).catch(() => {});
  } else if (isFile(snapshot)) {
    await Deno.rename(snapshot, output);
    executed = output;
  }
  const tail = errorTail.filter((l) => l.trim()).slice(-4).join(" | ");
  const runningNote = running ? ` while cell ${position((running as { index: number }).index)} ran` : "";
  const failure = status.success ? null : `nbconvert exited with ${status.code}${runningNote}: ${exception ?? (tail || "no message")}`;
  return {
    executed,
    exitOk: status.success,
    failure,
    seconds,
    startupSeconds: firstCell,
    shutdownSeconds: lastDone === null ? null : seconds - lastDone,
    cellSeconds,
  };
}

// ---- one notebook, all stages ---------------------------------------------------------------

export interface NotebookResult {
  name: string;
  source: string;
  /** execute + output check passed */
  ok: boolean;
  /** every problem, prefixed by stage (execute:, outputs:, html:, browser:) */
  errors: string[];
  seconds: number;
  cells: number;
  outputs: number;
  displays: number;
  svgs: number;
  /** execute test: nbconvert succeeded and the outputs check found nothing */
  executeOk: boolean;
  /** HTML test: exported, offline, rendered with charts and not blank; null when not run */
  htmlOk: boolean | null;
  executed: string | null;
  html: string | null;
  screenshot: string | null;
  timings: { startup: number | null; shutdown: number | null; html: number | null; browser: number | null };
  cellSeconds: Record<number, number>;
}

export interface RunOptions extends ExecuteOptions {
  /** export HTML (default true) */
  html?: boolean;
  /** Chromium binary for the page check; null skips it */
  chromium?: string | null;
  browserTimeoutMs?: number;
}

async function readNotebook(path: string): Promise<Notebook> {
  return JSON.parse(await Deno.readTextFile(path)) as Notebook;
}

/** Execute, check outputs, export HTML, check the page; logs one summary line. */
export async function runNotebook(notebookPath: string, options: RunOptions): Promise<NotebookResult> {
  const { html = true, chromium = null, log = console.log } = options;
  const path = resolve(notebookPath), outDir = resolve(options.outDir);
  const name = basename(path, ".ipynb");
  if (outDir === dirname(path)) throw new Error(`output folder ${outDir} is the notebook's own folder: the source would be overwritten`);
  await Deno.mkdir(outDir, { recursive: true });
  for (const ext of [".ipynb", ".partial.ipynb", ".html", ".png"]) {
    await Deno.remove(join(outDir, name + ext)).catch(() => {}); // no stale result passes for new
  }
  log(`== ${name} (${path})`);
  const exec = await executeNotebook(path, options);
  const result: NotebookResult = {
    name,
    source: path,
    ok: false,
    errors: [],
    seconds: exec.seconds,
    cells: 0,
    outputs: 0,
    displays: 0,
    svgs: 0,
    executeOk: false,
    htmlOk: null,
    executed: exec.executed,
    html: null,
    screenshot: null,
    timings: { startup: exec.startupSeconds, shutdown: exec.shutdownSeconds, html: null, browser: null },
    cellSeconds: exec.cellSeconds,
  };

  let nb: Notebook | null = null;
  if (exec.executed) {
    nb = await readNotebook(exec.executed);
    const stats = notebookStats(nb);
    Object.assign(result, { cells: stats.cells, outputs: stats.outputs, displays: stats.displays, svgs: stats.svgs });
    const problems = checkOutputs(nb);
    result.errors.push(...problems.map((p) => `outputs: ${formatProblem(p)}`));
    // An error output already says why nbconvert stopped; other failures (timeout, dead kernel) need the line.
    if (exec.failure && !problems.some((p) => p.kind === "error")) result.errors.push(`execute: ${exec.failure}`);
  } else {
    result.errors.push(`execute: ${exec.failure ?? "nbconvert wrote no notebook"}`);
  }
  result.executeOk = exec.exitOk && result.errors.length === 0;

  if (html) {
    const htmlErrors: string[] = [];
    if (!nb || !exec.executed) htmlErrors.push("html: no executed notebook to export");
    else {
      const exported = await exportHtml(exec.executed, outDir, name, nb, nbconvertCommand(options.python));
      result.timings.html = exported.seconds;
      result.html = exported.html;
      htmlErrors.push(...exported.problems.map((p) => `html: ${p}`));
      if (exported.html && chromium) {
        const png = join(outDir, `${name}.png`);
        const page = await checkPage(chromium, exported.html, png, exported.expectedSvgs, { timeoutMs: options.browserTimeoutMs });
        result.timings.browser = page.seconds;
        result.screenshot = page.pixels ? png : null;
        htmlErrors.push(...page.problems.map((p) => `browser: ${p}`));
      }
    }
    result.errors.push(...htmlErrors);
    result.htmlOk = htmlErrors.length === 0;
  }
  result.ok = result.executeOk && result.htmlOk !== false;
  log(summaryLine(result));
  for (const e of result.errors) log(`    ${e}`);
  return result;
}

/** `name  12.3 s  7 cells  5 displays  4 svg  ok|FAILED` */
export function summaryLine(r: NotebookResult): string {
  const status = r.ok ? "ok" : `FAILED (${r.errors.length} problem${r.errors.length === 1 ? "" : "s"})`;
  return `${r.name.padEnd(24)} ${r.seconds.toFixed(1).padStart(7)} s ${String(r.cells).padStart(4)} cells ${
    String(r.displays).padStart(4)
  } displays ${String(r.svgs).padStart(3)} svg  ${status}`;
}

/** Runs every notebook in order and writes `<outDir>/summary.json`. */
export async function runNotebooks(paths: string[], options: RunOptions): Promise<NotebookResult[]> {
  const results: NotebookResult[] = [];
  for (const path of paths) results.push(await runNotebook(path, options));
  await Deno.mkdir(options.outDir, { recursive: true });
  await Deno.writeTextFile(join(options.outDir, "summary.json"), JSON.stringify({ notebooks: results }, null, 2) + "\n");
  return results;
}

// ---- the test stage (tests/run_all.ts) ---------------------------------------------------

export interface StageCounts {
  passed: number;
  failed: number;
  skipped: number;
}

/** Installs the Deno Jupyter kernelspec for this deno binary; returns the line to print. */
export async function installDenoKernel(deno = Deno.execPath(), env?: Record<string, string>): Promise<string> {
  try {
    const out = await new Deno.Command(deno, { args: ["jupyter", "--install", "--force"], env, stdout: "piped", stderr: "piped" }).output();
    if (out.success) return `notebooks: installed the Deno Jupyter kernel (${deno} jupyter --install)`;
    const why = new TextDecoder().decode(out.stderr).trim().split("\n").find((l) => l.trim()) ?? `exit code ${out.code}`;
    return `notebooks: could not install the Deno Jupyter kernel (${deno} jupyter --install): ${why}`;
  } catch (e) {
    return `notebooks: could not install the Deno Jupyter kernel: ${(e as Error).message.split("\n")[0]}`;
  }
}

/** A skipped notebook stage is said loudly, with what is missing and how to fix it. */
export function skippedStageBanner(tests: number, verdict: string, reasons: string[]): string {
  const rule = "=".repeat(78);
  return [
    rule,
    `NOTEBOOKS NOT RUN: ${tests} tests ${verdict}`,
    ...reasons.map((r) => `  - ${r}`),
    `  then run the test command again (it installs the Deno kernel itself once Jupyter is there)`,
    rule,
  ].join("\n");
}

/**
 * Every notebook in `dir` as two tests: execution (+ output checks) and HTML (+ page check).
 * A missing tool skips the tests it blocks, or fails them when `ci` (CI must run them).
 * An entry point: reads the environment (readNotebookSettings) for what is not given.
 */
export async function notebookStage(
  { dir, outDir, ci = false, log = console.log }: { dir?: string; outDir?: string; ci?: boolean; log?: (line: string) => void } = {},
): Promise<StageCounts> {
  const settings = readNotebookSettings();
  dir ??= settings.notebooksDir;
  outDir ??= settings.outDir;
  const counts: StageCounts = { passed: 0, failed: 0, skipped: 0 };
  const paths = listNotebooks(dir);
  if (!paths.length) {
    log(`notebooks: none in ${dir} (nothing to run)`);
    return counts;
  }
  const n = paths.length;
  let pre = await checkPrerequisites(settings, { browser: true });
  if (pre.missing.some((m) => m.what === "kernel") && !pre.missing.some((m) => m.what === "jupyter")) {
    // Jupyter is there but not the Deno kernel (or it names a deno that is gone, e.g. an old npx
    // cache): install it for the deno running this, as `deno jupyter --install` would.
    log(await installDenoKernel());
    pre = await checkPrerequisites(settings, { browser: true });
  }
  const verdict = ci ? "FAILED (CI must run them)" : "skipped";
  if (pre.missing.some((m) => m.what !== "chromium")) {
    log(skippedStageBanner(2 * n, verdict, pre.missing.map((m) => m.message)));
    if (ci) counts.failed = 2 * n;
    else counts.skipped = 2 * n;
    return counts;
  }
  for (const m of pre.missing) log(`notebooks: ${m.message}`);
  const results = await runNotebooks(paths, { outDir, python: settings.python, kernelEnv: settings.kernelEnv, chromium: pre.chromium, log });
  const count = (name: string, ok: boolean | null) => {
    const word = ok === null ? (ci ? "FAILED" : "skipped") : ok ? "ok" : "FAILED";
    log(`${name} ... ${word}`);
    if (word === "ok") counts.passed++;
    else if (word === "FAILED") counts.failed++;
    else counts.skipped++;
  };
  log("");
  for (const r of results) {
    count(`notebook ${r.name}: execute and check outputs`, r.executeOk);
    // without Chromium a passing HTML test is incomplete: skipped (failed under CI)
    count(`notebook ${r.name}: HTML export and page check`, pre.chromium || r.htmlOk === false ? r.htmlOk : null);
  }
  if (!pre.chromium) log(`notebooks: HTML page checks ${verdict}: chromium missing`);
  log(`notebooks: results in ${outDir} (summary.json, <name>.html, <name>.png)`);
  return counts;
}

// ---- CLI ------------------------------------------------------------------------------------

export interface CliOptions {
  names: string[];
  dir: string;
  outDir: string;
  timeout: number;
  tick: number;
  html: boolean;
  browser: boolean;
}

const USAGE = `usage: deno task notebooks [NAME|PATH ...] [--only a,b] [--timeout SECONDS] [--out DIR]
                           [--dir DIR] [--no-html] [--no-browser] [--tick SECONDS]`;

/**
 * Parses the CLI's arguments; throws one line on a bad one. `folders` are the defaults of
 * --dir and --out (main passes the environment's).
 */
export function parseArgs(
  args: string[],
  folders: { dir: string; outDir: string } = { dir: DEFAULT_NOTEBOOKS_DIR, outDir: DEFAULT_OUT_DIR },
): CliOptions {
  const o: CliOptions = { names: [], dir: folders.dir, outDir: folders.outDir, timeout: DEFAULT_CELL_TIMEOUT, tick: 30, html: true, browser: true };
  const value = (i: number, flag: string) => {
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
    return v;
  };
  const seconds = (v: string, flag: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number of seconds, got '${v}'`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--only") o.names.push(...value(i++, a).split(",").map((s) => s.trim()).filter(Boolean));
    else if (a === "--timeout") o.timeout = seconds(value(i++, a), a);
    else if (a === "--tick") o.tick = seconds(value(i++, a), a);
    else if (a === "--out") o.outDir = resolve(value(i++, a));
    else if (a === "--dir") o.dir = resolve(value(i++, a));
    else if (a === "--no-html") o.html = false;
    else if (a === "--no-browser") o.browser = false;
    else if (a.startsWith("-")) throw new Error(`unknown option ${a}\n${USAGE}`);
    else o.names.push(a);
  }
  return o;
}

async function main(): Promise<number> {
  if (Deno.args.includes("-h") || Deno.args.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  const settings = readNotebookSettings();
  let cli: CliOptions, paths: string[];
  try {
    cli = parseArgs(Deno.args, { dir: settings.notebooksDir, outDir: settings.outDir });
    paths = resolveNotebooks(cli.names, cli.dir);
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
  if (!paths.length) {
    console.log(`no notebooks in ${cli.dir}: nothing to run`);
    return 0;
  }
  const browser = cli.html && cli.browser;
  const pre = await checkPrerequisites(settings, { browser });
  const fatal = pre.missing.filter((m) => m.what !== "chromium");
  for (const m of pre.missing) console.error(m.message);
  if (fatal.length) return 1;
  if (browser && !pre.chromium) console.error("the page check is skipped (--no-browser to silence)");

  console.log(`notebooks: ${paths.length} (kernel ${pre.kernel}, AST_SCALE=${settings.kernelEnv.AST_SCALE}, cell timeout ${cli.timeout} s) -> ${cli.outDir}`);
  let results: NotebookResult[];
  try {
    results = await runNotebooks(paths, {
      outDir: cli.outDir,
      python: settings.python,
      kernelEnv: settings.kernelEnv,
      timeout: cli.timeout,
      tick: cli.tick,
      html: cli.html,
      chromium: browser ? pre.chromium : null,
    });
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log("");
  for (const r of results) console.log(summaryLine(r));
  console.log(`notebooks: ${results.length - failed} ok, ${failed} failed (${join(cli.outDir, "summary.json")})`);
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
