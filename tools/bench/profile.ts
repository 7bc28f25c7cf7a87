/**
 * Where one bench workload's step time goes, per tfjs kernel (kernel_profile.ts): one warm-up
 * step, then STEPS timed steps; prints the steps' ms and the kernels, largest first.
 *
 *   deno run -A tools/bench/profile.ts teacher_h64 [STEPS=5] [ROWS=25] [--precision bf16]
 *
 * `--precision bf16` sets the convolutions to bf16 first (lib/backend/precision.ts; where bf16
 * cannot run, the note says why and fp32 is profiled). With oneDNN, the last line splits the
 * convolution kernels' time into oneDNN's convolution primitives and the reorders around them
 * (layout changes, and in bf16 the f32 -> bf16 conversions).
 */
import { initBackend } from "../../lib/backend/backend.ts";
import { profileKernels } from "./kernel_profile.ts";
import { type BenchEnv, defaultWorkloads, measureWorkload, median, type Outcome } from "./workloads.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { DEFAULT_SHARED_DIR } from "./effnet_weights.ts";
import { registerAdamKernel } from "../../lib/backend/js/adam_kernel.ts";
import { setConvolutionPrecision } from "../../lib/backend/precision.ts";
import { nativeConvolutionsActive } from "../../lib/backend/native/kernels.ts";
import { OneDnnConvolutions } from "../../lib/backend/native/onednn/conv.ts";
import { type Precision, PRECISIONS } from "../../lib/config/ast_config.ts";

async function main(args: string[]): Promise<void> {
  const at = args.indexOf("--precision");
  const precision = (at >= 0 ? args.splice(at, 2)[1] : "fp32") as Precision;
  const [name, stepsArg = "5", rowsArg = "25"] = args;
  const workloads = defaultWorkloads();
  const w = workloads.find((x) => x.name === name);
  const steps = Number(stepsArg), rows = Number(rowsArg);
  if (!w || !(steps >= 1) || !(rows >= 1) || !PRECISIONS.includes(precision)) {
    console.error(`usage: deno run -A tools/bench/profile.ts WORKLOAD [STEPS] [ROWS] [--precision ${PRECISIONS.join("|")}]; workloads: ${workloads.map((x) => x.name).join(", ")}`);
    Deno.exit(2);
  }
  // fixture weights of effnet_b5_768; the runtime options (weights root, backend)
  const env: BenchEnv = { sharedDir: Deno.env.get("AST_SHARED_DIR") ?? DEFAULT_SHARED_DIR, runtime: runtimeFromEnv() };
  const info = await initBackend(env.runtime.backend);
  registerAdamKernel(); // before the kernels are wrapped: Adam's step is timed too
  const extras = [info.convolutions ? `convolutions: ${info.convolutions}` : "", info.fusedKernels ? `fused kernels: ${info.fusedKernels}` : ""].filter(Boolean);
  const chosen = setConvolutionPrecision(precision);
  console.log(`${name} on ${info.name} x${info.threads}${extras.length ? ` (${extras.join("; ")})` : ""}; convolutions in ${chosen.precision}${chosen.isa ? ` (${chosen.isa})` : ""}${chosen.note ? `; ${chosen.note}` : ""}`);
  const onednn = nativeConvolutionsActive()?.lib;
  const oneDnnProfile = onednn instanceof OneDnnConvolutions ? onednn.profile : null;
  let oneDnnAtStart = { reorderMs: 0, convMs: 0 };
  let result: Outcome | null = null;
  const table = await profileKernels(async (reset) => {
    result = await measureWorkload(w, {
      warmup: 1, minSteps: steps, maxSteps: steps, budgetSeconds: 0, networkPart: false,
      onStep: (_ms, warmup) => {
        if (!warmup) return;
        reset(); // count the timed steps only
        if (oneDnnProfile) oneDnnAtStart = { ...oneDnnProfile };
      },
    }, env);
  });
  const r = result as Outcome | null;
  if (!r || "skipped" in r) {
    console.log(`skipped: ${r ? r.skipped : "no result"}`);
    return;
  }
  const kernelMs = table.reduce((a, k) => a + k.ms, 0) / steps;
  console.log(`median ${median(r.stepsMs).toFixed(1)} ms per step (steps ${r.stepsMs.map((x) => x.toFixed(0)).join(", ")}); kernels ${kernelMs.toFixed(0)} ms per step`);
  console.table(table.slice(0, rows).map((k) => ({ ...k, ms_per_step: Math.round((k.ms / steps) * 10) / 10 })));
  if (oneDnnProfile) {
    const perStep = (ms: number) => (ms / steps).toFixed(1);
    console.log(
      `oneDNN per step: convolution primitives ${perStep(oneDnnProfile.convMs - oneDnnAtStart.convMs)} ms, ` +
        `reorders ${perStep(oneDnnProfile.reorderMs - oneDnnAtStart.reorderMs)} ms`,
    );
  }
}

if (import.meta.main) await main(Deno.args);
