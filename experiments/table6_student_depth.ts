/**
 * Table 6: number of residual blocks in the student (RGB+3D): AUROC, parameters, inference time.
 * The "teacher only" row is the teacher NLL recorded in the same runs.
 *   deno task experiment table6_student_depth --scale demo
 */
import type { ExperimentDefinition } from "../lib/experiment/grid.ts";
import { mvtec3d } from "./datasets.ts";
import { TESTBED_SUBTLE } from "./testbeds.ts";
import { scaled } from "./scales.ts";

export const STUDENT_DEPTHS = [1, 2, 4, 8, 12];

const table6: ExperimentDefinition = {
  name: "table6_student_depth",
  title: "Student depth: AUROC, parameters, inference time",
  paper: "Table 6",
  description: "The asymmetric student with 1-12 residual blocks, RGB+3D.",
  // the paper's default student (4 blocks) is AST
  reference: "n_st_blocks=4",
  teacherRows: "reference",
  rowOrder: [...STUDENT_DEPTHS.map((n) => `n_st_blocks=${n}`), "teacher-nll"],
  scales: scaled({
    modes: ["combi"],
    variants: STUDENT_DEPTHS.map((n) => ({ name: `n_st_blocks=${n}`, config: { student: { nBlocks: n } } })),
    // demo: near-normal defects, where a student's capacity to generalise should show
    datasets: { paper: mvtec3d(), cpu: mvtec3d(), demo: [TESTBED_SUBTLE] },
  }),
};
export default table6;
