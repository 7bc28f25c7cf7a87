/**
 * `deno task generate [--out DIR] [--seed N] [--class NAME] [--size PX] [--train N] ...`: writes the
 * synthetic MVTec 3D-AD-style dataset (lib/data/synthetic.ts); kept when the same config is
 * already there, unless --force.
 */
import { parseArgs } from "node:util";
import { DEFECT_TYPES, type DefectType, generateDataset } from "../data/synthetic.ts";

export async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: "string", default: "data/generated" },
      seed: { type: "string", default: "0" },
      class: { type: "string", default: "puck" },
      size: { type: "string", default: "200" },
      train: { type: "string" },
      validation: { type: "string" },
      "test-good": { type: "string" },
      dent: { type: "string" },
      bump: { type: "string" },
      hole: { type: "string" },
      crack: { type: "string" },
      color: { type: "string" },
      force: { type: "boolean", default: false },
    },
  });
  const num = (name: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) {
      console.error(`--${name}: expected a non-negative integer, got '${v}'`);
      Deno.exit(2);
    }
    return n;
  };
  const defects: Partial<Record<DefectType, number>> = {};
  for (const t of DEFECT_TYPES) {
    const n = num(t, values[t]);
    if (n !== undefined) defects[t] = n;
  }
  const t0 = performance.now();
  const result = await generateDataset({
    root: values.out!,
    className: values.class,
    seed: num("seed", values.seed),
    size: num("size", values.size),
    counts: {
      train: num("train", values.train),
      validation: num("validation", values.validation),
      testGood: num("test-good", values["test-good"]),
      defects,
    },
    force: values.force,
  });
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(result.generated ? `generated ${result.classDir} in ${secs} s` : `${result.classDir} is up to date (same config), kept`);
}

if (import.meta.main) await main(Deno.args);
