/**
 * oneDNN (Debian libdnnl2, 2.6; the library PyTorch's CPU convolutions run on) 2-D convolutions
 * through Deno FFI on tfjs-layout Float32Arrays: activations NHWC, filters HWIO [kh, kw, in, out].
 *
 *   const lib = OneDnnConvolutions.load({ threads: 2 });
 *   lib.forward(g, x, w, y);            // y  = conv(x, w)
 *   lib.backwardData(g, dy, w, dx);     // dx = input gradient (overwritten)
 *   lib.backwardWeights(g, x, dy, dw);  // dw = filter gradient (overwritten)
 *
 * `g` is tfjs' Conv2DInfo (ConvGeometry); primitives are created once per (pass, geometry) and
 * cached. Layouts per pass ("auto", measured: 1.6-1.8x OpenBLAS im2col+SGEMM on the student's
 * and teacher's convolutions, 2-3x on the hidden-64 teacher's): forward with the weights in the
 * library's blocked format (brgconv on nhwc activations); backward the same unless a channel
 * count is >= 512, then activations blocked too (the nhwc jit backward kernels lose 30-45%
 * there). Reorders to and from the tfjs buffers are part of every call (weights change every
 * step).
 *
 * Precision ("fp32" by default; LoadOptions.precision, setPrecision, or per call through
 * at("bf16")): "bf16" runs the convolution on bfloat16 inputs with fp32 accumulation and fp32
 * outputs (forward: src and weights bf16, dst f32; input gradient: diff_dst and weights bf16,
 * diff_src f32; filter gradient: src and diff_dst bf16, diff_weights f32; biases f32). The tfjs
 * buffers stay Float32Arrays: the reorders into the primitive's buffers round to bf16 (nearest
 * even). A geometry for which oneDNN has no bf16 kernel (it would pick a `ref:` or `gemm:`
 * implementation) runs in fp32, and `refusals()` says which and why; bf16Support() tells whether
 * the CPU and the library have bf16 kernels at all.
 *
 * FFI details (more in ffi.ts): OMP_NUM_THREADS must be in the environment before the library
 * (and its libgomp) loads; oneDNN's dilation is (d - 1); padding_r makes
 * (H - effK + pl + pr) / s + 1 == Ho.
 */
import type { ConvGeometry } from "../im2col_conv.ts";
import type { ConvolutionLibrary } from "../convolution_library.ts";
import { cpuFlags } from "../cpu_flags.ts";
import { type Precision, PRECISIONS } from "../../../config/ast_config.ts";
import { type NativeEnv, openMpThreadsSetting, prepareOpenMp } from "../openmp.ts";
import { fromBf16Bits } from "../../js/bf16_values.ts";
import {
  ALG_AUTO, ALG_DIRECT, ARG_BIAS, ARG_DIFF_BIAS, ARG_DIFF_DST, ARG_DIFF_SRC, ARG_DIFF_WEIGHTS, ARG_DST, ARG_SRC, ARG_WEIGHTS,
  BF16, check, CONV_DESC_BYTES, CPU_ISA_AVX512_CORE_BF16, ENGINE_CPU, execArgs, F32, FWD_TRAINING, type Lib, MD_BYTES, memoryAllocate,
  type OmpLib, openOneDnn,
  type Ptr, ptrOf, Q_DIFF_DST_MD, Q_DIFF_SRC_MD, Q_DIFF_WEIGHTS_MD, Q_DST_MD, Q_IMPL_INFO_STR, Q_SRC_MD, Q_WEIGHTS_MD,
  STREAM_DEFAULT, TAG_A, TAG_ANY, TAG_HWIO, TAG_NHWC,
} from "./ffi.ts";

export type Layout = "plain" | "weights-any" | "any";
export type LayoutChoice = Layout | "auto" | { fwd: Layout; bwd_data: Layout; bwd_weights: Layout };
export type Pass = "fwd" | "bwd_data" | "bwd_weights" | "bwd_weights_bias" | "fwd_bias" | "dw_fwd" | "dw_fwd_bias";
// The convolutions' input precision (the config's `precision`); accumulation and outputs are fp32 in both.
export type { Precision };

/** OneDnnConvolutions.at(p): its convolutions at one precision (bias gradient included). */
export interface OneDnnAtPrecision extends ConvolutionLibrary {
  readonly precision: Precision;
  forward(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array, bias?: Float32Array): void;
  backwardWeights(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array, dbias?: Float32Array): void;
}

/** Whether bf16 convolutions run on bf16 kernels here (OneDnnConvolutions.bf16Support()). */
export interface Bf16Support {
  supported: boolean;
  /** why not (or, when supported, what was checked) */
  reason: string;
  /** the implementation oneDNN picks for a small bf16 forward convolution (e.g. "brgconv:avx512_core_bf16"), or its effective ISA when none was created */
  isa: string;
  /** oneDNN's effective CPU ISA (dnnl_get_effective_cpu_isa, e.g. "cpu_isa_avx512_core_bf16", "cpu_isa_avx512_core_amx") */
  cpuIsa: string;
  /** the small probe's implementation per pass */
  impls: Partial<Record<"fwd" | "bwd_data" | "bwd_weights", string>>;
}

