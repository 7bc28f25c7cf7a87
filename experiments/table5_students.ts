/**
 * Table 5: what makes the student work. Rows: the teacher's own NLL (recorded in every run as
 * `teacher_nll`, no extra training), a symmetric normalizing-flow student with the teacher's
 * architecture, a deeper NF student (8 coupling blocks), and AST's asymmetric CNN student.
 * Demo scale: the `subtle` testbed (docs/testbeds.md), whose hypothesis is the paper's: on
 * near-normal anomalies the asymmetric student separates better than an NF student.
 *   deno task experiment table5_students --scale demo
 */
import type { ExperimentDefinition } from "../lib/experiment/grid.ts";
import { mvtec3d, SHARED_GRID } from "./datasets.ts";
import { TESTBED_SUBTLE } from "./testbeds.ts";
import { scaled } from "./scales.ts";

// The teacher of every 3D-AD preset is hidden 64 x 4 coupling blocks; the NF student copies it.
const nfStudent = (nBlocks: number) => ({ student: { kind: "flow" as const, hidden: 64, nBlocks } });

const table5: ExperimentDefinition = {
  name: "table5_students",
  title: "Teacher NLL vs symmetric NF students vs the asymmetric student",
  paper: "Table 5",
  description: "Student variants on MVTec 3D-AD; the teacher NLL row comes from the AST runs.",
  reference: "ast",
  teacherRows: "reference",
  rowOrder: ["teacher-nll", "nf-student", "nf-student-8", "ast"],
  scales: scaled({
    modes: ["depth", "rgb", "combi"],
    variants: [
      { name: "ast" },
      { name: "nf-student", config: nfStudent(4) },
      { name: "nf-student-8", config: nfStudent(8) },
    ],
    // demo: the testbed made for this question (near-normal defects) and the real grid subset
    datasets: { paper: mvtec3d(), cpu: mvtec3d(), demo: [TESTBED_SUBTLE, SHARED_GRID] },
  }),
};
export default table5;
