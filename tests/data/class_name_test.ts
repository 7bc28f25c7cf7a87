/** Issue 14, case 5: a class is one plain folder name under the data root. */
import { classNameProblem } from "../../lib/data/class_name.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("class names: plain names pass; separators, dots, absolute paths, NUL and empty are refused", () => {
  for (const ok of ["puck", "bagel", "cable_gland", "dowel-2", "a.b", "v1+x", "Tex", "a b", "Käse", "部品"]) assertEquals(classNameProblem(ok), null, ok);
  for (const bad of ["a/b", "..", ".", "/abs", "a\\b", "a\0b", "", ".hidden", "-x", "a ", " a", "a\tb", "../puck", "puck/"]) {
    const p = classNameProblem(bad);
    assert(p !== null && p.startsWith("--class must be a plain folder name"), `${JSON.stringify(bad)}: ${p}`);
  }
});
