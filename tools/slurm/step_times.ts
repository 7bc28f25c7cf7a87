/**
 * Step times for the cost estimate (lib/experiment/cost.ts) from a bench record
 * (tools/bench/report.ts). A network whose shape a bench row measured takes that row's time; any
 * other shape (an 8-block flow student, a 1-block student, RGB-only channels, no positional
 * encoding) takes the time of the measured row of the same kind nearest in FLOPs, scaled by the
 * analytic FLOP ratio (tools/bench/flops.ts), and the scaling is listed so the output can say so.
 * A forward pass without gradients is taken as 1/TRAIN_STEP_FACTOR of a training step per image
 * (the FLOP fraction), at the training step's throughput.
 */
import type { NetworkShape, StepTimes } from "../../lib/experiment/cost.ts";
import type { BenchRecord, WorkloadRow } from "../bench/report.ts";
import { effnetB5ForwardFlops, flowForwardFlops, studentForwardFlops, TRAIN_STEP_FACTOR } from "../bench/flops.ts";
import { defaultWorkloads, type EffnetWorkload, type MobilenetWorkload, type StudentWorkload, type TeacherWorkload } from "../bench/workloads.ts";

const studentNet = (w: StudentWorkload): NetworkShape => ({
  kind: "asymmetric", channels: w.channels, hidden: w.hidden, nBlocks: w.nBlocks, posEncDim: w.posEncDim, batch: w.batch, side: w.side,
});
const teacherNet = (w: TeacherWorkload): NetworkShape => ({
  kind: "flow", channels: w.channels, hidden: w.hidden, nBlocks: w.nBlocks, kernelSizes: [...w.kernelSizes], posEncDim: w.posEncDim, batch: w.batch, side: w.side,
});

/** Analytic FLOPs of one training step of a batch. */
export function trainStepFlops(net: NetworkShape): number {
  const forward = net.kind === "flow" ? flowForwardFlops(net, net.batch, net.side) : studentForwardFlops(net, net.batch, net.side);
  return TRAIN_STEP_FACTOR * forward;
}

/** "flow h64x8 368ch" (", no PE" without the positional encoding; batch and map size when not the bench's 8 and 24) */
export function describeNetwork(net: NetworkShape): string {
  const extra = [...(net.posEncDim ? [] : ["no PE"]), ...(net.batch === 8 && net.side === 24 ? [] : [`batch ${net.batch} ${net.side}x${net.side}`])];
  return `${net.kind === "flow" ? "flow" : "CNN"} h${net.hidden}x${net.nBlocks} ${net.channels}ch${extra.length ? `, ${extra.join(", ")}` : ""}`;
}

/** A time taken from a measured row of another shape. */
export interface Scaling {
  /** the bench row it comes from */
  from: string;
  /** the shape it was scaled to */
  shape: string;
  /** time = row's time x ratio */
  ratio: number;
  by: "FLOPs" | "pixels";
}

export class StepTimeError extends Error {}

/** Step times from a bench record, plus the notes of every FLOP scaling it made. */
export interface BenchStepTimes extends StepTimes {
  /** every shape not measured as such: from which row, by how much */
  scalings(): Scaling[];
}

export function benchStepTimes(record: BenchRecord, workloads = defaultWorkloads(), precision: "fp32" | "bf16" = "fp32"): BenchStepTimes {
  // a record with `--precision fp32,bf16` has a row per precision: the estimate is of one precision
  const rows = new Map<string, WorkloadRow>(record.workloads.filter((w) => (w.precision ?? "fp32") === precision).map((w) => [w.name, w]));
  const measured = workloads.flatMap((w) => {
    const row = rows.get(w.name);
    if (!row) return [];
    if (w.kind === "student") return [{ row, net: studentNet(w) }];
    if (w.kind === "teacher") return [{ row, net: teacherNet(w) }];
    return [];
  });
  const scalings = new Map<string, Scaling>();
  const note = (s: Scaling) => scalings.set(`${s.from}|${s.shape}`, s);

  const trainStepMs = (net: NetworkShape): number => {
    const same = measured.filter((m) => m.net.kind === net.kind);
    if (!same.length) {
      const want = net.kind === "flow" ? "teacher_h64 / teacher_h1024" : "student_h256 / student_h1024";
      throw new StepTimeError(`the bench record has no ${net.kind === "flow" ? "teacher (flow)" : "student"} training row (${want}): run deno task bench --only ${want.split(" / ")[0]}`);
    }
    const flops = trainStepFlops(net);
    // nearest in FLOPs: the closest measured throughput
    const best = same.map((m) => ({ ...m, ratio: flops / trainStepFlops(m.net) }))
      .sort((a, b) => Math.abs(Math.log(a.ratio)) - Math.abs(Math.log(b.ratio)))[0];
    if (Math.abs(best.ratio - 1) > 1e-9) {
      note({ from: best.row.name, shape: describeNetwork(net), ratio: best.ratio, by: "FLOPs" });
    }
    return best.row.ms_per_step * best.ratio;
  };

  const extractionMsPerImage = (backbone: string, mapLen: number): number => {
    const w = workloads.find((x): x is EffnetWorkload | MobilenetWorkload =>
      (backbone === "efficientnet-b5" && x.kind === "effnet") || (backbone === "mobilenet_v2" && x.kind === "mobilenet"));
    const row = w && rows.get(w.name);
    if (!w || !row) throw new StepTimeError(`the bench record has no extraction row for ${backbone}`);
    if (w.kind === "effnet") {
      const input = 32 * mapLen; // stride 32 (lib/features/backbones.ts)
      if (input === w.inputSize) return row.ms_per_step;
      const ratio = effnetB5ForwardFlops(input, w.upToBlock) / effnetB5ForwardFlops(w.inputSize, w.upToBlock);
      note({ from: row.name, shape: `EfficientNet-B5 at ${input} px`, ratio, by: "FLOPs" });
      return row.ms_per_step * ratio;
    }
    if (mapLen === w.mapLen) return row.ms_per_step;
    // no analytic count for MobileNetV2: by pixels
    const ratio = (mapLen / w.mapLen) ** 2;
    note({ from: row.name, shape: `MobileNetV2 for a ${mapLen}x${mapLen} map`, ratio, by: "pixels" });
    return row.ms_per_step * ratio;
  };

  return {
    trainStepMs,
    forwardMsPerImage: (net) => trainStepMs(net) / TRAIN_STEP_FACTOR / net.batch,
    extractionMsPerImage,
    depthMsPerImage: rows.get("depth_800")?.ms_per_step ?? null,
    scalings: () => [...scalings.values()],
  };
}
