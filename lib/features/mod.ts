/**
 * lib/features: image backbones and their feature cache — one registry (backbones.ts: name,
 * default layer, stride, channels, RGB recipe, weights location), EfficientNet-B5 (the paper's),
 * MobileNetV2, the raw-patch stand-in, weight files and checksums, and the on-disk cache of
 * extracted features. Nothing about depth, runs or models. RGB resizing and scaling are
 * lib/preprocess/rgb.ts. May import: lib/preprocess, lib/ops, lib/io, lib/types.ts, lib/util.
 */
export { type Backbone } from "./backbone.ts";
export { BACKBONES, backboneRecord, type BackboneSpec, backboneSpec, locateWeights, missingWeightsMessage, type ResolvedBackbone, resolveBackbone } from "./backbones.ts";
export { cachedImageFeatures, type CacheContext, featureCacheDir } from "./feature_cache.ts";
export { weightsChecksum, weightsRoot } from "./weights_files.ts";