/**
 * A bf16 kernel: not oneDNN's reference loops nor its im2col + gemm fallback, and on an ISA with
 * bf16 instructions ("brgconv:avx512_core_bf16", "jit_bf16:avx512_core_amx_bf16"; not the
 * emulated "jit_bf16:avx512_core").
 */
export function isBf16Kernel(impl: string): boolean {
  const isa = impl.slice(impl.indexOf(":") + 1);
  return !/^(ref|gemm)/.test(impl) && /^(avx512_core_bf16|avx512_core_amx)/.test(isa);
}

/** One memory argument of a primitive: the user buffer's memory object, and, when the
 * primitive wants another format, an internal buffer plus the reorder between them. */
interface Arg {
  arg: number;
  user: Ptr; // dnnl_memory_t on the user's Float32Array (handle set per call)
  /** execArgs: the reorder's dnnl_exec_arg_t[] (from user to inner, or inner to user for outputs) */
  reorder?: { prim: Ptr; inner: Ptr; output: boolean; execArgs: Uint8Array };
}

interface Plan {
  precision: Precision;
  prim: Ptr;
  pd: Ptr;
  impl: string;
  args: Arg[];
  execArgs: Uint8Array; // dnnl_exec_arg_t[] for the main primitive
  keep: unknown[]; // buffers that must outlive the primitive's descriptors
}

export interface LoadOptions {
  threads?: number;
  /** the user's OpenMP settings (BackendOptions.nativeEnv): kept, the missing ones set before loading */
  nativeEnv?: NativeEnv;
  layout?: LayoutChoice;
  algorithm?: "direct" | "auto";
  verbose?: number;
  /** "fp32" (default) or "bf16" (see the header; setPrecision() switches later) */
  precision?: Precision;
}

export class OneDnnConvolutions implements ConvolutionLibrary {
  readonly version: string;
  get name(): string {
    return `oneDNN ${this.version.split(" ")[0]}`;
  }
  readonly layout: LayoutChoice;
  readonly algorithm: number;
  private engine: Ptr;
  private stream: Ptr;
  private plans = new Map<string, Plan>();
  /** Accumulated wall time (ms) in reorders vs the convolution primitive itself. */
  readonly profile = { reorderMs: 0, convMs: 0 };
  private hints = new Map<string, Ptr>();
  /** bf16 plans that run in fp32: cache key -> "pass geometry: reason" */
  private refused = new Map<string, string>();
  private bf16Probe: Bf16Support | null = null;
  private _precision: Precision;
  private readonly nativeEnv: NativeEnv;
  private static libs: { s: Lib; omp: OmpLib | null } | null = null;

  private constructor(private s: Lib, private omp: OmpLib | null, opts: LoadOptions) {
    this.nativeEnv = opts.nativeEnv ?? {};
    this.layout = opts.layout ?? "auto";
    this._precision = checkPrecision(opts.precision ?? "fp32");
    this.algorithm = opts.algorithm === "auto" ? ALG_AUTO : ALG_DIRECT;
    const vp = s.dnnl_version()!;
    const v = new Deno.UnsafePointerView(vp);
    this.version = `${v.getInt32(0)}.${v.getInt32(4)}.${v.getInt32(8)} (cpu runtime ${v.getUint32(24)})`;
    if (opts.verbose !== undefined) check(s.dnnl_set_verbose(opts.verbose), "set_verbose");
    const out = new BigUint64Array(1);
    check(s.dnnl_engine_create(ptrOf(out), ENGINE_CPU, 0n), "engine_create");
    this.engine = Deno.UnsafePointer.create(out[0]);
    check(s.dnnl_stream_create(ptrOf(out), this.engine, STREAM_DEFAULT), "stream_create");
    this.stream = Deno.UnsafePointer.create(out[0]);
  }

  /** Loads the library (once per process). Sets OMP_NUM_THREADS before the first dlopen. */
  static load(opts: LoadOptions = {}): OneDnnConvolutions {
    if (!OneDnnConvolutions.libs) {
      prepareOpenMp(opts.threads, opts.nativeEnv);
      OneDnnConvolutions.libs = openOneDnn();
    }
    const d = new OneDnnConvolutions(OneDnnConvolutions.libs.s, OneDnnConvolutions.libs.omp, opts);
    if (opts.threads) d.setThreads(opts.threads);
    return d;
  }

  /** The library, engine and stream, for the other primitives (OneDnnEltwise). */
  handles(): { s: Lib; engine: Ptr; stream: Ptr } {
    return { s: this.s, engine: this.engine, stream: this.stream };
  }

