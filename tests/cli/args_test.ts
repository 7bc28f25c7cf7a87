/** Issue 14, case 6: whole-number options are bounded; the bound is in the error. */
import { parseArgs } from "node:util";
import { intOption, parseErrorLine, UsageError } from "../../lib/cli/args.ts";
import { MAX_EPOCHS, MAX_SEED } from "../../lib/config/ast_config.ts";
import { assertEquals, assertThrows } from "../assert.ts";

Deno.test("intOption: digits only, within min..max", () => {
  assertEquals(intOption("epochs", undefined, 1, MAX_EPOCHS), undefined);
  assertEquals(intOption("epochs", "100000", 1, MAX_EPOCHS), 100000);
  assertEquals(intOption("seed", "0", 0, MAX_SEED), 0);
  assertEquals(intOption("seed", "4294967295", 0, MAX_SEED), 4294967295);
  const bad: [string, string, number, number, RegExp][] = [
    ["epochs", "99999999999999999999", 1, MAX_EPOCHS, /^--epochs must be an integer in 1\.\.100000, got '99999999999999999999'$/],
    ["epochs", "100001", 1, MAX_EPOCHS, /in 1\.\.100000/],
    ["epochs", "0", 1, MAX_EPOCHS, /in 1\.\.100000/],
    ["seed", "1e23", 0, MAX_SEED, /^--seed must be an integer in 0\.\.4294967295, got '1e23'$/],
    ["seed", "4294967296", 0, MAX_SEED, /in 0\.\.4294967295/],
    ["seed", "-1", 0, MAX_SEED, /got '-1'/],
    ["seed", "1.5", 0, MAX_SEED, /got '1\.5'/],
    ["seed", "", 0, MAX_SEED, /got ''/],
  ];
  for (const [name, v, min, max, re] of bad) assertThrows(() => intOption(name, v, min, max), (e: Error) => e instanceof UsageError && re.test(e.message));
  // without a max the message keeps its old form
  assertThrows(() => intOption("n", "x", 2), /--n must be an integer >= 2, got 'x'/);
});

Deno.test("parseErrorLine: an unknown option is one clean sentence, with or without positionals", () => {
  for (const allowPositionals of [true, false]) {
    let message = "";
    try {
      parseArgs({ args: ["x", "--foo"], options: {}, strict: true, allowPositionals });
    } catch (e) {
      message = parseErrorLine(e as Error);
    }
    assertEquals(message, allowPositionals ? "Unknown option '--foo'" : "Unexpected argument 'x'. This command does not take positional arguments");
  }
});
