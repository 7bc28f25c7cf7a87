/** Issue 14, case 7: every --set value has the type of the field it replaces, array elements included. */
import { applyPatch, patchFromSets } from "../../lib/config/patch.ts";
import { presetConfig } from "../../lib/config/presets.ts";
import { resolveConfig } from "../../lib/config/resolve.ts";
import { assertEquals, assertThrows } from "../assert.ts";

const base = presetConfig("demo", "depth", "mvtec3d");

Deno.test("patch: array values keep their element type, naming the key and the bad element", () => {
  assertEquals(patchFromSets(base, ["teacher.kernelSizes=[3,5]"]), { teacher: { kernelSizes: [3, 5] } });
  assertThrows(() => patchFromSets(base, ['teacher.kernelSizes=[3,"x"]']), /--set teacher\.kernelSizes=\[3,"x"\]: 'teacher\.kernelSizes' must be an array of numbers, got "x" at index 1/);
  assertThrows(() => patchFromSets(base, ["teacher.kernelSizes=[3,[5]]"]), /'teacher\.kernelSizes' must be an array of numbers, got \[5\] at index 1/);
  assertThrows(() => patchFromSets(base, ["teacher.kernelSizes=3"]), /'teacher\.kernelSizes' must be array, got number/);
  assertThrows(() => applyPatch(base, { teacher: { kernelSizes: [3, null] } } as never, "--config x.ts"), /--config x\.ts: 'teacher\.kernelSizes' must be an array of numbers, got null at index 1/);
});

Deno.test("patch: numbers, strings and booleans keep their type; strings take the text as written", () => {
  assertThrows(() => patchFromSets(base, ["posEnc=yes"]), /'posEnc' must be boolean, got string/);
  assertThrows(() => patchFromSets(base, ["student.hidden=true"]), /'student\.hidden' must be number, got boolean/);
  assertThrows(() => patchFromSets(base, ["adam.lr=1e400"]), /'adam\.lr' must be a finite number, got Infinity/);
  assertThrows(() => resolveConfig({ mode: "depth", layout: "mvtec3d", sets: ["student.kind=[1]"] }), /student\.kind must be asymmetric or flow/);
  // a string field takes the text even when it looks like JSON (a layer named 12, a threshold rule)
  assertEquals(patchFromSets(base, ["layer=12", "weights=null"]), { layer: "12", weights: null });
});

Deno.test("config: impossible values are refused before any work: kernel sizes, seed and epochs bounds", () => {
  const resolve = (sets: string[]) => () => resolveConfig({ mode: "depth", layout: "mvtec3d", sets });
  assertThrows(resolve(["teacher.kernelSizes=[]"]), /teacher\.kernelSizes must be a non-empty array of odd integers/);
  assertThrows(resolve(["teacher.kernelSizes=[3,4]"]), /teacher\.kernelSizes must be a non-empty array of odd integers/);
  assertThrows(resolve(["seed=1e23"]), /seed must be an integer in 0\.\.4294967295, got 1e\+23/);
  assertThrows(resolve(["seed=-1"]), /seed must be an integer in 0\.\.4294967295/);
  assertThrows(resolve(["teacher.epochs=100001"]), /teacher\.epochs must be an integer in 0\.\.100000/);
  assertEquals(resolveConfig({ mode: "depth", layout: "mvtec3d", sets: ["seed=4294967295"] }).seed, 4294967295);
});
