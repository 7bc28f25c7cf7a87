/**
 * Numerical gradient checks of the two training losses on tiny non-trivial models (cpu backend,
 * float32, fused kernels on and off): the teacher's NLL (flowNllPerPixel) and the asymmetric
 * student's distance to a target (studentDistancePerPixel, BatchNorm in training mode), both with
 * a soft mask, w.r.t. every trainable tensor and the input. These catch a wrong custom gradient
 * (coupling half, channel permutation, permute-split, join + clip, edge padding, clip, BatchNorm,
 * BatchNorm + LeakyReLU), which a fused-vs-composed comparison cannot when both sides share it.
 *
 * Method: for a direction v (unit norm), phi(t) = L(theta + t v) must have phi'(0) = g . v, where g
 * is tf.variableGrads / tf.grad's gradient. Two directions per tensor: v = g / |g| (phi'(0) = |g|;
 * an error e in g changes the claim by (|e|^2 + e.g) / |g + e|) and v = g * u / |g * u| with u
 * ~ U(0,1) per entry (first order in any e that is not proportional to g). phi'(0) is estimated
 * from phi at 0, +-h, +-2h: central (phi(h) - phi(-h)) / 2h, and the one-sided second-order
 * differences (-3 phi(0) + 4 phi(h) - phi(2h)) / 2h and its mirror.
 *
 * Kinks: ReLU / LeakyReLU make L piecewise smooth, and along a direction that moves every
 * pre-activation of a tiny map kinks within 2e-3 of 0 are common. A kink on one side spoils the
 * central and that side's estimate but not the other side's; kinks on both sides need a smaller
 * step. So the check passes when ANY of the three estimates matches; when none does, it fails if
 * they agree with each other (no kink: a reliable estimate) and otherwise retries with a smaller
 * step (1e-3, then 3e-4, then 1e-4: the noise allowance grows as the step shrinks, so a smaller
 * step is only taken where a kink makes the larger one unusable). The student's BatchNorm +
 * LeakyReLU layers are kink-free by construction (tinyStudent: |w| <= 0.3 and |b| >= 2, while
 * |xhat| <= sqrt(n - 1) = 4.8 for n = 24 values per channel).
 *
 * Tolerance: 1% of |g . v| plus the float32 noise of the estimates: L carries rounding noise of
 * about one ulp, 1e-7 |L|, and the one-sided stencil amplifies it by (3 + 4 + 1) / 2h = 4 / h.
 * Measured over 8 seeds x fused on/off: at h = 1e-3 the best estimate is within 0.15 of that
 * tolerance, except for one flow with kinks on both sides (there within 0.05 at h = 3e-4).
 */
import * as tf from "@tensorflow/tfjs-core";
import { assert } from "../assert.ts";
import { flowNllPerPixel, meanLoss, studentDistancePerPixel } from "../../lib/models/losses.ts";
import { positionalEncoding } from "../../lib/models/positional_encoding.ts";
import type { ParameterStore } from "../../lib/models/parameters.ts";
import { cpuBackend, gaussian, OPTS, tinyFlow, tinyStudent, uniform, withFused } from "./_tiny.ts";

/** Step sizes along a unit direction, tried in turn (module comment). */
const STEPS = [1e-3, 3e-4, 1e-4];
const RTOL = 1e-2;
/** Rounding noise of a float32 loss value, relative (about one ulp; measured errors stay below 0.2 of the tolerance). */
const LOSS_NOISE = 1e-7;

interface Failure {
  what: string;
  claimed: number;
  tried: { h: number; estimates: number[]; tol: number }[];
}

/**
 * phi'(0) = `claimed`? From phi at 0, +-h, +-2h: the central and both one-sided second-order
 * differences. Null (pass) as soon as one of them is within tolerance; a failure when they agree
 * with each other (L smooth there: the estimate is reliable); a smaller step when they do not (a
 * kink within 2h).
 */
function directional(what: string, phi: (t: number) => number, claimed: number): Failure | null {
  const p0 = phi(0);
  const tried: Failure["tried"] = [];
  for (const h of STEPS) {
    const [m2, m1, p1, p2] = [-2, -1, 1, 2].map((k) => phi(k * h));
    const estimates = [(p1 - m1) / (2 * h), (-3 * p0 + 4 * p1 - p2) / (2 * h), (3 * p0 - 4 * m1 + m2) / (2 * h)];
    // the one-sided stencil sums |3| + |4| + |1| noisy values over 2h
    const tol = RTOL * Math.abs(claimed) + 4 * LOSS_NOISE * Math.max(1, Math.abs(p0)) / h;
    if (estimates.some((e) => Math.abs(e - claimed) <= tol)) return null;
    tried.push({ h, estimates, tol });
    if (Math.max(...estimates) - Math.min(...estimates) <= tol) break;
  }
  return { what, claimed, tried };
}

