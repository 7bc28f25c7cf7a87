/**
 * Conformance against ../shared/fixtures/ast_reference (computed with the official PyTorch
 * implementation). Tolerances: forward quantities 1e-4 (abs OR rel per element, see
 * assertClose); five-step Adam loss sequences 1e-3 relative.
 */
import * as tf from "@tensorflow/tfjs-core";
import { assertClose } from "../assert.ts";
import { needsShared, sharedPath } from "../_shared.ts";
import { type NamedArray, readSafetensors } from "../../lib/io/safetensors.ts";
import { positionalEncoding } from "../../lib/models/positional_encoding.ts";
import { type FlowConfig, TeacherFlow } from "../../lib/models/teacher_flow.ts";
import { AsymmetricStudent, type StudentConfig } from "../../lib/models/student.ts";
import { ParameterStore } from "../../lib/models/parameters.ts";
import { loadStateDict } from "../../lib/models/state_dict.ts";
import { flowNllPerPixel, meanLoss, perSample, studentDistancePerPixel } from "../../lib/models/losses.ts";
import { imageScores } from "../../lib/models/scoring.ts";
import { Adam, REFERENCE_ADAM } from "../../lib/train/adam.ts";
import "../../lib/train/register_gradients.ts";
import { initConformanceBackend } from "./_backend.ts";

const ignore = needsShared();
const FIX = "fixtures/ast_reference";

interface Fixture {
  t: Map<string, NamedArray>;
  teacherW: Map<string, NamedArray>;
  studentW: Map<string, NamedArray>;
  cfg: Record<string, number | number[] | string>;
}

let cache: Fixture | null = null;
async function fixture(): Promise<Fixture> {
  if (cache) return cache;
  const [t, tw, sw] = await Promise.all(
    ["tensors", "teacher_weights", "student_weights"].map((n) => readSafetensors(sharedPath(FIX, `${n}.safetensors`))),
  );
  const cfg = JSON.parse(await Deno.readTextFile(sharedPath(FIX, "description.json"))).config;
  cache = { t: t.tensors, teacherW: tw.tensors, studentW: sw.tensors, cfg };
  return cache;
}

/** NCHW fixture tensor -> NHWC tfjs tensor (rank 3 CHW -> HWC). */
function nhwc(a: NamedArray): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(a.data, a.shape);
    const perm = a.shape.length === 4 ? [0, 2, 3, 1] : a.shape.length === 3 ? [1, 2, 0] : null;
    return perm ? tf.transpose(t, perm) : t;
  });
}

/** NHWC tensor -> NCHW values, for comparison with the fixture. */
function nchwValues(t: tf.Tensor): Float32Array {
  const perm = t.rank === 4 ? [0, 3, 1, 2] : null;
  return (perm ? tf.transpose(t, perm) : t).dataSync() as Float32Array;
}

function flowConfig(f: Fixture): FlowConfig {
  return {
    channels: f.t.get("input.flow_input")!.shape[1],
    hidden: f.cfg.channels_hidden_teacher as number,
    nBlocks: f.cfg.n_coupling_blocks as number,
    kernelSizes: f.cfg.kernel_sizes as number[],
    clamp: f.cfg.clamp as number,
    posEncDim: f.cfg.pos_enc_dim as number,
  };
}

function studentConfig(f: Fixture): StudentConfig {
  return {
    channels: f.t.get("input.flow_input")!.shape[1],
    hidden: f.cfg.channels_hidden_student as number,
    nBlocks: f.cfg.n_st_blocks as number,
    leakySlope: 0.01,
    posEncDim: f.cfg.pos_enc_dim as number,
  };
}

function loadTeacher(f: Fixture): TeacherFlow {
  const teacher = TeacherFlow.create(flowConfig(f), 0);
  loadStateDict(teacher.params, f.teacherW, "teacher_weights.safetensors");
  return teacher;
}

function loadStudent(f: Fixture): AsymmetricStudent {
  const s = AsymmetricStudent.create(studentConfig(f), 0);
  loadStateDict(s.params, f.studentW, "student_weights.safetensors");
  return s;
}

const expected = (f: Fixture, name: string) => f.t.get(name)!.data;

function test(name: string, fn: (f: Fixture) => void | Promise<void>) {
  Deno.test({
    name: `ast_reference: ${name}`,
    ignore,
    fn: async () => {
      await initConformanceBackend();
      const f = await fixture();
      const before = tf.memory().numTensors;
      await fn(f);
      const leaked = tf.memory().numTensors - before;
      if (leaked > 0) throw new Error(`${leaked} tensors leaked`);
    },
  });
}

test("positional encoding 32x8x8 and 32x24x24", () => {
  for (const [name, side] of [["input.positional_encoding", 8], ["positional_encoding_32x24x24", 24]] as const) {
    tf.tidy(() => {
      const pe = positionalEncoding(32, side);
      const r = assertClose(tf.transpose(pe, [2, 0, 1]).dataSync(), expected(cache!, name), { atol: 1e-4, rtol: 0, what: name });
      console.log(`  ${name}: max abs err ${r.maxAbs.toExponential(2)}`);
    });
  }
});

