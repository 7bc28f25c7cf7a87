/**
 * Testbeds: generated MVTec 3D-AD-style datasets, each designed so that ONE mechanism of AST
 * should matter (docs/testbeds.md). Same layout, seeding, atomic writing and skip-when-unchanged
 * as the synthetic puck (synthetic.ts); the class folder is the testbed's name:
 *
 *   - `posenc` (testbed_posenc.ts): parts at the wrong place or missing; only position makes them
 *     abnormal -> the positional encoding (depth, rgb, combi).
 *   - `fgmask` (testbed_fgmask.ts): one object on a per-image varying background that the 7 mm
 *     background-plane mask removes -> the foreground mask (depth, combi).
 *   - `subtle` (testbed_subtle.ts): near-normal defects on the puck -> the asymmetric student vs
 *     a normalizing-flow student (depth, rgb, combi).
 *
 * Each testbed's hypothesis and why are recorded in its dataset.json (`hypothesis`, `why`).
 * CLI: deno task generate --testbed posenc|fgmask|subtle --out data/testbeds [--seed N] [--force]
 */
import type { Mode } from "../types.ts";
import { type RenderedSample, type Rng, writeClassFolder, writeSampleGroup } from "./synthetic.ts";
import { FGMASK_DEFECT_TYPES, FGMASK_HYPOTHESIS, FGMASK_WHY, type FgmaskDefect, renderFgmask } from "./testbed_fgmask.ts";
import { POSENC_DEFECT_TYPES, POSENC_HYPOTHESIS, POSENC_WHY, type PosencDefect, renderPosenc } from "./testbed_posenc.ts";
import { renderSubtle, SUBTLE_DEFECT_TYPES, SUBTLE_HYPOTHESIS, SUBTLE_WHY, type SubtleDefect } from "./testbed_subtle.ts";

export const TESTBED_NAMES = ["posenc", "fgmask", "subtle"] as const;
export type TestbedName = typeof TESTBED_NAMES[number];

export interface TestbedCounts {
  train: number;
  validation: number;
  testGood: number;
  /** defect type -> number of test images */
  defects: Record<string, number>;
}

export interface Testbed {
  name: TestbedName;
  /** recorded in dataset.json; bump it whenever this testbed's rendering changes */
  generator: string;
  hypothesis: string;
  why: string;
  /** the modes the testbed's mechanism applies to */
  modes: Mode[];
  defectTypes: readonly string[];
  defaultCounts: TestbedCounts;
  /** one sample; `defect` null = normal */
  render: (rng: Rng, size: number, defect: string | null) => RenderedSample;
}

const counts = (types: readonly string[], each: number): TestbedCounts => ({
  train: 40,
  validation: 8,
  testGood: 16,
  defects: Object.fromEntries(types.map((t) => [t, each])),
});

export const TESTBEDS: Record<TestbedName, Testbed> = {
  posenc: {
    name: "posenc",
    generator: "ast-lab-testbed-posenc-v1",
    hypothesis: POSENC_HYPOTHESIS,
    why: POSENC_WHY,
    modes: ["depth", "rgb", "combi"],
    defectTypes: POSENC_DEFECT_TYPES,
    defaultCounts: counts(POSENC_DEFECT_TYPES, 8),
    render: (rng, size, defect) => renderPosenc(rng, size, defect as PosencDefect | null),
  },
  fgmask: {
    name: "fgmask",
    generator: "ast-lab-testbed-fgmask-v2",
    hypothesis: FGMASK_HYPOTHESIS,
    why: FGMASK_WHY,
    modes: ["depth", "combi"],
    defectTypes: FGMASK_DEFECT_TYPES,
    defaultCounts: counts(FGMASK_DEFECT_TYPES, 6),
    render: (rng, size, defect) => renderFgmask(rng, size, defect as FgmaskDefect | null),
  },
  subtle: {
    name: "subtle",
    generator: "ast-lab-testbed-subtle-v2",
    hypothesis: SUBTLE_HYPOTHESIS,
    why: SUBTLE_WHY,
    modes: ["depth", "rgb", "combi"],
    defectTypes: SUBTLE_DEFECT_TYPES,
    defaultCounts: counts(SUBTLE_DEFECT_TYPES, 6),
    render: (rng, size, defect) => renderSubtle(rng, size, defect as SubtleDefect | null),
  },
};

export function isTestbedName(name: string): name is TestbedName {
  return (TESTBED_NAMES as readonly string[]).includes(name);
}

export interface TestbedOptions {
  root: string;
  name: TestbedName;
  seed?: number;
  /** image side in pixels (square); 200 like the puck */
  size?: number;
  counts?: Partial<Omit<TestbedCounts, "defects">> & { defects?: Record<string, number> };
  /** regenerate even if a dataset with the same config exists */
  force?: boolean;
}

/** What dataset.json records (regeneration is skipped when it is unchanged). */
export interface TestbedConfig {
  generator: string;
  testbed: TestbedName;
  className: string;
  seed: number;
  size: number;
  modes: Mode[];
  hypothesis: string;
  why: string;
  counts: TestbedCounts;
}

export function testbedConfig(o: Omit<TestbedOptions, "root" | "force">): TestbedConfig {
  const tb = TESTBEDS[o.name];
  if (!tb) throw new Error(`unknown testbed '${o.name}' (one of ${TESTBED_NAMES.join(", ")})`);
  const c = o.counts ?? {};
  for (const t of Object.keys(c.defects ?? {})) {
    if (!tb.defectTypes.includes(t)) throw new Error(`testbed ${tb.name}: unknown defect type '${t}' (one of ${tb.defectTypes.join(", ")})`);
  }
  return {
    generator: tb.generator,
    testbed: tb.name,
    className: tb.name,
    seed: o.seed ?? 0,
    size: o.size ?? 200,
    modes: tb.modes,
    hypothesis: tb.hypothesis,
    why: tb.why,
    counts: {
      train: c.train ?? tb.defaultCounts.train,
      validation: c.validation ?? tb.defaultCounts.validation,
      testGood: c.testGood ?? tb.defaultCounts.testGood,
      defects: { ...tb.defaultCounts.defects, ...(c.defects ?? {}) },
    },
  };
}

/** Generate (or keep, when the recorded config matches) the testbed at `root/<name>`. */
export async function generateTestbed(options: TestbedOptions): Promise<{ classDir: string; generated: boolean; config: TestbedConfig }> {
  const config = testbedConfig(options);
  const tb = TESTBEDS[config.testbed];
  const key = `${tb.name}/${config.seed}/`;
  const group = (dir: string, split: string, type: string, count: number) =>
    writeSampleGroup(dir, key, config.size, split, type, count, (rng) => tb.render(rng, config.size, type === "good" ? null : type));
  const { classDir, generated } = await writeClassFolder(options.root, config.className, config, options.force, async (tmpDir) => {
    await group(tmpDir, "train", "good", config.counts.train);
    await group(tmpDir, "validation", "good", config.counts.validation);
    await group(tmpDir, "test", "good", config.counts.testGood);
    for (const type of tb.defectTypes) {
      if (config.counts.defects[type] > 0) await group(tmpDir, "test", type, config.counts.defects[type]);
    }
  });
  return { classDir, generated, config };
}
