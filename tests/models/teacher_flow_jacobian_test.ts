/**
 * The teacher flow as a change of variables, checked without fixtures on tiny non-trivial flows
 * (cpu backend, float32; fused kernels on and off):
 *  - inverse(forward(x)) = x and forward(inverse(z)) = z; samples of a batch do not interact;
 *  - log|det J| of the whole map (x: H*W*C -> z: H*W*C), from a numerical Jacobian and from the
 *    autodiff Jacobian, by LU in float64, equals the SUM over pixels of the flow's logDet output
 *    (the Jacobian is not block-diagonal per pixel: the subnets are 3x3 / 5x5 convolutions);
 *  - per pixel, for one coupling block: logDet[p] = sum_c log dy1/dx1 - sum_c log dx2/dy2, each
 *    derivative the soft-clamped scale exp(alpha * 0.636 * atan(s / alpha)) of the subnet output s;
 *  - flowNllPerPixel = 0.5 * sum_c z^2 - logDet, with and without a soft mask.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assert, assertClose } from "../assert.ts";
import { flowNllPerPixel, meanLoss } from "../../lib/models/losses.ts";
import { batchPositionalEncoding } from "../../lib/models/positional_encoding.ts";
import { cpuBackend, gaussian, logAbsDet, maxAbs, OPTS, sum, type TinyFlowSpec, tinyFlow, uniform, withFused } from "./_tiny.ts";

/** Non-square maps (a height/width mix-up shows), an odd channel count (uneven halves), with and without PE. */
const SPECS: { name: string; spec: TinyFlowSpec }[] = [
  { name: "3x4x6, 4 blocks [3,3,3,5], no PE", spec: { height: 3, width: 4, channels: 6, hidden: 8, nBlocks: 4, kernelSizes: [3, 3, 3, 5], clamp: 1.9, posEncDim: 0 } },
  { name: "4x3x5, 4 blocks [3,3,3,5], PE 8", spec: { height: 4, width: 3, channels: 5, hidden: 8, nBlocks: 4, kernelSizes: [3, 3, 3, 5], clamp: 1.9, posEncDim: 8 } },
  { name: "3x3x4, 2 blocks [3,5], PE 4", spec: { height: 3, width: 3, channels: 4, hidden: 8, nBlocks: 2, kernelSizes: [3, 5], clamp: 1.9, posEncDim: 4 } },
];

function shapeOf(spec: TinyFlowSpec, batch: number): [number, number, number, number] {
  return [batch, spec.height, spec.width, spec.channels];
}

/** z and logDet of one or more samples as arrays. */
function run(flow: ReturnType<typeof tinyFlow>, x: Float32Array, shape: [number, number, number, number]) {
  return tf.tidy(() => {
    const { z, logDet } = flow.flow.forward(tf.tensor4d(x, shape), flow.pe);
    return { z: z.dataSync() as Float32Array, logDet: logDet.dataSync() as Float32Array };
  });
}

/** Guards against a vacuous pass: the flow moves x a lot and its log-determinant is far from 0. */
function assertNonTrivial(what: string, x: Float32Array, z: Float32Array, logDet: Float32Array): void {
  const moved = maxAbs(z.map((v, i) => v - x[i]));
  assert(moved > 1, `${what}: flow is nearly the identity (max |z - x| = ${moved})`);
  assert(Math.abs(sum(logDet)) > 5, `${what}: log-determinant too small to test (${sum(logDet)})`);
}

Deno.test({ name: "teacher flow: inverse(forward(x)) = x, forward(inverse(z)) = z, batch samples independent", ...OPTS, fn: async () => {
  await cpuBackend();
  for (const fused of [true, false]) {
    for (const [k, { name, spec }] of SPECS.entries()) {
      const what = `${name}, fused ${fused}`;
      const flow = tinyFlow(spec, 11 + k);
      const shape = shapeOf(spec, 2);
      const x = gaussian(100 + k)(shape.reduce((a, b) => a * b));
      withFused(fused, () => {
        const { z, logDet } = run(flow, x, shape);
        assertNonTrivial(what, x, z, logDet);
        const back = tf.tidy(() => flow.flow.inverse(tf.tensor4d(z, shape), flow.pe).dataSync() as Float32Array);
        // float32 through 2 x nBlocks subnets each way; |x| <= ~3.5: 1e-4 relative, 2e-5 absolute
        assertClose(back, x, { atol: 2e-5, rtol: 1e-4, what: `${what}: inverse(forward(x))` });
        // a z the flow did not produce
        const z2 = gaussian(200 + k)(x.length).map((v) => 2 * v);
        const x2 = tf.tidy(() => flow.flow.inverse(tf.tensor4d(z2, shape), flow.pe).dataSync() as Float32Array);
        assertClose(run(flow, x2, shape).z, z2, { atol: 1e-4, rtol: 1e-4, what: `${what}: forward(inverse(z))` });
        // each sample alone gives the same as in the batch (no cross-sample statistics)
        const per = x.length / 2;
        for (let b = 0; b < 2; b++) {
          const one = run(flow, x.slice(b * per, (b + 1) * per), shapeOf(spec, 1));
          assertClose(one.z, z.slice(b * per, (b + 1) * per), { atol: 1e-6, rtol: 1e-5, what: `${what}: sample ${b} z alone vs in batch` });
          const lp = logDet.length / 2;
          assertClose(one.logDet, logDet.slice(b * lp, (b + 1) * lp), { atol: 1e-5, rtol: 1e-5, what: `${what}: sample ${b} logDet alone vs in batch` });
        }
      });
      flow.flow.dispose();
    }
  }
} });

