/**
 * A change to a config, the one shape every source of changes takes: an experiment file, a
 * `--set key=value`, a command-line flag, a grid variant. Top-level keys; nested objects
 * (teacher, student, adam, preprocess) are merged one level. Every key must exist in the config
 * and every value must keep the type of the field it replaces.
 */
import { type AstConfig, NULLABLE_FIELDS, OPTIONAL_FIELDS } from "./ast_config.ts";

export type ConfigPatch = {
  [K in keyof AstConfig]?: AstConfig[K] extends unknown[] ? AstConfig[K]
    : AstConfig[K] extends object ? Partial<AstConfig[K]>
    : AstConfig[K];
};

export class ConfigError extends Error {}

const kindOf = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);
const isPlainObject = (v: unknown): v is Record<string, unknown> => kindOf(v) === "object";

/** What an array's elements are ("number", ...), or null when it has none to tell. */
const elementKind = (a: unknown[]) => (a.length ? kindOf(a[0]) : null);

/** The type a value must have to replace `current` at `key`; null where the field allows it. */
function typeMismatch(key: string, current: unknown, value: unknown): string | null {
  const want = kindOf(current), got = kindOf(value);
  // JSON gives 1e400 as Infinity: no config number means that
  if (got === "number" && !Number.isFinite(value)) return `'${key}' must be a finite number, got ${value}`;
  if (want === "array" && got === "array") {
    // an array field keeps its element type (teacher.kernelSizes: numbers), element by element
    const each = elementKind(current as unknown[]) ?? "number";
    const i = (value as unknown[]).findIndex((v) => kindOf(v) !== each || (each === "number" && !Number.isFinite(v)));
    return i < 0 ? null : `'${key}' must be an array of ${each}s, got ${JSON.stringify((value as unknown[])[i])} at index ${i}`;
  }
  if (want === got) return null;
  if (NULLABLE_FIELDS.has(key) && (got === "null" || got === "string") && (want === "null" || want === "string")) return null;
  return `'${key}' must be ${want === "null" ? "string or null" : want}, got ${got}`;
}

/**
 * The config with `patch` applied; `source` names where the patch came from in errors
 * (e.g. `--config experiments/x.ts`, `variant nf-student`).
 */
export function applyPatch(config: AstConfig, patch: ConfigPatch | Record<string, unknown>, source = "config"): AstConfig {
  const out = structuredClone(config) as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const optional = OPTIONAL_FIELDS.get(key);
    if (optional) {
      // absent at its default: `precision: "fp32"` leaves no key (validateConfig checks the others)
      if (kindOf(value) !== optional.kind) throw new ConfigError(`${source}: '${key}' must be ${optional.kind}, got ${kindOf(value)}`);
      if (value === optional.absentAs) delete out[key];
      else out[key] = value;
      continue;
    }
    if (!(key in out)) throw new ConfigError(`${source}: unknown config key '${key}'`);
    const current = out[key];
    if (isPlainObject(current) && isPlainObject(value)) {
      const nested = { ...current };
      for (const [sub, v] of Object.entries(value)) {
        if (v === undefined) continue;
        if (!(sub in nested)) throw new ConfigError(`${source}: unknown config key '${key}.${sub}'`);
        const bad = typeMismatch(`${key}.${sub}`, nested[sub], v);
        if (bad) throw new ConfigError(`${source}: ${bad}`);
        nested[sub] = structuredClone(v);
      }
      out[key] = nested;
    } else {
      const bad = typeMismatch(key, current, value);
      if (bad) throw new ConfigError(`${source}: ${bad}`);
      out[key] = structuredClone(value);
    }
  }
  return out as unknown as AstConfig;
}

/**
 * `--set key=value` arguments (dotted paths, e.g. `student.hidden=256`) as one patch, checked
 * against `config`. Values are parsed as JSON where possible, else taken as strings.
 */
export function patchFromSets(config: AstConfig, sets: string[]): ConfigPatch {
  const patch: Record<string, unknown> = {};
  for (const s of sets) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--set expects key=value, got '${s}'`);
    const path = s.slice(0, eq).split(".");
    const raw = s.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    const name = path.join(".");
    // deno-lint-ignore no-explicit-any
    let current: any = config;
    for (const k of path.slice(0, -1)) {
      if (!isPlainObject(current[k])) throw new ConfigError(`--set ${s}: unknown config key '${name}'`);
      current = current[k];
    }
    const last = path[path.length - 1];
    if (path.length === 1 && OPTIONAL_FIELDS.has(last)) {
      patch[last] = typeof value === "string" ? value : raw; // applyPatch normalises, validateConfig checks
      continue;
    }
    if (path.length > 2 || !(last in current)) throw new ConfigError(`--set ${s}: unknown config key '${name}'`);
    // a string field takes the text as written (--set layer=12 names a layer, not a number)
    const textField = typeof current[last] === "string" || NULLABLE_FIELDS.has(name);
    if (textField && typeof value !== "string" && !(value === null && NULLABLE_FIELDS.has(name))) value = raw;
    const bad = typeMismatch(name, current[last], value);
    if (bad) throw new ConfigError(`--set ${s}: ${bad}`);
    if (path.length === 1) patch[last] = value;
    else patch[path[0]] = { ...(patch[path[0]] as object ?? {}), [last]: value };
  }
  return patch as ConfigPatch;
}
