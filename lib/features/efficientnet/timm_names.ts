/**
 * Tensor names of timm's `tf_efficientnet_b5` state dict <-> the reference package's names
 * (lukemelas EfficientNet-PyTorch), so either file can be loaded. Both hold the same TF-ported
 * weights in the same PyTorch layouts; only the names differ:
 *
 *   reference                         timm
 *   _conv_stem, _bn0                  conv_stem, bn1
 *   _conv_head, _bn1, _fc             conv_head, bn2, classifier
 *   _blocks.N  (global index)         blocks.S.I (stage S, index I inside the stage)
 *
 * Inside a block the parts differ by block type. Stage 0 (expand ratio 1) is timm's
 * DepthwiseSeparableConv: there `conv_pw` is the *projection* and its BNs are bn1 (depthwise)
 * and bn2 (projection). Later stages are InvertedResidual: `conv_pw` is the *expansion*,
 * `conv_pwl` the projection, BNs bn1/bn2/bn3 = expansion/depthwise/projection.
 * timm's `num_batches_tracked` counters have no use at inference and are ignored.
 */
import type { NamedArray } from "../../io/safetensors.ts";
import { B5_BLOCKS } from "./architecture.ts";

export type WeightNaming = "reference" | "timm";

/** reference part -> timm part, for stage 0 (depthwise-separable) blocks */
const DS_PARTS: Record<string, string> = {
  _depthwise_conv: "conv_dw",
  _bn1: "bn1",
  _se_reduce: "se.conv_reduce",
  _se_expand: "se.conv_expand",
  _project_conv: "conv_pw",
  _bn2: "bn2",
};

/** reference part -> timm part, for inverted-residual blocks (stages 1..6) */
const IR_PARTS: Record<string, string> = {
  _expand_conv: "conv_pw",
  _bn0: "bn1",
  _depthwise_conv: "conv_dw",
  _bn1: "bn2",
  _se_reduce: "se.conv_reduce",
  _se_expand: "se.conv_expand",
  _project_conv: "conv_pwl",
  _bn2: "bn3",
};

const TOP_LEVEL: Record<string, string> = {
  _conv_stem: "conv_stem",
  _bn0: "bn1",
  _conv_head: "conv_head",
  _bn1: "bn2",
  _fc: "classifier",
};

const CONV_PARAMS = new Set(["weight", "bias"]);
const BN_PARAMS = new Set(["weight", "bias", "running_mean", "running_var"]);

function invert(table: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [v, k]));
}
const DS_PARTS_INV = invert(DS_PARTS), IR_PARTS_INV = invert(IR_PARTS), TOP_LEVEL_INV = invert(TOP_LEVEL);

const BLOCK_BY_STAGE = new Map(B5_BLOCKS.map((b) => [`${b.stage}.${b.position}`, b]));

function paramAllowed(part: string, param: string): boolean {
  return (/(^|[._])bn\d$/.test(part) ? BN_PARAMS : CONV_PARAMS).has(param);
}

/** Counters that carry no weights (PyTorch BatchNorm's `num_batches_tracked`). */
export function isIgnorableName(name: string): boolean {
  return name.endsWith(".num_batches_tracked");
}

/** The reference name of a timm tensor name, or null when it is not a tf_efficientnet_b5 name. */
export function timmToReferenceName(name: string): string | null {
  const block = /^blocks\.(\d+)\.(\d+)\.(.+)\.([a-z_]+)$/.exec(name);
  if (block) {
    const [, stage, position, part, param] = block;
    const spec = BLOCK_BY_STAGE.get(`${Number(stage)}.${Number(position)}`);
    if (!spec || String(Number(stage)) !== stage || String(Number(position)) !== position) return null;
    const refPart = (spec.expandRatio === 1 ? DS_PARTS_INV : IR_PARTS_INV)[part];
    if (!refPart || !paramAllowed(refPart, param)) return null;
    return `_blocks.${spec.index}.${refPart}.${param}`;
  }
  const top = /^([a-z_0-9]+)\.([a-z_]+)$/.exec(name);
  if (top && TOP_LEVEL_INV[top[1]] && paramAllowed(TOP_LEVEL_INV[top[1]], top[2])) return `${TOP_LEVEL_INV[top[1]]}.${top[2]}`;
  return null;
}

