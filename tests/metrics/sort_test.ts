import { assert, assertEquals } from "../assert.ts";
import { argsortDescending, trapezoidUpTo } from "../../lib/metrics/mod.ts";
import { seededRandom } from "./_reference.ts";

function assertDescending(scores: ArrayLike<number>, order: Uint32Array, what: string) {
  assertEquals(order.length, scores.length);
  assertEquals(new Set(order).size, scores.length, `${what}: not a permutation`);
  for (let k = 1; k < order.length; k++) {
    assert(scores[order[k - 1]] >= scores[order[k]], `${what}: order broken at ${k}: ${scores[order[k - 1]]} < ${scores[order[k]]}`);
  }
}

Deno.test("argsortDescending: special values and signs", () => {
  const scores = [0, -0, -1, 1, Infinity, -Infinity, 5e-324, -5e-324, 1e308, -1e308, 0.5, -0.5, 2, 2];
  assertDescending(scores, argsortDescending(scores), "special");
  assertEquals(argsortDescending([]).length, 0);
});

Deno.test("argsortDescending: random float64, float32 and tied inputs", () => {
  const random = seededRandom(5);
  for (const n of [1, 2, 17, 1000, 70000]) {
    const f64 = Float64Array.from({ length: n }, () => (random() - 0.5) * 10 ** Math.floor(random() * 8));
    const f32 = Float32Array.from(f64);
    const tied = Array.from({ length: n }, () => Math.floor(random() * 6) - 2);
    assertDescending(f64, argsortDescending(f64), `f64 n=${n}`);
    assertDescending(f32, argsortDescending(f32), `f32 n=${n}`);
    assertDescending(tied, argsortDescending(tied), `tied n=${n}`);
  }
});

Deno.test("trapezoidUpTo: cut, interpolation and vertical steps", () => {
  // y = x up to 0.3 -> 0.045; cut exactly at a point and between points.
  assertEquals(trapezoidUpTo([0, 1], [0, 1], 0.5), 0.125);
  assertEquals(trapezoidUpTo([0, 0.5, 1], [0, 0.5, 1], 0.5), 0.125);
  // Vertical step at 0 to 1: area = limit.
  assertEquals(trapezoidUpTo([0, 0, 1], [0, 1, 1], 0.25), 0.25);
});
