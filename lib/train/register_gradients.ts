/**
 * tfjs-core's bundle registers no gradients and its ESM `register_all_gradients` does not load
 * in Deno (extensionless imports); the union package's Node bundle registers them all on the
 * same tfjs-core instance. Anything that trains imports this once.
 */
import "@tensorflow/tfjs";
