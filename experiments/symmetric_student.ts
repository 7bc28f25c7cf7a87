/**
 * Table 5 ablation: the student is itself a normalizing flow with the teacher's architecture
 * (set `student.nBlocks` to 8 for the "deeper" row). Combine with any preset and mode:
 *
 *   deno task ast run --data data/generated --class puck --mode depth \
 *     --config experiments/symmetric_student.ts
 */
import type { ConfigPatch } from "../lib/config/patch.ts";

const config: ConfigPatch = {
  student: { kind: "flow", hidden: 64, nBlocks: 4, leakySlope: 0.01, epochs: 20 },
};
export default config;
