/** A tiny experiment definition on a tiny dataset, and a pid no process has, for the grid and lock tests. */
import type { ExperimentDefinition, Variant } from "../../lib/experiment/grid.ts";

/** Network sizes that train in a fraction of a second. */
export const TINY_CONFIG = { mapLen: 8, teacher: { hidden: 8 }, student: { hidden: 8, nBlocks: 1 } };

/** One depth grid on `root`'s `puck`, the same at every scale, 1 epoch. */
export function tinyGrid(root: string, variants: Variant[] = [{ name: "a", config: TINY_CONFIG }], seeds = [0]): ExperimentDefinition {
  const spec = {
    preset: "demo" as const,
    datasets: [{ data: root, className: "puck" }],
    modes: ["depth" as const],
    variants,
    seeds,
    epochs: 1,
  };
  return { name: "tiny", title: "tiny", paper: "none", description: "test", scales: { demo: spec, cpu: spec, paper: spec } };
}

/** The pid of a process that has ended. */
export async function deadPid(): Promise<number> {
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", "0"], stdout: "null", stderr: "null" }).spawn();
  await child.status;
  return child.pid;
}
