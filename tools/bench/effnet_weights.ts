/**
 * Weights for the EfficientNet-B5 speed workload: the conformance fixture's random weights when
 * ../shared is present (same shapes as the real network), else seeded random tensors of the
 * reference names and shapes. Speed does not depend on the values.
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type NamedArray, readSafetensors, writeSafetensors } from "../../lib/io/safetensors.ts";
import { B5_BLOCKS, B5_STEM_CHANNELS } from "../../lib/features/efficientnet/architecture.ts";
import { mulberry32 } from "../../lib/util/random.ts";

/**
 * `../shared` beside the project folder (same rule as tests/_shared.ts): where the fixture is
 * looked for unless the entry point passes `$AST_SHARED_DIR`.
 */
export const DEFAULT_SHARED_DIR: string = resolve(fileURLToPath(new URL("../../../shared", import.meta.url)));

/** The shared fixture file under `sharedDir`, when present. */
export function fixtureWeightsPath(sharedDir: string): string | null {
  const p = join(sharedDir, "fixtures", "efficientnet_b5_reference", "weights.safetensors");
  try {
    return Deno.statSync(p).isFile ? p : null;
  } catch {
    return null;
  }
}

/** Random reference-named tensors for blocks 0..upToBlock (BN: unit variance, so no NaNs). */
export function randomEffnetB5Weights(upToBlock: number, seed = 1): Map<string, NamedArray> {
  const rng = mulberry32(seed);
  const m = new Map<string, NamedArray>();
  const put = (name: string, shape: number[], fill?: number, scale = 0.1) => {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = fill ?? (rng() * 2 - 1) * scale;
    m.set(name, { shape, dtype: "F32", data });
  };
  const bn = (name: string, c: number) => {
    put(`${name}.weight`, [c], 1);
    put(`${name}.bias`, [c], 0);
    put(`${name}.running_mean`, [c], 0);
    put(`${name}.running_var`, [c], 1);
  };
  put("_conv_stem.weight", [B5_STEM_CHANNELS, 3, 3, 3]);
  bn("_bn0", B5_STEM_CHANNELS);
  for (const s of B5_BLOCKS.slice(0, upToBlock + 1)) {
    const b = `_blocks.${s.index}`;
    if (s.expandRatio !== 1) {
      put(`${b}._expand_conv.weight`, [s.midChannels, s.inChannels, 1, 1]);
      bn(`${b}._bn0`, s.midChannels);
    }
    put(`${b}._depthwise_conv.weight`, [s.midChannels, 1, s.kernel, s.kernel]);
    bn(`${b}._bn1`, s.midChannels);
    put(`${b}._se_reduce.weight`, [s.seChannels, s.midChannels, 1, 1]);
    put(`${b}._se_reduce.bias`, [s.seChannels]);
    put(`${b}._se_expand.weight`, [s.midChannels, s.seChannels, 1, 1]);
    put(`${b}._se_expand.bias`, [s.midChannels]);
    put(`${b}._project_conv.weight`, [s.outChannels, s.midChannels, 1, 1]);
    bn(`${b}._bn2`, s.outChannels);
  }
  return m;
}

/** Fixture weights (under `sharedDir`) when available and `preferFixture`, else random ones; says which. */
export async function effnetB5BenchWeights(
  upToBlock: number,
  preferFixture: boolean,
  sharedDir: string,
): Promise<{ tensors: Map<string, NamedArray>; source: string }> {
  const path = preferFixture ? fixtureWeightsPath(sharedDir) : null;
  if (path) return { tensors: (await readSafetensors(path)).tensors, source: path };
  return { tensors: randomEffnetB5Weights(upToBlock), source: "random" };
}

/**
 * The same stand-in as a weights file, for code that loads weights by path (the real backbone
 * loader): the fixture file itself, or the seeded random weights written into `dir`.
 */
export async function effnetB5BenchWeightsFile(
  upToBlock: number,
  dir: string,
  preferFixture: boolean,
  sharedDir: string,
): Promise<{ path: string; source: string }> {
  const fixture = preferFixture ? fixtureWeightsPath(sharedDir) : null;
  if (fixture) return { path: fixture, source: fixture };
  const path = join(dir, "efficientnet_b5_random.safetensors");
  await writeSafetensors(path, randomEffnetB5Weights(upToBlock));
  return { path, source: "random" };
}
