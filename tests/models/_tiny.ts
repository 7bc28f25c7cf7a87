/**
 * Tiny, non-trivial models and the float64 numerics for the method tests (flow Jacobian and
 * inverse, numerical gradient checks). Everything runs on the cpu backend in float32; no fixtures.
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend/backend.ts";
import { setFusedOps } from "../../lib/ops/fused_switch.ts";
import { type FlowConfig, TeacherFlow } from "../../lib/models/teacher_flow.ts";
import { AsymmetricStudent, type StudentConfig } from "../../lib/models/student.ts";
import { positionalEncoding } from "../../lib/models/positional_encoding.ts";
import { mulberry32 } from "../../lib/util/random.ts";

/** Deno.test options: tfjs keeps backend state between tests. */
export const OPTS = { sanitizeOps: false, sanitizeResources: false } as const;

/**
 * The cpu backend, set up as the project does (gradients, edge padding, clip gradient and the
 * fused kernels' JS loops registered): initBackend preferring cpu.
 */
export async function cpuBackend(): Promise<void> {
  const info = await initBackend({ prefer: "cpu" });
  if (info.name !== "cpu" || tf.getBackend() !== "cpu") throw new Error(`cpu backend expected, got ${info.name}`);
}

/** Runs f with the fused ops on or off (off: the composed tfjs ops and their gradients). */
export function withFused<T>(on: boolean, f: () => T): T {
  const was = setFusedOps(on);
  try {
    return f();
  } finally {
    setFusedOps(was);
  }
}

/** Seeded N(0,1) numbers (mulberry32 + Box-Muller). */
export function gaussian(seed: number): (n: number) => Float32Array {
  const rng = mulberry32(seed);
  return (n) =>
    Float32Array.from({ length: n }, () => {
      const u = Math.max(rng(), 1e-12), v = rng();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    });
}

/** Seeded U(0,1) numbers. */
export function uniform(seed: number): (n: number) => Float32Array {
  const rng = mulberry32(seed);
  return (n) => Float32Array.from({ length: n }, () => rng());
}

export interface TinyFlowSpec extends Omit<FlowConfig, "posEncDim"> {
  posEncDim: number;
  height: number;
  width: number;
}

/**
 * A flow that is far from the identity. A fresh flow IS the identity (every subnet's gamma is 0),
 * so: gamma in [0.5, 1.5], every conv weight and bias plus N(0, 0.02^2) noise, and the scale
 * logits' biases (the first half of each conv2 bias) + `scaleBias`, so that the log-scales do not
 * average out over the map (the log-determinant is then large and positive, and a sign error or a
 * missing term moves it by a lot).
 */
export function tinyFlow(spec: TinyFlowSpec, seed: number, scaleBias = 0.3): { flow: TeacherFlow; pe: tf.Tensor3D | null } {
  const { height, width, ...cfg } = spec;
  const flow = TeacherFlow.create(cfg, seed);
  const noise = gaussian(seed * 7919 + 1), u = uniform(seed * 7919 + 2);
  for (const [name, v] of flow.params.trainable) {
    const vals = v.dataSync().slice() as Float32Array;
    if (name.endsWith(".gamma")) {
      vals[0] = 0.5 + u(1)[0];
    } else {
      const n = noise(vals.length);
      for (let i = 0; i < vals.length; i++) vals[i] += 0.02 * n[i];
      if (name.endsWith(".conv2.bias")) for (let i = 0; i < vals.length / 2; i++) vals[i] += scaleBias;
    }
    v.assign(tf.tensor(vals, v.shape));
  }
  return { flow, pe: cfg.posEncDim > 0 ? positionalEncoding(cfg.posEncDim, height, width) : null };
}

/**
 * A student with non-default BatchNorm parameters (weight in +-[0.1, 0.3], bias in +-[2, 3]) and
 * conv weights + N(0, 0.02^2) noise.
 */
export function tinyStudent(cfg: StudentConfig, seed: number): AsymmetricStudent {
  const student = AsymmetricStudent.create(cfg, seed);
  const noise = gaussian(seed * 7919 + 3), u = uniform(seed * 7919 + 4);
  for (const [name, v] of student.params.trainable) {
    const vals = v.dataSync().slice() as Float32Array;
    const r = u(vals.length), n = noise(vals.length);
    const sign = (i: number) => (n[i] < 0 ? -1 : 1);
    for (let i = 0; i < vals.length; i++) {
      if (/\.bn\d\.weight$/.test(name)) vals[i] = sign(i) * (0.1 + 0.2 * r[i]);
      else if (/\.bn\d\.bias$/.test(name)) vals[i] = sign(i) * (2 + r[i]);
      else vals[i] += 0.02 * n[i];
    }
    v.assign(tf.tensor(vals, v.shape));
  }
  return student;
}

/** log|det A| of a row-major n x n matrix, by LU with partial pivoting in float64. */
export function logAbsDet(a: ArrayLike<number>, n: number): number {
  const m = Float64Array.from(a);
  let s = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    if (p !== k) {
      for (let j = 0; j < n; j++) {
        const t = m[k * n + j];
        m[k * n + j] = m[p * n + j];
        m[p * n + j] = t;
      }
    }
    const d = m[k * n + k];
    if (d === 0) return -Infinity;
    s += Math.log(Math.abs(d));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k] / d;
      if (f !== 0) for (let j = k; j < n; j++) m[i * n + j] -= f * m[k * n + j];
    }
  }
  return s;
}

export function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