test("teacher z, log-det, NLL per pixel / sample / mean, inverse", (f) => {
  const teacher = loadTeacher(f);
  tf.tidy(() => {
    const x = nhwc(f.t.get("input.flow_input")!) as tf.Tensor4D;
    const mask = nhwc(f.t.get("input.foreground_down")!) as tf.Tensor4D;
    const pe = positionalEncoding(32, x.shape[1]);
    const { z, logDet } = teacher.forward(x, pe);
    const report = (what: string, a: ArrayLike<number>, tol = 1e-4) => {
      const r = assertClose(a, expected(f, what), { atol: tol, rtol: tol, what });
      console.log(`  ${what}: max abs err ${r.maxAbs.toExponential(2)}, max rel err ${r.maxRel.toExponential(2)}`);
    };
    report("teacher.z", nchwValues(z));
    report("teacher.log_jac_det", logDet.dataSync());
    const nll = flowNllPerPixel(z, logDet, mask);
    report("teacher.nll_per_pixel", nll.dataSync());
    report("teacher.nll_per_sample", perSample(nll).dataSync());
    report("teacher.nll_mean", meanLoss(nll).dataSync());
    const zRef = nhwc(f.t.get("teacher.z")!) as tf.Tensor4D;
    report("teacher.inverse_of_z", nchwValues(teacher.inverse(zRef, pe)));
    // and the inverse really inverts the input
    assertClose(nchwValues(teacher.inverse(z, pe)), expected(f, "input.flow_input"), { atol: 1e-4, rtol: 1e-4, what: "inverse(forward(x))" });
  });
  teacher.dispose();
});

test("student outputs (eval, train mode), distances, upsampled map, max score", (f) => {
  const student = loadStudent(f);
  tf.tidy(() => {
    const x = nhwc(f.t.get("input.flow_input")!) as tf.Tensor4D;
    const mask = nhwc(f.t.get("input.foreground_down")!) as tf.Tensor4D;
    const pe = positionalEncoding(32, x.shape[1]);
    const report = (what: string, a: ArrayLike<number>) => {
      const r = assertClose(a, expected(f, what), { atol: 1e-4, rtol: 1e-4, what });
      console.log(`  ${what}: max abs err ${r.maxAbs.toExponential(2)}, max rel err ${r.maxRel.toExponential(2)}`);
    };
    const evalOut = student.forward(x, pe, false).out;
    report("student.output_eval", nchwValues(evalOut));
    report("student.output_train_mode", nchwValues(student.forward(x, pe, true).out));
    const zt = nhwc(f.t.get("teacher.z")!) as tf.Tensor4D;
    const dist = studentDistancePerPixel(zt, evalOut, mask);
    report("student.distance_per_pixel", dist.dataSync());
    report("student.distance_per_sample", perSample(dist).dataSync());
    const s = imageScores(dist, tf.squeeze(mask, [3]) as tf.Tensor3D, f.cfg.depth_len as number);
    report("student.distance_map_upsampled", s.anomalyMap.dataSync());
    report("student.score_max", s.scoreMax.dataSync());
  });
  student.dispose();
});

test("five Adam steps: teacher and student loss sequences (1e-3 rel)", (f) => {
  const teacher = loadTeacher(f);
  const x = nhwc(f.t.get("input.flow_input")!) as tf.Tensor4D;
  const mask = nhwc(f.t.get("input.foreground_down")!) as tf.Tensor4D;
  const pe = positionalEncoding(32, x.shape[1]);
  // The student regresses the initial teacher's z (frozen teacher).
  const zTarget = tf.tidy(() => teacher.forward(x, pe).z);

  const teacherLosses: number[] = [];
  const tOpt = new Adam(REFERENCE_ADAM, teacher.params.trainable);
  for (let i = 0; i < 5; i++) {
    const { value, grads } = tf.variableGrads(() => {
      const { z, logDet } = teacher.forward(x, pe);
      return meanLoss(flowNllPerPixel(z, logDet, mask));
    }, [...teacher.params.trainable.values()]);
    teacherLosses.push(value.dataSync()[0]);
    tOpt.apply(byName(teacher.params, grads));
    tf.dispose([value, ...Object.values(grads)]);
  }
  const tr = assertClose(teacherLosses, expected(f, "train.teacher_losses"), { atol: 0, rtol: 1e-3, what: "teacher losses" });
  console.log(`  teacher losses ${teacherLosses.map((v) => v.toFixed(5))}; max rel err ${tr.maxRel.toExponential(2)}`);

  const student = loadStudent(f);
  const studentLosses: number[] = [];
  const sOpt = new Adam(REFERENCE_ADAM, student.params.trainable);
  for (let i = 0; i < 5; i++) {
    let updates: [tf.Variable, tf.Tensor][] = [];
    const { value, grads } = tf.variableGrads(() => {
      const r = student.forward(x, pe, true);
      updates = r.updates.map(([v, t]) => [v, tf.keep(t)]);
      return meanLoss(studentDistancePerPixel(zTarget, r.out, mask));
    }, [...student.params.trainable.values()]);
    studentLosses.push(value.dataSync()[0]);
    sOpt.apply(byName(student.params, grads));
    for (const [v, t] of updates) {
      v.assign(t);
      t.dispose();
    }
    tf.dispose([value, ...Object.values(grads)]);
  }
  const sr = assertClose(studentLosses, expected(f, "train.student_losses"), { atol: 0, rtol: 1e-3, what: "student losses" });
  console.log(`  student losses ${studentLosses.map((v) => v.toFixed(5))}; max rel err ${sr.maxRel.toExponential(2)}`);
  tOpt.dispose();
  sOpt.dispose();
  teacher.dispose();
  student.dispose();
  tf.dispose([x, mask, pe, zTarget]);
});

/** variableGrads keys gradients by variable name; map them back to parameter names. */
function byName(store: ParameterStore, grads: Record<string, tf.Tensor>): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, v] of store.trainable) if (grads[v.name]) out.set(name, grads[v.name]);
  return out;
}
