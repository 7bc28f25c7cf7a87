/**
 * The fused ops (lib/ops/): on each backend that has their kernels (cpu: the JS loops; wasm: the
 * native library compiled from fused_kernels.c) the op's value and gradients equal its composed
 * reference on that backend and on the cpu backend; a whole teacher and student training step is
 * the same with and without them; bad permutations and shapes are refused with the kernel's name.
 * (The kernels' own tests: tests/backend/fused_kernels_test.ts.)
 */
import * as tf from "@tensorflow/tfjs-core";
import { assert, assertClose, assertThrows } from "../assert.ts";
import { fusedBackends, randn, runOn, type InputSpec } from "../backend/_helpers.ts";
import { couplingHalf, couplingHalfComposed } from "../../lib/ops/coupling_half.ts";
import { joinClip, joinClipComposed } from "../../lib/ops/join_clip.ts";
import { permuteSplit, permuteSplitComposed } from "../../lib/ops/permute_split.ts";
import { batchNormLeakyRelu } from "../../lib/ops/batch_norm_leaky_relu.ts";
import { swish, swishWithMeans } from "../../lib/ops/swish.ts";
import { setFusedOps } from "../../lib/ops/fused_switch.ts";
import { TeacherFlow } from "../../lib/models/teacher_flow.ts";
import { AsymmetricStudent } from "../../lib/models/student.ts";
import { flowNllPerPixel, meanLoss, studentDistancePerPixel } from "../../lib/models/losses.ts";
import { positionalEncoding } from "../../lib/models/positional_encoding.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };


/** With the fused ops switched off for the call (the composed tfjs ops run instead). */
function composed<T>(f: () => T): T {
  const was = setFusedOps(false);
  try {
    return f();
  } finally {
    setFusedOps(was);
  }
}

/** fused(...) and reference(...) on one backend: values and gradients of every input. */
async function compareOn(
  backend: string, what: string, fused: (...xs: tf.Tensor[]) => tf.Tensor, reference: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: InputSpec[], tol = { atol: 2e-5, rtol: 2e-4 },
): Promise<void> {
  const got = await runOn(backend, fused, inputs, 3, true);
  const scaleOf = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 1);
  // against the composed ops on the same backend, and on the cpu backend (the reference)
  for (const refBackend of new Set([backend, "cpu"])) {
    const want = await runOn(refBackend, (...xs) => composed(() => reference(...xs)), inputs, 3, true);
    const label = `${backend} ${what} vs composed on ${refBackend}`;
    assertClose(got.out, want.out, { atol: tol.atol * scaleOf(want.out), rtol: tol.rtol, what: `${label}: value` });
    got.grads.forEach((g, i) =>
      assertClose(g, want.grads[i], { atol: tol.atol * scaleOf(want.grads[i]), rtol: tol.rtol, what: `${label}: grad ${i}` })
    );
  }
  await tf.setBackend(backend);
}

const flat = (...ts: tf.Tensor[]) => tf.concat(ts.map((t) => t.flatten()));

Deno.test({ name: "fused coupling half = atan/exp/mul/add/sum/concat composed: values and gradients", ...opts, fn: async () => {
  const B = 2, H = 3, W = 4, n = 5, pe = 3;
  // scale logits up to +-8: atan saturates, exp(k atan) spans ~e^-2..e^2 for k = 1.9 * 0.636
  const o = randn(B * H * W * 2 * n, 11).map((v) => v * 3);
  for (const backend of await fusedBackends()) {
    for (const { xc, off, withCond } of [{ xc: n, off: 0, withCond: true }, { xc: n + pe, off: 0, withCond: false }, { xc: n + 4, off: 2, withCond: true }]) {
      const k = 1.9 * 0.636;
      const ins: InputSpec[] = [{ shape: [B, H, W, 2 * n], values: o }, { shape: [B, H, W, xc] }, { shape: [B, H, W, pe] }];
      const f = (impl: typeof couplingHalf) => (oo: tf.Tensor, x: tf.Tensor, c: tf.Tensor) => {
        const r = impl(oo as tf.Tensor4D, x as tf.Tensor4D, off, k, withCond ? c as tf.Tensor4D : null);
        // the cond input must stay in the graph for its gradient even when unused
        return flat(r.y, tf.mul(r.logScaleSum, 0.7), tf.mul(tf.sum(c), 0));
      };
      await compareOn(backend, `coupling half (x ${xc} ch at ${off}, cond ${withCond})`, f(couplingHalf), f(couplingHalfComposed), ins);
    }
  }
}});

