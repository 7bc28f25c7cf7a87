/**
 * The dataset download (lib/data/download/, `deno task data`) on archives made here with the
 * system tar from tiny generated classes, served by an injected fetch (no network): SHA-256
 * checks (pinned, published, recorded), MD5, unpacking into the loaders' layout, re-runs,
 * truncated and resumed downloads, the command's output and its task's permissions.
 */
import { join } from "node:path";
import { main } from "../../lib/cli/data.ts";
import { downloadDataset } from "../../lib/data/download/dataset.ts";
import { ArchiveDownloadError } from "../../lib/data/download/fetch_archive.ts";
import { DOWNLOAD_HOSTS, LICENCE_LINE, SOURCES } from "../../lib/data/download/sources.ts";
import { openDataset } from "../../lib/data/mvtec.ts";
import { PROJECT_ROOT } from "../../lib/util/project.ts";
import { ChecksumError, readChecksumRecord, sha256Hex } from "../../lib/util/sha256.ts";
import { runArgs, taskFlags } from "../_cli.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { tinyMvtec3d, tinyMvtecAd } from "../run/_tiny.ts";

async function runs(cmd: string, ...args: string[]): Promise<boolean> {
  try {
    return (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).success;
  } catch {
    return false;
  }
}
const haveTarXz = (await runs("tar", "--version")) && (await runs("xz", "--version"));
if (!haveTarXz) console.log("download_test: skipping the archive tests: no `tar` or `xz` here (Debian: apt-get install tar xz-utils)");

/** `tar -cJf` of `names` (folders or files) in `dir`; the archive's bytes. */
async function tarXz(dir: string, ...names: string[]): Promise<Uint8Array> {
  const out = join(await Deno.makeTempDir(), "a.tar.xz");
  const r = await new Deno.Command("tar", { args: ["-cJf", out, "-C", dir, ...names], stderr: "piped" }).output();
  assert(r.success, new TextDecoder().decode(r.stderr));
  return await Deno.readFile(out);
}

/** A tiny MVTec AD class renamed to `name`, in a fresh folder. */
async function adClass(name: string): Promise<string> {
  const root = await tinyMvtecAd(1);
  await Deno.rename(join(root, "tex"), join(root, name));
  return root;
}

interface Served {
  urls: string[];
  ranges: (string | null)[];
}

/**
 * A fetch stand-in serving `body` in chunks; honours `Range: bytes=N-` with 206 unless
 * `ignoreRange`; `cutAt` ends the body early while Content-Length still says the full size.
 */
function serve(body: Uint8Array, opts: { cutAt?: number; ignoreRange?: boolean; status?: number } = {}): typeof fetch & Served {
  const served: Served = { urls: [], ranges: [] };
  const fn = ((url: string, init?: RequestInit) => {
    served.urls.push(String(url));
    const range = new Headers(init?.headers).get("range");
    served.ranges.push(range);
    if (opts.status) return Promise.resolve(new Response(null, { status: opts.status, statusText: "Not Found" }));
    const from = range && !opts.ignoreRange ? Number(/^bytes=(\d+)-$/.exec(range)![1]) : 0;
    const end = opts.cutAt ?? body.length;
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = from; i < end; i += 4096) c.enqueue(body.slice(i, Math.min(i + 4096, end)));
        c.close();
      },
    });
    const headers = { "content-length": String(body.length - from) };
    return Promise.resolve(new Response(stream, { status: from > 0 ? 206 : 200, headers }));
  }) as typeof fetch & Served;
  return Object.assign(fn, served);
}

const refuse = (() => Promise.reject(new Error("must not download"))) as typeof fetch;
const entries = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();
const archiveTest = (name: string, fn: () => Promise<void>) => Deno.test({ name, ignore: !haveTarXz, fn });

archiveTest("data download: a class archive is fetched from the table's URL, its SHA-256 recorded, unpacked into the layout; a re-run downloads nothing", async () => {
  const archive = await tarXz(await adClass("bottle"), "bottle");
  const out = join(await Deno.makeTempDir(), "mvtec_ad");
  const fetchFn = serve(archive);
  const r = await downloadDataset({ dataset: "mvtec-ad", classes: ["bottle"], outDir: out, fetchFn });
  assertEquals(fetchFn.urls, [SOURCES["mvtec-ad"].classes.bottle.url]);
  assertEquals(r.archives.map((a) => [a.sha256, a.downloaded, a.verifiedBy]), [[sha256Hex(archive), true, "first download (recorded)"]]);
  assertEquals(r.classes.map((c) => [c.name, c.layout, c.train, c.test, c.alreadyPresent]), [["bottle", "mvtecad", 8, 6, false]]);
  const ds = await openDataset(out, "bottle");
  assertEquals([ds.train.length, ds.test.filter((s) => s.maskPath).length], [8, 3]);
  // the archive is gone once unpacked, its hash record stays; no temporary folder left
  assertEquals(entries(out), ["bottle", "bottle.tar.xz.sha256"]);
  assertEquals(await readChecksumRecord(join(out, "bottle.tar.xz")), sha256Hex(archive));

  const again = await downloadDataset({ dataset: "mvtec-ad", classes: ["bottle"], outDir: out, fetchFn: refuse });
  assertEquals([again.archives.length, again.classes[0].alreadyPresent], [0, true]);
});

