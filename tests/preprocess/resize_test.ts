import { areaResize } from "../../lib/preprocess/resize.ts";
import { assertClose } from "../assert.ts";

Deno.test("areaResize: exact box averages when shrinking by an integer factor; constant stays constant", () => {
  const src = Float32Array.from({ length: 16 }, (_, i) => i); // 4x4
  assertClose(areaResize(src, 4, 4, 2, 2), [2.5, 4.5, 10.5, 12.5], { atol: 1e-6, rtol: 0 });
  assertClose(areaResize(new Float32Array(35).fill(3), 5, 7, 3, 2), new Float32Array(6).fill(3), { atol: 1e-6, rtol: 0 });
});