Deno.test({ name: "fused permutation split = gather/split/concat composed (permuteSplitComposed): values and gradients; bad permutations refused", ...opts, fn: async () => {
  const C = 7, pe = 2, split = 3;
  const perm = [4, 0, 6, 2, 5, 1, 3];
  for (const backend of await fusedBackends()) {
    await tf.setBackend(backend);
    const ref = (z: tf.Tensor, c: tf.Tensor) => flat(...permuteSplitComposed(z as tf.Tensor4D, tf.tensor1d(perm, "int32"), split, c as tf.Tensor4D));
    const fused = (z: tf.Tensor, c: tf.Tensor) => {
      const r = permuteSplit(z as tf.Tensor4D, tf.tensor1d(perm, "int32"), split, c as tf.Tensor4D);
      assert(r, `${backend}: permuteSplit kernel expected`);
      return flat(r[0], r[1]);
    };
    await compareOn(backend, "permutation split", fused, ref, [{ shape: [2, 3, 2, C] }, { shape: [2, 3, 2, pe] }]);
    for (const bad of [[0, 1, 2, 3, 4, 5, 5], [0, 1, 2, 3, 4, 5, 7], [0, 1, 2]]) {
      const z = tf.zeros([1, 1, 1, C]), p = tf.tensor1d(bad, "int32");
      assertThrows(() => permuteSplit(z as tf.Tensor4D, p, split, null), /AstPermuteSplit/);
      tf.dispose([z, p]);
    }
  }
  await tf.setBackend("wasm");
}});

Deno.test({ name: "fused join + clip = concat/clip composed, with clipped entries: values and gradients", ...opts, fn: async () => {
  for (const backend of await fusedBackends()) {
    for (const extra of [0, 3]) {
      const f = (impl: typeof joinClip) => (a: tf.Tensor, b: tf.Tensor) => impl(a as tf.Tensor4D, 4, b as tf.Tensor4D, -0.8, 1.1);
      // N(0,1) inputs: about a quarter of the entries fall outside [-0.8, 1.1]
      await compareOn(backend, `join + clip (a carries ${extra} more channels)`, f(joinClip), f(joinClipComposed), [{ shape: [2, 3, 3, 4 + extra] }, { shape: [2, 3, 3, 5] }]);
    }
  }
}});

Deno.test({ name: "fused BatchNorm + LeakyReLU (training) = batchNorm2d + leakyRelu: values, gradients, running statistics", ...opts, fn: async () => {
  const C = 6;
  const params = () => ({
    weight: tf.tensor1d(randn(C, 5).map((v) => 1 + 0.3 * v)),
    bias: tf.tensor1d(randn(C, 6).map((v) => 0.2 * v)),
    runningMean: tf.variable(tf.zeros([C])),
    runningVar: tf.variable(tf.ones([C])),
  });
  for (const backend of await fusedBackends()) {
    await tf.setBackend(backend);
    for (const slope of [0.01, 0.2, 0]) {
      const f = (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
        const p = params();
        const r = batchNormLeakyRelu(x as tf.Tensor4D, { ...p, weight: w as tf.Tensor1D, bias: b as tf.Tensor1D }, true, slope);
        tf.dispose([p.weight, p.bias, p.runningMean, p.runningVar, r.newMean!, r.newVar!]);
        return r.y;
      };
      // channels with offsets and scales far from 0/1 (the moments are two-pass)
      const x = randn(3 * 4 * 5 * C, 9).map((v, i) => 5 + (1 + (i % C)) * v);
      await compareOn(backend, `BN + LeakyReLU slope ${slope}`, f, f, [{ shape: [3, 4, 5, C], values: x }, { shape: [C], values: randn(C, 5) }, { shape: [C], values: randn(C, 6) }], { atol: 3e-5, rtol: 3e-4 });
      // running statistics
      const stats = (fusedOn: boolean) => {
        const was = setFusedOps(fusedOn);
        try {
          const p = params();
          const r = batchNormLeakyRelu(tf.tensor4d(x, [3, 4, 5, C]), p, true, slope);
          const out = [r.newMean!.dataSync().slice(), r.newVar!.dataSync().slice()];
          tf.dispose([p.weight, p.bias, p.runningMean, p.runningVar, r.y, r.newMean!, r.newVar!]);
          return out;
        } finally {
          setFusedOps(was);
        }
      };
      const [fm, fv] = stats(true), [cm, cv] = stats(false);
      assertClose(fm, cm, { atol: 1e-5, rtol: 1e-5, what: `${backend} running mean` });
      assertClose(fv, cv, { atol: 1e-4, rtol: 1e-5, what: `${backend} running var` });
    }
  }
  await tf.setBackend("wasm");
}});

/** One teacher NLL and student distance training loss with gradients, as flat arrays. */
async function trainingStep(backend: string, fused: boolean): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const was = setFusedOps(fused);
  try {
    const C = 10, pe = 4;
    const teacher = TeacherFlow.create({ channels: C, hidden: 8, nBlocks: 2, kernelSizes: [3, 5], clamp: 1.9, posEncDim: pe }, 5);
    const student = AsymmetricStudent.create({ channels: C, hidden: 8, nBlocks: 1, leakySlope: 0.01, posEncDim: pe }, 6);
    // non-zero gammas, so the couplings are not the identity
    for (const [name, v] of teacher.params.trainable) if (name.endsWith("gamma")) v.assign(tf.fill([1], 0.3));
    const x = tf.tensor4d(randn(2 * 6 * 6 * C, 21), [2, 6, 6, C]);
    const posEnc = positionalEncoding(pe, 6, 6);
    const tVars = [...teacher.params.trainable.values()];
    const sVars = [...student.params.trainable.values()];
    const t = tf.variableGrads(() => tf.tidy(() => {
      const { z, logDet } = teacher.forward(x, posEnc);
      return meanLoss(flowNllPerPixel(z, logDet, null));
    }), tVars);
    const target = tf.tidy(() => teacher.forward(x, posEnc).z);
    const s = tf.variableGrads(() => tf.tidy(() => meanLoss(studentDistancePerPixel(target, student.forward(x, posEnc, true).out, null))), sVars);
    const out = [t.value, ...Object.values(t.grads), s.value, ...Object.values(s.grads)].map((g) => g.dataSync().slice() as Float32Array);
    tf.dispose([t.value, s.value, ...Object.values(t.grads), ...Object.values(s.grads), x, posEnc, target]);
    teacher.dispose();
    student.dispose();
    return out;
  } finally {
    setFusedOps(was);
  }
}

