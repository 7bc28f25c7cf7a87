/**
 * A progress line that updates in place: in Jupyter one display (display_data, then
 * update_display_data on the same display_id, so the saved notebook keeps only the last state);
 * in a terminal a carriage-return line; elsewhere (a pipe, a log file) one line per
 * `minSecondsBetweenLines`. Updates are throttled so a fast loop does not flood the kernel.
 */

type Broadcast = (msgType: string, content: Record<string, unknown>) => Promise<void>;

function jupyterBroadcast(): Broadcast | null {
  try {
    const jupyter = (Deno as unknown as { jupyter?: { broadcast?: Broadcast } }).jupyter;
    return typeof jupyter?.broadcast === "function" ? jupyter.broadcast.bind(jupyter) : null;
  } catch {
    return null;
  }
}

export interface ProgressLine {
  /** show `text` (throttled unless `force`) */
  update(text: string, force?: boolean): Promise<void>;
  /** the final state of the line (always shown) */
  done(text: string): Promise<void>;
}

let counter = 0;

export function progressLine({ minSecondsBetweenUpdates = 0.5, minSecondsBetweenLines = 10 } = {}): ProgressLine {
  const broadcast = jupyterBroadcast();
  const id = `ast-progress-${Deno.pid}-${++counter}-${Date.now()}`;
  const tty = !broadcast && Deno.stderr.isTerminal();
  let shown = false, last = 0;
  const encoder = new TextEncoder();
  const bundle = (text: string) => ({ "text/plain": text, "text/html": `<pre style="margin:0">${text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`)}</pre>` });
  const emit = async (text: string, final: boolean) => {
    if (broadcast) {
      await broadcast(shown ? "update_display_data" : "display_data", { data: bundle(text), metadata: {}, transient: { display_id: id } });
      shown = true;
      // the same settle as lib/viz/display.ts: a message right before a cell ends can be lost
      await new Promise((r) => setTimeout(r, 15));
    } else if (tty) {
      Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${text}${final ? "\n" : ""}`));
    } else {
      console.error(text);
    }
  };
  return {
    async update(text, force = false) {
      const now = performance.now() / 1000;
      const gap = broadcast || tty ? minSecondsBetweenUpdates : minSecondsBetweenLines;
      if (!force && shown && now - last < gap) return;
      if (!force && !broadcast && !tty && last && now - last < gap) return;
      last = now;
      await emit(text, false);
      shown = true;
    },
    async done(text) {
      await emit(text, true);
    },
  };
}

/** "1 min 05 s" / "12 s" */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 60) return `${Math.round(s)} s`;
  const m = Math.floor(s / 60), r = Math.round(s - 60 * m);
  return `${m} min ${String(r).padStart(2, "0")} s`;
}
