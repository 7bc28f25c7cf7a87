/** Conformance tests run on the backend under test (AST_TEST_BACKEND, default cpu). */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";

export async function initConformanceBackend(): Promise<void> {
  const want = Deno.env.get("AST_TEST_BACKEND") ?? "cpu";
  if (tf.getBackend() !== want) {
    await tf.setBackend(want);
    await tf.ready();
  }
}
