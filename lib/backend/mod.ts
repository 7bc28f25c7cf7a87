/**
 * lib/backend: the tfjs backend choice and the kernel implementations behind lib/ops (js/, wasm/,
 * native/; see backend.ts for the details). Entry points initialise it once with the runtime's
 * BackendOptions; library code never picks a backend itself.
 * May import: lib/ops (kernel names, gradient registration), lib/config (BackendOptions), lib/util.
 */
export { type BackendInfo, backendInfo, type BackendName, type BackendOptions, initBackend } from "./backend.ts";
export { convolutionPrecisionReport, type PrecisionChoice, setConvolutionPrecision } from "./precision.ts";