  /** omp_set_num_threads on the calling (main JS) thread, which is the one that runs primitives. */
  setThreads(n: number): void {
    this.omp?.omp_set_num_threads(n);
  }
  threads(): number {
    return this.omp ? this.omp.omp_get_max_threads() : openMpThreadsSetting(this.nativeEnv);
  }

  /** The precision forward / backwardData / backwardWeights / depthwiseForward run in. */
  get precision(): Precision {
    return this._precision;
  }

  /**
   * Switches this instance's convolutions (and so the wasm backend's, when it is the active
   * library) to `p`. Plans of both precisions stay cached. bf16 where bf16Support() says no:
   * every plan falls back to fp32 (refusals() lists them).
   */
  setPrecision(p: Precision): void {
    this._precision = checkPrecision(p);
  }

  /** The same library (engine, plan cache) running its convolutions in precision `p`, whatever setPrecision says. */
  at(p: Precision): OneDnnAtPrecision {
    checkPrecision(p);
    return {
      name: `${this.name} ${p}`,
      precision: p,
      threads: () => this.threads(),
      forward: (g, x, w, y, bias) => this.forwardAt(p, g, x, w, y, bias),
      forwardBias: (g, x, w, bias, y) => this.forwardBiasAt(p, g, x, w, bias, y),
      backwardData: (g, dy, w, dx) => this.backwardDataAt(p, g, dy, w, dx),
      backwardWeights: (g, x, dy, dw, dbias) => this.backwardWeightsAt(p, g, x, dy, dw, dbias),
      depthwiseForward: (g, x, w, y, bias) => this.depthwiseForwardAt(p, g, x, w, y, bias),
    };
  }

  forward(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array, bias?: Float32Array): void {
    this.forwardAt(this._precision, g, x, w, y, bias);
  }

  private forwardAt(p: Precision, g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array, bias?: Float32Array): void {
    checkSizes(g, { x, w, y });
    const plan = this.plan(bias ? "fwd_bias" : "fwd", g, p);
    this.run(plan, bias ? [x, w, bias, y] : [x, w, y]);
  }

  forwardBias(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array, y: Float32Array): void {
    this.forwardBiasAt(this._precision, g, x, w, bias, y);
  }

  private forwardBiasAt(p: Precision, g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array, y: Float32Array): void {
    if (bias.length < g.outChannels) throw new RangeError("bias too small");
    this.forwardAt(p, g, x, w, y, bias);
  }

  /**
   * Depthwise forward (tfjs' DepthwiseConv2dNative: filter [kh, kw, C, multiplier], g from
   * computeConv2DInfo(..., depthwise = true)) as a grouped convolution, bias optional.
   */
  depthwiseForward(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array, bias?: Float32Array): void {
    this.depthwiseForwardAt(this._precision, g, x, w, y, bias);
  }

  private depthwiseForwardAt(p: Precision, g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array, bias?: Float32Array): void {
    checkDepthwiseSizes(g, { x, w, y, bias });
    this.run(this.plan(bias ? "dw_fwd_bias" : "dw_fwd", g, p), bias ? [x, w, bias, y] : [x, w, y]);
  }

  backwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
    this.backwardDataAt(this._precision, g, dy, w, dx);
  }

  private backwardDataAt(p: Precision, g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
    checkSizes(g, { x: dx, w, y: dy });
    this.run(this.plan("bwd_data", g, p), [dx, w, dy]);
  }

  backwardWeights(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array, dbias?: Float32Array): void {
    this.backwardWeightsAt(this._precision, g, x, dy, dw, dbias);
  }

  private backwardWeightsAt(p: Precision, g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array, dbias?: Float32Array): void {
    checkSizes(g, { x, w: dw, y: dy });
    if (dbias && dbias.length < g.outChannels) throw new RangeError("dbias too small");
    const plan = this.plan(dbias ? "bwd_weights_bias" : "bwd_weights", g, p);
    this.run(plan, dbias ? [x, dw, dbias, dy] : [x, dw, dy]);
  }

  /**
   * Forward (or, `depthwise`, depthwise forward) convolution of an input that is already bf16:
   * `x16` holds the bf16 bits of the NHWC input (lib/ops/packed_bf16.ts), read by the primitive
   * as it is, without the f32 -> bf16 conversion pass. In bf16 with a bf16 kernel for g, the
   * result is the one forward() gives on the float32 values x16 stands for. Otherwise (this
   * instance in fp32, or no bf16 kernel for g) the input is widened to float32 exactly and the
   * convolution runs as forward() / depthwiseForward() would.
   */
  forwardBf16Input(g: ConvGeometry, x16: Uint16Array, w: Float32Array, y: Float32Array, bias?: Float32Array, depthwise = false): void {
    const n = g.batchSize * g.inHeight * g.inWidth * g.inChannels;
    if (x16.length < n) throw new RangeError("x16 too small");
    if (depthwise) checkDepthwiseSizes(g, { x: x16, w, y, bias });
    else {
      checkSizes(g, { x: x16, w, y });
      if (bias && bias.length < g.outChannels) throw new RangeError("bias too small");
    }
    const pass: Pass = depthwise ? (bias ? "dw_fwd_bias" : "dw_fwd") : (bias ? "fwd_bias" : "fwd");
    const plan = this._precision === "bf16" ? this.plan(pass, g, "bf16", true) : null;
    if (plan?.precision === "bf16") return this.run(plan, bias ? [x16, w, bias, y] : [x16, w, y]);
    const x = new Float32Array(n);
    fromBf16Bits(x16.subarray(0, n), x);
    this.run(plan ?? this.plan(pass, g, "fp32"), bias ? [x, w, bias, y] : [x, w, y]);
  }

  /**
   * The implementation oneDNN picked, e.g. "brgconv:avx512_core" (fp32) or
   * "brgconv:avx512_core_bf16"; for a bf16 plan that fell back, the fp32 one's.
   */
  implName(pass: Pass, g: ConvGeometry, precision: Precision = this._precision): string {
    return this.plan(pass, g, precision).impl;
  }

  /** The precision a pass actually runs in for g ("fp32" where bf16 was refused). */
  precisionFor(pass: Pass, g: ConvGeometry, precision: Precision = this._precision): Precision {
    return this.plan(pass, g, precision).precision;
  }

  /**
   * What ran so far, for a run's record: the implementations of the cached plans per precision
   * (e.g. { bf16: ["brgconv:avx512_core_bf16", "jit:avx512_core_bf16"] }), the bf16 plans that run
   * in fp32 with the reason, and a one-line summary ("bf16 via brgconv:avx512_core_bf16, ...").
   */
  implReport(): { precision: Precision; impls: Partial<Record<Precision, string[]>>; refused: string[]; summary: string } {
    const impls: Partial<Record<Precision, string[]>> = {};
    for (const plan of new Set(this.plans.values())) {
      const list = impls[plan.precision] ??= [];
      if (!list.includes(plan.impl)) list.push(plan.impl);
    }
    const refused = [...this.refused.values()];
    const parts = PRECISIONS.filter((p) => impls[p]).map((p) => `${p} via ${impls[p]!.join(", ")}`);
    const summary = (parts.join("; ") || `${this._precision} (no convolution yet)`) + (refused.length ? `; ${refused.length} bf16 plan(s) in fp32` : "");
    return { precision: this._precision, impls, refused, summary };
  }

  /**
   * Whether bf16 convolutions run on bf16 kernels here: the CPU flags (avx512_bf16 or amx_bf16,
   * /proc/cpuinfo), oneDNN's effective ISA (DNNL_MAX_CPU_ISA can cap it), and the implementations
   * oneDNN picks for a small bf16 convolution's three passes (none may be `ref:` / `gemm:`).
   * Probed once per instance.
   */
  bf16Support(): Bf16Support {
    return this.bf16Probe ??= this.probeBf16();
  }

  private probeBf16(): Bf16Support {
    const isaCode = this.s.dnnl_get_effective_cpu_isa();
    const isaName = this.s.dnnl_cpu_isa2str(isaCode);
    const cpuIsa = isaName ? new Deno.UnsafePointerView(isaName).getCString() : `0x${isaCode.toString(16)}`;
    const no = (reason: string): Bf16Support => ({ supported: false, reason, isa: cpuIsa, cpuIsa, impls: {} });
    const flags = cpuFlags();
    const bf16Flags = ["amx_bf16", "avx512_bf16"].filter((f) => flags.has(f));
    if (flags.size === 0) return no("CPU flags unknown (no /proc/cpuinfo)");
    if (bf16Flags.length === 0) return no("the CPU has neither avx512_bf16 nor amx_bf16");
    if ((isaCode & CPU_ISA_AVX512_CORE_BF16) !== CPU_ISA_AVX512_CORE_BF16) return no(`oneDNN's effective ISA is ${cpuIsa} (DNNL_MAX_CPU_ISA?)`);
    // a small convolution of the student's kind: 3x3, 'same', 64 -> 64 channels, batch 2, 12x12
    const g: ConvGeometry = {
      batchSize: 2, inHeight: 12, inWidth: 12, inChannels: 64, outHeight: 12, outWidth: 12, outChannels: 64,
      filterHeight: 3, filterWidth: 3, strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1,
      padInfo: { top: 1, left: 1, bottom: 1, right: 1 },
    };
    // (built outside the cache, so that implReport() lists only what the run's convolutions used)
    const impls: Bf16Support["impls"] = {};
    for (const pass of ["fwd", "bwd_data", "bwd_weights"] as const) {
      const plan = this.build(pass, g, JSON.stringify(g), "bf16");
      if (typeof plan === "string") return { ...no(`oneDNN has no bf16 kernel for a 3x3 64->64 ${pass} pass: ${plan}`), impls };
      impls[pass] = plan.impl;
      this.destroy(plan);
    }
    return { supported: true, reason: `CPU flags ${bf16Flags.join(", ")}; oneDNN kernels ${Object.values(impls).join(", ")}`, isa: impls.fwd!, cpuIsa, impls };
  }

  /** bf16 plans that run in fp32, with the reason (e.g. "bwd_data x[2,12,12,64] 3x3 64->64 s1: oneDNN would use ref:any, not a bf16 kernel"). */
  refusals(): string[] {
    return this.implReport().refused;
  }

  /** Buffers in the order plan() lists the arguments. */
  private run(plan: Plan, bufs: (Float32Array | Uint16Array)[]): void {
    const s = this.s;
    for (let i = 0; i < plan.args.length; i++) check(s.dnnl_memory_set_data_handle(plan.args[i].user, ptrOf(bufs[i])), "set_data_handle");
    const t0 = performance.now();
    for (const a of plan.args) {
      if (a.reorder && !a.reorder.output) this.reorder(a.reorder);
    }
    const t1 = performance.now();
    check(s.dnnl_primitive_execute(plan.prim, this.stream, plan.args.length, ptrOf(plan.execArgs)), "execute");
    check(s.dnnl_stream_wait(this.stream), "stream_wait"); // CPU streams execute synchronously anyway
    const t2 = performance.now();
    for (const a of plan.args) {
      if (a.reorder?.output) this.reorder(a.reorder);
    }
    check(s.dnnl_stream_wait(this.stream), "stream_wait");
    this.profile.reorderMs += t1 - t0 + performance.now() - t2;
    this.profile.convMs += t2 - t1;
  }

  private reorder(r: { prim: Ptr; execArgs: Uint8Array }): void {
    check(this.s.dnnl_primitive_execute(r.prim, this.stream, 2, ptrOf(r.execArgs)), "reorder execute");
  }

  private md(dims: number[], tag: number, keep: unknown[], dataType = F32): Uint8Array {
    const md = new Uint8Array(MD_BYTES);
    const d = new BigInt64Array(12);
    dims.forEach((v, i) => d[i] = BigInt(v));
    check(this.s.dnnl_memory_desc_init_by_tag(ptrOf(md), dims.length, ptrOf(d), dataType, tag), "memory_desc_init_by_tag");
    keep.push(md);
    return md;
  }

  private mdStrides(dims: number[], strides: number[], keep: unknown[], dataType = F32): Uint8Array {
    const md = new Uint8Array(MD_BYTES);
    const d = new BigInt64Array(12), st = new BigInt64Array(12);
    dims.forEach((v, i) => d[i] = BigInt(v));
    strides.forEach((v, i) => st[i] = BigInt(v));
    check(this.s.dnnl_memory_desc_init_by_strides(ptrOf(md), dims.length, ptrOf(d), dataType, ptrOf(st)), "memory_desc_init_by_strides");
    keep.push(md, d, st);
    return md;
  }

  /**
   * The layout a pass runs in for geometry g. bf16 follows the same rule: measured on 368->1024
   * 3x3, 1024->1024 3x3 and 64->64 5x5 (batch 8, 24x24), "weights-any" and "any" are within 3%
   * of each other in every pass, "plain" (nhwc bf16 weights) is 2-5x slower.
   */
  layoutFor(pass: Pass, g: ConvGeometry, _precision: Precision = "fp32"): Layout {
    if (pass.startsWith("dw")) return "weights-any"; // activations stay NHWC
    const l = this.layout;
    const p = pass === "fwd_bias" ? "fwd" : pass === "bwd_weights_bias" ? "bwd_weights" : pass as "fwd" | "bwd_data" | "bwd_weights";
    if (typeof l === "object") return l[p];
    if (l !== "auto") return l;
    if (p === "fwd") return "weights-any";
    const wide = p === "bwd_data" ? g.outChannels >= 512 : Math.max(g.inChannels, g.outChannels) >= 512;
    return wide ? "any" : "weights-any";
  }

  /**
   * The conv op descriptor for one pass; user (plain, f32) memory descs returned alongside. bf16:
   * the pass's inputs are bf16 in the op descriptor, its output (and bias) f32; where they differ
   * from the user's desc, plan() adds a reorder, which converts.
   */
  private convDesc(pass: Pass, g: ConvGeometry, layout: Layout, precision: Precision, keep: unknown[], bf16Src = false) {
    const s = this.s;
    const any = layout === "any", wany = layout !== "plain";
    const src = [g.batchSize, g.inChannels, g.inHeight, g.inWidth];
    const dst = [g.batchSize, g.outChannels, g.outHeight, g.outWidth];
    const depthwise = pass.startsWith("dw");
    // depthwise: groups = input channels, weights [G, multiplier, 1, kh, kw] over tfjs'
    // [kh, kw, C, multiplier] buffer (strides in elements)
    const mult = g.outChannels / g.inChannels;
    const wei = depthwise
      ? [g.inChannels, mult, 1, g.filterHeight, g.filterWidth]
      : [g.outChannels, g.inChannels, g.filterHeight, g.filterWidth];
    const weiStrides = [mult, 1, 1, g.filterWidth * g.outChannels, g.outChannels];
    const userWei = depthwise ? this.mdStrides(wei, weiStrides, keep) : this.md(wei, TAG_HWIO, keep);
    const user = { src: this.md(src, TAG_NHWC, keep, bf16Src ? BF16 : F32), wei: userWei, dst: this.md(dst, TAG_NHWC, keep), bias: this.md([g.outChannels], TAG_A, keep) };
    // data types in the op: fp32 everywhere, or bf16 for the pass's inputs (src and weights
    // forward, diff_dst and weights for the input gradient, src and diff_dst for the filter gradient)
    const bf16 = precision === "bf16";
    const isFwd = pass === "fwd" || pass === "fwd_bias" || depthwise;
    const dt = {
      src: bf16 && pass !== "bwd_data" ? BF16 : F32,
      wei: bf16 && !pass.startsWith("bwd_weights") ? BF16 : F32,
      dst: bf16 && !isFwd ? BF16 : F32,
    };
    const op = {
      src: any ? this.md(src, TAG_ANY, keep, dt.src) : dt.src === F32 && !bf16Src ? user.src : this.md(src, TAG_NHWC, keep, dt.src),
      wei: wany
        ? this.md(wei, TAG_ANY, keep, dt.wei)
        : dt.wei === F32
        ? user.wei
        : depthwise
        ? this.mdStrides(wei, weiStrides, keep, dt.wei)
        : this.md(wei, TAG_HWIO, keep, dt.wei),
      dst: any ? this.md(dst, TAG_ANY, keep, dt.dst) : dt.dst === F32 ? user.dst : this.md(dst, TAG_NHWC, keep, dt.dst),
      bias: user.bias,
    };
    const dims = (a: number, b: number) => {
      const d = new BigInt64Array(12);
      d[0] = BigInt(a), d[1] = BigInt(b);
      keep.push(d);
      return ptrOf(d);
    };
    const effH = (g.filterHeight - 1) * g.dilationHeight + 1, effW = (g.filterWidth - 1) * g.dilationWidth + 1;
    const top = g.padInfo.top, left = g.padInfo.left;
    const bottom = g.padInfo.bottom ?? Math.max(0, (g.outHeight - 1) * g.strideHeight + effH - g.inHeight - top);
    const right = g.padInfo.right ?? Math.max(0, (g.outWidth - 1) * g.strideWidth + effW - g.inWidth - left);
    const strides = dims(g.strideHeight, g.strideWidth), dil = dims(g.dilationHeight - 1, g.dilationWidth - 1);
    const pl = dims(top, left), pr = dims(bottom, right);
    const cd = new Uint8Array(CONV_DESC_BYTES);
    keep.push(cd);
    const alg = this.algorithm;
    if (pass === "fwd" || pass === "fwd_bias" || depthwise) {
      const withBias = pass === "fwd_bias" || pass === "dw_fwd_bias";
      check(s.dnnl_dilated_convolution_forward_desc_init(ptrOf(cd), FWD_TRAINING, alg, ptrOf(op.src), ptrOf(op.wei), withBias ? ptrOf(op.bias) : null, ptrOf(op.dst), strides, dil, pl, pr), "conv fwd desc");
    } else if (pass === "bwd_data") {
      check(s.dnnl_dilated_convolution_backward_data_desc_init(ptrOf(cd), alg, ptrOf(op.src), ptrOf(op.wei), ptrOf(op.dst), strides, dil, pl, pr), "conv bwd data desc");
    } else {
      check(s.dnnl_dilated_convolution_backward_weights_desc_init(ptrOf(cd), alg, ptrOf(op.src), ptrOf(op.wei), pass === "bwd_weights_bias" ? ptrOf(op.bias) : null, ptrOf(op.dst), strides, dil, pl, pr), "conv bwd weights desc");
    }
    return { cd, user };
  }

  private pd(cd: Uint8Array, hint: Ptr): Ptr {
    const out = new BigUint64Array(1);
    check(this.s.dnnl_primitive_desc_create(ptrOf(out), ptrOf(cd), null, this.engine, hint), "primitive_desc_create");
    return Deno.UnsafePointer.create(out[0]);
  }

  private hintFor(g: ConvGeometry, layout: Layout, precision: Precision, key: string): Ptr {
    let h = this.hints.get(key);
    if (!h) {
      const keep: unknown[] = [];
      h = this.pd(this.convDesc("fwd", g, layout, precision, keep).cd, null);
      this.hints.set(key, h);
    }
    return h;
  }

  /**
   * Releases every cached primitive, its memories and internal buffers. Called when the cache is
   * full: training uses a fixed set of geometries, but scoring images of many sizes would
   * otherwise keep adding plans (each "any"-layout plan holds buffers of its tensors' size).
   */
  private evictAll(): void {
    const s = this.s;
    for (const plan of new Set(this.plans.values())) this.destroy(plan); // a refused bf16 key shares its fp32 plan
    for (const h of this.hints.values()) s.dnnl_primitive_desc_destroy(h);
    this.plans.clear();
    this.hints.clear();
    if (this.refused.size > 256) this.refused.clear();
  }

  private destroy(plan: Plan): void {
    const s = this.s;
    s.dnnl_primitive_destroy(plan.prim);
    for (const a of plan.args) {
      s.dnnl_memory_destroy(a.user);
      if (a.reorder) {
        s.dnnl_primitive_destroy(a.reorder.prim);
        s.dnnl_memory_destroy(a.reorder.inner);
      }
    }
    s.dnnl_primitive_desc_destroy(plan.pd);
  }

  /**
   * The cached plan of (precision, pass, geometry), created on a miss. bf16 where oneDNN has no
   * bf16 kernel for it: the fp32 plan, cached under the bf16 key too, and the reason in `refused`.
   * `bf16Src` (bf16 only): the user's input buffer holds bf16 values (forwardBf16Input); its fp32
   * fallback plan takes float32 input like any other.
   */
  private plan(pass: Pass, g: ConvGeometry, precision: Precision, bf16Src = false): Plan {
    const gkey = JSON.stringify(g);
    const key = planKey(pass, gkey, precision) + (bf16Src ? "|bf16 input" : "");
    const cached = this.plans.get(key);
    if (cached) return cached;
    if (this.plans.size >= 96) this.evictAll();
    let plan: Plan;
    if (precision === "bf16") {
      const built = this.build(pass, g, gkey, "bf16", bf16Src);
      if (typeof built === "string") {
        this.refused.set(key, `${pass} ${describe(g)}: ${built}`);
        plan = this.plan(pass, g, "fp32");
      } else plan = built;
    } else {
      plan = this.build(pass, g, gkey, "fp32") as Plan;
    }
    this.plans.set(key, plan);
    return plan;
  }

  /** A new plan; for bf16, the reason instead when oneDNN offers no bf16 kernel (nothing is kept then). */
  private build(pass: Pass, g: ConvGeometry, gkey: string, precision: Precision, bf16Src = false): Plan | string {
    const s = this.s;
    const keep: unknown[] = [];
    const layout = this.layoutFor(pass, g, precision);
    let pd: Ptr;
    let user: ReturnType<OneDnnConvolutions["convDesc"]>["user"];
    try {
      const desc = this.convDesc(pass, g, layout, precision, keep, bf16Src);
      user = desc.user;
      const hint = pass.startsWith("bwd") ? this.hintFor(g, layout, precision, `${precision}|${layout}|${gkey}`) : null;
      pd = this.pd(desc.cd, hint);
    } catch (err) {
      if (precision === "fp32") throw err;
      return `no bf16 convolution (${(err as Error).message})`;
    }
    const strOut = new BigUint64Array(1);
    check(s.dnnl_primitive_desc_query(pd, Q_IMPL_INFO_STR, 0, ptrOf(strOut)), "query impl");
    const impl = new Deno.UnsafePointerView(Deno.UnsafePointer.create(strOut[0])!).getCString();
    if (precision === "bf16" && !isBf16Kernel(impl)) {
      s.dnnl_primitive_desc_destroy(pd);
      return `oneDNN would use ${impl}, not a bf16 kernel`;
    }
    // [exec arg, query for the primitive's md, user md, is output]
    const forward = pass === "fwd" || pass === "fwd_bias" || pass === "dw_fwd" || pass === "dw_fwd_bias";
    const forwardBias = pass === "fwd_bias" || pass === "dw_fwd_bias";
    const spec: [number, number, Uint8Array, boolean][] = forward
      ? [[ARG_SRC, Q_SRC_MD, user.src, false], [ARG_WEIGHTS, Q_WEIGHTS_MD, user.wei, false], ...(forwardBias ? [[ARG_BIAS, Q_WEIGHTS_MD, user.bias, false] as [number, number, Uint8Array, boolean]] : []), [ARG_DST, Q_DST_MD, user.dst, true]]
      : pass === "bwd_data"
      ? [[ARG_DIFF_SRC, Q_DIFF_SRC_MD, user.src, true], [ARG_WEIGHTS, Q_WEIGHTS_MD, user.wei, false], [ARG_DIFF_DST, Q_DIFF_DST_MD, user.dst, false]]
      : [[ARG_SRC, Q_SRC_MD, user.src, false], [ARG_DIFF_WEIGHTS, Q_DIFF_WEIGHTS_MD, user.wei, true], ...(pass === "bwd_weights_bias" ? [[ARG_DIFF_BIAS, Q_DIFF_WEIGHTS_MD, user.bias, true] as [number, number, Uint8Array, boolean]] : []), [ARG_DIFF_DST, Q_DIFF_DST_MD, user.dst, false]];
    const args: Arg[] = [];
    const mainArgs: [number, Ptr][] = [];
    const out = new BigUint64Array(1);
    const newMem = (md: Ptr, handle: Ptr): Ptr => {
      check(s.dnnl_memory_create(ptrOf(out), md, this.engine, handle), "memory_create");
      return Deno.UnsafePointer.create(out[0]);
    };
    for (const [arg, q, umd] of spec) {
      const isBias = arg === ARG_BIAS || arg === ARG_DIFF_BIAS;
      const pmd = s.dnnl_primitive_desc_query_md(pd, q, isBias ? 1 : 0); // bias is weights index 1
      const userMem = newMem(ptrOf(umd), null);
      const isOut = spec.find((e) => e[0] === arg)![3];
      if (pmd && s.dnnl_memory_desc_equal(pmd, ptrOf(umd)) === 0) {
        const inner = newMem(pmd, memoryAllocate());
        const rpd = new BigUint64Array(1);
        const [from, to] = isOut ? [pmd, ptrOf(umd)] : [ptrOf(umd), pmd];
        check(s.dnnl_reorder_primitive_desc_create(ptrOf(rpd), from, this.engine, to, this.engine, null), "reorder pd");
        const rp = Deno.UnsafePointer.create(rpd[0]);
        check(s.dnnl_primitive_create(ptrOf(out), rp), "reorder primitive");
        const prim = Deno.UnsafePointer.create(out[0]);
        s.dnnl_primitive_desc_destroy(rp);
        // DNNL_ARG_FROM = ARG_SRC, DNNL_ARG_TO = ARG_DST
        const reorderArgs = isOut ? execArgs([[ARG_SRC, inner], [ARG_DST, userMem]]) : execArgs([[ARG_SRC, userMem], [ARG_DST, inner]]);
        args.push({ arg, user: userMem, reorder: { prim, inner, output: isOut, execArgs: reorderArgs } });
        mainArgs.push([arg, inner]);
      } else {
        args.push({ arg, user: userMem });
        mainArgs.push([arg, userMem]);
      }
    }
    check(s.dnnl_primitive_create(ptrOf(out), pd), "primitive_create");
    const prim = Deno.UnsafePointer.create(out[0]);
    return { precision, prim, pd, impl, args, execArgs: execArgs(mainArgs), keep };
  }
}

