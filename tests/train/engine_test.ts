import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { epochBatches, type EpochReport, trainLoop, TrainingError } from "../../lib/train/engine.ts";
import { Adam, REFERENCE_ADAM } from "../../lib/train/adam.ts";
import { TeacherFlow } from "../../lib/models/teacher_flow.ts";
import { positionalEncoding } from "../../lib/models/positional_encoding.ts";
import { flowNllPerPixel, meanLoss } from "../../lib/models/losses.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

Deno.test("epochBatches: seeded shuffle, full batches only, differs across epochs", () => {
  const a = epochBatches(19, 8, 0, "teacher", 1);
  assertEquals(a.length, 2); // 19 = 2 x 8 + 3 dropped
  const seen = new Set(a.flatMap((b) => [...b]));
  assertEquals(seen.size, 16);
  assertEquals(epochBatches(19, 8, 0, "teacher", 1), a);
  assert(JSON.stringify(epochBatches(19, 8, 0, "teacher", 2)) !== JSON.stringify(a));
  assert(JSON.stringify(epochBatches(19, 8, 1, "teacher", 1)) !== JSON.stringify(a));
});

function tinyFlow() {
  return TeacherFlow.create({ channels: 6, hidden: 8, nBlocks: 2, kernelSizes: [3, 5], clamp: 1.9, posEncDim: 4 }, 3);
}

Deno.test({ name: "trainLoop: loss falls, memory stays flat across epochs", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const flow = tinyFlow();
  const pe = positionalEncoding(4, 6);
  const x = tf.tidy(() => tf.add(tf.mul(tf.randomNormal([16, 6, 6, 6], 0, 1, "float32", 1), 0.5), 1)) as tf.Tensor4D;
  const opt = new Adam({ ...REFERENCE_ADAM, lr: 1e-2 }, flow.params.trainable);
  const reports: EpochReport[] = [];
  await trainLoop({ x, masks: null }, {
    phase: "teacher", epochs: 6, startEpoch: 0, batchSize: 8, seed: 0, params: flow.params, optimizer: opt,
    loss: (xb) => {
      const { z, logDet } = flow.forward(xb, pe);
      return meanLoss(flowNllPerPixel(z, logDet, null));
    },
    onEpoch: (r) => void reports.push(r),
  });
  assertEquals(reports.map((r) => r.epoch), [1, 2, 3, 4, 5, 6]);
  assert(reports[5].loss < reports[0].loss, `loss did not fall: ${reports.map((r) => r.loss)}`);
  const counts = new Set(reports.slice(1).map((r) => r.numTensors));
  assertEquals(counts.size, 1, `live tensors changed across epochs: ${reports.map((r) => r.numTensors)}`);
  opt.dispose();
  flow.dispose();
  tf.dispose([x, pe]);
} });

Deno.test({ name: "trainLoop: NaN loss stops with an error naming epoch and step", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const flow = tinyFlow();
  const pe = positionalEncoding(4, 6);
  const x = tf.randomNormal([16, 6, 6, 6], 0, 1, "float32", 2) as tf.Tensor4D;
  const opt = new Adam(REFERENCE_ADAM, flow.params.trainable);
  let calls = 0;
  await assertRejects(
    () => trainLoop({ x, masks: null }, {
      phase: "teacher", epochs: 3, startEpoch: 0, batchSize: 8, seed: 0, params: flow.params, optimizer: opt,
      loss: (xb) => {
        calls++;
        const { z, logDet } = flow.forward(xb, pe);
        const l = meanLoss(flowNllPerPixel(z, logDet, null));
        return calls === 4 ? tf.mul(l, NaN) as tf.Scalar : l; // epoch 2, step 2
      },
    }),
    (e: Error) => e instanceof TrainingError && /epoch 2, step 2/.test(e.message),
  );
  opt.dispose();
  flow.dispose();
  tf.dispose([x, pe]);
} });

Deno.test({ name: "trainLoop: fewer images than a batch is a clear error", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const flow = tinyFlow();
  const x = tf.zeros([3, 6, 6, 6]) as tf.Tensor4D;
  const opt = new Adam(REFERENCE_ADAM, flow.params.trainable);
  await assertRejects(
    () => trainLoop({ x, masks: null }, {
      phase: "teacher", epochs: 1, startEpoch: 0, batchSize: 8, seed: 0, params: flow.params, optimizer: opt,
      loss: () => tf.scalar(0),
    }),
    /3 training images, fewer than one batch of 8/,
  );
  opt.dispose();
  flow.dispose();
  x.dispose();
} });