/**
 * J[i][j] = dz_i / dx_j (row-major, N = H*W*C) by central differences: the 2N perturbed copies of
 * x go through the flow as one batch (the previous test shows samples do not interact).
 */
function numericalJacobian(flow: ReturnType<typeof tinyFlow>, x: Float32Array, spec: TinyFlowSpec, h: number): Float64Array {
  const n = x.length;
  const batch = new Float32Array(2 * n * n);
  for (let j = 0; j < n; j++) {
    batch.set(x, 2 * j * n);
    batch[2 * j * n + j] += h;
    batch.set(x, (2 * j + 1) * n);
    batch[(2 * j + 1) * n + j] -= h;
  }
  const z = run(flow, batch, shapeOf(spec, 2 * n)).z;
  const J = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) J[i * n + j] = (z[2 * j * n + i] - z[(2 * j + 1) * n + i]) / (2 * h);
  }
  return J;
}

/** The same by reverse-mode autodiff: row i = gradient of z_i, from N copies of x with one-hot output weights. */
function autodiffJacobian(flow: ReturnType<typeof tinyFlow>, x: Float32Array, spec: TinyFlowSpec): Float64Array {
  const n = x.length;
  const rows = tf.tidy(() => {
    const copies = tf.tensor4d(new Float32Array(n * n).map((_, i) => x[i % n]), shapeOf(spec, n));
    const oneHot = tf.reshape(tf.eye(n), shapeOf(spec, n));
    const g = tf.grad((xs: tf.Tensor) => tf.sum(tf.mul(flow.flow.forward(xs as tf.Tensor4D, flow.pe).z, oneHot)))(copies);
    return g.dataSync() as Float32Array;
  });
  return Float64Array.from(rows);
}

Deno.test({ name: "teacher flow: log|det J| of the whole map (numerical and autodiff Jacobian, LU in float64) = sum of per-pixel logDet", ...OPTS, fn: async () => {
  await cpuBackend();
  for (const fused of [true, false]) {
    for (const [k, { name, spec }] of SPECS.entries()) {
      const what = `${name}, fused ${fused}`;
      const flow = tinyFlow(spec, 11 + k);
      const x = gaussian(300 + k)(spec.height * spec.width * spec.channels);
      const n = x.length;
      withFused(fused, () => {
        const { z, logDet } = run(flow, x, shapeOf(spec, 1));
        assertNonTrivial(what, x, z, logDet);
        const total = sum(logDet);
        // Numerical: float32 z (|z| <~ 20) has rounding noise ~1e-6 relative, so an entry of J from
        // central differences with h = 2e-3 is off by up to ~1e-3 (plus the rare ReLU kink inside
        // [x - h, x + h], and O(h^2) truncation); log|det| moves by tr(J^-1 dJ). Measured over 10
        // seeds x these shapes x fused on/off: |error| <= 6.3e-3. Tolerance 0.03, against totals of
        // 13..47 here: a sign error or a missing half or block moves it by > 3, a 5% mismatch
        // between the log-determinant's soft clamp and the scale's by > 0.6.
        const numeric = logAbsDet(numericalJacobian(flow, x, spec, 2e-3), n);
        assert(Math.abs(numeric - total) <= 0.03, `${what}: log|det J| numerical ${numeric} vs sum logDet ${total}`);
        // Autodiff (its gradients are checked against finite differences in gradient_check_test.ts):
        // only float32 rounding of J (~1e-7 relative); measured |error| <= 3e-6. Only on the
        // smallest flow: tfjs' conv gradient also computes every filter gradient (~2 s on 72 copies).
        if (n > 40) return;
        const exact = logAbsDet(autodiffJacobian(flow, x, spec), n);
        assert(Math.abs(exact - total) <= 1e-4 + 1e-6 * Math.abs(total), `${what}: log|det J| autodiff ${exact} vs sum logDet ${total}`);
      });
      flow.flow.dispose();
    }
  }
} });