/** e.g. "x[2,24,24,368] 3x3 368->1024 s1" (dilation when > 1) */
function describe(g: ConvGeometry): string {
  const dil = g.dilationHeight > 1 || g.dilationWidth > 1 ? ` d${g.dilationHeight}x${g.dilationWidth}` : "";
  const st = g.strideHeight === g.strideWidth ? `${g.strideHeight}` : `${g.strideHeight}x${g.strideWidth}`;
  return `x[${g.batchSize},${g.inHeight},${g.inWidth},${g.inChannels}] ${g.filterHeight}x${g.filterWidth} ${g.inChannels}->${g.outChannels} s${st}${dil}`;
}

function planKey(pass: Pass, gkey: string, precision: Precision): string {
  return `${precision}|${pass}|${gkey}`;
}

function checkPrecision(p: Precision): Precision {
  if (!PRECISIONS.includes(p)) throw new RangeError(`precision "${p}": fp32 or bf16`);
  return p;
}

function checkSizes(g: ConvGeometry, b: { x: Float32Array | Uint16Array; w: Float32Array; y: Float32Array }): void {
  if (b.x.length < g.batchSize * g.inHeight * g.inWidth * g.inChannels) throw new RangeError("x / dx too small");
  if (b.w.length < g.filterHeight * g.filterWidth * g.inChannels * g.outChannels) throw new RangeError("w / dw too small");
  if (b.y.length < g.batchSize * g.outHeight * g.outWidth * g.outChannels) throw new RangeError("y / dy too small");
}

/** The same for a depthwise forward (filter [kh, kw, C, multiplier]), bias optional. */
function checkDepthwiseSizes(g: ConvGeometry, b: { x: Float32Array | Uint16Array; w: Float32Array; y: Float32Array; bias?: Float32Array }): void {
  if (b.x.length < g.batchSize * g.inHeight * g.inWidth * g.inChannels) throw new RangeError("x too small");
  if (b.w.length < g.filterHeight * g.filterWidth * g.outChannels) throw new RangeError("w too small");
  if (b.y.length < g.batchSize * g.outHeight * g.outWidth * g.outChannels) throw new RangeError("y too small");
  if (b.bias && b.bias.length < g.outChannels) throw new RangeError("bias too small");
}
