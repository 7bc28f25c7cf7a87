/** Write a figure as SVG + PNG side by side (for reports and the CLI). */
import { dirname } from "node:path";
import { tempSibling } from "../util/fs.ts";
import { type Figure, figureToSvg, type PngOptions, svgToPng } from "./render.ts";

/** Write via a temp file + rename, so readers never see a half-written figure. */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempSibling(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/** Writes `<path>.svg` and `<path>.png` (creating folders) and returns both paths. */
export async function saveFigure(fig: Figure, pathWithoutExt: string, options: PngOptions = {}): Promise<{ svg: string; png: string }> {
  const svg = await figureToSvg(fig);
  const paths = { svg: `${pathWithoutExt}.svg`, png: `${pathWithoutExt}.png` };
  await Deno.mkdir(dirname(paths.svg), { recursive: true });
  await writeAtomic(paths.svg, svg);
  await writeAtomic(paths.png, svgToPng(svg, options));
  return paths;
}
