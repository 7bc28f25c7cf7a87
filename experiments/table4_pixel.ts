/**
 * Table 4: pixel AUROC, MVTec AD (RGB) and MVTec 3D-AD (RGB+3D). The same runs as Tables 2 and 3
 * (identical cells are reused from results/runs, not retrained).
 *   deno task experiment table4_pixel --scale demo
 */
import type { ExperimentDefinition } from "../lib/experiment/grid.ts";
import { GENERATED_PUCK, mvtec3d, mvtecAd, SHARED_GRID } from "./datasets.ts";
import { scaled } from "./scales.ts";

const only3dCombi = (refs: ReturnType<typeof mvtec3d>) => refs.map((r) => ({ ...r, modes: ["combi" as const] }));

const table4: ExperimentDefinition = {
  name: "table4_pixel",
  title: "Pixel AUROC",
  paper: "Table 4",
  description: "Localisation: pixel AUROC of the upsampled student-teacher distance maps.",
  metric: "pixel_auroc",
  scales: scaled({
    modes: ["rgb", "combi"],
    variants: [{ name: "ast" }],
    datasets: {
      paper: [...mvtecAd(), ...only3dCombi(mvtec3d())],
      cpu: [...mvtecAd(), ...only3dCombi(mvtec3d())],
      demo: [SHARED_GRID, GENERATED_PUCK],
    },
  }),
};
export default table4;
