import { sampleStd } from "../../lib/metrics/sample_std.ts";
import { seedStd } from "../../lib/metrics/paired_difference.ts";
import { summariseScores } from "../../lib/results/record.ts";
import { normalScores } from "../../lib/results/model_card.ts";
import { assertClose, assertEquals } from "../assert.ts";

Deno.test("sampleStd: n - 1 (numpy ddof=1), 0 below two values; every summary uses it", () => {
  const v = [1, 2, 3, 4];
  assertClose([sampleStd(v)], [Math.sqrt(5 / 3)], { rtol: 1e-15 }); // numpy.std([1,2,3,4], ddof=1) = 1.2909944
  assertEquals([sampleStd([]), sampleStd([7])], [0, 0]);
  assertEquals(seedStd(v), sampleStd(v));
  assertEquals(normalScores(v, "validation").std, sampleStd(v));
  assertEquals(summariseScores(Float32Array.from(v)).std, sampleStd(v));
});
