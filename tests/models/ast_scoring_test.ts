/** AstModel's scoring with a foreground mask: the student distance is zeroed outside, the teacher NLL is not outranked by it. */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { quietTfjs } from "../../lib/backend/tfjs_warnings.ts";
import { AstModel, type AstModelConfig, backgroundAtForegroundMin } from "../../lib/models/ast.ts";
import { imageScores } from "../../lib/models/scoring.ts";
import { flowNllPerPixel } from "../../lib/models/losses.ts";
import { mulberry32 } from "../../lib/util/random.ts";
import { assert, assertClose } from "../assert.ts";

quietTfjs(); // cpu backend without initBackend: no "install our node backend" banner

const cfg: AstModelConfig = {
  mapLen: 8,
  posEnc: true,
  posEncDim: 32,
  teacher: { hidden: 8, nBlocks: 2, kernelSizes: [3, 3], clamp: 1.9, epochs: 1, permutations: "reference" },
  student: { kind: "asymmetric", hidden: 8, nBlocks: 1, leakySlope: 0.01, epochs: 1 },
  scoring: "student",
};

Deno.test("teacher-NLL scoring with a mask: the image score is the foreground's NLL maximum, even when every NLL is negative", async () => {
  await tf.setBackend("cpu");
  const model = AstModel.create(cfg, 4, 0);
  const rng = mulberry32(1);
  const B = 3, S = 8, C = 4;
  // small inputs: a flow's NLL per pixel is then dominated by -logdet and can be negative
  const x = tf.tensor4d(Float32Array.from({ length: B * S * S * C }, () => 0.01 * (rng() - 0.5)), [B, S, S, C]);
  // foreground: a centre square of 16 cells per image
  const m = new Float32Array(B * S * S);
  for (let b = 0; b < B; b++) for (let i = 2; i < 6; i++) for (let j = 2; j < 6; j++) m[b * S * S + i * S + j] = 1;
  const mask = tf.tensor4d(m, [B, S, S, 1]);
  const { z, logDet } = model.teacher.forward(x, model.pe);
  const nll = await flowNllPerPixel(z, logDet, null).array() as number[][][];
  const expected = nll.map((img) => Math.max(...img.flatMap((row, i) => row.filter((_, j) => i >= 2 && i < 6 && j >= 2 && j < 6))));
  const scored = model.scoreBatch(x, mask, S, true);
  // upsampling S -> S is the identity (bicubic at the same size): the max is the foreground max
  assertClose(await scored.scoreMax.data(), expected, { atol: 1e-4, rtol: 1e-4, what: "teacher-NLL image scores" });
  // the student distance: zero outside the mask (non-negative, so the max is the foreground's)
  const student = model.scoreBatch(x, mask, S, false);
  const map = await student.anomalyMap.array() as number[][][];
  assert(map.every((img) => img.every((row, i) => row.every((v, j) => (i >= 2 && i < 6 && j >= 2 && j < 6) || Math.abs(v) < 1e-6))), "student map zero outside the mask");
  tf.dispose([x, mask, z, logDet, scored.anomalyMap, scored.scoreMax, scored.scoreMean, student.anomalyMap, student.scoreMax, student.scoreMean]);
  model.dispose();
});

Deno.test("teacher-NLL masking: negative NLL keeps its ranking, the background takes the image's lowest foreground value", async () => {
  await tf.setBackend("cpu");
  // two 2x2 images, every NLL negative; foreground = the left column
  const nll = tf.tensor3d([[[-3, -9], [-1, -8]], [[-5, -9], [-4, -7]]]);
  const mask = tf.tensor4d([1, 0, 1, 0, 1, 0, 1, 0], [2, 2, 2, 1]);
  const filled = backgroundAtForegroundMin(nll, mask);
  assertClose(await filled.data(), [-3, -3, -1, -3, -5, -5, -4, -5], { atol: 0, rtol: 0, what: "filled map" });
  const s = imageScores(filled, null, 2);
  // image scores = the foreground maxima (-1 and -4), not a tie at 0 as with a zeroed background
  assertClose(await s.scoreMax.data(), [-1, -4], { atol: 1e-5, rtol: 0, what: "image scores" });
  // no foreground at all: zeros, as before
  const none = backgroundAtForegroundMin(nll, tf.zeros([2, 2, 2, 1]));
  assertClose(await none.data(), new Array(8).fill(0), { atol: 0, rtol: 0, what: "no foreground" });
  tf.dispose([nll, mask, filled, s.anomalyMap, s.scoreMax, s.scoreMean, none]);
});
