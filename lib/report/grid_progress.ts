/**
 * Grid progress for notebooks and terminals: one line per run that updates in place
 * ("[3/27] subtle depth nf-student seed 1 · student epoch 7/10 · loss 0.123 · ETA 12 s") and
 * ends as that run's result, instead of hundreds of log lines. Warnings and failures are still
 * printed in full. Spread the returned options into runGrid's: `runGrid(def, scale, {...gridProgress()})`.
 */
import type { GridCell, GridOptions } from "../experiment/grid.ts";
import type { EpochReport } from "../types.ts";
import { formatSeconds, type ProgressLine, progressLine } from "../viz/progress.ts";

export function gridProgress(): Required<Pick<GridOptions, "log" | "onEpoch" | "onCell">> {
  let line: ProgressLine | null = null;
  let started = 0;
  const epochSeconds: Record<string, number[]> = {};
  let planned: Record<string, number> = {};
  const eta = (e: EpochReport): number => {
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const secs = mean(epochSeconds[e.phase]);
    const left = (e.epochs - e.epoch) * secs;
    // the student phase is still to come: guess it costs what the teacher's epochs did
    return e.phase === "teacher" ? left + (planned.student ?? e.epochs) * secs : left;
  };
  return {
    log: (l: string) => {
      if (/WARNING|FAILED|error/i.test(l)) console.log(l.trim());
      const m = /^ *(teacher|student) epoch \d+\/(\d+)/.exec(l);
      if (m) planned[m[1]] = Number(m[2]);
    },
    onEpoch: (e: EpochReport, cell: string) => {
      (epochSeconds[e.phase] ??= []).push(e.seconds);
      void line?.update(`${cell} · ${e.phase} epoch ${e.epoch}/${e.epochs} · loss ${e.loss.toFixed(4)} · ETA ${formatSeconds(eta(e))}`);
    },
    onCell: async (cell: string, status: GridCell["status"] | "training" | "resuming", result?: GridCell) => {
      if (status === "training" || status === "resuming") {
        line = progressLine();
        started = performance.now();
        for (const k of Object.keys(epochSeconds)) delete epochSeconds[k];
        planned = {};
        await line.update(`${cell} · ${status} …`, true);
        return;
      }
      const own = line ?? progressLine();
      line = null;
      const m = result?.metrics;
      const scores = m && typeof m.image_auroc_max === "number" ? `image AUROC ${m.image_auroc_max.toFixed(3)}${typeof m.pixel_auroc === "number" ? `, pixel AUROC ${m.pixel_auroc.toFixed(3)}` : ""}` : "";
      const took = status === "trained" || status === "resumed" ? ` in ${formatSeconds((performance.now() - started) / 1000)}` : "";
      const shared = result?.teacherFrom ? " (teacher shared with the reference run of this seed)" : "";
      await own.done(`${cell} · ${status}${took}${scores ? ` · ${scores}` : ""}${shared}${result?.message ? ` · ${result.message}` : ""}`);
    },
  };
}
