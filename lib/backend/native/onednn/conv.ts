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
 * FFI details (more in ffi.ts): OMP_NUM_THREADS must be in the environment before the library
 * (and its libgomp) loads; oneDNN's dilation is (d - 1); padding_r makes
 * (H - effK + pl + pr) / s + 1 == Ho.
 */
import type { ConvGeometry } from "../im2col_conv.ts";
import type { ConvolutionLibrary } from "../convolution_library.ts";
import { type NativeEnv, openMpThreadsSetting, prepareOpenMp } from "../openmp.ts";
import {
  ALG_AUTO, ALG_DIRECT, ARG_BIAS, ARG_DIFF_BIAS, ARG_DIFF_DST, ARG_DIFF_SRC, ARG_DIFF_WEIGHTS, ARG_DST, ARG_SRC, ARG_WEIGHTS,
  check, CONV_DESC_BYTES, ENGINE_CPU, execArgs, F32, FWD_TRAINING, type Lib, MD_BYTES, memoryAllocate, type OmpLib, openOneDnn,
  type Ptr, ptrOf, Q_DIFF_DST_MD, Q_DIFF_SRC_MD, Q_DIFF_WEIGHTS_MD, Q_DST_MD, Q_IMPL_INFO_STR, Q_SRC_MD, Q_WEIGHTS_MD,
  STREAM_DEFAULT, TAG_A, TAG_ANY, TAG_HWIO, TAG_NHWC,
} from "./ffi.ts";

export type Layout = "plain" | "weights-any" | "any";
export type LayoutChoice = Layout | "auto" | { fwd: Layout; bwd_data: Layout; bwd_weights: Layout };
export type Pass = "fwd" | "bwd_data" | "bwd_weights" | "bwd_weights_bias" | "fwd_bias" | "dw_fwd" | "dw_fwd_bias";

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
  /** the user's OpenMP settings (BackendOptions.nativeEnv): kept, the missing ones set before loading */
  nativeEnv?: NativeEnv;
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
  private readonly nativeEnv: NativeEnv;
  private static libs: { s: Lib; omp: OmpLib | null } | null = null;

  private constructor(private s: Lib, private omp: OmpLib | null, opts: LoadOptions) {
    this.nativeEnv = opts.nativeEnv ?? {};
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
    const plan: Plan = { prim, pd, impl, args, execArgs: execArgs(mainArgs), keep };
    this.plans.set(key, plan);
    return plan;
  }
}

function checkSizes(g: ConvGeometry, b: { x: Float32Array; w: Float32Array; y: Float32Array }): void {
  if (b.x.length < g.batchSize * g.inHeight * g.inWidth * g.inChannels) throw new RangeError("x / dx too small");
  if (b.w.length < g.filterHeight * g.filterWidth * g.inChannels * g.outChannels) throw new RangeError("w / dw too small");
  if (b.y.length < g.batchSize * g.outHeight * g.outWidth * g.outChannels) throw new RangeError("y / dy too small");
}