/**
 * One coupling block (flow of 1 block) with permutation P, u = x[.., P], x1 = u[.., :s], x2 = u[.., s:]:
 *   y1 = e(s2(x2)) * x1 + t2(x2)      -> dy1[p,c] / dx1[q,c'] = delta_pq delta_cc' e(s2)[p,c]
 *   x2 = (y2 - t1(y1)) / e(s1(y1))    -> dx2[p,c] / dy2[q,c'] = delta_pq delta_cc' / e(s1)[p,c]
 * so per pixel p (a statement that holds per pixel, unlike the whole-map Jacobian):
 *   logDet[p] = sum_c log dy1[p,c]/dx1[p,c] - sum_c log dx2[p,c]/dy2[p,c]
 * y1 is affine in x1 and x2 is affine in y2 (exactly), so the differences are exact up to float32
 * rounding even with a large step (h = 0.5): tolerance 1e-4 relative. Each derivative must also
 * equal e(s) = exp(alpha * 0.636 * atan(s / alpha)) of the raw subnet output s (the soft clamp of
 * the reference implementation), and the other entries of those Jacobian blocks must be 0.
 */
Deno.test({ name: "coupling block: per-pixel logDet = log of the diagonal scales dy1/dx1 and 1/(dx2/dy2) = soft-clamped subnet outputs", ...OPTS, fn: async () => {
  await cpuBackend();
  const alpha = 1.9, h = 0.5;
  const cases: TinyFlowSpec[] = [
    { height: 3, width: 4, channels: 5, hidden: 8, nBlocks: 1, kernelSizes: [3], clamp: alpha, posEncDim: 4 },
    { height: 4, width: 3, channels: 6, hidden: 8, nBlocks: 1, kernelSizes: [5], clamp: alpha, posEncDim: 0 },
  ];
  for (const fused of [true, false]) {
    for (const [k, spec] of cases.entries()) {
      const what = `block k${spec.kernelSizes[0]} C${spec.channels} PE ${spec.posEncDim}, fused ${fused}`;
      const flow = tinyFlow(spec, 21 + k, 0.5);
      const { perm, coupling } = flow.flow.blocks[0];
      const P = Array.from(perm.perm.dataSync());
      assert(P.some((v, i) => v !== i), `${what}: identity permutation (pick another seed)`);
      const C = spec.channels, HW = spec.height * spec.width, s1 = coupling.split1, s2 = coupling.split2;
      const x = gaussian(400 + k)(HW * C);
      withFused(fused, () => {
        const { z: y, logDet } = run(flow, x, shapeOf(spec, 1));
        // forward: perturb each x1 entry (x channel P[c], c < s1) by +-h, all in one batch
        const m1 = HW * s1;
        const fwd = new Float32Array(2 * m1 * x.length);
        for (let j = 0; j < m1; j++) {
          const idx = Math.floor(j / s1) * C + P[j % s1];
          for (const [r, d] of [[0, h], [1, -h]]) {
            fwd.set(x, (2 * j + r) * x.length);
            fwd[(2 * j + r) * x.length + idx] += d;
          }
        }
        const yy = run(flow, fwd, shapeOf(spec, 2 * m1)).z;
        // inverse: perturb each y2 entry (y channel s1 + c) by +-h
        const m2 = HW * s2;
        const inv = new Float32Array(2 * m2 * y.length);
        for (let j = 0; j < m2; j++) {
          const idx = Math.floor(j / s2) * C + s1 + (j % s2);
          for (const [r, d] of [[0, h], [1, -h]]) {
            inv.set(y, (2 * j + r) * y.length);
            inv[(2 * j + r) * y.length + idx] += d;
          }
        }
        const xx = tf.tidy(() => flow.flow.inverse(tf.tensor4d(inv, shapeOf(spec, 2 * m2)), flow.pe).dataSync() as Float32Array);
        const e2 = new Float64Array(m1), e1inv = new Float64Array(m2);
        let offDiagonal = 0;
        for (let j = 0; j < m1; j++) {
          const p = Math.floor(j / s1), c = j % s1;
          for (let q = 0; q < HW; q++) {
            for (let c2 = 0; c2 < s1; c2++) {
              const o = q * C + c2;
              const d = (yy[2 * j * x.length + o] - yy[(2 * j + 1) * x.length + o]) / (2 * h);
              if (q === p && c2 === c) e2[j] = d;
              else offDiagonal = Math.max(offDiagonal, Math.abs(d));
            }
          }
        }
        for (let j = 0; j < m2; j++) {
          const p = Math.floor(j / s2), c = j % s2;
          for (let q = 0; q < HW; q++) {
            for (let c2 = 0; c2 < s2; c2++) {
              const o = q * C + P[s1 + c2];
              const d = (xx[2 * j * y.length + o] - xx[(2 * j + 1) * y.length + o]) / (2 * h);
              if (q === p && c2 === c) e1inv[j] = d;
              else offDiagonal = Math.max(offDiagonal, Math.abs(d));
            }
          }
        }
        assert(offDiagonal <= 1e-5, `${what}: dy1/dx1 or dx2/dy2 not diagonal (off-diagonal entry ${offDiagonal})`);
        const perPixel = Array.from({ length: HW }, (_, p) => {
          let v = 0;
          for (let c = 0; c < s1; c++) v += Math.log(e2[p * s1 + c]);
          for (let c = 0; c < s2; c++) v -= Math.log(e1inv[p * s2 + c]);
          return v;
        });
        assert(maxAbs(perPixel) > 0.5, `${what}: log-scales too small to test`);
        assertClose(logDet, perPixel, { atol: 1e-4, rtol: 1e-4, what: `${what}: per-pixel logDet vs numerical diagonal` });
        // the soft clamp: e(s) of the raw subnet outputs (s2 from [x2, pe], s1 from [y1, pe])
        const softClamp = (s: number) => Math.exp(alpha * 0.636 * Math.atan(s / alpha));
        const [raw2, raw1] = tf.tidy(() => {
          const pe = flow.pe ? batchPositionalEncoding(flow.pe, 1) : null;
          const withPe = (t: tf.Tensor) => (pe ? tf.concat([t, pe], 3) : t);
          const u = tf.gather(tf.tensor4d(x, shapeOf(spec, 1)), tf.tensor1d(P, "int32"), 3);
          const x2 = tf.slice(u, [0, 0, 0, s1], [-1, -1, -1, s2]);
          const y1 = tf.slice(tf.tensor4d(y, shapeOf(spec, 1)), [0, 0, 0, 0], [-1, -1, -1, s1]);
          return [coupling.sub2.apply(withPe(x2)).dataSync(), coupling.sub1.apply(withPe(y1)).dataSync()];
        });
        const want2 = Float64Array.from({ length: m1 }, (_, j) => softClamp(raw2[Math.floor(j / s1) * 2 * s1 + (j % s1)]));
        const want1 = Float64Array.from({ length: m2 }, (_, j) => 1 / softClamp(raw1[Math.floor(j / s2) * 2 * s2 + (j % s2)]));
        assertClose(e2, want2, { atol: 1e-5, rtol: 1e-4, what: `${what}: dy1/dx1 vs exp(soft clamp(s2))` });
        assertClose(e1inv, want1, { atol: 1e-5, rtol: 1e-4, what: `${what}: dx2/dy2 vs 1/exp(soft clamp(s1))` });
      });
      flow.flow.dispose();
    }
  }
} });

