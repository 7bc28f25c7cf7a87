/**
 * The import rules of lib/ (lib/ops/mod.ts, lib/backend/backend.ts), checked on the source: every
 * relative import of lib/**\/*.ts (static, type-only, re-exports and literal dynamic imports):
 *   - no cycles;
 *   - lib/ops imports nothing from lib/backend;
 *   - models, features and training import lib/backend only to initialise it (backend.ts).
 */
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { assertEquals } from "../assert.ts";

const LIB = resolve(fileURLToPath(new URL("../../lib", import.meta.url)));

function libFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...libFiles(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
  }
  return out.sort();
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["'](\.[^"']+)["']/gm;

/** lib-relative path -> lib-relative paths it imports (relative specifiers into lib only). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of libFiles(LIB)) {
    const text = Deno.readTextFileSync(file);
    const deps = [...text.matchAll(SPECIFIER)]
      .map((m) => resolve(dirname(file), m[1]))
      .filter((p) => p.startsWith(LIB + "/") && p.endsWith(".ts") && !p.endsWith(".d.ts"))
      .map((p) => relative(LIB, p));
    graph.set(relative(LIB, file), [...new Set(deps)]);
  }
  return graph;
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

Deno.test("lib/: no import cycles (type-only imports included)", () => {
  const graph = importGraph();
  assertEquals(cycles(graph).map((c) => c.join(" -> ")), []);
});

Deno.test("lib/ops imports nothing from lib/backend", () => {
  const bad = [...importGraph()].filter(([f]) => f.startsWith("ops/")).flatMap(([f, deps]) =>
    deps.filter((d) => d.startsWith("backend/")).map((d) => `${f} -> ${d}`)
  );
  assertEquals(bad, []);
});

Deno.test("models, features and training import lib/backend only to initialise it (backend.ts)", () => {
  const bad = [...importGraph()]
    .filter(([f]) => /^(models|features|train)\//.test(f))
    .flatMap(([f, deps]) => deps.filter((d) => d.startsWith("backend/") && d !== "backend/backend.ts").map((d) => `${f} -> ${d}`));
  assertEquals(bad, []);
});
