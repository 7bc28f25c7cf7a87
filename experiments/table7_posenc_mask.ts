/**
 * Table 7: positional encoding and foreground mask, for the teacher (NLL) and AST. The mask only
 * exists where there is depth, so RGB varies the positional encoding alone.
 *   deno task experiment table7_posenc_mask --scale demo
 */
import type { ExperimentDefinition, Variant } from "../lib/experiment/grid.ts";
import { GENERATED_PUCK, mvtec3d } from "./datasets.ts";
import { scaled } from "./scales.ts";

const variant = (posEnc: boolean, mask: boolean, modes: Variant["modes"]): Variant => ({
  name: `pos_enc=${posEnc ? "yes" : "no"},mask=${mask ? "yes" : "no"}`,
  config: { posEnc, trainMask: mask, evalMask: mask },
  modes,
});

const table7: ExperimentDefinition = {
  name: "table7_posenc_mask",
  title: "Positional encoding and foreground mask",
  paper: "Table 7",
  description: "Ablation of the positional encoding and of the foreground mask (teacher and AST).",
  // AST as the paper runs it: both where there is depth; RGB has no mask
  reference: { depth: "pos_enc=yes,mask=yes", combi: "pos_enc=yes,mask=yes", rgb: "pos_enc=yes,mask=no" },
  teacherRows: "every-variant",
  scales: scaled({
    modes: ["depth", "rgb", "combi"],
    variants: [
      variant(false, true, ["depth", "combi"]),
      variant(true, false, ["depth", "combi"]),
      variant(true, true, ["depth", "combi"]),
      variant(false, false, ["rgb"]),
      variant(true, false, ["rgb"]),
    ],
    datasets: { paper: mvtec3d(), cpu: mvtec3d(), demo: [GENERATED_PUCK] },
  }),
};
export default table7;
