/**
 * The base of oneDNN's one-source one-destination primitives (elementwise functions, reorders):
 * a bounded cache of plans on the engine and stream of a loaded OneDnnConvolutions.
 */
import type { OneDnnConvolutions } from "./conv.ts";
import { ARG_DST, ARG_SRC, check, execArgs, type Lib, type Ptr, ptrOf } from "./ffi.ts";

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
export abstract class SrcDstPrimitives {
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
