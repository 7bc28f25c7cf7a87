/**
 * lib/toy: the 1D regression toy of the paper's Figure 2 (MLP vs flow students of a random or
 * distilled teacher), self-contained on tfjs. May import: lib/train, lib/util.
 */
export { toyRatioTable, toyRegression1d } from "./regression_1d.ts";
