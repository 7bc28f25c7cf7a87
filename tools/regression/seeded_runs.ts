/**
 * Fingerprints of seeded runs through the CLI, to show that a change keeps behaviour bit for bit
 * (a refactor) or to see exactly what it changed:
 *
 *   deno run -A tools/regression/seeded_runs.ts --repo DIR [--data ROOT --class NAME]
 *     [--modes depth,combi] [--set key=value]... --out FILE.json
 *   deno run -A tools/regression/seeded_runs.ts --compare BEFORE.json AFTER.json
 *
 * Runs `deno task ast run ... --preset demo --seed 0` per mode in the checkout DIR (e.g. a
 * `git worktree` of an older commit) and records the SHA-256 of the trained teacher and student
 * weights and of the anomaly maps, and metrics.json and the per-epoch losses without wall times,
 * memory and provenance. Without --data the synthetic dataset (seed 0) is generated once into a
 * temp folder, so both checkouts see the same files. Weights: $AST_WEIGHTS_DIR as the runs see it.
 * `--compare` prints every difference and exits 1 if there is one.
 */
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { generateDataset } from "../../lib/data/synthetic.ts";

const VOLATILE = new Set(["seconds", "timing", "memory", "provenance", "created", "rss_mb", "numTensors"]);

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).filter(([k]) => !VOLATILE.has(k)).map(([k, x]) => [k, strip(x)]));
  }
  return v;
}

const sha = async (path: string) => createHash("sha256").update(await Deno.readFile(path)).digest("hex");

async function run(repo: string, args: string[], env: Record<string, string>) {
  const p = new Deno.Command(Deno.execPath(), { args: ["task", "ast", "run", ...args], cwd: repo, env, stdout: "piped", stderr: "piped" });
  const o = await p.output();
  const text = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  if (!o.success) throw new Error(`run failed in ${repo}:\n${text}`);
  return text;
}

async function fingerprint(o: { repo: string; data: string; className: string; modes: string[]; extra: string[] }) {
  const out: Record<string, unknown> = {};
  const tmp = await Deno.makeTempDir({ prefix: "seeded-runs-" });
  for (const mode of o.modes) {
    const dir = join(tmp, mode);
    const env = { AST_CACHE_DIR: join(tmp, `cache-${mode}`), NO_COLOR: "1" };
    await run(o.repo, ["--data", o.data, "--class", o.className, "--mode", mode, "--preset", "demo", "--seed", "0", "--out", dir, ...o.extra], env);
    const metrics = JSON.parse(await Deno.readTextFile(join(dir, "metrics.json")));
    const history = JSON.parse(await Deno.readTextFile(join(dir, "history.json")));
    out[mode] = {
      teacher_sha256: await sha(join(dir, "teacher.safetensors")),
      student_sha256: await sha(join(dir, "student.safetensors")),
      maps_sha256: await sha(join(dir, "maps.safetensors")),
      metrics: strip(metrics),
      losses: history.epochs.map((e: { phase: string; epoch: number; loss: number }) => [e.phase, e.epoch, e.loss]),
    };
    console.log(`${mode}: teacher ${(out[mode] as { teacher_sha256: string }).teacher_sha256.slice(0, 16)} student ${(out[mode] as { student_sha256: string }).student_sha256.slice(0, 16)}`);
  }
  return out;
}

/** Every differing leaf of two fingerprints, as `path: a != b`. */
export function diff(a: unknown, b: unknown, path = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b as object)]);
    return [...keys].flatMap((k) => diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`));
  }
  return [`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`];
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: {
      repo: { type: "string", default: "." },
      data: { type: "string" },
      class: { type: "string", default: "puck" },
      modes: { type: "string", default: "depth,combi" },
      out: { type: "string" },
      compare: { type: "boolean" },
      set: { type: "string", multiple: true },
    },
    allowPositionals: true,
  });
  if (values.compare) {
    const [a, b] = await Promise.all(positionals.map((p) => Deno.readTextFile(p).then(JSON.parse)));
    const d = diff(a.runs, b.runs);
    console.log(d.length ? d.join("\n") : "identical: weights, maps, metrics and losses");
    Deno.exit(d.length ? 1 : 0);
  }
  let data = values.data;
  if (!data) {
    data = await Deno.makeTempDir({ prefix: "seeded-runs-data-" });
    await generateDataset({ root: data, className: values.class!, seed: 0 });
  }
  const runs = await fingerprint({
    repo: resolve(values.repo!),
    data: resolve(data),
    className: values.class!,
    modes: values.modes!.split(","),
    extra: (values.set ?? []).flatMap((s) => ["--set", s]),
  });
  await Deno.writeTextFile(values.out!, JSON.stringify({ repo: resolve(values.repo!), written: new Date().toISOString(), runs }, null, 1));
}
