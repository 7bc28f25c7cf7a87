/**
 * Exchange parameters with the official implementation's state dicts (safetensors, PyTorch
 * layout). Conv kernels are OIHW on disk and HWIO in memory; everything else is unchanged.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { NamedArray, TensorToWrite } from "../io/safetensors.ts";
import type { ParameterStore } from "./parameters.ts";

/** Names the reference stores that carry no information for us. */
const IGNORED = [/\.num_batches_tracked$/, /^net\.gamma$/];

function toMemoryLayout(a: NamedArray): tf.Tensor {
  const t = tf.tensor(a.data, a.shape, a.dtype === "I32" ? "int32" : "float32");
  if (a.shape.length !== 4) return t;
  const hwio = tf.transpose(t, [2, 3, 1, 0]);
  t.dispose();
  return hwio;
}

/**
 * Assign every parameter of `store` from `tensors` (strict: a missing, unexpected or
 * wrongly-shaped entry is an error naming it and `source`).
 */
export function loadStateDict(store: ParameterStore, tensors: Map<string, NamedArray>, source = "state dict"): void {
  const expected = new Set(store.entries().map(([n]) => n));
  const unexpected = [...tensors.keys()].filter((n) => !expected.has(n) && !IGNORED.some((r) => r.test(n)));
  if (unexpected.length) throw new Error(`${source}: unexpected parameters ${unexpected.slice(0, 5).join(", ")}${unexpected.length > 5 ? " ..." : ""}`);
  for (const [name, variable] of store.entries()) {
    const entry = tensors.get(name);
    if (!entry) throw new Error(`${source}: missing parameter ${name}`);
    const value = toMemoryLayout(entry);
    if (value.shape.join() !== variable.shape.join()) {
      value.dispose();
      throw new Error(`${source}: parameter ${name} has shape [${entry.shape}] (PyTorch layout), model expects [${variable.shape}] (tfjs layout)`);
    }
    if (value.dtype !== variable.dtype) {
      value.dispose();
      throw new Error(`${source}: parameter ${name} has dtype ${entry.dtype}, model expects ${variable.dtype}`);
    }
    variable.assign(value);
    value.dispose();
  }
}

/** The store as a PyTorch-layout state dict, ready for writeSafetensors. */
export async function stateDict(store: ParameterStore): Promise<Map<string, TensorToWrite>> {
  const out = new Map<string, TensorToWrite>();
  for (const [name, v] of store.entries()) {
    const t = v.rank === 4 ? tf.transpose(v, [3, 2, 0, 1]) : v;
    const data = await t.data();
    const shape = [...t.shape];
    if (t !== v) t.dispose();
    out.set(name, {
      shape,
      data: v.dtype === "int32" ? Int32Array.from(data as Int32Array) : Float32Array.from(data as Float32Array),
    });
  }
  return out;
}
