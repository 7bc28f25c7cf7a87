/** Tiny datasets made on the fly, so end-to-end tests need no shared data and run in seconds. */
import { join } from "node:path";
import { generateDataset } from "../../lib/data/synthetic.ts";
import { writePng } from "../../lib/io/images.ts";
import { mulberry32 } from "../../lib/util/random.ts";

/** A small MVTec 3D-AD-layout class `puck` under a fresh temp root. */
export async function tinyMvtec3d(seed = 0): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ast-tiny3d-" });
  await generateDataset({
    root,
    seed,
    size: 64,
    counts: { train: 8, validation: 2, testGood: 3, defects: { dent: 1, bump: 1, hole: 2, crack: 1, color: 1 } },
  });
  return root;
}

/** A small MVTec AD-layout class `tex` (grayscale noise texture, bright blob defects). */
export async function tinyMvtecAd(seed = 0): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ast-tinyad-" });
  const cls = join(root, "tex");
  const rng = mulberry32(seed);
  const side = 48;
  const image = (defect: boolean) => {
    const data = new Uint8Array(side * side);
    const mask = new Uint8Array(side * side);
    for (let k = 0; k < data.length; k++) data[k] = 100 + Math.floor(rng() * 40);
    if (defect) {
      const cy = 10 + Math.floor(rng() * 28), cx = 10 + Math.floor(rng() * 28);
      for (let y = cy - 4; y < cy + 4; y++) for (let x = cx - 4; x < cx + 4; x++) {
        data[y * side + x] = 250;
        mask[y * side + x] = 255;
      }
    }
    return { data, mask };
  };
  const write = async (dir: string, name: string, data: Uint8Array) => {
    await Deno.mkdir(dir, { recursive: true });
    await writePng(join(dir, name), { width: side, height: side, channels: 1, data });
  };
  for (let i = 0; i < 8; i++) await write(join(cls, "train", "good"), `${String(i).padStart(3, "0")}.png`, image(false).data);
  for (let i = 0; i < 3; i++) await write(join(cls, "test", "good"), `${String(i).padStart(3, "0")}.png`, image(false).data);
  for (let i = 0; i < 3; i++) {
    const { data, mask } = image(true);
    const stem = String(i).padStart(3, "0");
    await write(join(cls, "test", "blob"), `${stem}.png`, data);
    await write(join(cls, "ground_truth", "blob"), `${stem}_mask.png`, mask);
  }
  return root;
}

/** Overrides that make a run take seconds. */
export const TINY_SETS = [
  "mapLen=8",
  "teacher.hidden=8",
  "student.hidden=8",
  "student.nBlocks=1",
];
