/**
 * The three scales every experiment comes in, so a table's definition only names what varies.
 * - paper: the paper's presets (EfficientNet-B5, 768 px, hidden 1024 student, 72/240 epochs),
 *   3 seeds: for a GPU machine.
 * - cpu: the `cpu` preset (MobileNetV2 features, hidden 256 student), 1 seed: hours on 2 cores.
 * - demo: the `demo` preset as it is (16x16 maps, hidden 128 x 2-block student, 20 epochs each) on
 *   generated data (the puck, or a testbed made for the mechanism an ablation varies) and the
 *   shared data when present, DEMO_SEEDS seeds: seconds per run, so every notebook runs headless
 *   in CI and every ablation has a paired interval over seeds. Demo numbers test mechanisms on
 *   small data, not the paper's values.
 */
import type { Mode } from "../lib/types.ts";
import type { DatasetRef, GridSpec, Scale, Variant } from "../lib/experiment/grid.ts";

export const PAPER_SEEDS = [0, 1, 2];
/** At least 3: fewer never make a claim (lib/report/ablation.ts MIN_SEEDS_FOR_CLAIM). */
export const DEMO_SEEDS = [0, 1, 2];

export interface ScaleInputs {
  modes: Mode[];
  variants: Variant[];
  datasets: Record<Scale, DatasetRef[]>;
}

export function scaled({ modes, variants, datasets }: ScaleInputs): Record<Scale, GridSpec> {
  return {
    paper: { preset: "paper", datasets: datasets.paper, modes, variants, seeds: PAPER_SEEDS },
    cpu: { preset: "cpu", datasets: datasets.cpu, modes, variants, seeds: [0] },
    demo: { preset: "demo", datasets: datasets.demo, modes, variants, seeds: DEMO_SEEDS },
  };
}
