/**
 * Resumable checkpoints in safetensors: the parameters under their state-dict names (PyTorch
 * layout) plus the Adam moments under `adam.m.<name>` / `adam.v.<name>`, and the progress in
 * `__metadata__`. Written atomically, so an interruption never leaves a torn file.
 */
import * as tf from "@tensorflow/tfjs-core";
import { readSafetensors, type TensorToWrite, writeSafetensors } from "../io/safetensors.ts";
import type { ParameterStore } from "../models/parameters.ts";
import { loadStateDict, stateDict } from "../models/state_dict.ts";
import type { Adam } from "./adam.ts";

export interface CheckpointMeta {
  phase: string;
  /** epochs completed */
  epoch: number;
  adamStep: number;
  [k: string]: string | number;
}

function layoutForFile(v: tf.Tensor): tf.Tensor {
  return v.rank === 4 ? tf.transpose(v, [3, 2, 0, 1]) : v;
}

export async function saveCheckpoint(path: string, store: ParameterStore, adam: Adam | null, meta: CheckpointMeta): Promise<void> {
  const tensors: Map<string, TensorToWrite> = await stateDict(store);
  if (adam) {
    for (const [prefix, moments] of [["adam.m.", adam.m], ["adam.v.", adam.v]] as const) {
      for (const [name, v] of moments) {
        const t = layoutForFile(v);
        tensors.set(prefix + name, { shape: [...t.shape], data: Float32Array.from(await t.data() as Float32Array) });
        if (t !== v) t.dispose();
      }
    }
  }
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) metadata[k] = String(v);
  await writeSafetensors(path, tensors, metadata);
}

/** Restore parameters (and Adam state when given); returns the progress recorded. */
export async function loadCheckpoint(path: string, store: ParameterStore, adam: Adam | null): Promise<CheckpointMeta> {
  const file = await readSafetensors(path);
  const params = new Map([...file.tensors].filter(([n]) => !n.startsWith("adam.")));
  loadStateDict(store, params, path);
  const m = file.metadata;
  if (adam) {
    for (const [prefix, moments] of [["adam.m.", adam.m], ["adam.v.", adam.v]] as const) {
      for (const [name, v] of moments) {
        const e = file.tensors.get(prefix + name);
        if (!e) throw new Error(`${path}: checkpoint lacks optimiser state ${prefix + name}`);
        tf.tidy(() => {
          const t = tf.tensor(e.data, e.shape);
          v.assign(e.shape.length === 4 ? tf.transpose(t, [2, 3, 1, 0]) : t);
        });
      }
    }
    adam.step = Number(m.adamStep ?? 0);
  }
  return { ...m, phase: m.phase ?? "", epoch: Number(m.epoch ?? 0), adamStep: Number(m.adamStep ?? 0) };
}
