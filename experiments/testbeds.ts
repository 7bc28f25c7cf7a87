/**
 * The generated testbeds (lib/data/testbeds.ts, docs/testbeds.md) as dataset references: each is
 * made under data/testbeds on first use (seed 0) and runs only the modes its mechanism applies to.
 *   posenc -> positional encoding; fgmask -> foreground mask; subtle -> asymmetric vs NF student.
 */
import type { DatasetRef } from "../lib/experiment/grid.ts";
import { TESTBEDS, type TestbedName } from "../lib/data/testbeds.ts";

const testbed = (name: TestbedName): DatasetRef => ({
  data: "data/testbeds",
  className: name,
  generate: { seed: 0, testbed: name },
  modes: [...TESTBEDS[name].modes],
});

export const TESTBED_POSENC: DatasetRef = testbed("posenc");
export const TESTBED_FGMASK: DatasetRef = testbed("fgmask");
export const TESTBED_SUBTLE: DatasetRef = testbed("subtle");
