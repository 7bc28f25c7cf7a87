/**
 * lib/metrics: anomaly-detection metrics on plain arrays (no tfjs), exact with tied scores —
 * AUROC, AUPRO (FPR 0.3), F1-max, stratified bootstrap intervals, a run's metric set, decision
 * thresholds from held-apart normal scores. May import: lib/util.
 */
export { auroc, type RocCurve, rocCurve } from "./roc.ts";
export { aupro, type AuproOptions, type ProCurve, proCurve } from "./pro.ts";
export { type F1Max, f1Max } from "./f1.ts";
export { type Components, labelComponents } from "./components.ts";
export { trapezoidUpTo } from "./trapezoid.ts";
export { argsortDescending } from "./sort.ts";
export { computeMetrics, type Metrics, type ScoredImages } from "./run_metrics.ts";
export { chooseThreshold, evaluateThreshold, parseThresholdRule, type Threshold, type ThresholdReport, type ThresholdRule } from "./threshold.ts";
export { type PairedBootstrapOptions, type PairedDifference, pairedAurocDifference, type PairedSeed, seedStd } from "./paired_difference.ts";
export { sampleStd } from "./sample_std.ts";
export { stratifiedImageWeights, weightedAuroc, weightedAurocSorted } from "./weighted_auroc.ts";