Deno.test({ name: "flowNllPerPixel = 0.5 * sum_c z^2 - logDet (masked: 0.5 * sum_c m z^2 - m logDet); meanLoss = its mean", ...OPTS, fn: async () => {
  await cpuBackend();
  const { spec } = SPECS[1];
  const flow = tinyFlow(spec, 12);
  const shape = shapeOf(spec, 2);
  const [B, H, W, C] = shape;
  const x = gaussian(500)(B * H * W * C);
  const { z, logDet } = run(flow, x, shape);
  const mask = uniform(501)(B * H * W);
  mask[0] = 0, mask[1] = 1;
  const expect = (m: Float32Array | null) =>
    Float64Array.from({ length: B * H * W }, (_, p) => {
      let s = 0;
      for (let c = 0; c < C; c++) s += z[p * C + c] ** 2;
      const w = m ? m[p] : 1;
      return 0.5 * w * s - w * logDet[p];
    });
  for (const m of [null, mask]) {
    const [nll, mean] = tf.tidy(() => {
      const perPixel = flowNllPerPixel(tf.tensor4d(z, shape), tf.tensor3d(logDet, [B, H, W]), m ? tf.tensor4d(m, [B, H, W, 1]) : null);
      return [perPixel.dataSync(), meanLoss(perPixel).dataSync()[0]];
    });
    const want = expect(m);
    assertClose(nll, want, { atol: 1e-5, rtol: 1e-5, what: `NLL per pixel, ${m ? "soft mask" : "no mask"}` });
    const wantMean = sum(want) / want.length;
    assert(Math.abs(mean - wantMean) <= 1e-5 * Math.max(1, Math.abs(wantMean)), `meanLoss ${mean} vs ${wantMean}`);
  }
  flow.flow.dispose();
} });
