/** Every experiment definition by name (`deno task experiment NAME`). */
import type { ExperimentDefinition } from "../lib/experiment/grid.ts";
import table2 from "./table2_mvtec_ad.ts";
import table3 from "./table3_mvtec3d.ts";
import table4 from "./table4_pixel.ts";
import table5 from "./table5_students.ts";
import table6 from "./table6_student_depth.ts";
import table7 from "./table7_posenc_mask.ts";

export const EXPERIMENTS: Record<string, ExperimentDefinition> = Object.fromEntries(
  [table2, table3, table4, table5, table6, table7].map((d) => [d.name, d]),
);

/** The experiment of that exact name (the command line also takes a unique prefix: lib/cli/experiment_names.ts). */
export function experiment(name: string): ExperimentDefinition {
  const d = EXPERIMENTS[name];
  if (!d) throw new Error(`unknown experiment '${name}' (have: ${Object.keys(EXPERIMENTS).join(", ")})`);
  return d;
}