archiveTest("data download: a later download that differs from the recorded hash is refused in one line naming both, nothing kept", async () => {
  const archive = await tarXz(await adClass("bottle"), "bottle");
  const out = await Deno.makeTempDir();
  await downloadDataset({ dataset: "mvtec-ad", classes: ["bottle"], outDir: out, fetchFn: serve(archive) });
  await Deno.remove(join(out, "bottle"), { recursive: true });
  const changed = new Uint8Array([...archive, 0]); // another file under the same URL
  await assertRejects(() => downloadDataset({ dataset: "mvtec-ad", classes: ["bottle"], outDir: out, fetchFn: serve(changed) }), (e: Error) =>
    e instanceof ChecksumError && !e.message.includes("\n") && e.message.includes(sha256Hex(changed)) &&
    e.message.includes(`expected (recorded by an earlier download) ${sha256Hex(archive)}`));
  assertEquals(entries(out), ["bottle.tar.xz.sha256"]);
});

archiveTest("data download: a wrong pinned --sha256 is refused in one line naming both hashes; the right one is accepted", async () => {
  const archive = await tarXz(await adClass("bottle"), "bottle");
  const out = await Deno.makeTempDir();
  const wrong = "0".repeat(64);
  await assertRejects(() => downloadDataset({ dataset: "mvtec-ad", classes: ["bottle"], outDir: out, sha256: wrong, fetchFn: serve(archive) }), (e: Error) =>
    e instanceof ChecksumError && !e.message.includes("\n") && e.message.includes(sha256Hex(archive)) && e.message.includes(`expected (pinned) ${wrong}`));
  assertEquals(entries(out), []);
  const r = await downloadDataset({ dataset: "mvtec-ad", classes: ["bottle"], outDir: out, sha256: sha256Hex(archive).toUpperCase(), fetchFn: serve(archive) });
  assertEquals(r.archives[0].verifiedBy, "pinned");
});

archiveTest("data download: the published SHA-256 (MVTec AD) and MD5 (MVTec 3D-AD) of the whole archives are checked", async () => {
  const archive = await tarXz(await adClass("bottle"), "bottle");
  const out = await Deno.makeTempDir();
  await assertRejects(() => downloadDataset({ dataset: "mvtec-ad", outDir: out, fetchFn: serve(archive) }), (e: Error) =>
    e instanceof ChecksumError && e.message.includes(`expected (published) ${SOURCES["mvtec-ad"].whole.sha256}`));
  await assertRejects(() => downloadDataset({ dataset: "mvtec-3d", outDir: out, fetchFn: serve(archive) }), (e: Error) =>
    e instanceof ChecksumError && e.message.includes(`MD5 mismatch`) && e.message.includes(`expected (published) ${SOURCES["mvtec-3d"].whole.md5}`));
  assertEquals(entries(out), []);
  const offline = (() => Promise.reject(new TypeError("error sending request: dns error"))) as typeof fetch;
  await assertRejects(() => downloadDataset({ dataset: "mvtec-ad", outDir: out, fetchFn: offline }), (e: Error) =>
    e instanceof ArchiveDownloadError && e.message.includes(`put it at ${join(out, "mvtec_anomaly_detection.tar.xz")} and run again`));
});

archiveTest("data download: the whole archive (classes under one top folder, with licence files) unpacks every class", async () => {
  const dir = await Deno.makeTempDir();
  const top = join(dir, "mvtec_3d_anomaly_detection");
  await Deno.mkdir(top);
  const puck = await tinyMvtec3d(2);
  const names = Object.keys(SOURCES["mvtec-3d"].classes);
  for (const name of names) await new Deno.Command("cp", { args: ["-r", join(puck, "puck"), join(top, name)] }).output();
  await Deno.writeTextFile(join(top, "license.txt"), "CC BY-NC-SA 4.0\n");
  const archive = await tarXz(dir, "mvtec_3d_anomaly_detection");
  const out = await Deno.makeTempDir();
  await Deno.mkdir(join(out, "nested"));
  const r = await downloadDataset({ dataset: "mvtec-3d", outDir: out, sha256: sha256Hex(archive), keepArchive: true, fetchFn: serve(archive) });
  assertEquals(r.classes.map((c) => [c.name, c.layout]), names.sort().map((n) => [n, "mvtec3d"]));
  assertEquals(entries(out), [...names, "license.txt", "mvtec_3d_anomaly_detection.tar.xz", "mvtec_3d_anomaly_detection.tar.xz.sha256", "nested"].sort());
  assert((await openDataset(out, "tire")).validation.length > 0);
});

