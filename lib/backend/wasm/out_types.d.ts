// Types for the CommonJS files under @tensorflow/tfjs-backend-wasm/wasm-out imported by
// threads.ts: treated as opaque, narrowed where used.
declare const moduleExports: unknown;
export default moduleExports;
