/**
 * `deno task generate [--out DIR] [--seed N] [--class NAME] [--size PX] [--train N] ...`: writes the
 * synthetic MVTec 3D-AD-style dataset (lib/data/synthetic.ts); kept when the same config is
 * already there, unless --force.
 * `deno task generate --testbed posenc|fgmask|subtle --out data/testbeds [--seed N] [--size PX]
 * [--train N --validation N --test-good N] [--defect TYPE=N ...]`: one testbed instead
 * (lib/data/testbeds.ts, docs/testbeds.md); its class folder is its name.
 */
import { parseArgs } from "node:util";
import { DEFECT_TYPES, type DefectType, generateDataset } from "../data/synthetic.ts";
import { generateTestbed, isTestbedName, TESTBED_NAMES, TESTBEDS } from "../data/testbeds.ts";

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
      testbed: { type: "string" },
      defect: { type: "string", multiple: true },
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
  // the split sizes both generators take
  const splitCounts = () => ({
    train: num("train", values.train),
    validation: num("validation", values.validation),
    testGood: num("test-good", values["test-good"]),
  });
  const t0 = performance.now();
  const report = (r: { generated: boolean; classDir: string }) => {
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(r.generated ? `generated ${r.classDir} in ${secs} s` : `${r.classDir} is up to date (same config), kept`);
  };
  if (values.testbed !== undefined) {
    const name = values.testbed;
    if (!isTestbedName(name)) {
      console.error(`--testbed: expected one of ${TESTBED_NAMES.join(", ")}, got '${name}'`);
      Deno.exit(2);
    }
    const puckOnly = [...DEFECT_TYPES, "class"].filter((f) => values[f as keyof typeof values] !== undefined && !(f === "class" && values.class === "puck"));
    if (puckOnly.length) {
      console.error(`--testbed: ${puckOnly.map((f) => `--${f}`).join(", ")} belong to the puck; use --defect TYPE=N (types of ${name}: ${TESTBEDS[name].defectTypes.join(", ")})`);
      Deno.exit(2);
    }
    const tbDefects: Record<string, number> = {};
    for (const d of values.defect ?? []) {
      const [type, count] = d.split("=");
      if (!TESTBEDS[name].defectTypes.includes(type)) {
        console.error(`--defect: '${type}' is not a defect type of ${name} (${TESTBEDS[name].defectTypes.join(", ")})`);
        Deno.exit(2);
      }
      tbDefects[type] = num("defect", count)!;
    }
    report(
      await generateTestbed({
        root: values.out!,
        name,
        seed: num("seed", values.seed),
        size: num("size", values.size),
        counts: { ...splitCounts(), defects: tbDefects },
        force: values.force,
      }),
    );
    return;
  }
  if (values.defect !== undefined) {
    console.error("--defect TYPE=N is for --testbed; the puck has --dent N, --bump N, ...");
    Deno.exit(2);
  }
  const defects: Partial<Record<DefectType, number>> = {};
  for (const t of DEFECT_TYPES) {
    const n = num(t, values[t]);
    if (n !== undefined) defects[t] = n;
  }
  const result = await generateDataset({
    root: values.out!,
    className: values.class,
    seed: num("seed", values.seed),
    size: num("size", values.size),
    counts: { ...splitCounts(), defects },
    force: values.force,
  });
  report(result);
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (e) {
    // one line, like the other commands (e.g. Deno's own "Requires write access to ..., run again with the --allow-write flag")
    console.error(`generate: error: ${(e as Error).message?.split("\n")[0] ?? e}`);
    Deno.exit(1);
  }
}