archiveTest("data download: an archive put in --out by hand (offline) is verified and unpacked, not fetched", async () => {
  const archive = await tarXz(await adClass("grid"), "grid");
  const out = await Deno.makeTempDir();
  await Deno.writeFile(join(out, "grid.tar.xz"), archive);
  await assertRejects(() => downloadDataset({ dataset: "mvtec-ad", classes: ["grid"], outDir: out, sha256: "1".repeat(64), fetchFn: refuse }), ChecksumError);
  const r = await downloadDataset({ dataset: "mvtec-ad", classes: ["grid"], outDir: out, fetchFn: refuse });
  assertEquals([r.archives[0].downloaded, r.archives[0].sha256, r.classes[0].name], [false, sha256Hex(archive), "grid"]);
  assertEquals(entries(out), ["grid", "grid.tar.xz.sha256"]);
});

archiveTest("data download: a truncated download is refused and its .part kept; the next run resumes from it (or restarts when the server ignores the range)", async () => {
  const archive = await tarXz(await adClass("bottle"), "bottle");
  const out = await Deno.makeTempDir();
  const cut = Math.floor(archive.length / 2);
  await assertRejects(() => downloadDataset({ dataset: "mvtec-ad", classes: ["bottle"], outDir: out, fetchFn: serve(archive, { cutAt: cut }) }), (e: Error) =>
    e instanceof ArchiveDownloadError && e.message.includes(`truncated: got ${cut} of ${archive.length} bytes`));
  assertEquals(entries(out), ["bottle.tar.xz.part"]);

  const resumed = serve(archive);
  const r = await downloadDataset({ dataset: "mvtec-ad", classes: ["bottle"], outDir: out, fetchFn: resumed });
  assertEquals(resumed.ranges, [`bytes=${cut}-`]);
  assertEquals([r.archives[0].sha256, r.classes[0].name], [sha256Hex(archive), "bottle"]);

  const out2 = await Deno.makeTempDir();
  await Deno.writeFile(join(out2, "bottle.tar.xz.part"), archive.slice(0, cut));
  const r2 = await downloadDataset({ dataset: "mvtec-ad", classes: ["bottle"], outDir: out2, fetchFn: serve(archive, { ignoreRange: true }) });
  assertEquals(r2.archives[0].sha256, sha256Hex(archive));
});

archiveTest("data command: prints progress, the classes, the licence line, where they went and the command to train", async () => {
  const archive = await tarXz(await adClass("zipper"), "zipper");
  const out = join(await Deno.makeTempDir(), "ad");
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  let code: number;
  try {
    code = await main(["mvtec-ad", "--class", "zipper", "--out", out], serve(archive));
  } finally {
    console.log = log;
  }
  const text = lines.join("\n");
  assertEquals(code, 0, text);
  assert(new RegExp(`zipper\\.tar\\.xz: [\\d.]+ / [\\d.]+ MB \\(100\\.0%\\)`).test(text), text);
  assert(text.includes(LICENCE_LINE), text);
  assert(text.includes(`deno task ast run --data ${out} --class zipper --mode rgb --preset paper`), text);
  assert(text.includes(`set AST_MVTEC_AD=${out}`), text);
});

Deno.test("data command: usage errors; the data task's network is the download hosts and it runs only tar", async () => {
  const err = console.error;
  const errors: string[] = [];
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    assertEquals(await main([], refuse), 2);
    assertEquals(await main(["imagenet"], refuse), 2);
    assertEquals(await main(["mvtec-ad", "--bogus"], refuse), 2);
  } finally {
    console.error = err;
  }
  assert(errors[0].startsWith("data: error: name one dataset (mvtec-ad or mvtec-3d)"), errors[0]);
  assert(errors[1].includes("got 'imagenet'"), errors[1]);
  const flags = taskFlags("data");
  assertEquals(flags.find((f) => f.startsWith("--allow-net")), `--allow-net=${DOWNLOAD_HOSTS.join(",")}`);
  assertEquals(flags.find((f) => f.startsWith("--allow-run")), "--allow-run=tar");
  for (const s of Object.values(SOURCES)) {
    for (const a of [s.whole, ...Object.values(s.classes)]) assert(DOWNLOAD_HOSTS.includes(new URL(a.url).host), a.url);
  }
});

Deno.test({ name: "data task (its own flags): an unknown class and an --out it may not write are one-line errors before any download", sanitizeResources: false, fn: async () => {
  const cli = join(PROJECT_ROOT, "lib/cli/data.ts");
  const spawn = async (...args: string[]) => {
    const r = await new Deno.Command(Deno.execPath(), { args: runArgs("data", cli, ...args), cwd: PROJECT_ROOT, stdout: "piped", stderr: "piped", env: { NO_COLOR: "1" } }).output();
    return { code: r.code, stderr: new TextDecoder().decode(r.stderr).trim() };
  };
  const unknown = await spawn("mvtec-3d", "--class", "nope");
  assertEquals(unknown.code, 1);
  assert(/^data: error: MVTec 3D-AD has no class 'nope'; its classes: bagel, cable_gland, .* tire$/.test(unknown.stderr), unknown.stderr);
  const outside = join(await Deno.makeTempDir(), "ad");
  const denied = await spawn("mvtec-ad", "--out", outside);
  assertEquals(denied.code, 1);
  assert(denied.stderr.startsWith(`data: error: needs --allow-write=${outside} for --out`) && !denied.stderr.includes("\n"), denied.stderr);
} });
