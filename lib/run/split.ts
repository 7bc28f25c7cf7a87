/**
 * Stage 2, split: held-apart normal images for score statistics and the decision threshold —
 * the validation split when the dataset has one, else a seeded `holdoutFraction` of train/good
 * (the same split on --resume: it depends only on the seed).
 */
import type { AstConfig } from "../config/ast_config.ts";
import type { MvtecDataset } from "../data/mvtec.ts";
import { deriveSeed, mulberry32, permutation } from "../util/random.ts";

export interface SplitDataset {
  dataset: MvtecDataset;
  /** where the held-apart normal images come from; null without any */
  normalSource: "validation" | "train-holdout" | "folder-holdout" | null;
}

export function holdApartNormals(dataset: MvtecDataset, cfg: AstConfig, log: (line: string) => void = () => {}): SplitDataset {
  if (dataset.validation.length) {
    return { dataset, normalSource: (dataset as { source?: string }).source === "folder" ? "folder-holdout" : "validation" };
  }
  if (cfg.holdoutFraction <= 0 || dataset.train.length < 2) return { dataset, normalSource: null };
  const n = dataset.train.length;
  const k = Math.min(n - 1, Math.max(1, Math.round(cfg.holdoutFraction * n)));
  const held = new Set(Array.from(permutation(n, mulberry32(deriveSeed(cfg.seed, "holdout"))).slice(0, k)));
  log(`holding apart ${k} of ${n} train/good images as normal references for the threshold (holdoutFraction ${cfg.holdoutFraction})`);
  return {
    dataset: {
      ...dataset,
      train: dataset.train.filter((_, i) => !held.has(i)),
      validation: dataset.train.filter((_, i) => held.has(i)).map((s) => ({ ...s, split: "validation" as const })),
    },
    normalSource: "train-holdout",
  };
}
