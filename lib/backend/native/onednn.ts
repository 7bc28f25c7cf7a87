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
 * FFI details: OMP_NUM_THREADS must be in the environment before the library (and its libgomp)
 * loads; dnnl_memory_desc_t is 696 bytes and dnnl_convolution_desc_t 5976 bytes in 2.6 (the
 * buffers below are larger); dnnl_exec_arg_t is {int arg; 4 bytes padding; void *memory} = 16
 * bytes; oneDNN's dilation is (d - 1); padding_r makes (H - effK + pl + pr) / s + 1 == Ho.
 */
import type { ConvGeometry } from "./conv.ts";
import type { ConvolutionLibrary } from "./library.ts";
import { prepareOpenMp } from "./openmp.ts";

export type Layout = "plain" | "weights-any" | "any";
export type LayoutChoice = Layout | "auto" | { fwd: Layout; bwd_data: Layout; bwd_weights: Layout };
export type Pass = "fwd" | "bwd_data" | "bwd_weights" | "bwd_weights_bias" | "fwd_bias" | "dw_fwd" | "dw_fwd_bias";

const LIB_CANDIDATES = ["libdnnl.so.2", "/usr/lib/x86_64-linux-gnu/libdnnl.so.2"];

const P = "pointer" as const;
const SYMBOLS = {
  dnnl_version: { parameters: [], result: P },
  dnnl_set_verbose: { parameters: ["i32"], result: "i32" },
  dnnl_engine_create: { parameters: [P, "i32", "usize"], result: "i32" },
  dnnl_stream_create: { parameters: [P, P, "u32"], result: "i32" },
  dnnl_stream_wait: { parameters: [P], result: "i32" },
  dnnl_memory_desc_init_by_tag: { parameters: [P, "i32", P, "i32", "i32"], result: "i32" },
  dnnl_memory_desc_init_by_strides: { parameters: [P, "i32", P, "i32", P], result: "i32" },
  dnnl_memory_desc_equal: { parameters: [P, P], result: "i32" },
  dnnl_memory_desc_init_submemory: { parameters: [P, P, P, P], result: "i32" },
  dnnl_memory_desc_get_size: { parameters: [P], result: "usize" },
  dnnl_dilated_convolution_forward_desc_init: {
    // conv_desc, prop_kind, alg_kind, src, weights, bias, dst, strides, dilates, padding_l, padding_r
    parameters: [P, "i32", "i32", P, P, P, P, P, P, P, P],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_data_desc_init: {
    // conv_desc, alg_kind, diff_src, weights, diff_dst, strides, dilates, padding_l, padding_r
    parameters: [P, "i32", P, P, P, P, P, P, P],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_weights_desc_init: {
    // conv_desc, alg_kind, src, diff_weights, diff_bias, diff_dst, strides, dilates, padding_l, padding_r
    parameters: [P, "i32", P, P, P, P, P, P, P, P],
    result: "i32",
  },
  dnnl_eltwise_forward_desc_init: { parameters: [P, "i32", "i32", P, "f32", "f32"], result: "i32" },
  dnnl_primitive_desc_create: { parameters: [P, P, P, P, P], result: "i32" },
  dnnl_primitive_desc_query: { parameters: [P, "i32", "i32", P], result: "i32" },
  dnnl_primitive_desc_query_md: { parameters: [P, "i32", "i32"], result: P },
  dnnl_primitive_desc_destroy: { parameters: [P], result: "i32" },
  dnnl_primitive_create: { parameters: [P, P], result: "i32" },
  dnnl_primitive_destroy: { parameters: [P], result: "i32" },
  dnnl_primitive_execute: { parameters: [P, P, "i32", P], result: "i32" },
  dnnl_memory_create: { parameters: [P, P, P, P], result: "i32" },
  dnnl_memory_set_data_handle: { parameters: [P, P], result: "i32" },
  dnnl_memory_destroy: { parameters: [P], result: "i32" },
  dnnl_reorder_primitive_desc_create: { parameters: [P, P, P, P, P, P], result: "i32" },
} as const;

const OMP_SYMBOLS = {
  omp_set_num_threads: { parameters: ["i32"], result: "void" },
  omp_get_max_threads: { parameters: [], result: "i32" },
} as const;

// enum values of oneDNN 2.6 (checked with a C program against dnnl_types.h)
const F32 = 3, TAG_ANY = 1, TAG_A = 2, TAG_AB = 3, TAG_NHWC = 20, TAG_HWIO = 30;
const ENGINE_CPU = 1, STREAM_DEFAULT = 1;
const FWD_TRAINING = 64;
const ALG_DIRECT = 1, ALG_AUTO = 3;
const ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33, ARG_BIAS = 41;
const ARG_DIFF_SRC = 129, ARG_DIFF_DST = 145, ARG_DIFF_WEIGHTS = 161, ARG_DIFF_BIAS = 169;
const Q_IMPL_INFO_STR = 8;
const Q_SRC_MD = 129, Q_DIFF_SRC_MD = 130, Q_WEIGHTS_MD = 131, Q_DIFF_WEIGHTS_MD = 132, Q_DST_MD = 133, Q_DIFF_DST_MD = 134;
const MEMORY_ALLOCATE = Deno.UnsafePointer.create(0xffffffffffffffffn); // DNNL_MEMORY_ALLOCATE = (void *)-1

const MD_BYTES = 1024; // sizeof(dnnl_memory_desc_t) = 696
const CONV_DESC_BYTES = 8192; // sizeof(dnnl_convolution_desc_t) = 5976

const STATUS = ["success", "out_of_memory", "invalid_arguments", "unimplemented", "iterator_ends", "runtime_error", "not_required"];

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
type Ptr = Deno.PointerValue;

const ptrOf = (b: ArrayBufferView | ArrayBuffer): Ptr => Deno.UnsafePointer.of(b as ArrayBuffer);

/** One memory argument of a primitive: the user buffer's memory object, and, when the
 * primitive wants another format, an internal buffer plus the reorder between them. */
interface Arg {
  arg: number;
  user: Ptr; // dnnl_memory_t on the user's Float32Array (handle set per call)
  /** execArgs: the reorder's dnnl_exec_arg_t[] (from user to inner, or inner to user for outputs) */
  reorder?: { prim: Ptr; inner: Ptr; output: boolean; execArgs: Uint8Array };
}

interface Plan {
  prim: Ptr;
  pd: Ptr;
  impl: string;
  args: Arg[];
  execArgs: Uint8Array; // dnnl_exec_arg_t[] for the main primitive
  keep: unknown[]; // buffers that must outlive the primitive's descriptors
}

export interface LoadOptions {
  threads?: number;
  layout?: LayoutChoice;
  algorithm?: "direct" | "auto";
  verbose?: number;
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
  private static libs: { s: Lib; omp: Deno.DynamicLibrary<typeof OMP_SYMBOLS>["symbols"] | null } | null = null;

  private constructor(private s: Lib, private omp: Deno.DynamicLibrary<typeof OMP_SYMBOLS>["symbols"] | null, opts: LoadOptions) {
    this.layout = opts.layout ?? "auto";
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
      prepareOpenMp(opts.threads);
      let s: Lib | null = null;
      const errors: string[] = [];
      for (const path of LIB_CANDIDATES) {
        try {
          s = Deno.dlopen(path, SYMBOLS).symbols;
          break;
        } catch (e) {
          errors.push(String((e as Error).message).split("\n")[0]);
        }
      }
      if (!s) throw new Error(`oneDNN not loadable: ${errors.join("; ")} (apt-get install libdnnl2)`);
      let omp = null;
      try {
        omp = Deno.dlopen("libgomp.so.1", OMP_SYMBOLS).symbols; // the same instance libdnnl uses
      } catch { /* threads stay at OMP_NUM_THREADS / core count */ }
      OneDnnConvolutions.libs = { s, omp };
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
    return this.omp ? this.omp.omp_get_max_threads() : Number(Deno.env.get("OMP_NUM_THREADS") ?? 0);
  }

  forward(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array, bias?: Float32Array): void {
    checkSizes(g, { x, w, y });
    const plan = this.plan(bias ? "fwd_bias" : "fwd", g);
    this.run(plan, bias ? [x, w, bias, y] : [x, w, y]);
  }

  forwardBias(g: ConvGeometry, x: Float32Array, w: Float32Array, bias: Float32Array, y: Float32Array): void {
    if (bias.length < g.outChannels) throw new RangeError("bias too small");
    this.forward(g, x, w, y, bias);
  }

  /**
   * Depthwise forward (tfjs' DepthwiseConv2dNative: filter [kh, kw, C, multiplier], g from
   * computeConv2DInfo(..., depthwise = true)) as a grouped convolution, bias optional.
   */
  depthwiseForward(g: ConvGeometry, x: Float32Array, w: Float32Array, y: Float32Array, bias?: Float32Array): void {
    if (x.length < g.batchSize * g.inHeight * g.inWidth * g.inChannels) throw new RangeError("x too small");
    if (w.length < g.filterHeight * g.filterWidth * g.outChannels) throw new RangeError("w too small");
    if (y.length < g.batchSize * g.outHeight * g.outWidth * g.outChannels) throw new RangeError("y too small");
    if (bias && bias.length < g.outChannels) throw new RangeError("bias too small");
    this.run(this.plan(bias ? "dw_fwd_bias" : "dw_fwd", g), bias ? [x, w, bias, y] : [x, w, y]);
  }

  backwardData(g: ConvGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array): void {
    checkSizes(g, { x: dx, w, y: dy });
    this.run(this.plan("bwd_data", g), [dx, w, dy]);
  }

  backwardWeights(g: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array, dbias?: Float32Array): void {
    checkSizes(g, { x, w: dw, y: dy });
    if (dbias && dbias.length < g.outChannels) throw new RangeError("dbias too small");
    const plan = this.plan(dbias ? "bwd_weights_bias" : "bwd_weights", g);
    this.run(plan, dbias ? [x, dw, dbias, dy] : [x, dw, dy]);
  }

  /** The implementation oneDNN picked, e.g. "brgconv:avx512_core". */
  implName(pass: Pass, g: ConvGeometry): string {
    return this.plan(pass, g).impl;
  }

  /** Buffers in the order plan() lists the arguments. */
  private run(plan: Plan, bufs: Float32Array[]): void {
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

  private md(dims: number[], tag: number, keep: unknown[]): Uint8Array {
    const md = new Uint8Array(MD_BYTES);
    const d = new BigInt64Array(12);
    dims.forEach((v, i) => d[i] = BigInt(v));
    check(this.s.dnnl_memory_desc_init_by_tag(ptrOf(md), dims.length, ptrOf(d), F32, tag), "memory_desc_init_by_tag");
    keep.push(md);
    return md;
  }

  private mdStrides(dims: number[], strides: number[], keep: unknown[]): Uint8Array {
    const md = new Uint8Array(MD_BYTES);
    const d = new BigInt64Array(12), st = new BigInt64Array(12);
    dims.forEach((v, i) => d[i] = BigInt(v));
    strides.forEach((v, i) => st[i] = BigInt(v));
    check(this.s.dnnl_memory_desc_init_by_strides(ptrOf(md), dims.length, ptrOf(d), F32, ptrOf(st)), "memory_desc_init_by_strides");
    keep.push(md, d, st);
    return md;
  }

  /** The layout a pass runs in for geometry g. */
  layoutFor(pass: Pass, g: ConvGeometry): Layout {
    if (pass.startsWith("dw")) return "weights-any"; // activations stay NHWC
    const l = this.layout;
    const p = pass === "fwd_bias" ? "fwd" : pass === "bwd_weights_bias" ? "bwd_weights" : pass as "fwd" | "bwd_data" | "bwd_weights";
    if (typeof l === "object") return l[p];
    if (l !== "auto") return l;
    if (p === "fwd") return "weights-any";
    const wide = p === "bwd_data" ? g.outChannels >= 512 : Math.max(g.inChannels, g.outChannels) >= 512;
    return wide ? "any" : "weights-any";
  }

  /** The conv op descriptor for one pass; user (plain) memory descs returned alongside. */
  private convDesc(pass: Pass, g: ConvGeometry, layout: Layout, keep: unknown[]) {
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
    const userWei = depthwise
      ? this.mdStrides(wei, [mult, 1, 1, g.filterWidth * g.outChannels, g.outChannels], keep)
      : this.md(wei, TAG_HWIO, keep);
    const user = { src: this.md(src, TAG_NHWC, keep), wei: userWei, dst: this.md(dst, TAG_NHWC, keep), bias: this.md([g.outChannels], TAG_A, keep) };
    const op = {
      src: any ? this.md(src, TAG_ANY, keep) : user.src,
      wei: wany ? this.md(wei, TAG_ANY, keep) : user.wei,
      dst: any ? this.md(dst, TAG_ANY, keep) : user.dst,
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

  private hintFor(g: ConvGeometry, layout: Layout, key: string): Ptr {
    let h = this.hints.get(key);
    if (!h) {
      const keep: unknown[] = [];
      h = this.pd(this.convDesc("fwd", g, layout, keep).cd, null);
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
    for (const plan of this.plans.values()) {
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
    for (const h of this.hints.values()) s.dnnl_primitive_desc_destroy(h);
    this.plans.clear();
    this.hints.clear();
  }

  private plan(pass: Pass, g: ConvGeometry): Plan {
    const gkey = JSON.stringify(g);
    const key = `${pass}|${gkey}`;
    const cached = this.plans.get(key);
    if (cached) return cached;
    if (this.plans.size >= 96) this.evictAll();
    const s = this.s;
    const keep: unknown[] = [];
    const layout = this.layoutFor(pass, g);
    const { cd, user } = this.convDesc(pass, g, layout, keep);
    const pd = this.pd(cd, pass.startsWith("bwd") ? this.hintFor(g, layout, `${layout}|${gkey}`) : null);
    const strOut = new BigUint64Array(1);
    check(s.dnnl_primitive_desc_query(pd, Q_IMPL_INFO_STR, 0, ptrOf(strOut)), "query impl");
    const impl = new Deno.UnsafePointerView(Deno.UnsafePointer.create(strOut[0])!).getCString();
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
        const inner = newMem(pmd, MEMORY_ALLOCATE);
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
    const plan: Plan = { prim, pd, impl, args, execArgs: execArgs(mainArgs), keep };
    this.plans.set(key, plan);
    return plan;
  }
}

/** dnnl_exec_arg_t[]: { int arg; 4 bytes padding; dnnl_memory_t memory; } = 16 bytes each. */
function execArgs(list: [number, Ptr][]): Uint8Array {
  const b = new Uint8Array(16 * list.length);
  const dv = new DataView(b.buffer);
  list.forEach(([arg, mem], i) => {
    dv.setInt32(16 * i, arg, true);
    dv.setBigUint64(16 * i + 8, BigInt(Deno.UnsafePointer.value(mem)), true);
  });
  return b;
}

function check(status: number, what: string): void {
  if (status !== 0) throw new Error(`oneDNN ${what}: ${STATUS[status] ?? status}`);
}

function checkSizes(g: ConvGeometry, b: { x: Float32Array; w: Float32Array; y: Float32Array }): void {
  if (b.x.length < g.batchSize * g.inHeight * g.inWidth * g.inChannels) throw new RangeError("x / dx too small");
  if (b.w.length < g.filterHeight * g.filterWidth * g.inChannels * g.outChannels) throw new RangeError("w / dw too small");
  if (b.y.length < g.batchSize * g.outHeight * g.outWidth * g.outChannels) throw new RangeError("y / dy too small");
}

/** Elementwise functions oneDNN vectorises (JIT, all threads) where wasm's are scalar loops. */
export const ELTWISE = { exp: 0xbf, tanh: 0x2f, logistic: 0xaf } as const;
export type EltwiseName = keyof typeof ELTWISE;
const FWD_INFERENCE = 96;

/** A primitive with one source and one destination memory, on user buffers set per call. */
interface SrcDstPlan {
  prim: Ptr;
  src: Ptr;
  dst: Ptr;
  execArgs: Uint8Array;
  keep: unknown[];
}

/**
 * Cached one-source one-destination primitives (elementwise functions, reorders) on the engine
 * and stream of a loaded OneDnnConvolutions. The cache is bounded: keys that keep changing (e.g.
 * scoring images of many sizes) start it over instead of growing it.
 */
abstract class SrcDstPrimitives {
  private plans = new Map<string, SrcDstPlan>();
  protected readonly s: Lib;
  protected readonly engine: Ptr;
  private readonly stream: Ptr;

  constructor(conv: OneDnnConvolutions, private readonly capacity: number) {
    ({ s: this.s, engine: this.engine, stream: this.stream } = conv.handles());
  }

  /** Runs the plan cached under `key` (built by `build` on a miss) from `src` into `dst`. */
  protected run(key: string, build: () => { prim: Ptr; srcMd: Uint8Array; dstMd: Uint8Array; keep: unknown[] }, src: Float32Array, dst: Float32Array): void {
    const plan = this.plans.get(key) ?? this.add(key, build());
    check(this.s.dnnl_memory_set_data_handle(plan.src, ptrOf(src)), "set_data_handle");
    check(this.s.dnnl_memory_set_data_handle(plan.dst, ptrOf(dst)), "set_data_handle");
    check(this.s.dnnl_primitive_execute(plan.prim, this.stream, 2, ptrOf(plan.execArgs)), "execute");
    check(this.s.dnnl_stream_wait(this.stream), "stream_wait");
  }

  /** A primitive from its descriptor (op or reorder primitive_desc already created). */
  protected primitiveOf(pd: Ptr): Ptr {
    const out = new BigUint64Array(1);
    check(this.s.dnnl_primitive_create(ptrOf(out), pd), "primitive_create");
    this.s.dnnl_primitive_desc_destroy(pd);
    return Deno.UnsafePointer.create(out[0]);
  }

  private add(key: string, built: { prim: Ptr; srcMd: Uint8Array; dstMd: Uint8Array; keep: unknown[] }): SrcDstPlan {
    const s = this.s;
    if (this.plans.size >= this.capacity) {
      for (const p of this.plans.values()) {
        s.dnnl_primitive_destroy(p.prim);
        s.dnnl_memory_destroy(p.src);
        s.dnnl_memory_destroy(p.dst);
      }
      this.plans.clear();
    }
    const out = new BigUint64Array(1);
    const mem = (md: Uint8Array) => {
      check(s.dnnl_memory_create(ptrOf(out), ptrOf(md), this.engine, null), "memory_create");
      return Deno.UnsafePointer.create(out[0]);
    };
    const src = mem(built.srcMd), dst = mem(built.dstMd);
    const plan = { prim: built.prim, src, dst, execArgs: execArgs([[ARG_SRC, src], [ARG_DST, dst]]), keep: [built.srcMd, built.dstMd, ...built.keep] };
    this.plans.set(key, plan);
    return plan;
  }
}

/**
 * y = f(x) elementwise on Float32Arrays of any length (one primitive cached per function and
 * length). Measured on [8,24,24,184]: exp 4.4 ms in tfjs-wasm (scalar expf); oneDNN ~0.3 ms.
 */
export class OneDnnEltwise extends SrcDstPrimitives {
  /** On the engine and stream of a loaded OneDnnConvolutions. */
  static on(conv: OneDnnConvolutions): OneDnnEltwise {
    return new OneDnnEltwise(conv, 64);
  }

  apply(fn: EltwiseName, x: Float32Array, y: Float32Array): void {
    if (y.length < x.length) throw new RangeError("eltwise: output too small");
    if (x.length === 0) return;
    this.run(`${fn}|${x.length}`, () => this.build(fn, x.length), x, y);
  }

  private build(fn: EltwiseName, n: number) {
    const s = this.s;
    const md = new Uint8Array(MD_BYTES), dims = new BigInt64Array(12);
    dims[0] = BigInt(n);
    check(s.dnnl_memory_desc_init_by_tag(ptrOf(md), 1, ptrOf(dims), F32, TAG_A), "memory_desc_init_by_tag");
    const desc = new Uint8Array(CONV_DESC_BYTES);
    check(s.dnnl_eltwise_forward_desc_init(ptrOf(desc), FWD_INFERENCE, ELTWISE[fn], ptrOf(md), 0, 0), "eltwise desc");
    const out = new BigUint64Array(1);
    check(s.dnnl_primitive_desc_create(ptrOf(out), ptrOf(desc), null, this.engine, null), "eltwise primitive_desc");
    return { prim: this.primitiveOf(Deno.UnsafePointer.create(out[0])), srcMd: md, dstMd: md, keep: [dims, desc] };
  }
}

/**
 * Column-block copies between a row-major [rows, cols] array and a dense [rows, width] one, as
 * oneDNN reorders from / to a sub-memory (JIT'd, all threads). SplitV and Concat on any axis are
 * such copies once the tensor is viewed as [product of the axes before, the rest]. Measured on the
 * flow's channel splits of [8,24,24,368]: ~1.9 ms as per-row JS copies.
 */
export class OneDnnBlockCopy extends SrcDstPrimitives {
  static on(conv: OneDnnConvolutions): OneDnnBlockCopy {
    return new OneDnnBlockCopy(conv, 256);
  }

  /**
   * "take": dense[r, :] = parent[r, col0 : col0 + width]; "put": the reverse. Both float32,
   * parent rows x cols, dense rows x width.
   */
  copy(dir: "take" | "put", rows: number, cols: number, col0: number, width: number, parent: Float32Array, dense: Float32Array): void {
    if (rows * width === 0) return;
    if (parent.length < rows * cols || dense.length < rows * width || col0 + width > cols) throw new RangeError("block copy: sizes");
    const build = () => this.build(dir, rows, cols, col0, width);
    const key = `${dir}|${rows}|${cols}|${col0}|${width}`;
    if (dir === "take") this.run(key, build, parent, dense);
    else this.run(key, build, dense, parent);
  }

  private build(dir: "take" | "put", rows: number, cols: number, col0: number, width: number) {
    const s = this.s;
    const dims = (a: number, b: number) => {
      const d = new BigInt64Array(12);
      d[0] = BigInt(a), d[1] = BigInt(b);
      return d;
    };
    const parentMd = new Uint8Array(MD_BYTES), subMd = new Uint8Array(MD_BYTES), denseMd = new Uint8Array(MD_BYTES);
    const pd = dims(rows, cols), sd = dims(rows, width), off = dims(0, col0);
    check(s.dnnl_memory_desc_init_by_tag(ptrOf(parentMd), 2, ptrOf(pd), F32, TAG_AB), "memory_desc_init_by_tag");
    check(s.dnnl_memory_desc_init_submemory(ptrOf(subMd), ptrOf(parentMd), ptrOf(sd), ptrOf(off)), "submemory");
    check(s.dnnl_memory_desc_init_by_tag(ptrOf(denseMd), 2, ptrOf(sd), F32, TAG_AB), "memory_desc_init_by_tag");
    // the sub-memory's object points at the parent's start; its descriptor holds the offset
    const [srcMd, dstMd] = dir === "take" ? [subMd, denseMd] : [denseMd, subMd];
    const out = new BigUint64Array(1);
    check(s.dnnl_reorder_primitive_desc_create(ptrOf(out), ptrOf(srcMd), this.engine, ptrOf(dstMd), this.engine, null), "reorder pd");
    return { prim: this.primitiveOf(Deno.UnsafePointer.create(out[0])), srcMd, dstMd, keep: [parentMd, pd, sd, off] };
  }
}
