import { join } from "node:path";
import { diskUsage, formatBytes } from "../../lib/util/disk_usage.ts";
import { assertEquals } from "../assert.ts";

Deno.test("diskUsage: the files' bytes under a folder, links not followed, 0 when absent", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "a", "b"), { recursive: true });
  await Deno.writeFile(join(dir, "a", "x"), new Uint8Array(100));
  await Deno.writeFile(join(dir, "a", "b", "y"), new Uint8Array(23));
  const big = await Deno.makeTempDir();
  await Deno.writeFile(join(big, "z"), new Uint8Array(10_000));
  await Deno.symlink(big, join(dir, "link"));
  const link = (await Deno.lstat(join(dir, "link"))).size;
  assertEquals(await diskUsage(dir), 123 + link);
  assertEquals(await diskUsage(join(dir, "absent")), 0);
});

Deno.test("formatBytes: powers of 1024, one decimal", () => {
  assertEquals([formatBytes(0), formatBytes(1000), formatBytes(1536), formatBytes(60 * 2 ** 20), formatBytes(5.7 * 2 ** 30)], ["0 B", "1000 B", "1.5 KB", "60.0 MB", "5.7 GB"]);
});
