/** Progress in the terminal: the line text, the terminal/plain choice, in-place updates, plain lines unchanged. */
import { progressStyle, progressText, terminalLog } from "../../lib/report/terminal_progress.ts";
import { progressLine } from "../../lib/run/features.ts";
import type { Progress } from "../../lib/types.ts";
import { assertEquals } from "../assert.ts";

const CLEAR = "\r\x1b[2K";

Deno.test("progressText: count, detail, elapsed and ETA from the pace so far; the total time once done", () => {
  const p: Progress = { label: "teacher epoch", done: 5, total: 20, elapsedSeconds: 10, detail: "loss 0.12345" };
  assertEquals(progressText(p), "teacher epoch 5/20  loss 0.12345  elapsed 10 s  ETA 30 s");
  assertEquals(progressText({ ...p, done: 20, elapsedSeconds: 125 }), "teacher epoch 20/20  loss 0.12345  done in 2 min 05 s");
  assertEquals(progressText({ label: "features train (depth)", done: 0, total: 40, elapsedSeconds: 0 }), "features train (depth) 0/40  elapsed 0.0 s  ETA ?");
});

Deno.test("progressStyle: updating lines only on a terminal outside CI", () => {
  assertEquals(progressStyle({ isTerminal: true, ci: false }), "updating");
  assertEquals(progressStyle({ isTerminal: true, ci: true }), "plain");
  assertEquals(progressStyle({ isTerminal: false, ci: false }), "plain");
  assertEquals(progressStyle({ isTerminal: false, ci: true }), "plain");
});

/** The log's output for a teacher phase of 3 epochs with a message in the middle. */
function transcript(style?: "updating" | "plain"): string {
  let out = "";
  const log = terminalLog({ ...(style ? { style } : {}), indent: "  ", write: (t) => void (out += t) });
  const epoch = (e: number) =>
    log(`teacher epoch ${e}/3  loss 0.50000  1.0 s  rss 10 MB`, { label: "teacher epoch", done: e, total: 3, elapsedSeconds: e, detail: "loss 0.50000" });
  log("AST depth on data (mvtec3d)");
  epoch(1);
  log("note: something");
  epoch(2);
  epoch(3);
  log("evaluating");
  return out;
}

Deno.test("terminalLog on a terminal: one line per phase, updated in place, a message printed above it, a newline when done", () => {
  assertEquals(
    transcript("updating"),
    "  AST depth on data (mvtec3d)\n" +
      "  teacher epoch 1/3  loss 0.50000  elapsed 1.0 s  ETA 2.0 s" +
      `${CLEAR}  note: something\n  teacher epoch 1/3  loss 0.50000  elapsed 1.0 s  ETA 2.0 s` +
      `${CLEAR}  teacher epoch 2/3  loss 0.50000  elapsed 2.0 s  ETA 1.0 s` +
      `${CLEAR}  teacher epoch 3/3  loss 0.50000  done in 3.0 s\n` +
      "  evaluating\n",
  );
});

Deno.test("terminalLog piped or in CI: the plain lines, unchanged (the default when stdout is not a terminal, as here)", () => {
  const plain = "  AST depth on data (mvtec3d)\n" +
    "  teacher epoch 1/3  loss 0.50000  1.0 s  rss 10 MB\n" +
    "  note: something\n" +
    "  teacher epoch 2/3  loss 0.50000  1.0 s  rss 10 MB\n" +
    "  teacher epoch 3/3  loss 0.50000  1.0 s  rss 10 MB\n" +
    "  evaluating\n";
  assertEquals(transcript("plain"), plain);
  if (!Deno.stdout.isTerminal()) assertEquals(transcript(), plain);
});

Deno.test("terminalLog: a phase that stops unfinished keeps its line when the next phase starts", () => {
  let out = "";
  const log = terminalLog({ style: "updating", write: (t) => void (out += t) });
  log("features train 4/40", { label: "features train", done: 4, total: 40, elapsedSeconds: 1 });
  log("teacher epoch 1/2", { label: "teacher epoch", done: 1, total: 2, elapsedSeconds: 1 });
  assertEquals(out, "features train 4/40  elapsed 1.0 s  ETA 9.0 s\nteacher epoch 1/2  elapsed 1.0 s  ETA 1.0 s");
});

Deno.test("features progressLine: the plain lines as before (~10 per pass), each with its Progress; a pass's time starts where the last ended", () => {
  const calls: [string, Progress | undefined][] = [];
  let t = 0;
  const report = progressLine("features train", (line, p) => calls.push([line, p]), () => t);
  for (let i = 1; i <= 20; i++) t = i * 100, report(i, 20, "depth"); // 100 ms per item
  for (let i = 1; i <= 5; i++) t = 2000 + i * 1000, report(i, 5, "image"); // 1 s per item
  assertEquals(calls.map(([line]) => line), [
    ...[2, 4, 6, 8, 10, 12, 14, 16, 18, 20].map((d) => `features train (depth) ${d}/20`),
    ...[1, 2, 3, 4, 5].map((d) => `features train (image) ${d}/5`),
  ]);
  assertEquals(calls[9][1], { label: "features train (depth)", done: 20, total: 20, elapsedSeconds: 2 });
  assertEquals(calls[14][1], { label: "features train (image)", done: 5, total: 5, elapsedSeconds: 5 });
});
