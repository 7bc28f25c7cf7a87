/**
 * Reads a TensorFlow.js layers model folder (`model.json` + weight shards) without tfjs-layers:
 * the Keras topology as a flat list of graph nodes plus the weights by name. Nested
 * Sequential/Functional containers (e.g. a base network followed by a classifier head) are
 * searched for the functional model that holds a wanted layer, so heads are never loaded.
 */
import { dirname, join } from "node:path";

export interface KerasNode {
  className: string;
  name: string;
  config: Record<string, unknown>;
  /** names of the layers feeding this one (first call only: no shared layers here) */
  inputs: string[];
}

export interface LayersModelFolder {
  /** the raw `modelTopology` of model.json */
  topology: Record<string, unknown>;
  weights: Map<string, { shape: number[]; data: Float32Array }>;
  /** model.json and the shard files, absolute */
  files: string[];
}

export class LayersModelError extends Error {}

interface WeightGroup {
  paths: string[];
  weights: { name: string; shape: number[]; dtype: string; quantization?: unknown }[];
}

/** Reads model.json and its weight shards (float32 only). Errors name the file. */
export async function readLayersModelFolder(dir: string): Promise<LayersModelFolder> {
  const jsonPath = join(dir, "model.json");
  let json: { modelTopology?: Record<string, unknown>; weightsManifest?: WeightGroup[] };
  try {
    json = JSON.parse(await Deno.readTextFile(jsonPath));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new LayersModelError(`${jsonPath}: file not found`);
    throw new LayersModelError(`${jsonPath}: not a tfjs model.json (${(e as Error).message.split("\n")[0]})`);
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new LayersModelError(`${jsonPath}: no modelTopology / weightsManifest (not a tfjs layers model)`);
  }
  const files = [jsonPath];
  const weights = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const group of json.weightsManifest) {
    // Shards of a group are one byte stream split into files.
    const parts: Uint8Array[] = [];
    for (const p of group.paths) {
      const shard = join(dirname(jsonPath), p);
      files.push(shard);
      try {
        parts.push(await Deno.readFile(shard));
      } catch (e) {
        throw new LayersModelError(`${shard}: cannot read weight shard (${(e as Error).message.split("\n")[0]})`);
      }
    }
    const total = parts.reduce((a, b) => a + b.length, 0);
    const bytes = new Uint8Array(total);
    let o = 0;
    for (const part of parts) {
      bytes.set(part, o);
      o += part.length;
    }
    const view = new DataView(bytes.buffer);
    let offset = 0;
    for (const w of group.weights) {
      if (w.dtype !== "float32" || w.quantization) {
        throw new LayersModelError(`${jsonPath}: weight ${w.name} is ${w.quantization ? "quantized " : ""}${w.dtype}; only float32 is supported`);
      }
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (offset + 4 * n > total) throw new LayersModelError(`${group.paths.join(", ")}: truncated (weight ${w.name} ends past the data)`);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = view.getFloat32(offset + 4 * i, true);
      weights.set(w.name, { shape: [...w.shape], data });
      offset += 4 * n;
    }
    if (offset !== total) throw new LayersModelError(`${group.paths.join(", ")}: ${total} bytes, manifest describes ${offset}`);
  }
  return { topology: json.modelTopology, weights, files };
}

interface LayerJson {
  class_name: string;
  name?: string;
  config: Record<string, unknown> & { name?: string; layers?: LayerJson[] };
  inbound_nodes?: unknown[];
}

/**
 * The nodes of the functional model (Keras `Model`/`Functional`, possibly nested in
 * Sequentials) that contains a layer named `layerName`.
 */
export function functionalGraphContaining(topology: Record<string, unknown>, layerName: string): KerasNode[] {
  const root = ((topology as { model_config?: LayerJson }).model_config ?? topology) as unknown as LayerJson;
  const found = search(root);
  if (!found) throw new LayersModelError(`no layer named '${layerName}' in the model`);
  return found.map(toNode);

  function search(l: LayerJson): LayerJson[] | null {
    const layers = l.config?.layers;
    if (!Array.isArray(layers)) return null;
    const functional = l.class_name === "Model" || l.class_name === "Functional";
    if (functional && layers.some((c) => (c.config?.name ?? c.name) === layerName)) return layers;
    for (const c of layers) {
      const r = search(c);
      if (r) return r;
    }
    return null;
  }
}

function toNode(l: LayerJson): KerasNode {
  const name = (l.config.name ?? l.name)!;
  const nodes = (l.inbound_nodes ?? []) as unknown[][];
  if (nodes.length > 1) throw new LayersModelError(`layer ${name} is called ${nodes.length} times (shared layers are not supported)`);
  // Keras 2 format: [[[inboundName, nodeIndex, tensorIndex, kwargs], ...]]
  const inputs = nodes.length ? (nodes[0] as unknown[][]).map((e) => String(e[0])) : [];
  return { className: l.class_name, name, config: l.config, inputs };
}
