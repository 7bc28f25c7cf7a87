/**
 * The convolutions' precision for the whole program (issue 17; config field `precision`):
 * "bf16" switches the active oneDNN library (native/kernels.ts, nativeConvolutionsActive) to
 * bfloat16 inputs with fp32 accumulation and fp32 outputs (native/onednn/conv.ts). Call after
 * initBackend, before the work; a later call switches again (a process may run both).
 *
 * Only the convolution kernels read bf16: their inputs are rounded to bf16 inside the primitive
 * (the tfjs tensors stay float32), or arrive as bf16 from a swish that wrote them so
 * (lib/ops/packed_bf16.ts: the same rounding, one pass less; EfficientNet-B5's forward).
 * Everything else stays fp32 with nothing to change here: the master weights and Adam's moments
 * (lib/train), BatchNorm's statistics, the flow's log-det and soft clamp, the losses, and every
 * non-convolution kernel (elementwise, reductions, the fused kernels, matmuls).
 *
 * Where bf16 cannot run the convolutions stay fp32 and `note` says why in one line: no native
 * library (wasm's or the cpu backend's own kernels), OpenBLAS instead of oneDNN, a CPU without
 * avx512_bf16 / amx_bf16, oneDNN capped below its bf16 ISA (DNNL_MAX_CPU_ISA), or oneDNN without a
 * bf16 kernel for the probe convolution (OneDnnConvolutions.bf16Support()).
 */
import { nativeConvolutionsActive, setPackedBf16Convolutions } from "./native/kernels.ts";
import { OneDnnConvolutions, type Precision } from "./native/onednn/conv.ts";

export type { Precision };

export interface PrecisionChoice {
  /** what the convolutions run in from now on */
  precision: Precision;
  /** bf16: the kernel oneDNN picks for a bf16 convolution (e.g. "brgconv:avx512_core_bf16"); fp32: null (see convolutionPrecisionReport) */
  isa: string | null;
  /** why bf16 was asked for and fp32 runs */
  note?: string;
}

/** The active oneDNN convolution library, or null with what runs the convolutions instead. */
function activeOneDnn(): { lib: OneDnnConvolutions | null; instead: string } {
  const active = nativeConvolutionsActive();
  if (!active) return { lib: null, instead: "no native convolution library (the backend's own kernels)" };
  if (active.lib instanceof OneDnnConvolutions) return { lib: active.lib, instead: "" };
  return { lib: null, instead: `convolutions on ${active.lib.name}, not oneDNN` };
}

/** Switches the convolutions to `p` where it can run; else fp32 with a note. */
export function setConvolutionPrecision(p: Precision): PrecisionChoice {
  const { lib, instead } = activeOneDnn();
  setPackedBf16Convolutions(false);
  if (p === "fp32") {
    lib?.setPrecision("fp32");
    return { precision: "fp32", isa: null };
  }
  const fallback = (why: string): PrecisionChoice => {
    lib?.setPrecision("fp32");
    return { precision: "fp32", isa: null, note: `precision bf16 unavailable, running fp32: ${why}` };
  };
  if (!lib) return fallback(instead);
  const support = lib.bf16Support();
  if (!support.supported) return fallback(support.reason);
  lib.setPrecision("bf16");
  setPackedBf16Convolutions(true); // lets ops hand maps to the convolutions as bf16 (lib/ops/packed_bf16.ts)
  return { precision: "bf16", isa: support.isa };
}

/**
 * What the convolutions run in, for a run's record: the precision set now and, with oneDNN, the
 * kernels of that precision's cached plans (from implReport(), e.g. "bf16 via
 * brgconv:avx512_core_bf16, jit_bf16:avx512_core_bf16", plus "; N bf16 plan(s) in fp32" where
 * oneDNN had no bf16 kernel for a geometry), else the library's name, or null for the backend's
 * own kernels. Plans are cached per process: in a process that ran several runs, the list may
 * name kernels of an earlier run's geometries too.
 */
export function convolutionPrecisionReport(): { precision: Precision; isa: string | null } {
  const active = nativeConvolutionsActive();
  if (!active) return { precision: "fp32", isa: null };
  if (!(active.lib instanceof OneDnnConvolutions)) return { precision: "fp32", isa: active.lib.name };
  const lib = active.lib, p = lib.precision;
  const report = lib.implReport();
  const impls = report.impls[p];
  const refused = p === "bf16" && report.refused.length ? `; ${report.refused.length} bf16 plan(s) in fp32` : "";
  return { precision: p, isa: impls?.length ? `${p} via ${impls.join(", ")}${refused}` : `${p} (no convolution yet)` };
}
