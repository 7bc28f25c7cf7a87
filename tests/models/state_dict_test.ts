import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { parseSafetensors, serializeSafetensors } from "../../lib/io/safetensors.ts";
import { loadStateDict, stateDict } from "../../lib/models/state_dict.ts";
import { AsymmetricStudent } from "../../lib/models/student.ts";
import { TeacherFlow } from "../../lib/models/teacher_flow.ts";
import { assertEquals, assertThrows } from "../assert.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const flowCfg = { channels: 10, hidden: 6, nBlocks: 2, kernelSizes: [3, 5], clamp: 1.9, posEncDim: 8 };

Deno.test({ name: "state dict: save in PyTorch layout, load into another model, same outputs", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const a = TeacherFlow.create(flowCfg, 1), b = TeacherFlow.create(flowCfg, 2);
  // give gamma non-zero values so the flow is not the identity
  for (const [name, v] of a.params.trainable) if (name.endsWith("gamma")) v.assign(tf.fill([1], 0.7));
  const bytes = serializeSafetensors(await stateDict(a.params));
  const file = parseSafetensors(bytes);
  assertEquals(file.tensors.get("net.module_list.5.s2.conv1.weight")!.shape, [6, 5 + 8, 5, 5]); // OIHW
  assertEquals(file.tensors.get("net.module_list.2.perm")!.dtype, "I32");
  loadStateDict(b.params, file.tensors, "a.safetensors");
  const x = tf.randomNormal([2, 4, 4, 10], 0, 1, "float32", 3) as tf.Tensor4D;
  const pe = tf.randomNormal([4, 4, 8], 0, 1, "float32", 4) as tf.Tensor3D;
  assertEquals(b.forward(x, pe).z.dataSync(), a.forward(x, pe).z.dataSync());
  a.dispose();
  b.dispose();
} });

Deno.test({ name: "state dict: missing, unexpected and wrongly shaped entries name the parameter", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const s = AsymmetricStudent.create({ channels: 4, hidden: 6, nBlocks: 1, leakySlope: 0.01, posEncDim: 4 }, 0);
  const good = parseSafetensors(serializeSafetensors(await stateDict(s.params))).tensors;
  const without = new Map(good);
  without.delete("net.res.0.bn1.running_var");
  assertThrows(() => loadStateDict(s.params, without, "x.safetensors"), /x.safetensors: missing parameter net.res.0.bn1.running_var/);
  const extra = new Map(good).set("net.res.1.l1.bias", good.get("net.conv1.bias")!);
  assertThrows(() => loadStateDict(s.params, extra, "x.safetensors"), /unexpected parameters net.res.1.l1.bias/);
  const wrong = new Map(good).set("net.conv2.bias", { dtype: "F32", shape: [5], data: new Float32Array(5) });
  assertThrows(() => loadStateDict(s.params, wrong, "x.safetensors"), /net.conv2.bias has shape \[5\]/);
  // the reference's unused net.gamma and num_batches_tracked are accepted and ignored
  const ref = new Map(good).set("net.gamma", { dtype: "F32", shape: [1], data: new Float32Array(1) });
  loadStateDict(s.params, ref, "ref.safetensors");
  s.dispose();
} });
