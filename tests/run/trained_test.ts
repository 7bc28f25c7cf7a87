import { join } from "node:path";
import { openDataset } from "../../lib/data/mvtec.ts";
import { sampleInputFiles } from "../../lib/types.ts";
import { runExperiment } from "../../lib/run/run.ts";
import { loadTrainedModel, ModelFolderError, pixelOutputs } from "../../lib/run/trained.ts";
import { readScoresParquet } from "../../lib/results/run_files.ts";
import { assert, assertClose, assertEquals, assertRejects } from "../assert.ts";
import { TINY_SETS, tinyMvtec3d } from "./_tiny.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const quiet = () => {};

Deno.test({ name: "trained model: a run folder reloads and reproduces its recorded scores; pixel outputs", ...opts, fn: async () => {
  const root = await tinyMvtec3d(3);
  const out = join(await Deno.makeTempDir(), "run");
  await runExperiment({ data: root, className: "puck", mode: "depth", epochs: 2, seed: 2, out, sets: TINY_SETS, log: quiet });
  const before = [...Deno.readDirSync(out)].map((e) => e.name).sort();
  const model = await loadTrainedModel(out);
  const ds = await openDataset(root, "puck");
  const f = await model.features(ds.test.map(sampleInputFiles));
  const r = model.score(f);
  const recorded = readScoresParquet(out);
  // the same code path as the run's evaluation, on the same backend: the same numbers exactly
  assertEquals(Array.from(r.scoreMax), recorded.getColumn("score_max").toArray() as number[]);
  const px = await pixelOutputs(model, f, ds.test);
  const n = px.distance.length;
  assert(n > 0 && n <= ds.test.length * 64, `kept pixels ${n}`);
  assertEquals(px.teacher.length, n * px.channels);
  assertEquals(px.student.length, n * px.channels);
  // distance = mean over channels of the squared difference of the two outputs
  let d0 = 0;
  for (let c = 0; c < px.channels; c++) d0 += (px.teacher[c] - px.student[c]) ** 2;
  assertClose([d0 / px.channels], [px.distance[0]], { atol: 1e-5, rtol: 1e-4 });
  assert(px.anomalous.some((v) => v === 1) && px.anomalous.some((v) => v === 0), "both pixel classes present");
  model.dispose();
  assertEquals([...Deno.readDirSync(out)].map((e) => e.name).sort(), before, "loading never writes into the run folder");
}});

Deno.test({ name: "trained model: a folder without a finished run is a clear error", ...opts, fn: async () => {
  const dir = await Deno.makeTempDir();
  await assertRejects(() => loadTrainedModel(dir), ModelFolderError, "not a run folder");
  await Deno.writeTextFile(join(dir, "config.json"), JSON.stringify({ something: 1 }));
  await assertRejects(() => loadTrainedModel(dir), ModelFolderError, "incompatible version");
}});
