/**
 * bf16 convolutions through oneDNN (lib/backend/native/onednn/conv.ts, precision "bf16") against
 * the fp32 ones, on the student's, teacher's and flow's shapes, the three passes, a 1x1, a strided
 * stem and depthwise convolutions. Skipped with a message where oneDNN is not loadable or the
 * CPU / library has no bf16 kernels (bf16Support()); the fallback to fp32 is tested everywhere
 * oneDNN loads (oneDNN capped below bf16 with DNNL_MAX_CPU_ISA, in a subprocess).
 *
 * Tolerances (inputs uniform in [-1, 1), outputs fp32):
 * - bf16 vs fp32 on the same fp32 inputs: relative L2 in [1e-4, 1e-2]. bf16 keeps 8 significant
 *   bits: rounding to nearest even gives each input a relative error of at most 2^-8 = 3.9e-3,
 *   RMS 2^-7 / sqrt(12) / sqrt(2) = 1.6e-3 for mantissas uniform in [1, 2); a product x*w carries
 *   sqrt(2) of that, and a sum of K products with independent signs has the relative error of
 *   its terms whatever K (K = 9 to 9216 here; fp32 accumulation adds ~1e-7): ~2.2e-3 expected,
 *   measured 2.0e-3 to 2.1e-3 (1.8e-3 with a bias added, which is exact). The upper bound leaves
 *   ~5x; the lower bound proves the bf16 kernel ran (an fp32 fallback gives ~1e-7).
 * - bf16 vs fp32 on the inputs rounded to bf16 first: relative L2 <= 1e-5, i.e. the kernel is
 *   exactly "bf16 inputs, fp32 accumulation" (only the summation order differs; measured 0 to
 *   9e-7).
 * - fp32 with bf16 plans in the same cache (at("fp32"), setPrecision back): byte-identical to a
 *   fresh default instance (and, checked once when bf16 was added, to the code before it).
 */
import { type Bf16Support, isBf16Kernel, OneDnnConvolutions, type Pass, type Precision } from "../../lib/backend/native/onednn/conv.ts";
import type { ConvGeometry } from "../../lib/backend/native/im2col_conv.ts";
import { cpuFlags } from "../../lib/backend/native/cpu_flags.ts";
import { mulberry32 } from "../../lib/util/random.ts";
import { assert, assertEquals } from "../assert.ts";
import { relL2, toBf16 } from "./_bf16.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Upper bound of bf16's relative L2 error vs fp32 (expected ~1.6e-3, see the header). */
const BF16_REL_L2_MAX = 1e-2;
/** Lower bound: below it the bf16 kernel did not run. */
const BF16_REL_L2_MIN = 1e-4;
/** bf16 kernel vs fp32 on bf16-rounded inputs: only the summation order differs. */
const ROUNDED_REL_L2_MAX = 1e-5;

let loaded: { lib: OneDnnConvolutions | null; skip: string | null; support?: Bf16Support } | null = null;
/** The library (null + a reason to skip when oneDNN does not load or has no bf16 kernels here). */
function library(): { lib: OneDnnConvolutions | null; skip: string | null; support?: Bf16Support } {
  if (!loaded) {
    try {
      const lib = OneDnnConvolutions.load();
      const support = lib.bf16Support();
      loaded = { lib, support, skip: support.supported ? null : `no bf16 convolutions here: ${support.reason}` };
    } catch (err) {
      loaded = { lib: null, skip: `oneDNN not loadable (${(err as Error).message})` };
    }
  }
  return loaded;
}

function rand(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
}

/** tfjs' Conv2DInfo for NHWC input [b, h, w, cin], a k x k filter to cout ('same' padding, stride s). */
function geometry(b: number, h: number, cin: number, cout: number, k: number, s = 1, depthwise = false): ConvGeometry {
  const ho = Math.ceil(h / s);
  const pad = Math.max(0, (ho - 1) * s + k - h);
  return {
    batchSize: b, inHeight: h, inWidth: h, inChannels: cin, outHeight: ho, outWidth: ho, outChannels: depthwise ? cin * cout : cout,
    filterHeight: k, filterWidth: k, strideHeight: s, strideWidth: s, dilationHeight: 1, dilationWidth: 1,
    padInfo: { top: pad >> 1, left: pad >> 1, bottom: pad - (pad >> 1), right: pad - (pad >> 1) },
  };
}

