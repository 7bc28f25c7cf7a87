/**
 * The architecture, checked on the source (README "Layout" states the same rules): every relative
 * import of lib/**\/*.ts — static, type-only, re-exports and literal dynamic imports — against the
 * table of what each lib folder may import; no import cycles between files; lib never imports
 * tools/ or tests/; environment variables read in one module; entry points in lib/cli only; each
 * folder opens with a mod.ts that says what it holds and what it may import.
 */
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { assert, assertEquals } from "./assert.ts";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const LIB = join(ROOT, "lib");

/**
 * What each part of lib/ may import (besides itself and npm packages). Bottom to top: leaves,
 * then the method (ops -> models -> train), the inputs (data, preprocess, features), records,
 * then the run and what builds on it. `types.ts` is the shared leaf every part may import.
 */
export const MAY_IMPORT: Record<string, string[]> = {
  "types.ts": [],
  util: [],
  io: ["util"],
  metrics: ["util"],
  config: ["types.ts", "metrics", "util"],
  ops: ["util"],
  backend: ["ops", "config", "util"],
  data: ["types.ts", "io", "util"],
  preprocess: ["types.ts", "io"],
  features: ["types.ts", "preprocess", "ops", "io", "util"],
  models: ["types.ts", "ops", "config", "io", "util"],
  train: ["ops", "models", "config", "io", "util"],
  results: ["types.ts", "config", "metrics", "io", "util", "backend"],
  viz: ["metrics", "util"],
  run: ["types.ts", "config", "backend", "data", "preprocess", "features", "models", "train", "metrics", "results", "io", "viz", "util"],
  experiment: ["types.ts", "run", "results", "config", "data", "features", "util"],
  report: ["run", "experiment", "results", "data", "metrics", "viz", "io", "util"],
  toy: ["train", "util"],
  cli: ["*", "experiments"],
};

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...files(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.[^"']+)["']/gm;

/** Project-relative file -> project-relative files it imports (relative specifiers only). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files(LIB)) {
    const deps = [...Deno.readTextFileSync(file).matchAll(SPECIFIER)]
      .map((m) => resolve(dirname(file), m[1]))
      .filter((p) => p.endsWith(".ts") && !p.endsWith(".d.ts"))
      .map((p) => relative(ROOT, p));
    graph.set(relative(ROOT, file), [...new Set(deps)]);
  }
  return graph;
}

/** `lib/run/fit.ts` -> "run", `lib/types.ts` -> "types.ts", `experiments/x.ts` -> "experiments". */
function part(path: string): string {
  const [top, second] = path.split("/");
  return top === "lib" ? second : top;
}

/** Every cycle found by a depth-first search, each as the path that closes it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const dep of graph.get(node) ?? []) {
      if (state.get(dep) === "open") found.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (!state.has(dep)) visit(dep);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

const graph = importGraph();

Deno.test("architecture: every lib folder is in the rules table", () => {
  const parts = new Set([...graph.keys()].map(part));
  assertEquals([...parts].filter((p) => !(p in MAY_IMPORT)), []);
});

Deno.test("architecture: each lib folder imports only what the table allows", () => {
  const bad: string[] = [];
  for (const [file, deps] of graph) {
    const from = part(file), allowed = MAY_IMPORT[from] ?? [];
    for (const dep of deps) {
      const to = part(dep);
      if (to === from || to === "types.ts") continue; // the shared types leaf: every part may use it
      const ok = dep.startsWith("lib/") ? allowed.includes("*") || allowed.includes(to) : allowed.includes(to);
      if (!ok) bad.push(`${file} -> ${dep}`);
    }
  }
  assertEquals(bad, []);
});

Deno.test("architecture: models import ops, never backend; nothing in lib imports tools/ or tests/", () => {
  const edges = [...graph].flatMap(([f, deps]) => deps.map((d) => [f, d] as const));
  assertEquals(edges.filter(([f, d]) => f.startsWith("lib/models/") && d.startsWith("lib/backend/")), []);
  assertEquals(edges.filter(([, d]) => d.startsWith("tools/") || d.startsWith("tests/")), []);
  assert(edges.some(([f, d]) => f.startsWith("lib/models/") && d.startsWith("lib/ops/")), "models use the ops");
});

Deno.test("architecture: no import cycles between files (type-only imports included)", () => {
  assertEquals(cycles(graph).map((c) => c.join(" -> ")), []);
});

Deno.test("architecture: environment variables are read in lib/config/runtime.ts only; entry points live in lib/cli", () => {
  const reads: string[] = [], sets: string[] = [], mains: string[] = [];
  for (const file of files(LIB)) {
    const text = Deno.readTextFileSync(file), rel = relative(ROOT, file);
    if (/Deno\.env\.(get|has|toObject)|process\.env/.test(text)) reads.push(rel);
    // setting variables for native libraries that read them at load (OpenMP, OpenBLAS) is the backend's job
    if (/Deno\.env\.(set|delete)/.test(text) && !rel.startsWith("lib/backend/native/")) sets.push(rel);
    if (/import\.meta\.main/.test(text) && !rel.startsWith("lib/cli/")) mains.push(rel);
  }
  assertEquals(reads, ["lib/config/runtime.ts"]);
  assertEquals(sets, []);
  assertEquals(mains, []);
});

Deno.test("architecture: each lib folder opens with mod.ts saying what it holds and what it may import", () => {
  const missing: string[] = [];
  for (const e of Deno.readDirSync(LIB)) {
    if (!e.isDirectory) continue;
    const mod = join(LIB, e.name, "mod.ts");
    let text = "";
    try {
      text = Deno.readTextFileSync(mod);
    } catch {
      missing.push(`lib/${e.name}/mod.ts missing`);
      continue;
    }
    const doc = text.slice(0, text.indexOf("*/"));
    if (!doc.startsWith("/**") || !new RegExp(`lib/${e.name}\\b`).test(doc)) missing.push(`lib/${e.name}/mod.ts: no opening doc naming the folder`);
    if (!/may import|imports nothing/i.test(doc)) missing.push(`lib/${e.name}/mod.ts: doc does not say what it may import`);
  }
  assertEquals(missing, []);
});