/** The timm name of a reference tensor name, or null when it is not an EfficientNet-B5 name. */
export function referenceToTimmName(name: string): string | null {
  const block = /^_blocks\.(\d+)\.(_[a-z_0-9]+)\.([a-z_]+)$/.exec(name);
  if (block) {
    const [, index, part, param] = block;
    const spec = B5_BLOCKS[Number(index)];
    if (!spec || String(Number(index)) !== index) return null;
    const timmPart = (spec.expandRatio === 1 ? DS_PARTS : IR_PARTS)[part];
    if (!timmPart || !paramAllowed(part, param)) return null;
    return `blocks.${spec.stage}.${spec.position}.${timmPart}.${param}`;
  }
  const top = /^(_[a-z_0-9]+)\.([a-z_]+)$/.exec(name);
  if (top && TOP_LEVEL[top[1]] && paramAllowed(top[1], top[2])) return `${TOP_LEVEL[top[1]]}.${top[2]}`;
  return null;
}

export class WeightNamingError extends Error {}

/**
 * Which naming a file's tensors use: the reference's names start with `_` (`_conv_stem`,
 * `_blocks.`), timm's do not (`conv_stem`, `blocks.`). Throws when neither stem is present.
 */
export function detectNaming(names: Iterable<string>, source = "<weights>"): WeightNaming {
  const all = [...names];
  if (all.some((n) => n.startsWith("_conv_stem.") || n.startsWith("_blocks."))) return "reference";
  if (all.some((n) => n.startsWith("conv_stem.") || /^blocks\.\d+\.\d+\./.test(n))) return "timm";
  const sample = all.slice(0, 3).map((n) => `'${n}'`).join(", ");
  throw new WeightNamingError(
    `${source}: not EfficientNet-B5 weights in reference (_conv_stem, _blocks.N...) or timm (conv_stem, blocks.S.I...) naming (first tensors: ${sample || "none"})`,
  );
}

function rename(
  tensors: Map<string, NamedArray>,
  map: (name: string) => string | null,
  from: WeightNaming,
  source: string,
): Map<string, NamedArray> {
  const out = new Map<string, NamedArray>();
  for (const [name, t] of tensors) {
    if (isIgnorableName(name)) continue;
    const mapped = map(name);
    if (mapped == null) {
      throw new WeightNamingError(`${source}: unknown tensor '${name}' for EfficientNet-B5 weights in ${from} naming`);
    }
    out.set(mapped, t);
  }
  return out;
}

/** timm-named tensors -> reference names; unknown names are errors naming the file and tensor. */
export function timmToReference(tensors: Map<string, NamedArray>, source = "<weights>"): Map<string, NamedArray> {
  return rename(tensors, timmToReferenceName, "timm", source);
}

/** reference-named tensors -> timm names (the inverse; used to test the table). */
export function referenceToTimm(tensors: Map<string, NamedArray>, source = "<weights>"): Map<string, NamedArray> {
  return rename(tensors, referenceToTimmName, "reference", source);
}

/** Reference-named tensors whatever the file's naming; also checks that reference names are known. */
export function toReferenceNames(
  tensors: Map<string, NamedArray>,
  source = "<weights>",
): { naming: WeightNaming; tensors: Map<string, NamedArray> } {
  const naming = detectNaming(tensors.keys(), source);
  if (naming === "timm") return { naming, tensors: timmToReference(tensors, source) };
  for (const name of tensors.keys()) {
    if (!isIgnorableName(name) && referenceToTimmName(name) == null) {
      throw new WeightNamingError(`${source}: unknown tensor '${name}' for EfficientNet-B5 weights in reference naming`);
    }
  }
  const kept = new Map([...tensors].filter(([name]) => !isIgnorableName(name)));
  return { naming, tensors: kept };
}
