/**
 * One entry point for every dataset layout: `ROOT/NAME` in MVTec AD or MVTec 3D-AD layout, or a
 * plain folder of your own images (`good/`, optional `defective/` and `masks/`, see folder.ts).
 */
import { join } from "node:path";
import { type MvtecDataset, openDataset } from "./mvtec.ts";
import { type FolderDataset, folderDatasetOptions, looksLikeFolderDataset, openFolderDataset } from "./folder.ts";

export async function openAnyDataset(dataRoot: string, className: string, o: { seed?: number } = {}): Promise<MvtecDataset | FolderDataset> {
  const dir = join(dataRoot, className);
  if (await looksLikeFolderDataset(dir)) return await openFolderDataset({ ...(await folderDatasetOptions(dir)), seed: o.seed ?? 0 });
  return await openDataset(dataRoot, className);
}

/** Whether a dataset has defect masks for pixel-level metrics (folder datasets may not). */
export function hasDefectMasks(d: MvtecDataset): boolean {
  return (d as Partial<FolderDataset>).hasMasks !== false;
}

export function datasetNotes(d: MvtecDataset): string[] {
  return (d as Partial<FolderDataset>).notes ?? [];
}
