/**
 * Fetches the ImageNet EfficientNet-B5 weights (needs internet access; see
 * lib/features/efficientnet/download.ts):
 *
 *   deno task download --out DIR [--sha256 HEX] [--url URL]   (network: Hugging Face's hosts only)
 */
import { parseArgs } from "node:util";
import { downloadWeights } from "../features/efficientnet/download.ts";

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { out: { type: "string" }, sha256: { type: "string" }, url: { type: "string" }, help: { type: "boolean" } },
  });
  if (values.help || !values.out) {
    console.log("usage: deno task download --out DIR [--sha256 HEX] [--url URL]");
    return values.help ? 0 : 2;
  }
  try {
    const r = await downloadWeights({ outDir: values.out, sha256: values.sha256, url: values.url, log: console.log });
    console.log(`${r.path}\nsha256 ${r.sha256}`);
    return 0;
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