interface Case {
  name: string;
  g: ConvGeometry;
  depthwise?: boolean;
  /** an edge geometry: where oneDNN refuses bf16 for it on some host, fp32 (byte-identical) passes too */
  edge?: boolean;
}

const CASES: Case[] = [
  { name: "student input 368->1024 3x3, batch 2, 24x24", g: geometry(2, 24, 368, 1024, 3) },
  { name: "student hidden 1024->1024 3x3, batch 1, 24x24", g: geometry(1, 24, 1024, 1024, 3) },
  { name: "flow / teacher 64->64 5x5, batch 2, 24x24", g: geometry(2, 24, 64, 64, 5) },
  { name: "1x1 1024->368, batch 2, 24x24", g: geometry(2, 24, 1024, 368, 1) },
  { name: "stem 3->48 3x3 stride 2, batch 1, 64x64", g: geometry(1, 64, 3, 48, 3, 2), edge: true },
];

const DEPTHWISE: Case[] = [
  { name: "depthwise 32 channels 3x3, batch 2, 48x48", g: geometry(2, 48, 32, 1, 3, 1, true), depthwise: true },
  { name: "depthwise 96 channels 5x5 stride 2, batch 1, 48x48", g: geometry(1, 48, 96, 1, 5, 2, true), depthwise: true },
  { name: "depthwise 8 channels 3x3 multiplier 2, batch 2, 16x16", g: geometry(2, 16, 8, 2, 3, 1, true), depthwise: true, edge: true },
];

type Outputs = Partial<Record<Pass, Float32Array>>;

/** Every pass of case c at precision p on inputs x, w, dy (and bias): the outputs, fresh arrays. */
function runPasses(lib: OneDnnConvolutions, p: Precision, c: Case, ins: { x: Float32Array; w: Float32Array; dy: Float32Array; bias: Float32Array }): Outputs {
  const g = c.g, L = lib.at(p);
  const ySize = g.batchSize * g.outHeight * g.outWidth * g.outChannels;
  if (c.depthwise) {
    const y = new Float32Array(ySize), yb = new Float32Array(ySize);
    L.depthwiseForward!(g, ins.x, ins.w, y);
    L.depthwiseForward!(g, ins.x, ins.w, yb, ins.bias);
    return { dw_fwd: y, dw_fwd_bias: yb };
  }
  const y = new Float32Array(ySize), yb = new Float32Array(ySize);
  const dx = new Float32Array(ins.x.length), dw = new Float32Array(ins.w.length);
  const dwb = new Float32Array(ins.w.length + g.outChannels); // filter gradient, then bias gradient
  L.forward(g, ins.x, ins.w, y);
  L.forwardBias!(g, ins.x, ins.w, ins.bias, yb);
  L.backwardData(g, ins.dy, ins.w, dx);
  L.backwardWeights(g, ins.x, ins.dy, dw);
  L.backwardWeights(g, ins.x, ins.dy, dwb.subarray(0, ins.w.length), dwb.subarray(ins.w.length));
  return { fwd: y, fwd_bias: yb, bwd_data: dx, bwd_weights: dw, bwd_weights_bias: dwb };
}

function inputs(c: Case, seed: number) {
  const g = c.g;
  const wSize = g.filterHeight * g.filterWidth * (c.depthwise ? g.outChannels : g.inChannels * g.outChannels);
  return {
    x: rand(g.batchSize * g.inHeight * g.inWidth * g.inChannels, seed),
    w: rand(wSize, seed + 1),
    dy: rand(g.batchSize * g.outHeight * g.outWidth * g.outChannels, seed + 2),
    bias: rand(g.outChannels, seed + 3),
  };
}

Deno.test("isBf16Kernel: bf16 / AMX kernels yes; reference, gemm, emulated and fp32 kernels no", () => {
  for (const impl of ["brgconv:avx512_core_bf16", "jit_bf16:avx512_core_bf16", "brgconv_1x1:avx512_core_amx_bf16", "brdgmm_dw:avx512_core_bf16", "jit:avx512_core_amx_bf16"]) {
    assert(isBf16Kernel(impl), impl);
  }
  for (const impl of ["ref:any", "gemm:jit", "jit_bf16:avx512_core", "brgconv:avx512_core", "jit:avx2", "jit_dw:avx512_core"]) assert(!isBf16Kernel(impl), impl);
});

