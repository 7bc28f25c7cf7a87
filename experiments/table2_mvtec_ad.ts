/**
 * Table 2: image AUROC on MVTec AD (RGB, 15 classes), the paper's main 2D result (mean 99.2).
 *   deno task experiment table2_mvtec_ad --scale demo
 * demo: the real MVTec AD grid subset (shared data, when present) and the generated puck's RGB.
 */
import type { ExperimentDefinition } from "../lib/experiment/grid.ts";
import { GENERATED_PUCK, mvtecAd, SHARED_GRID } from "./datasets.ts";
import { scaled } from "./scales.ts";

const table2: ExperimentDefinition = {
  name: "table2_mvtec_ad",
  title: "MVTec AD image AUROC",
  paper: "Table 2",
  description: "AST on every MVTec AD class, RGB features (EfficientNet-B5 at paper scale).",
  scales: scaled({
    modes: ["rgb"],
    variants: [{ name: "ast" }],
    datasets: { paper: mvtecAd(), cpu: mvtecAd(), demo: [SHARED_GRID, GENERATED_PUCK] },
  }),
};
export default table2;
