/**
 * The one path to an effective config: the preset for the dataset layout and mode, then the
 * patches in a fixed order — experiment file, `--set`, command-line flags, grid variant — then
 * the cell's own mode and seed, then validation. The CLI, experiment grids, the bench and
 * notebooks all come through `resolveConfig`.
 */
import { resolve as resolvePath } from "node:path";
import type { DatasetLayout, Mode, PresetName } from "../types.ts";
import { PRESETS } from "../types.ts";
import { type AstConfig, validateConfig } from "./ast_config.ts";
import { applyPatch, ConfigError, type ConfigPatch, patchFromSets } from "./patch.ts";
import { presetConfig } from "./presets.ts";
import { untrustedCodeProblem } from "../util/trusted_code.ts";

/** Command-line flags that change the config. */
export interface ConfigFlags {
  /** --backbone, --layer, --weights: a chosen backbone is never substituted */
  backbone?: string;
  layer?: string;
  weights?: string;
  seed?: number;
  /** --epochs: the teacher's and the student's, each */
  epochs?: number;
}

export interface ConfigRequest {
  preset?: PresetName;
  mode: Mode;
  layout: DatasetLayout;
  /** an experiment file's patch (loadExperimentFile), with the file's name for errors */
  file?: { path: string; patch: ConfigPatch };
  /** `--set key=value` */
  sets?: string[];
  flags?: ConfigFlags;
  /** a grid variant; it cannot change the cell's mode or seed */
  variant?: { name: string; patch: ConfigPatch };
}

/** The effective config of a run (see the module comment for the order). */
export function resolveConfig(r: ConfigRequest): AstConfig {
  const preset = r.preset ?? "demo";
  if (!PRESETS.includes(preset)) throw new ConfigError(`--preset must be one of ${PRESETS.join(", ")}, got '${preset}'`);
  const presetDefault = presetConfig(preset, r.mode, r.layout);
  let cfg = presetDefault;
  if (r.file) cfg = applyPatch(cfg, r.file.patch, `--config ${r.file.path}`);
  cfg = applyPatch(cfg, patchFromSets(cfg, r.sets ?? []), "--set");
  const f = r.flags ?? {};
  cfg = applyPatch(cfg, {
    mode: r.mode,
    backbone: f.backbone,
    layer: f.layer,
    weights: f.weights,
    seed: f.seed,
    ...(f.epochs !== undefined ? { teacher: { epochs: f.epochs }, student: { epochs: f.epochs } } : {}),
  }, "flags");
  if (r.variant) cfg = applyPatch(cfg, r.variant.patch, `variant ${r.variant.name}`);
  cfg = applyPatch(cfg, { mode: r.mode, ...(f.seed !== undefined ? { seed: f.seed } : {}) }, "cell");
  const chosen = !!(f.backbone || f.layer || f.weights) || cfg.backbone !== presetDefault.backbone || cfg.layer !== null || cfg.weights !== null;
  if (chosen) cfg.backboneFallback = false;
  validateConfig(cfg);
  return cfg;
}

/** An experiment file: JSON, or a TS module whose default export (or `config`) is a patch. */
export async function loadExperimentFile(path: string): Promise<{ path: string; patch: ConfigPatch }> {
  const fail = (problem: string) => new ConfigError(`--config ${path}: ${problem}`);
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch {
    throw fail("file not found");
  }
  if (info.isDirectory) throw fail("is a folder, expected a .ts or .json file");
  let patch: unknown;
  if (path.endsWith(".json")) {
    try {
      patch = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      throw fail(`cannot read JSON (${firstLine(e)})`);
    }
    if (!isPatchObject(patch)) throw fail(`expected a JSON object (a config patch), got ${describe(patch)}`);
    return { path, patch };
  }
  const unsafe = untrustedCodeProblem(path);
  if (unsafe) throw fail(`refusing to run it: ${unsafe}; code is loaded only from places you alone can change`);
  let mod: Record<string, unknown>;
  try {
    mod = await import(new URL(`file://${resolvePath(path)}`).href);
  } catch (e) {
    // Deno reports a parse error as a TypeError whose message starts "SyntaxError: ...": say that one
    const msg = firstLine(e);
    throw fail(`cannot load: ${/^[A-Z]\w*Error: /.test(msg) ? msg : `${(e as Error)?.name ?? "Error"}: ${msg}`}`);
  }
  patch = "default" in mod ? mod.default : mod.config;
  if (patch === undefined) throw fail("no default export (or `config`) with a config object");
  if (!isPatchObject(patch)) throw fail(`the default export must be a config object (a patch), got ${describe(patch)}`);
  return { path, patch };
}

const isPatchObject = (v: unknown): v is ConfigPatch => typeof v === "object" && v !== null && !Array.isArray(v);
const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);
const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split("\n")[0];