for (const group of [CASES, DEPTHWISE]) {
  for (const c of group) {
    Deno.test({
      name: `oneDNN bf16 vs fp32: ${c.name}: relative L2 in [${BF16_REL_L2_MIN}, ${BF16_REL_L2_MAX}], exact on bf16-rounded inputs, bf16 kernels`,
      ...opts,
      fn: () => {
        const { lib, skip } = library();
        if (!lib || skip) return console.warn(`SKIP: ${skip}`);
        const ins = inputs(c, 17);
        const fp32 = runPasses(lib, "fp32", c, ins);
        const bf16 = runPasses(lib, "bf16", c, ins);
        const rounded = runPasses(lib, "fp32", c, { x: toBf16(ins.x), w: toBf16(ins.w), dy: toBf16(ins.dy), bias: ins.bias });
        const report: string[] = [];
        for (const pass of Object.keys(fp32) as Pass[]) {
          const impl = lib.implName(pass, c.g, "bf16");
          if (c.edge && lib.precisionFor(pass, c.g, "bf16") === "fp32") {
            assertEquals(bf16[pass], fp32[pass], `${c.name} ${pass}: refused bf16 must run fp32`);
            console.warn(`  ${c.name} ${pass}: bf16 refused here, fp32 (${lib.refusals().join("; ")})`);
            continue;
          }
          assertEquals(lib.precisionFor(pass, c.g, "bf16"), "bf16", `${c.name} ${pass}: ran in fp32 (${lib.refusals().join("; ")})`);
          assert(isBf16Kernel(impl), `${c.name} ${pass}: ${impl} is not a bf16 kernel`);
          const err = relL2(bf16[pass]!, fp32[pass]!), exact = relL2(bf16[pass]!, rounded[pass]!);
          assert(err <= BF16_REL_L2_MAX && err >= BF16_REL_L2_MIN, `${c.name} ${pass}: relative L2 ${err.toExponential(2)} vs fp32`);
          assert(exact <= ROUNDED_REL_L2_MAX, `${c.name} ${pass}: relative L2 ${exact.toExponential(2)} vs fp32 on bf16-rounded inputs`);
          report.push(`${pass} ${err.toExponential(1)} (${exact.toExponential(0)}) ${impl}`);
        }
        console.log(`  ${c.name}: ${report.join(", ")}`);
      },
    });
  }
}

Deno.test({ name: "oneDNN fp32 unchanged by bf16: at('fp32') and setPrecision('fp32') after bf16 plans are byte-identical to a default instance", ...opts, fn: () => {
  const { lib: probe, skip } = library();
  if (!probe) return console.warn(`SKIP: ${skip}`);
  const plain = OneDnnConvolutions.load(); // never sees bf16
  const mixed = OneDnnConvolutions.load({ precision: "bf16" });
  assertEquals(plain.precision, "fp32");
  assertEquals(mixed.precision, "bf16");
  for (const c of [CASES[0], CASES[2], CASES[3], DEPTHWISE[1]]) {
    const ins = inputs(c, 5);
    runPasses(mixed, "bf16", c, ins); // bf16 plans (or their fp32 fallbacks) cached first
    const want = runPasses(plain, "fp32", c, ins);
    const viaAt = runPasses(mixed, "fp32", c, ins);
    mixed.setPrecision("fp32");
    const viaSet = runPasses(mixed, mixed.precision, c, ins);
    mixed.setPrecision("bf16");
    for (const pass of Object.keys(want) as Pass[]) {
      const bytes = (a: Float32Array) => new Uint8Array(a.buffer);
      assert(bytes(viaAt[pass]!).every((b, i) => b === bytes(want[pass]!)[i]), `${c.name} ${pass}: at("fp32") differs`);
      assert(bytes(viaSet[pass]!).every((b, i) => b === bytes(want[pass]!)[i]), `${c.name} ${pass}: setPrecision("fp32") differs`);
    }
  }
  assertEquals(plain.implReport().impls.bf16, undefined);
  assert(!/bf16/.test(plain.implReport().summary), plain.implReport().summary);
  if (!skip) assert(/^fp32 via .*; bf16 via .*bf16/.test(mixed.implReport().summary), mixed.implReport().summary);
} });

