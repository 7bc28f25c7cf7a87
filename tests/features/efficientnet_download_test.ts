import { join } from "node:path";
import {
  checksumRecordPath,
  readChecksumRecord,
  sha256Hex,
  verifyWeights,
  WeightsChecksumError,
  writeChecksumRecord,
} from "../../lib/features/efficientnet/checksum.ts";
import { downloadWeights, TIMM_B5_WEIGHTS_URL, WeightsDownloadError } from "../../lib/features/efficientnet/download.ts";
import { loadEfficientNetWeights } from "../../lib/features/efficientnet/weights.ts";
import { serializeSafetensors } from "../../lib/io/safetensors.ts";
import { assert, assertEquals, assertRejects } from "../assert.ts";

const EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const payload = new TextEncoder().encode("not really weights");
const payloadSha = sha256Hex(payload);

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A fetch stand-in serving `body` in small chunks (no network). */
function fakeFetch(body: Uint8Array, status = 200): typeof fetch {
  return (() => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < body.length; i += 5) c.enqueue(body.slice(i, i + 5));
        c.close();
      },
    });
    return Promise.resolve(new Response(status === 200 ? stream : null, { status, statusText: status === 404 ? "Not Found" : "" }));
  }) as typeof fetch;
}

Deno.test("sha256Hex: known digest", () => {
  assertEquals(sha256Hex(new Uint8Array()), EMPTY_SHA);
});

Deno.test("checksum record: written in sha256sum format, read back, verified; mismatch shows both hashes", async () => {
  await withTempDir(async (dir) => {
    const path = join(dir, "model.safetensors");
    await Deno.writeFile(path, payload);
    assertEquals(await verifyWeights(path), { sha256: payloadSha, recorded: false, pinned: false });
    await writeChecksumRecord(path, payloadSha.toUpperCase());
    assertEquals(await Deno.readTextFile(checksumRecordPath(path)), `${payloadSha}  model.safetensors\n`);
    assertEquals(await readChecksumRecord(path), payloadSha);
    assertEquals(await verifyWeights(path, payloadSha), { sha256: payloadSha, recorded: true, pinned: true });

    await Deno.writeFile(path, new TextEncoder().encode("tampered"));
    const tampered = sha256Hex(new TextEncoder().encode("tampered"));
    await assertRejects(() => verifyWeights(path), (e: Error) =>
      e instanceof WeightsChecksumError && e.message.includes(tampered) && e.message.includes(payloadSha) && e.message.includes(path));
    await writeChecksumRecord(path, tampered);
    await assertRejects(() => verifyWeights(path, EMPTY_SHA), (e: Error) =>
      e instanceof WeightsChecksumError && e.message.includes(tampered) && e.message.includes(`expected (pinned) ${EMPTY_SHA}`));
    await assertRejects(() => verifyWeights(path, "abc"), /pinned SHA-256 must be 64 hex digits/);
    await Deno.writeTextFile(checksumRecordPath(path), "garbage\n");
    await assertRejects(() => verifyWeights(path), /checksum record .*model\.safetensors\.sha256 must be 64 hex digits/);
  });
});

Deno.test("downloadWeights (injected fetch): streams to the file, records its SHA-256, later loads verify it", async () => {
  await withTempDir(async (dir) => {
    const urls: string[] = [];
    const fetchFn = ((url: string) => (urls.push(url), fakeFetch(payload)(url))) as typeof fetch;
    const r = await downloadWeights({ outDir: join(dir, "w"), fetchFn, sha256: payloadSha });
    assertEquals(urls, [TIMM_B5_WEIGHTS_URL]);
    assertEquals([r.sha256, r.bytes, r.downloaded], [payloadSha, payload.length, true]);
    assertEquals(await Deno.readFile(r.path), payload);
    assertEquals(await readChecksumRecord(r.path), payloadSha);
    // a verified file is not fetched again
    const again = await downloadWeights({ outDir: join(dir, "w"), fetchFn: () => Promise.reject(new Error("no")) });
    assertEquals([again.downloaded, again.sha256], [false, payloadSha]);
    // the loader verifies the record before parsing: a replaced file is refused with both hashes
    await Deno.writeFile(r.path, serializeSafetensors({ "conv_stem.weight": { shape: [1], data: [0] } }));
    await assertRejects(() => loadEfficientNetWeights(r.path), (e: Error) => e instanceof WeightsChecksumError && e.message.includes(payloadSha));
  });
});

Deno.test("downloadWeights: pinned-hash mismatch keeps nothing; HTTP and network failures are clear errors", async () => {
  await withTempDir(async (dir) => {
    await assertRejects(() => downloadWeights({ outDir: dir, fetchFn: fakeFetch(payload), sha256: EMPTY_SHA }), (e: Error) =>
      e instanceof WeightsChecksumError && e.message.includes(payloadSha) && e.message.includes(EMPTY_SHA));
    assertEquals([...Deno.readDirSync(dir)].length, 0);
    await assertRejects(() => downloadWeights({ outDir: dir, fetchFn: fakeFetch(payload, 404), url: "https://example.invalid/m" }), (e: Error) =>
      e instanceof WeightsDownloadError && e.message === "could not download https://example.invalid/m: HTTP 404 Not Found");
    const unreachable = (() => Promise.reject(new TypeError("error sending request for url (https://huggingface.co/...): dns error"))) as typeof fetch;
    await assertRejects(() => downloadWeights({ outDir: dir, fetchFn: unreachable }), (e: Error) => {
      assert(e instanceof WeightsDownloadError, String(e));
      assert(e.message.startsWith(`could not download ${TIMM_B5_WEIGHTS_URL}: error sending request`), e.message);
      assert(e.message.includes("Without internet access"), e.message);
      return true;
    });
    assertEquals([...Deno.readDirSync(dir)].length, 0);
  });
});
