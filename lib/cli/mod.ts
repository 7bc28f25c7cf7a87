/**
 * lib/cli: every command-line entry point of the library, and the only modules in lib/ with
 * `import.meta.main` — `deno task ast` (ast.ts: run, score, extract), `deno task demo`,
 * `deno task experiment`, `deno task generate`, the weights download and the dataset download
 * (`deno task data`, data.ts). Each reads the environment once (`runtimeFromEnv`) and passes the
 * runtime options down.
 * May import: anything in lib/, and experiments/ (the grid definitions). Tooling is in tools/.
 */
export { main as astMain } from "./ast.ts";
export { demo } from "./demo.ts";
export { main as experimentMain } from "./experiment.ts";