Deno.test({ name: "a teacher and student training step is the same with and without the fused kernels", ...opts, fn: async () => {
  for (const backend of await fusedBackends()) {
    const [a, b] = [await trainingStep(backend, true), await trainingStep(backend, false)];
    assert(a.length === b.length && a.length > 10, "loss and gradients of every parameter");
    a.forEach((g, i) => {
      const scale = b[i].reduce((m, v) => Math.max(m, Math.abs(v)), 1e-3);
      assertClose(g, b[i], { atol: 5e-5 * scale, rtol: 5e-4, what: `${backend} step output ${i}` });
    });
  }
  await tf.setBackend("wasm");
}});

Deno.test({ name: "fused kernels refuse mismatched shapes with the kernel's name (before any native loop runs)", ...opts, fn: async () => {
  for (const backend of await fusedBackends()) {
    await tf.setBackend(backend);
    tf.tidy(() => {
      const o = tf.zeros([1, 2, 2, 6]) as tf.Tensor4D;
      assertThrows(() => couplingHalf(o, tf.zeros([1, 2, 3, 3]) as tf.Tensor4D, 0, 1, null), /AstCouplingHalf/);
      assertThrows(() => couplingHalf(o, tf.zeros([1, 2, 2, 4]) as tf.Tensor4D, 2, 1, null), /AstCouplingHalf: channels \[2, 5\)/);
      assertThrows(() => couplingHalf(tf.zeros([1, 2, 2, 5]) as tf.Tensor4D, tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, 0, 1, null), /AstCouplingHalf/);
      assertThrows(() => joinClip(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, 2, tf.zeros([1, 1, 2, 3]) as tf.Tensor4D, -1, 1), /AstJoinClip/);
      assertThrows(() => joinClip(tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, 4, tf.zeros([1, 2, 2, 3]) as tf.Tensor4D, -1, 1), /AstJoinClip/);
      const p = { weight: tf.ones([3]) as tf.Tensor1D, bias: tf.zeros([4]) as tf.Tensor1D, runningMean: tf.variable(tf.zeros([4])), runningVar: tf.variable(tf.ones([4])) };
      assertThrows(() => batchNormLeakyRelu(tf.zeros([1, 2, 2, 4]) as tf.Tensor4D, p, true, 0.01), /AstBatchNormLeaky/);
      tf.dispose([p.runningMean, p.runningVar]);
    });
  }
  await tf.setBackend("wasm");
}});

Deno.test({ name: "fused swish and swish + channel means = composed ops (batch 2, large and NaN inputs): values and gradients", ...opts, fn: async () => {
  const shape = [2, 3, 4, 5];
  // scaled so that some |x| exceed the clamp of the native exponent (80)
  const x = randn(120, 31).map((v, i) => (i % 7 === 0 ? 150 * v : 3 * v));
  for (const backend of await fusedBackends()) {
    await compareOn(backend, "swish", (a) => swish(a as tf.Tensor4D), (a) => tf.mul(a, tf.sigmoid(a)), [{ shape, values: x }]);
    await compareOn(
      backend, "swish + means",
      (a) => { const r = swishWithMeans(a as tf.Tensor4D); return flat(r.y, tf.mul(r.means, 3)); },
      (a) => { const y = tf.mul(a, tf.sigmoid(a)); return flat(y, tf.mul(tf.mean(y, [1, 2]), 3)); },
      [{ shape, values: x }],
    );
    await tf.setBackend(backend);
    const nan = tf.tensor4d([NaN, -Infinity, Infinity, 0, -1e6, 1e6, 5, -5], [1, 2, 2, 2]);
    const got = swish(nan).dataSync();
    tf.dispose(nan);
    assert(Number.isNaN(got[0]), `${backend}: swish(NaN) = ${got[0]}`);
    assert(got[2] === Infinity && Object.is(Math.abs(got[3]), 0) && got[5] === 1e6, `${backend}: swish edges ${Array.from(got)}`);
    // swish(-inf) is NaN composed (-inf * 0) and -inf natively (-inf / huge): not finite either way
    assert(!Number.isFinite(got[1]), `${backend}: swish(-inf) = ${got[1]}`);
    assert(Math.abs(got[4]) < 1e-20, `${backend}: swish(-1e6) = ${got[4]}`);
  }
  await tf.setBackend("wasm");
}});