Deno.test({ name: "oneDNN bf16 where the library has no bf16 kernel (DNNL_MAX_CPU_ISA below bf16): bf16Support says why, convolutions run fp32 unchanged, refusals list them (subprocess)", ...opts, fn: async () => {
  const { lib, skip } = library();
  if (!lib) return console.warn(`SKIP: ${skip}`);
  const avx512 = ["avx512f", "avx512bw", "avx512vl", "avx512dq"].every((f) => cpuFlags().has(f));
  const cap = avx512 ? "AVX512_CORE" : "AVX2"; // AVX512_CORE: oneDNN offers its bf16 emulation, which must be refused too
  const code = `
    import { OneDnnConvolutions } from "./lib/backend/native/onednn/conv.ts";
    import { sameGeometry } from "./lib/backend/native/im2col_conv.ts";
    const lib = OneDnnConvolutions.load({ threads: 1, precision: "bf16" });
    const g = sameGeometry(2, 10, 32, 48, 3);
    const r = (n, s) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + s));
    const x = r(2 * 100 * 32, 1), w = r(9 * 32 * 48, 2), dy = r(2 * 100 * 48, 3);
    const same = [];
    for (const p of ["fwd", "bwd_data", "bwd_weights"]) {
      const a = new Float32Array(p === "fwd" ? dy.length : p === "bwd_data" ? x.length : w.length), b = new Float32Array(a.length);
      for (const [L, out] of [[lib, a], [lib.at("fp32"), b]]) {
        if (p === "fwd") L.forward(g, x, w, out); else if (p === "bwd_data") L.backwardData(g, dy, w, out); else L.backwardWeights(g, x, dy, out);
      }
      same.push(a.every((v, i) => Object.is(v, b[i])));
    }
    console.log(JSON.stringify({ support: lib.bf16Support(), same, refused: lib.refusals(), precision: lib.precisionFor("fwd", g), summary: lib.implReport().summary }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", code],
    cwd: new URL("../..", import.meta.url),
    env: { DNNL_MAX_CPU_ISA: cap, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert(out.success, `subprocess failed: ${new TextDecoder().decode(out.stderr)}`);
  const r = JSON.parse(text.trim().split("\n").pop()!);
  assertEquals(r.support.supported, false, text);
  assert(/effective ISA|neither avx512_bf16|no bf16 kernel/.test(r.support.reason), r.support.reason);
  assertEquals(r.same, [true, true, true]);
  assertEquals(r.precision, "fp32");
  assertEquals(r.refused.length, 3, text);
  for (const why of r.refused) assert(/not a bf16 kernel|no bf16 convolution/.test(why), why);
  assert(/bf16 plan\(s\) in fp32/.test(r.summary) && !/bf16 via/.test(r.summary), r.summary);
} });

Deno.test({ name: "oneDNN bf16Support: supported with a bf16 kernel named, or a reason", ...opts, fn: () => {
  const { lib, support, skip } = library();
  if (!lib || !support) return console.warn(`SKIP: ${skip}`);
  const flags = cpuFlags();
  if (!flags.has("avx512_bf16") && !flags.has("amx_bf16")) {
    assertEquals(support.supported, false);
    return console.warn(`SKIP: the CPU lacks bf16 (${support.reason})`);
  }
  assert(support.reason.length > 0);
  if (support.supported) {
    assert(isBf16Kernel(support.isa), support.isa);
    for (const impl of Object.values(support.impls)) assert(isBf16Kernel(impl!), impl);
    console.log(`  bf16: ${support.reason} (oneDNN ISA ${support.cpuIsa})`);
  } else console.warn(`SKIP: bf16 kernels unavailable: ${support.reason}`);
  // the probe's plans are not in the cache: a run's report lists only its own convolutions
  const fresh = OneDnnConvolutions.load();
  fresh.bf16Support();
  assertEquals(fresh.implReport().summary, "fp32 (no convolution yet)");
} });
