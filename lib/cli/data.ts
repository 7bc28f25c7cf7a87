/**
 * `deno task data mvtec-ad|mvtec-3d [--class NAME]... [--out DIR] [--sha256 HEX] [--url URL]
 * [--keep-archive]`: downloads MVTec's official archives, verifies their SHA-256, unpacks them
 * into the layout the loaders read and prints the licence (lib/data/download/). Network: MVTec's
 * download host only; needs the system tar and xz.
 */
import { parseArgs } from "node:util";
import { downloadDataset } from "../data/download/dataset.ts";
import type { Progress } from "../data/download/fetch_archive.ts";
import { DATASET_IDS, isDatasetId, LICENCE_LINE, SOURCES } from "../data/download/sources.ts";
import { requireWritable } from "../util/permission.ts";

const USAGE = "usage: deno task data mvtec-ad|mvtec-3d [--class NAME]... [--out DIR] [--sha256 HEX] [--url URL] [--keep-archive]";

const mb = (n: number) => (n / 1e6).toFixed(1);

/** `file: 12.3 / 4900.0 MB (0.3%), 8.1 MB/s` */
export function progressLine(p: Progress): string {
  const rate = p.seconds > 0 ? `${mb((p.bytes - p.resumedFrom) / p.seconds)} MB/s` : "";
  const of = p.total ? ` / ${mb(p.total)} MB (${((100 * p.bytes) / p.total).toFixed(1)}%)` : " MB";
  const resumed = p.resumedFrom > 0 ? `, resumed at ${mb(p.resumedFrom)} MB` : "";
  return `${p.file}: ${mb(p.bytes)}${of}${rate ? `, ${rate}` : ""}${resumed}`;
}

/** One updating line on a terminal; a plain line every 10 s (and the last) when piped. */
function progressPrinter(): (p: Progress) => void {
  const tty = Deno.stdout.isTerminal();
  const enc = new TextEncoder();
  let last = -Infinity;
  return (p) => {
    if (tty) {
      Deno.stdout.writeSync(enc.encode(`\r\x1b[K${progressLine(p)}${p.done ? "\n" : ""}`));
    } else if (p.done || p.seconds - last >= 10) {
      last = p.seconds;
      console.log(progressLine(p));
    }
  };
}

export async function main(args: string[], fetchFn?: typeof fetch): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        class: { type: "string", multiple: true },
        out: { type: "string" },
        sha256: { type: "string" },
        url: { type: "string" },
        "keep-archive": { type: "boolean" },
        help: { type: "boolean" },
      },
    });
  } catch (e) {
    console.error(`data: error: ${(e as Error).message.split("\n")[0]}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(`${USAGE}\n  datasets: ${DATASET_IDS.join(", ")}; --out defaults to ${DATASET_IDS.map((d) => SOURCES[d].defaultOut).join(" / ")}`);
    return 0;
  }
  if (positionals.length !== 1 || !isDatasetId(positionals[0])) {
    console.error(`data: error: name one dataset (${DATASET_IDS.join(" or ")})${positionals.length ? `, got '${positionals.join(" ")}'` : ""}\n${USAGE}`);
    return 2;
  }
  const source = SOURCES[positionals[0]];
  const outDir = values.out ?? source.defaultOut;
  try {
    requireWritable(outDir, "--out");
    console.log(`${source.title}${values.class ? ` (${values.class.join(", ")})` : ""} -> ${outDir} (licence CC BY-NC-SA 4.0, non-commercial)`);
    const r = await downloadDataset({
      dataset: source.id,
      outDir,
      classes: values.class,
      url: values.url,
      sha256: values.sha256,
      keepArchive: values["keep-archive"],
      fetchFn,
      onProgress: progressPrinter(),
      log: console.log,
    });
    for (const c of r.classes) console.log(`  ${c.classDir}: ${c.layout}, ${c.train} train / ${c.test} test images${c.alreadyPresent ? " (already present)" : ""}`);
    console.log(LICENCE_LINE);
    const first = r.classes[0]?.name ?? "NAME";
    console.log(`put in ${outDir}; train on a class with:\n  deno task ast run --data ${outDir} --class ${first} --mode ${source.trainMode} --preset paper`);
    if (outDir !== source.defaultOut) {
      console.log(`(the experiments read ${source.defaultOut}; set ${source.id === "mvtec-ad" ? "AST_MVTEC_AD" : "AST_MVTEC3D"}=${outDir} to use this folder)`);
    }
    return 0;
  } catch (e) {
    console.error(`data: error: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
