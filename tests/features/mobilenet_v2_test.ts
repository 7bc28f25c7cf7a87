/**
 * MobileNetV2 features: the folded tfjs-core graph equals the Keras model run by tfjs-layers
 * (the reference semantics), extraction shape and determinism, preprocessing. Needs the shared
 * weights (skipped without).
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs";
import { initBackend } from "../../lib/backend/backend.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { MOBILENET_V2_DEFAULT_LAYER, mobileNetV2Backbone } from "../../lib/features/mobilenet_v2.ts";
import { compileFoldedGraph } from "../../lib/features/folded_graph.ts";
import { functionalGraphContaining, readLayersModelFolder } from "../../lib/features/tfjs_layers_model.ts";
import { measureExtraction } from "../../tools/bench/measure_extraction.ts";
import { readImage } from "../../lib/io/images.ts";
import { assert, assertClose, assertEquals, assertRejects } from "../assert.ts";
import { needsShared, sharedPath } from "../_shared.ts";

const opts = { sanitizeOps: false, sanitizeResources: false, ignore: needsShared() };
const dir = () => sharedPath("weights", "mobilenet_v2_0.35_224");

/** The shared model through tfjs-layers, input shape relaxed to any size (reference). */
async function kerasReference(layer: string) {
  const json = JSON.parse(await Deno.readTextFile(`${dir()}/model.json`));
  json.modelTopology.config.layers[0].config.layers[0].config.layers[0].config.batch_input_shape = [null, null, null, 3];
  const bin = await Deno.readFile(`${dir()}/weights.bin`);
  const handler = {
    load: () => Promise.resolve({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: bin.buffer }),
  };
  const full = await tfl.loadLayersModel(handler as unknown as tfl.io.IOHandler); // strict: every weight must load
  const base = (full.layers[0] as tfl.Sequential).layers[0] as tfl.LayersModel;
  return tfl.model({ inputs: base.inputs, outputs: base.getLayer(layer).output as tfl.SymbolicTensor });
}

Deno.test({ name: "mobilenet_v2: folded graph = Keras layers model at several cut points and sizes", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const folder = await readLayersModelFolder(dir());
  for (const [layer, stride, channels] of [["block_2_add", 4, 8], ["block_6_expand_relu", 8, 96], [MOBILENET_V2_DEFAULT_LAYER, 16, 32], ["block_13_expand_relu", 16, 192], ["out_relu", 32, 1280]] as const) {
    const ref = await kerasReference(layer);
    const g = compileFoldedGraph(functionalGraphContaining(folder.topology, layer), folder.weights, layer);
    assertEquals([g.stride, g.channels], [stride, channels]);
    for (const size of [96, 160]) {
      const x = tf.randomUniform([1, size, size, 3], -1, 1, "float32", size) as tf.Tensor4D;
      const a = ref.predict(x) as tf.Tensor, b = g.run(x);
      assertEquals(b.shape, [1, size / stride, size / stride, channels]);
      const scale = tf.max(tf.abs(a)).dataSync()[0];
      assertClose(await b.data(), await a.data(), { atol: 1e-5 * Math.max(1, scale), rtol: 1e-4, what: `${layer} @${size}` });
      tf.dispose([x, a, b]);
    }
    g.dispose();
  }
} });

Deno.test({ name: "mobilenet_v2: extraction shape, determinism, no leaks; heads and unknown layers", ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const bb = await mobileNetV2Backbone(dir());
  try {
    assertEquals([bb.name, bb.layer, bb.channels, bb.stride, bb.inputSize!(16)], ["mobilenet_v2", "block_12_add", 32, 16, 256]);
    const image = await readImage(sharedPath("data", "mvtec_ad_grid_subset", "test", "good", "000.png"), { toRgb: true });
    const before = tf.memory().numTensors;
    const a = await bb.extract(image, 16);
    const b = await bb.extract(image, 16);
    assertEquals(tf.memory().numTensors, before);
    assertEquals(a.length, 16 * 16 * 32);
    assertEquals(a, b);
    assert(a.every(Number.isFinite) && a.some((v) => v < -0.1) && a.some((v) => v > 0.1), "linear block output, both signs");
    assertEquals((await bb.extract(image, 24)).length, 24 * 24 * 32);
    const relu = await mobileNetV2Backbone(dir(), { layer: "block_13_expand_relu" });
    const r = await relu.extract(image, 16);
    relu.dispose?.();
    assert(r.length === 16 * 16 * 192 && r.every((v) => v >= 0 && v <= 6), "ReLU6 range");
    assert((await measureExtraction(bb, 4, 2)) > 0);
  } finally {
    bb.dispose?.();
  }
  await assertRejects(() => mobileNetV2Backbone(dir(), { layer: "dense_Dense3" }), /no layer named 'dense_Dense3'/);
  await assertRejects(() => mobileNetV2Backbone("/nope"), /\/nope\/model.json: file not found/);
} });
