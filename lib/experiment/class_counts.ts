/**
 * How many train, validation and test images each class of a grid has, for the cost estimate
 * (cost.ts): counted from the dataset when it is on disk (where a grid would open it), else the
 * datasets' published counts (lib/data/published_counts.ts). Each count says which it is.
 */
import { join } from "node:path";
import type { RuntimeOptions } from "../config/runtime.ts";
import { openAnyDataset } from "../data/open.ts";
import { publishedCounts } from "../data/published_counts.ts";
import type { DatasetLayout } from "../types.ts";
import { type DatasetRef, datasetRoot } from "./grid_spec.ts";

export type CountSource = "measured" | "published";

export interface ClassCounts {
  layout: DatasetLayout;
  train: number;
  validation: number;
  test: number;
  source: CountSource;
}

/** The key a class's counts are stored under: its dataset root as the definition names it, and the class. */
export function countsKey(ref: Pick<DatasetRef, "data" | "root" | "className">): string {
  return `${ref.root ?? ref.data}/${ref.className}`;
}

/** The layout a reference's published counts belong to (by its runtime root), or null. */
function publishedLayout(ref: DatasetRef): DatasetLayout | null {
  return ref.root === "mvtecAd" ? "mvtecad" : ref.root === "mvtec3d" ? "mvtec3d" : null;
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

/** One class's counts: measured when its folder exists, else published; an error for a class neither gives. */
export async function classCounts(ref: DatasetRef, runtime: RuntimeOptions): Promise<ClassCounts> {
  const root = datasetRoot(ref, runtime);
  if (await isDirectory(join(root, ref.className))) {
    const d = await openAnyDataset(root, ref.className);
    return { layout: d.layout, train: d.train.length, validation: d.validation.length, test: d.test.length, source: "measured" };
  }
  const layout = publishedLayout(ref);
  const published = layout && publishedCounts(layout, ref.className);
  if (!layout || !published) throw new Error(`no image counts for ${countsKey(ref)}: ${join(root, ref.className)} is not on disk and no published counts exist for it`);
  return { layout, ...published, source: "published" };
}

/** The counts of every class the references name, by countsKey (each class looked up once). */
export async function countsOfRefs(refs: DatasetRef[], runtime: RuntimeOptions): Promise<Map<string, ClassCounts>> {
  const out = new Map<string, ClassCounts>();
  for (const ref of refs) {
    const key = countsKey(ref);
    if (!out.has(key)) out.set(key, await classCounts(ref, runtime));
  }
  return out;
}
