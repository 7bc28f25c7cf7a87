/**
 * Table 7: positional encoding and foreground mask, for the teacher (NLL) and AST. The mask only
 * exists where there is depth, so RGB varies the positional encoding alone.
 * Demo scale: the `posenc` testbed varies the positional encoding, the `fgmask` testbed the
 * foreground mask (docs/testbeds.md), the real grid subset the positional encoding in RGB.
 *   deno task experiment table7_posenc_mask --scale demo
 */
import type { ExperimentDefinition, Variant } from "../lib/experiment/grid.ts";
import { mvtec3d, SHARED_GRID } from "./datasets.ts";
import { TESTBED_FGMASK, TESTBED_POSENC } from "./testbeds.ts";
import { scaled } from "./scales.ts";

const NO_POS_ENC = "pos_enc=no,mask=yes", NO_MASK = "pos_enc=yes,mask=no", NO_POS_ENC_RGB = "pos_enc=no,mask=no";

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
  // the paper's rows: 3D and RGB+3D no/yes, yes/no, yes/yes; RGB no/no, yes/no
  rowOrder: [NO_POS_ENC_RGB, NO_POS_ENC, NO_MASK, "pos_enc=yes,mask=yes"],
  scales: scaled({
    modes: ["depth", "rgb", "combi"],
    variants: [
      variant(false, true, ["depth", "combi"]),
      variant(true, false, ["depth", "combi"]),
      variant(true, true, ["depth", "combi"]),
      variant(false, false, ["rgb"]),
      variant(true, false, ["rgb"]),
    ],
    // demo: each testbed varies the mechanism it was made for (docs/testbeds.md); the real grid
    // subset (RGB) the positional encoding
    datasets: {
      paper: mvtec3d(),
      cpu: mvtec3d(),
      demo: [
        { ...TESTBED_POSENC, variants: [NO_POS_ENC, NO_POS_ENC_RGB] },
        { ...TESTBED_FGMASK, variants: [NO_MASK] },
        { ...SHARED_GRID, variants: [NO_POS_ENC_RGB] },
      ],
    },
  }),
};
export default table7;
