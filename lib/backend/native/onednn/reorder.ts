/** oneDNN reorders as block copies (SplitV / Concat of the wasm backend: lib/backend/native/kernels.ts). */
import type { OneDnnConvolutions } from "./conv.ts";
import { check, F32, MD_BYTES, ptrOf, TAG_AB } from "./ffi.ts";
import { SrcDstPrimitives } from "./primitives.ts";

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
