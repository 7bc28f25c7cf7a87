/**
 * lib/config: what a run computes (`AstConfig`: presets, patches, one resolver) and how this
 * machine runs it (`RuntimeOptions`, the only reader of environment variables in lib/).
 * May import: lib/types.ts, lib/metrics (threshold rules). Imported by everything that runs.
 */
export { type AdamConfig, type AstConfig, validateConfig, withDefaults } from "./ast_config.ts";
export { presetConfig } from "./presets.ts";
export { applyPatch, ConfigError, type ConfigPatch, patchFromSets } from "./patch.ts";
export { type ConfigFlags, type ConfigRequest, loadExperimentFile, resolveConfig } from "./resolve.ts";
export { type BackendOptions, DEFAULT_RUNTIME, type RuntimeOptions, runtimeFromEnv } from "./runtime.ts";
