/**
 * oneDNN convolutions in fp32 vs bf16 (lib/backend/native/onednn/conv.ts, precision "bf16") on
 * one shape, the issue-17 example by default (368->1024 3x3, batch 8, 24x24, 'same'): forward,
 * input gradient and filter gradient in GFLOP/s (median of several calls after a warm-up; the
 * reorders from / to the tfjs-layout fp32 buffers, which also convert to bf16, are included). Prints
 * the CPU model, its bf16 flags, oneDNN's ISA and the implementations used. When Debian's
 * python3-torch is installed, PyTorch's fp32 and bf16 convolutions on the same shape and threads
 * (tools/bench/torch_conv_bf16.py) are measured in the same run; otherwise that column is left
 * out with a note. `--rounds 2` alternates ours and PyTorch twice and keeps each one's best median
 * (shared hosts drift over seconds).
 *
 *   deno run -A tools/bench/measure_bf16_conv.ts [--shape 368-1024-3] [--batch 8] [--size 24] [--threads 2] [--reps 7] [--rounds 1] [--torch-args "--channels-last"]
 */
import { parseArgs } from "node:util";
import { sameGeometry } from "../../lib/backend/native/im2col_conv.ts";
import { OneDnnConvolutions, type Precision } from "../../lib/backend/native/onednn/conv.ts";
import { cpuModelName, speedIsaFlags } from "../../lib/backend/native/cpu_flags.ts";
import { medianMs } from "./measure_native_conv.ts";

const PASSES = ["fwd", "bwd_data", "bwd_weights"] as const;
type PassMs = Record<(typeof PASSES)[number], number>;

const best = (a: PassMs | undefined, b: PassMs): PassMs =>
  a ? Object.fromEntries(PASSES.map((p) => [p, Math.min(a[p], b[p])])) as PassMs : b;

async function torchRun(args: string[]): Promise<{ ms?: Record<string, PassMs>; note: string }> {
  try {
    const out = await new Deno.Command("/usr/bin/python3", {
      args: [new URL("./torch_conv_bf16.py", import.meta.url).pathname, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
    if (!out.success) return { note: `PyTorch script failed: ${new TextDecoder().decode(out.stderr).trim().split("\n").pop()}` };
    const r = JSON.parse(text);
    if (r.error) return { note: r.error };
    return { ms: r.ms, note: `PyTorch ${r.torch}, ${r.threads} threads, ${r.format}, bf16 as ${r.bf16}` };
  } catch (err) {
    return { note: `PyTorch not run (${(err as Error).message.split("\n")[0]})` };
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      shape: { type: "string", default: "368-1024-3" },
      batch: { type: "string", default: "8" },
      size: { type: "string", default: "24" },
      threads: { type: "string", default: "2" },
      reps: { type: "string", default: "7" },
      rounds: { type: "string", default: "1" },
      "torch-args": { type: "string", default: "" },
    },
  });
  const [c, o, k] = values.shape!.split("-").map(Number);
  const batch = Number(values.batch), size = Number(values.size), threads = Number(values.threads), reps = Number(values.reps);
  const load = async () => (await Deno.readTextFile("/proc/loadavg").catch(() => "? ? ?")).split(" ").slice(0, 3).join(" ");
  const lib = OneDnnConvolutions.load({ threads });
  const support = lib.bf16Support();
  console.log(`CPU: ${cpuModelName() ?? "unknown"}; flags ${speedIsaFlags().join(" ")}`);
  console.log(`${lib.name}, ${lib.threads()} threads; oneDNN ISA ${support.cpuIsa}; bf16 ${support.supported ? "supported" : "NOT supported"}: ${support.reason}`);

  const g = sameGeometry(batch, size, c, o, k);
  const gflop = (2 * batch * size * size * k * k * c * o) / 1e9;
  const rnd = (n: number) => Float32Array.from({ length: n }, () => Math.random() - 0.5);
  const x = rnd(batch * size * size * c), w = rnd(k * k * c * o), dy = rnd(batch * size * size * o);
  const y = new Float32Array(dy.length), dx = new Float32Array(x.length), dw = new Float32Array(w.length);
  const ours = (p: Precision): PassMs => {
    const L = lib.at(p);
    return {
      fwd: medianMs(() => L.forward(g, x, w, y), reps),
      bwd_data: medianMs(() => L.backwardData(g, dy, w, dx), reps),
      bwd_weights: medianMs(() => L.backwardWeights(g, x, dy, dw), reps),
    };
  };
  const torchArgs = [
    "--cin", `${c}`, "--cout", `${o}`, "--k", `${k}`, "--batch", `${batch}`, "--size", `${size}`, "--threads", `${threads}`, "--reps", `${reps}`,
    ...values["torch-args"]!.split(/\s+/).filter(Boolean),
  ];
  const loadBefore = await load();
  const t0 = performance.now();
  const res: Partial<Record<string, PassMs>> = {};
  let torchNote = "";
  for (let r = 0; r < Number(values.rounds); r++) {
    for (const p of ["fp32", "bf16"] as const) res[`ours ${p}`] = best(res[`ours ${p}`], ours(p));
    const t = await torchRun(torchArgs);
    torchNote = t.note;
    for (const p of ["fp32", "bf16"]) if (t.ms?.[p]) res[`torch ${p}`] = best(res[`torch ${p}`], t.ms[p]);
  }
  const seconds = (performance.now() - t0) / 1000;

  const cols = ["ours fp32", "ours bf16", "torch fp32", "torch bf16"].filter((k) => res[k]);
  const rate = (ms: number) => (gflop / (ms / 1000)).toFixed(0);
  console.log(`\n${c}->${o} ${k}x${k}, batch ${batch}, ${size}x${size}, 'same' (${gflop.toFixed(1)} GFLOP per pass), ${threads} threads, median of ${reps}` +
    `${Number(values.rounds) > 1 ? `, best of ${values.rounds} rounds` : ""}: GFLOP/s`);
  const head = ["pass", ...cols, "bf16/fp32", ...(res["torch bf16"] ? ["ours/torch fp32", "ours/torch bf16"] : [])];
  const rows = PASSES.map((pass) => {
    const r = (k: string) => res[k]![pass];
    return [
      pass,
      ...cols.map((k) => rate(r(k))),
      `${(r("ours fp32") / r("ours bf16")).toFixed(2)}x`,
      // time ratios (< 1: ours faster)
      ...(res["torch bf16"] ? [(r("ours fp32") / r("torch fp32")).toFixed(2), (r("ours bf16") / r("torch bf16")).toFixed(2)] : []),
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  for (const row of [head, ...rows]) console.log("  " + row.map((v, i) => (i ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join("  "));
  console.log(`  (ours/torch: time ratio, < 1 = ours faster)`);
  console.log(`oneDNN implementations: ${lib.implReport().summary}`);
  if (lib.refusals().length) console.log(`bf16 refused: ${lib.refusals().join("; ")}`);
  console.log(res["torch fp32"] ? torchNote : `PyTorch columns left out: ${torchNote}`);
  console.log(`load average ${loadBefore} -> ${await load()}; ${seconds.toFixed(0)} s`);
}

if (import.meta.main) await main();