function unit(a: Float32Array): Float32Array {
  let n = 0;
  for (const v of a) n += v * v;
  n = Math.sqrt(n);
  return n > 0 ? a.map((v) => v / n) : a;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Checks every trainable tensor of `params` and the input x of `loss` along the two directions
 * (module comment). Returns the failures and the number of directions checked.
 */
function gradientCheck(
  params: ParameterStore, loss: (x: tf.Tensor4D) => tf.Scalar, x: tf.Tensor4D, seed: number,
): { failures: Failure[]; checked: number; largest: number } {
  const u = uniform(seed);
  const names = [...params.trainable.keys()];
  const vars = names.map((n) => params.trainable.get(n)!);
  const { value, grads } = tf.variableGrads(() => loss(x), vars);
  const gx = tf.grad((xs: tf.Tensor) => loss(xs as tf.Tensor4D))(x);
  const L = (xs: tf.Tensor4D) => tf.tidy(() => loss(xs).dataSync()[0]);
  const failures: Failure[] = [];
  let checked = 0, largest = 0;
  const probe = (what: string, g: Float32Array, phiAlong: (v: Float32Array) => (t: number) => number) => {
    largest = Math.max(largest, Math.sqrt(dot(g, g)));
    const r = u(g.length);
    for (const [label, v] of [["along g", unit(g)], ["along g*u", unit(g.map((a, i) => a * r[i]))]] as const) {
      const f = directional(`${what} ${label}`, phiAlong(v), dot(g, v));
      checked++;
      if (f) failures.push(f);
    }
  };
  for (const [k, name] of names.entries()) {
    const variable = vars[k];
    const g = grads[variable.name].dataSync() as Float32Array;
    const original = variable.dataSync().slice() as Float32Array;
    probe(name, g, (v) => (t) => {
      variable.assign(tf.tensor(original.map((a, i) => a + t * v[i]), variable.shape));
      const l = L(x);
      variable.assign(tf.tensor(original, variable.shape));
      return l;
    });
  }
  const xv = x.dataSync() as Float32Array;
  probe("input x", gx.dataSync() as Float32Array, (v) => (t) => L(tf.tensor4d(xv.map((a, i) => a + t * v[i]), x.shape)));
  tf.dispose([value, gx, ...Object.values(grads)]);
  return { failures, checked, largest };
}

function report(what: string, r: { failures: Failure[]; checked: number; largest: number }, expected: number): void {
  assert(r.checked === expected, `${what}: ${r.checked} directions checked, expected ${expected}`);
  assert(r.largest > 0.1, `${what}: gradients too small to test (largest tensor gradient norm ${r.largest})`);
  const lines = r.failures.map((f) =>
    `  ${f.what}: autodiff ${f.claimed.toPrecision(6)}; finite differences (central, right, left) ` +
    f.tried.map((t) => `h ${t.h}: ${t.estimates.map((e) => e.toPrecision(6)).join(", ")} (tol ${t.tol.toExponential(1)})`).join("; ")
  );
  assert(r.failures.length === 0, `${what}: gradient differs from finite differences along ${r.failures.length} of ${r.checked} directions:\n${lines.join("\n")}`);
}

const [B, MH, MW, C, PE] = [2, 3, 4, 5, 4];

Deno.test({ name: "teacher NLL: gradients w.r.t. every parameter tensor and the input = finite differences (fused on and off)", ...OPTS, fn: async () => {
  await cpuBackend();
  const spec = { height: MH, width: MW, channels: C, hidden: 8, nBlocks: 2, kernelSizes: [3, 5], clamp: 1.9, posEncDim: PE };
  const { flow, pe } = tinyFlow(spec, 31, 0.1);
  const x = tf.tensor4d(gaussian(600)(B * MH * MW * C), [B, MH, MW, C]);
  const mask = tf.tensor4d(uniform(601)(B * MH * MW), [B, MH, MW, 1]);
  const loss = (xs: tf.Tensor4D) => {
    const { z, logDet } = flow.forward(xs, pe);
    return meanLoss(flowNllPerPixel(z, logDet, mask));
  };
  for (const fused of [true, false]) {
    const r = withFused(fused, () => gradientCheck(flow.params, loss, x, 602));
    report(`teacher, fused ${fused}`, r, 2 * (flow.params.trainable.size + 1));
  }
  tf.dispose([x, mask]);
  flow.dispose();
} });

Deno.test({ name: "student distance (BatchNorm training mode): gradients w.r.t. every parameter tensor and the input = finite differences (fused on and off)", ...OPTS, fn: async () => {
  await cpuBackend();
  const student = tinyStudent({ channels: C, hidden: 8, nBlocks: 2, leakySlope: 0.2, posEncDim: PE }, 41);
  const pe = positionalEncoding(PE, MH, MW);
  const x = tf.tensor4d(gaussian(700)(B * MH * MW * C), [B, MH, MW, C]);
  const target = tf.tensor4d(gaussian(701)(B * MH * MW * C), [B, MH, MW, C]);
  const mask = tf.tensor4d(uniform(702)(B * MH * MW), [B, MH, MW, 1]);
  const loss = (xs: tf.Tensor4D) => meanLoss(studentDistancePerPixel(target, student.forward(xs, pe, true).out, mask));
  for (const fused of [true, false]) {
    const r = withFused(fused, () => gradientCheck(student.params, loss, x, 703));
    report(`student, fused ${fused}`, r, 2 * (student.params.trainable.size + 1));
  }
  tf.dispose([x, target, mask, pe]);
  student.dispose();
} });
