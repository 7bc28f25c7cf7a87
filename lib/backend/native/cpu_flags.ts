/**
 * The CPU's feature flags (the `flags` line of /proc/cpuinfo), for OpenBLAS' core type and the
 * fused library's cache name, and its model name (the bench records both with every timing).
 * Deno lets only --allow-all read /proc (measured: Deno 2.9 refuses
 * /proc/cpuinfo even with --allow-read=/proc/cpuinfo), and the tasks do not run with -A; the
 * native loaders have --allow-ffi anyway, so without that read the file is read through libc.
 * Empty when neither works (no /proc: not Linux).
 */

let cached: Set<string> | null = null;
let cachedInfo: string | null = null;

function viaLibc(path: string): string {
  const libc = Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
    close: { parameters: ["i32"], result: "i32" },
  });
  try {
    const fd = libc.symbols.open(new TextEncoder().encode(`${path}\0`), 0 /* O_RDONLY */);
    if (fd < 0) return "";
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(1 << 16);
    for (let n; (n = Number(libc.symbols.read(fd, buf, BigInt(buf.length)))) > 0;) chunks.push(buf.slice(0, n));
    libc.symbols.close(fd);
    const all = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
    chunks.reduce((o, c) => (all.set(c, o), o + c.length), 0);
    return new TextDecoder().decode(all);
  } finally {
    libc.close();
  }
}

function cpuinfo(): string {
  cachedInfo ??= readCpuinfo();
  return cachedInfo;
}

function readCpuinfo(): string {
  try {
    return Deno.readTextFileSync("/proc/cpuinfo");
  } catch (err) {
    if (!(err instanceof Deno.errors.NotCapable)) return "";
  }
  try {
    return viaLibc("/proc/cpuinfo");
  } catch {
    return ""; // no libc.so.6 (or no --allow-ffi: the loaders then stop on their own dlopen)
  }
}

/** The flags of the first CPU (e.g. "avx2", "fma", "avx512f"); empty when unknown. */
export function cpuFlags(): Set<string> {
  if (!cached) {
    const line = cpuinfo().split("\n").find((l) => l.startsWith("flags"));
    cached = new Set(line ? line.split(":")[1].trim().split(/\s+/) : []);
  }
  return cached;
}

/** The first CPU's "model name" (e.g. "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"); null when unknown. */
export function cpuModelName(): string | null {
  const line = cpuinfo().split("\n").find((l) => l.startsWith("model name"));
  return line ? line.split(":").slice(1).join(":").trim() || null : null;
}

/** The instruction-set flags that decide the kernels' speed, in this order when present. */
export const SPEED_ISA_FLAGS = [
  "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16",
  "amx_tile", "amx_bf16", "amx_int8", "asimd", "sve",
] as const;

/** Which of SPEED_ISA_FLAGS this CPU has. */
export function speedIsaFlags(flags: Set<string> = cpuFlags()): string[] {
  return SPEED_ISA_FLAGS.filter((f) => flags.has(f));
}
