/**
 * Controlled check of the 3D preprocessing on every image (the fixtures cover three): the
 * official code's depth-mode network inputs (tools/calibration/official_inputs.py) against ours
 * (lib/preprocess/depth.ts) for the same point maps. Prints per split the largest and mean
 * absolute differences of the unshuffled depth and of the soft foreground mask; --out writes JSON.
 *
 *   deno run -A tools/calibration/compare_inputs.ts --official-inputs FILE.safetensors \
 *        --data ../shared/data/synthetic_mvtec3d --class puck [--out FILE.json]
 */
import { basename, join } from "node:path";
import { parseArgs } from "node:util";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { readXyzTiff } from "../../lib/io/tiff.ts";
import { DEPTH_CHANNELS, depthInput } from "../../lib/preprocess/depth.ts";

const { values } = parseArgs({ args: Deno.args, options: { "official-inputs": { type: "string" }, data: { type: "string" }, class: { type: "string" }, out: { type: "string" } } });
if (!values["official-inputs"] || !values.data || !values.class) {
  console.error("usage: compare_inputs.ts --official-inputs FILE --data ROOT --class NAME [--out FILE]");
  Deno.exit(2);
}
const ref = (await readSafetensors(values["official-inputs"])).tensors;
const keys = [...ref.keys()].filter((k) => k.endsWith(".depth")).map((k) => k.slice(0, -".depth".length)).sort();
const rows: { key: string; depth_max_abs: number; depth_mean_abs: number; depth_max_abs_value: number; fg_max_abs: number; fg_mean_abs: number }[] = [];
for (const key of keys) {
  const [split, type, file] = key.split("/");
  const xyz = join(values.data, values.class, split, type, "xyz", basename(file).replace(/\.png$/, ".tiff"));
  const map = await readXyzTiff(xyz);
  const d = depthInput(map.xyz, map.height, map.width, { mapLen: 24 });
  const rd = ref.get(`${key}.depth`)!.data, rf = ref.get(`${key}.fg_down`)!.data;
  const cells = 24 * 24;
  let maxD = 0, sumD = 0, maxF = 0, sumF = 0, scale = 0;
  for (let ch = 0; ch < DEPTH_CHANNELS; ch++) {
    for (let k = 0; k < cells; k++) {
      const diff = Math.abs(d.depth.data[k * DEPTH_CHANNELS + ch] - rd[ch * cells + k]);
      maxD = Math.max(maxD, diff);
      sumD += diff;
      scale = Math.max(scale, Math.abs(rd[ch * cells + k]));
    }
  }
  for (let k = 0; k < cells; k++) {
    const diff = Math.abs(d.foreground[k] - rf[k]);
    maxF = Math.max(maxF, diff);
    sumF += diff;
  }
  rows.push({ key, depth_max_abs: maxD, depth_mean_abs: sumD / (cells * DEPTH_CHANNELS), depth_max_abs_value: scale, fg_max_abs: maxF, fg_mean_abs: sumF / cells });
}
const worst = (f: (r: typeof rows[number]) => number) => rows.reduce((a, r) => (f(r) > f(a) ? r : a), rows[0]);
const summary = {
  images: rows.length,
  depth_max_abs: worst((r) => r.depth_max_abs).depth_max_abs,
  depth_max_abs_at: worst((r) => r.depth_max_abs).key,
  depth_mean_abs: rows.reduce((s, r) => s + r.depth_mean_abs, 0) / rows.length,
  fg_max_abs: worst((r) => r.fg_max_abs).fg_max_abs,
  fg_max_abs_at: worst((r) => r.fg_max_abs).key,
  images_with_fg_difference_over_1e_6: rows.filter((r) => r.fg_max_abs > 1e-6).length,
};
console.log(JSON.stringify(summary, null, 1));
if (values.out) await Deno.writeTextFile(values.out, JSON.stringify({ summary, rows }, null, 1) + "\n");
