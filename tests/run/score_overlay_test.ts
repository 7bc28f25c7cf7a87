/**
 * Overlays of one model share one colour scale, fixed at training (model.json `overlay_scale`:
 * 0 to 2 x the decision threshold), whatever the image or a re-chosen threshold; the bicubic
 * map's overshoot below 0 is drawn as 0; a model.json from before 1.2 gets the same scale and a note.
 */
import { join } from "node:path";
import { openDataset } from "../../lib/data/mvtec.ts";
import { readSafetensors } from "../../lib/io/safetensors.ts";
import { parseThresholdRule } from "../../lib/metrics/threshold.ts";
import { OVERLAY_SCALE_THRESHOLDS, readModelCard } from "../../lib/results/model_card.ts";
import { runExperiment } from "../../lib/run/run.ts";
import { displayMap, openScoringModel, scoredFigure, scoreInputs, writeScoreOutputs } from "../../lib/run/score.ts";
import { assert, assertEquals } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "./_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const root = await tinyMvtec3d(11);
const base = await Deno.makeTempDir();
const model = join(base, "model");
await runExperiment({ data: root, className: "puck", mode: "combi", backbone: "raw-patch", epochs: 1, seed: 2, out: model, sets: TINY_SETS, log: () => {} });
const ds = await openDataset(root, "puck");
const good = ds.test.find((s) => s.label === 0)!, bad = ds.test.find((s) => s.label === 1)!;
const inputs = [good, bad].map((s) => ({ image: s.rgbPath, depth: s.xyzPath }));

/** The colour bar's tick texts of an overlay figure (the three texts right of the bar). */
const ticks = (svg: string) => [...svg.matchAll(/<text [^>]*>([^<]*)<\/text>/g)].map((m) => m[1]).filter((t) => /^-?\d[\d.e+-]*( threshold)?$/.test(t));

Deno.test({ name: "overlay scale: recorded in model.json at training as 0 to 2 x the threshold", ...opts, fn: async () => {
  const card = await readModelCard(model);
  assertEquals(card.version, 1.2);
  assertEquals(card.overlay_scale!.min, 0);
  assertEquals(card.overlay_scale!.max, OVERLAY_SCALE_THRESHOLDS * card.threshold!.value);
  assert(card.overlay_scale!.basis.includes("decision threshold"), card.overlay_scale!.basis);
}});

Deno.test({ name: "overlay scale: two images scored by one model are drawn on the same scale (written metadata, scores.json, colour bar)", ...opts, fn: async () => {
  const card = await readModelCard(model);
  const m = await openScoringModel(model);
  try {
    const scored = await scoreInputs(m, inputs);
    const maxima = scored.map((s) => Math.max(...s.map));
    assert(Math.abs(maxima[0] - maxima[1]) > 1e-3, `maps of different height (${maxima}), else a per-image scale would agree too`);
    const out = join(base, "scores");
    await writeScoreOutputs(out, m, scored);
    const summary = JSON.parse(await Deno.readTextFile(join(out, "scores.json")));
    assertEquals(summary.overlay_scale, card.overlay_scale);
    const want = [card.overlay_scale!.min, card.overlay_scale!.max];
    for (const row of summary.images) {
      assertEquals(row.overlay_range, want, row.image);
      const meta = (await readSafetensors(join(out, row.map))).metadata;
      assertEquals([Number(meta.overlay_vmin), Number(meta.overlay_vmax)], want, row.map);
    }
    const figures = await Promise.all(scored.map((s) => scoredFigure(s, m.threshold, m.overlayScale)));
    assertEquals(ticks(figures[0]).length, 3);
    assertEquals(ticks(figures[0]), ticks(figures[1]));
    assert(ticks(figures[0])[1].endsWith("threshold"), ticks(figures[0]).join(" | "));
    const barLabel = [...figures[0].matchAll(/class="colorbar-label"[^>]*>([^<]*)</g)].map((m) => m[1]).join(" ");
    assert(barLabel.includes("scale fixed for this model: 0 to 2 x the decision threshold"), barLabel);
  } finally {
    m.dispose();
  }
}});

Deno.test({ name: "overlay scale: a threshold re-chosen with --threshold moves the mark, not the scale", ...opts, fn: async () => {
  const card = await readModelCard(model);
  const m = await openScoringModel(model, { rule: parseThresholdRule("quantile:0.5") });
  try {
    assertEquals(m.overlayScale, card.overlay_scale);
    assert(m.threshold!.value !== card.threshold!.value || card.normal_scores!.n < 2, "another threshold");
  } finally {
    m.dispose();
  }
}});

Deno.test({ name: "overlay: the bicubic map's overshoot below 0 is drawn as 0, the written map keeps it", ...opts, fn: async () => {
  const m = await openScoringModel(model);
  try {
    const scored = await scoreInputs(m, ds.test.map((s) => ({ image: s.rgbPath, depth: s.xyzPath })));
    const withNegative = scored.find((s) => s.map.some((v) => v < 0));
    assert(withNegative, "a test map with bicubic overshoot below 0");
    const shown = displayMap(withNegative.map);
    assertEquals(shown.filter((v) => v < 0).length, 0);
    withNegative.map.forEach((v, i) => assertEquals(shown[i], Math.max(0, v)));
    const clipped = { ...withNegative, map: shown };
    assertEquals(await scoredFigure(withNegative, m.threshold, m.overlayScale), await scoredFigure(clipped, m.threshold, m.overlayScale));
  } finally {
    m.dispose();
  }
}});

Deno.test({ name: "overlay scale: a model.json from before 1.2 gets the same scale from its threshold, with a one-line note", ...opts, fn: async () => {
  const old = join(base, "old");
  await Deno.mkdir(old);
  for (const e of Deno.readDirSync(model)) if (e.isFile) await Deno.copyFile(join(model, e.name), join(old, e.name));
  const { overlay_scale: scale, ...card } = await readModelCard(model);
  await Deno.writeTextFile(join(old, "model.json"), JSON.stringify({ ...card, version: 1.1 }));
  const m = await openScoringModel(old);
  try {
    assertEquals(m.overlayScale, scale);
    const notes = m.notes.filter((n) => n.includes("overlay"));
    assertEquals(notes.length, 1, m.notes.join("\n"));
    assert(/model\.json v1\.1 records no overlay colour scale: overlays use 2 x the decision threshold/.test(notes[0]), notes[0]);
  } finally {
    m.dispose();
  }
}});
