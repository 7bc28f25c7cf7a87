/**
 * oneDNN 2.6's C API as Deno FFI sees it (Debian libdnnl2): the symbol table, the enum values
 * used here, and the small helpers every primitive needs (pointers, status checks, argument
 * lists). The primitives: conv.ts (convolutions; it loads the library), eltwise.ts (elementwise
 * functions), reorder.ts (block copies), on the shared base primitives.ts.
 *
 * FFI details: dnnl_memory_desc_t is 696 bytes and dnnl_convolution_desc_t 5976 bytes in 2.6
 * (the buffers below are larger); dnnl_exec_arg_t is {int arg; 4 bytes padding; void *memory} =
 * 16 bytes.
 */

import { isPermissionRefusal, PermissionNeeded } from "../../../util/permission.ts";

const LIB_CANDIDATES = ["libdnnl.so.2", "/usr/lib/x86_64-linux-gnu/libdnnl.so.2"];

const P = "pointer" as const;
const SYMBOLS = {
  dnnl_version: { parameters: [], result: P },
  dnnl_set_verbose: { parameters: ["i32"], result: "i32" },
  dnnl_get_effective_cpu_isa: { parameters: [], result: "i32" },
  dnnl_cpu_isa2str: { parameters: ["i32"], result: P },
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

export type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
export type OmpLib = Deno.DynamicLibrary<typeof OMP_SYMBOLS>["symbols"];
export type Ptr = Deno.PointerValue;

// enum values of oneDNN 2.6 (checked with a C program against dnnl_types.h; BF16 and the ISA
// value against libdnnl-dev 2.6.3's dnnl_types.h: dnnl_bf16 = 2, dnnl_cpu_isa_avx512_core_bf16 = 0xe7)
export const BF16 = 2, F32 = 3, TAG_ANY = 1, TAG_A = 2, TAG_AB = 3, TAG_NHWC = 20, TAG_HWIO = 30;
export const ENGINE_CPU = 1, STREAM_DEFAULT = 1;
export const FWD_TRAINING = 64, FWD_INFERENCE = 96;
export const ALG_DIRECT = 1, ALG_AUTO = 3;
export const ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33, ARG_BIAS = 41;
export const ARG_DIFF_SRC = 129, ARG_DIFF_DST = 145, ARG_DIFF_WEIGHTS = 161, ARG_DIFF_BIAS = 169;
export const Q_IMPL_INFO_STR = 8;
/** dnnl_cpu_isa_avx512_core_bf16: the bits every ISA with bf16 instructions has (avx512_core_amx = 0x3e7 too) */
export const CPU_ISA_AVX512_CORE_BF16 = 0xe7;
export const Q_SRC_MD = 129, Q_DIFF_SRC_MD = 130, Q_WEIGHTS_MD = 131, Q_DIFF_WEIGHTS_MD = 132, Q_DST_MD = 133, Q_DIFF_DST_MD = 134;
/** DNNL_MEMORY_ALLOCATE = (void *)-1; a function: creating a pointer needs --allow-ffi, which importing must not. */
export const memoryAllocate = (): Ptr => Deno.UnsafePointer.create(0xffffffffffffffffn);

export const MD_BYTES = 1024; // sizeof(dnnl_memory_desc_t) = 696
export const CONV_DESC_BYTES = 8192; // sizeof(dnnl_convolution_desc_t) = 5976

const STATUS = ["success", "out_of_memory", "invalid_arguments", "unimplemented", "iterator_ends", "runtime_error", "not_required"];

export const ptrOf = (b: ArrayBufferView | ArrayBuffer): Ptr => Deno.UnsafePointer.of(b as ArrayBuffer);

/** dnnl_exec_arg_t[]: { int arg; 4 bytes padding; dnnl_memory_t memory; } = 16 bytes each. */
export function execArgs(list: [number, Ptr][]): Uint8Array {
  const b = new Uint8Array(16 * list.length);
  const dv = new DataView(b.buffer);
  list.forEach(([arg, mem], i) => {
    dv.setInt32(16 * i, arg, true);
    dv.setBigUint64(16 * i + 8, BigInt(Deno.UnsafePointer.value(mem)), true);
  });
  return b;
}

export function check(status: number, what: string): void {
  if (status !== 0) throw new Error(`oneDNN ${what}: ${STATUS[status] ?? status}`);
}

/** The library and libgomp (the same instance libdnnl uses; null when not loadable). */
export function openOneDnn(): { s: Lib; omp: OmpLib | null } {
  let s: Lib | null = null;
  const errors: string[] = [];
  for (const path of LIB_CANDIDATES) {
    try {
      s = Deno.dlopen(path, SYMBOLS).symbols;
      break;
    } catch (e) {
      if (isPermissionRefusal(e)) throw new PermissionNeeded("--allow-ffi", "to load the native libraries (oneDNN, OpenBLAS, the fused kernels)");
      errors.push(String((e as Error).message).split("\n")[0]);
    }
  }
  if (!s) throw new Error(`oneDNN not loadable: ${errors.join("; ")} (apt-get install libdnnl2)`);
  let omp = null;
  try {
    omp = Deno.dlopen("libgomp.so.1", OMP_SYMBOLS).symbols; // the same instance libdnnl uses
  } catch { /* threads stay at OMP_NUM_THREADS / core count */ }
  return { s, omp };
}
