import { diff } from "../../../tools/regression/seeded_runs.ts";
import { assertEquals } from "../../assert.ts";

Deno.test("seeded runs: the comparison names every differing leaf and nothing else", () => {
  const a = { depth: { teacher_sha256: "aa", metrics: { image_auroc_max: 0.9, per_defect_type: { dent: 1 } }, losses: [["teacher", 1, 0.5]] } };
  assertEquals(diff(a, structuredClone(a)), []);
  const b = structuredClone(a);
  b.depth.teacher_sha256 = "ab";
  b.depth.metrics.per_defect_type.dent = 0.5;
  b.depth.losses[0][2] = 0.25;
  assertEquals(diff(a, b), [
    '.depth.teacher_sha256: "aa" != "ab"',
    ".depth.metrics.per_defect_type.dent: 1 != 0.5",
    '.depth.losses: [["teacher",1,0.5]] != [["teacher",1,0.25]]',
  ]);
  assertEquals(diff(a, { depth: { ...a.depth, extra: 1 } }), [".depth.extra: undefined != 1"]);
});
