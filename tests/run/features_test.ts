/**
 * The features part of a run with a pretrained backbone: an interrupted run resumes with the
 * very backbone, layer and weights it started with (recorded in config.json), reusing the
 * cached features. Needs the shared grid subset and MobileNetV2 weights (skipped without).
 */
import { join } from "node:path";
import { runExperiment } from "../../lib/run/run.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { needsShared, sharedPath } from "../_shared.ts";
import { DEFAULT_RUNTIME } from "../../lib/config/runtime.ts";
import { TINY_SETS } from "./_tiny.ts";

Deno.test({ name: "run features: resume keeps backbone, layer and weights; cache reused", ignore: needsShared(), sanitizeOps: false, sanitizeResources: false, fn: async () => {
  const cache = await Deno.makeTempDir({ prefix: "ast-cache-" });
  const runtime = { ...DEFAULT_RUNTIME, weightsDir: sharedPath("weights") };
  const out = join(await Deno.makeTempDir(), "grid");
  const lines: string[] = [];
  const args = {
    data: sharedPath("data"), className: "mvtec_ad_grid_subset", mode: "rgb" as const, epochs: 2, out,
    sets: TINY_SETS, layer: "block_13_expand_relu", featureCache: cache, log: (l: string) => lines.push(l), runtime,
  };
  {
    await assertRejects(() =>
      runExperiment({ ...args, onEpoch: (r) => {
        if (r.phase === "student") throw new Error("simulated interruption");
      } }), /simulated interruption/);
    const cfg = JSON.parse(await Deno.readTextFile(join(out, "config.json")));
    assertEquals([cfg.backbone, cfg.backbone_layer], ["mobilenet_v2", "block_13_expand_relu"]);
    assert(/^[0-9a-f]{64}$/.test(cfg.weights_sha256));
    lines.length = 0;
    const { metrics } = await runExperiment({ data: args.data, className: args.className, mode: "rgb", out, resume: true, featureCache: cache, log: (l) => lines.push(l), runtime });
    assertEquals([metrics.backbone, metrics.backbone_layer, metrics.backbone_weights_sha256], ["mobilenet_v2", "block_13_expand_relu", cfg.weights_sha256]);
    assert(lines.some((l) => /features train: cached/.test(l)), lines.join("\n"));
  }
} });
