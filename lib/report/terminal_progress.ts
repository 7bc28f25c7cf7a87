/**
 * Progress of a run in the terminal: on an interactive terminal each phase (features of a split,
 * teacher epochs, student epochs) is one line that updates in place (`\r` + clear line) with
 * elapsed time and ETA, and ends with a newline when the phase is done; piped, redirected or
 * under CI every log line is printed as it is (the plain lines tests and logs read).
 */
import type { Progress, RunLog } from "../types.ts";
import { formatSeconds } from "../viz/progress.ts";

/** "updating": in-place lines (a terminal); "plain": one line per log call (pipes, files, CI). */
export type ProgressStyle = "updating" | "plain";

/** CI logs are files even when a pseudo-terminal is attached: carriage returns would garble them. */
export function progressStyle(o: { isTerminal: boolean; ci: boolean }): ProgressStyle {
  return o.isTerminal && !o.ci ? "updating" : "plain";
}

/** "4.2 s" below 10 s (short phases), else formatSeconds' "12 s" / "1 min 05 s". */
function duration(s: number): string {
  return s >= 0 && s < 10 ? `${s.toFixed(1)} s` : formatSeconds(s);
}

/** The text of a phase's line: count, detail, elapsed and ETA; once done, the total time. */
export function progressText(p: Progress): string {
  const head = [`${p.label} ${p.done}/${p.total}`, ...(p.detail ? [p.detail] : [])];
  if (p.done >= p.total) return [...head, `done in ${duration(p.elapsedSeconds)}`].join("  ");
  // ETA from the mean pace so far; unknown before the first step is done
  const eta = p.done > 0 ? duration((p.elapsedSeconds / p.done) * (p.total - p.done)) : "?";
  return [...head, `elapsed ${duration(p.elapsedSeconds)}`, `ETA ${eta}`].join("  ");
}

export interface TerminalLogOptions {
  /** default: "updating" when stdout is a terminal and `ci` is false */
  style?: ProgressStyle;
  /** the runtime's `ci` (env CI): plain lines even on a terminal */
  ci?: boolean;
  /** put before every line (the demo indents its runs' lines) */
  indent?: string;
  /** where text goes (default stdout); tests capture it */
  write?: (text: string) => void;
}

const CLEAR_LINE = "\r\x1b[2K";

/** The CLI's RunLog: updating lines per phase on a terminal, the plain lines otherwise. */
export function terminalLog(o: TerminalLogOptions = {}): RunLog {
  const style = o.style ?? progressStyle({ isTerminal: Deno.stdout.isTerminal(), ci: o.ci ?? false });
  const indent = o.indent ?? "";
  const write = o.write ?? writeStdout;
  if (style === "plain") return (line) => write(`${indent}${line}\n`);
  let open: { label: string; text: string } | null = null; // the unfinished phase line on screen
  return (line, progress) => {
    if (!progress) {
      // a message in the middle of a phase: print it above the phase's line, which is redrawn
      write(open ? `${CLEAR_LINE}${indent}${line}\n${open.text}` : `${indent}${line}\n`);
      return;
    }
    // another phase while one is unfinished (it stopped early): keep that line as it stands
    if (open && open.label !== progress.label) write("\n");
    else if (open) write(CLEAR_LINE);
    const text = `${indent}${progressText(progress)}`;
    const finished = progress.done >= progress.total;
    write(finished ? `${text}\n` : text);
    open = finished ? null : { label: progress.label, text };
  };
}

const encoder = new TextEncoder();
function writeStdout(text: string): void {
  const bytes = encoder.encode(text);
  let written = 0;
  while (written < bytes.length) written += Deno.stdout.writeSync(bytes.subarray(written));
}
