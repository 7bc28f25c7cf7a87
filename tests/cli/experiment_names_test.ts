import { assertEquals, assertThrows } from "../assert.ts";
import { UsageError } from "../../lib/cli/args.ts";
import { matchExperimentName, prefixNote } from "../../lib/cli/experiment_names.ts";

/** node's throws takes a third argument as its own message: check the error's text with a validator. */
const throwsWith = (fn: () => unknown, text: string) =>
  assertThrows(fn, (e: Error) => e instanceof UsageError && e.message === text);

const NAMES = ["table2_mvtec_ad", "table3_mvtec3d", "table5_students", "table5x"];

Deno.test("experiment names: exact first, then a unique prefix, said as such", () => {
  assertEquals(matchExperimentName("table5x", NAMES), { name: "table5x", byPrefix: false });
  assertEquals(matchExperimentName("table3", NAMES), { name: "table3_mvtec3d", byPrefix: true });
  assertEquals(prefixNote("table3", { name: "table3_mvtec3d", byPrefix: true }), "'table3' -> table3_mvtec3d (unique prefix)");
});

Deno.test("experiment names: ambiguous prefixes list the candidates, unknown names every name", () => {
  throwsWith(() => matchExperimentName("table5", NAMES), "experiment 'table5' is ambiguous: table5_students, table5x");
  throwsWith(() => matchExperimentName("nope", NAMES), "unknown experiment 'nope' (experiments: table2_mvtec_ad, table3_mvtec3d, table5_students, table5x, or all)");
  throwsWith(() => matchExperimentName("", NAMES), "unknown experiment '' (experiments: table2_mvtec_ad, table3_mvtec3d, table5_students, table5x, or all)");
});
