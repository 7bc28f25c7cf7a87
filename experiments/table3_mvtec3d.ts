/**
 * Table 3: image AUROC on MVTec 3D-AD with depth only (3D), RGB only, and both (RGB+3D).
 *   deno task experiment table3_mvtec3d --scale demo
 */
import type { ExperimentDefinition } from "../lib/experiment/grid.ts";
import { GENERATED_PUCK, mvtec3d } from "./datasets.ts";
import { scaled } from "./scales.ts";

const table3: ExperimentDefinition = {
  name: "table3_mvtec3d",
  title: "MVTec 3D-AD image AUROC: 3D, RGB, RGB+3D",
  paper: "Table 3",
  description: "AST per class and input mode; the foreground mask is used wherever depth is.",
  scales: scaled({
    modes: ["depth", "rgb", "combi"],
    variants: [{ name: "ast" }],
    datasets: { paper: mvtec3d(), cpu: mvtec3d(), demo: [GENERATED_PUCK] },
  }),
};
export default table3;
