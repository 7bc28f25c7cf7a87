/** PNG / JPEG decoding to 8-bit HWC, PNG encoding. */
import { Buffer } from "node:buffer";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import { decodeImage, encodePng, ImageError, readImage, toRgb } from "../../lib/io/images.ts";
import { assert, assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { needsShared, sharedPath } from "../_shared.ts";

/** A PNG of the given colour type / bit depth through pngjs' own packer. */
function pngOf(colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16, w = 3, h = 2): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  // partial alpha only where the output keeps it (the packer would composite it away otherwise)
  const alpha = colorType === 4 || colorType === 6 ? 200 : 255;
  for (let k = 0; k < w * h; k++) rgba.set([10 * k, 10 * k + 1, 10 * k + 2, alpha], 4 * k);
  let data: Uint8Array = rgba;
  if (bitDepth === 16) {
    const wide = new Uint16Array(w * h * 4);
    for (let k = 0; k < wide.length; k++) wide[k] = rgba[k] * 257;
    data = new Uint8Array(wide.buffer);
  }
  const out = PNG.sync.write({ width: w, height: h, data: Buffer.from(data) } as unknown as PNG, {
    colorType,
    inputColorType: 6,
    inputHasAlpha: true,
    bitDepth,
  });
  return new Uint8Array(out);
}

Deno.test("images: PNG colour types and bit depths", () => {
  for (const bitDepth of [8, 16] as const) {
    const rgb = decodeImage(pngOf(2, bitDepth), "rgb.png");
    assertEquals([rgb.channels, rgb.width, rgb.height], [3, 3, 2]);
    assertEquals([...rgb.data.subarray(3, 6)], [10, 11, 12]);
    const rgba = decodeImage(pngOf(6, bitDepth), "rgba.png");
    assertEquals([...rgba.data.subarray(3, 6)], [10, 11, 12]); // alpha dropped, not composited
    const gray = decodeImage(pngOf(0, bitDepth), "gray.png");
    assertEquals(gray.channels, 1);
    const grayAlpha = decodeImage(pngOf(4, bitDepth), "ga.png");
    assertEquals(grayAlpha.channels, 1);
    assertEquals(grayAlpha.data, gray.data);
  }
});

Deno.test("images: palette PNG decodes to RGB", () => {
  // hand-built 2x1 palette PNG: palette [red, blue], pixels [1, 0]
  const chunk = (type: string, data: number[]) => {
    const body = Buffer.from([...new TextEncoder().encode(type), ...data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const crc32 = (buf: Uint8Array) => {
    let c = -1;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return (c ^ -1) | 0;
  };
  // zlib stream of the raw scanline [filter 0, 1, 0] (stored block)
  const raw = [0, 1, 0];
  let a = 1, b = 0;
  for (const v of raw) (a = (a + v) % 65521), (b = (b + a) % 65521);
  const zlib = [0x78, 0x01, 1, raw.length, 0, ~raw.length & 0xff, 0xff, ...raw, b >> 8, b & 0xff, a >> 8, a & 0xff];
  const png = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", [0, 0, 0, 2, 0, 0, 0, 1, 8, 3, 0, 0, 0]),
    chunk("PLTE", [255, 0, 0, 0, 0, 255]),
    chunk("IDAT", zlib),
    chunk("IEND", []),
  ]);
  const img = decodeImage(new Uint8Array(png), "pal.png");
  assertEquals(img.channels, 3);
  assertEquals([...img.data], [0, 0, 255, 255, 0, 0]);
});

Deno.test("images: JPEG colour and gray, promotion to RGB", () => {
  const w = 16, h = 16;
  const rgba = new Uint8Array(w * h * 4).fill(255);
  for (let k = 0; k < w * h; k++) rgba.set([200, 100, 50, 255], 4 * k);
  const bytes = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 95).data);
  const img = decodeImage(bytes, "a.jpg");
  assertEquals([img.channels, img.width, img.height], [3, 16, 16]);
  assert(Math.abs(img.data[0] - 200) <= 3 && Math.abs(img.data[1] - 100) <= 3 && Math.abs(img.data[2] - 50) <= 3);
  const gray = { width: 2, height: 1, channels: 1 as const, data: new Uint8Array([7, 9]) };
  assertEquals([...toRgb(gray).data], [7, 7, 7, 9, 9, 9]);
  assertEquals(decodeImage(encodePng(gray), "g.png", { toRgb: true }).channels, 3);
});

Deno.test("images: encodePng round trip (gray and RGB)", () => {
  const rgb = { width: 5, height: 3, channels: 3 as const, data: new Uint8Array(45).map((_, k) => k * 5) };
  assertEquals(decodeImage(encodePng(rgb)), rgb);
  const gray = { width: 4, height: 2, channels: 1 as const, data: new Uint8Array([0, 1, 2, 3, 250, 251, 252, 255]) };
  assertEquals(decodeImage(encodePng(gray)), gray);
});

Deno.test("images: errors name the file", async () => {
  const is = (re: RegExp) => (e: Error) => e instanceof ImageError && re.test(e.message);
  await assertRejects(readImage("/nonexistent/a.png"), is(/\/nonexistent\/a\.png: file not found/));
  const truncated = encodePng({ width: 4, height: 4, channels: 1, data: new Uint8Array(16) }).subarray(0, 40);
  assertThrows(() => decodeImage(truncated, "t.png"), is(/t\.png: corrupt PNG/));
  assertThrows(() => decodeImage(new Uint8Array([1, 2, 3, 4]), "x.bmp"), is(/x\.bmp: unsupported image format/));
  assertThrows(() => decodeImage(new Uint8Array([0xff, 0xd8, 0, 0, 0]), "y.jpg"), is(/y\.jpg: corrupt or unsupported JPEG/));
});

Deno.test({
  name: "images: shared images (grid gray PNG, puck RGB PNG, gt mask)",
  ignore: needsShared(),
  async fn() {
    const grid = await readImage(sharedPath("data", "mvtec_ad_grid_subset", "train", "good", "000.png"));
    assertEquals([grid.width, grid.height, grid.channels], [1024, 1024, 1]);
    const gridRgb = await readImage(sharedPath("data", "mvtec_ad_grid_subset", "train", "good", "000.png"), { toRgb: true });
    assertEquals(gridRgb.channels, 3);
    const puck = await readImage(sharedPath("data", "synthetic_mvtec3d", "puck", "test", "hole", "rgb", "000.png"));
    assertEquals([puck.width, puck.height, puck.channels], [200, 200, 3]);
    const gt = await readImage(sharedPath("data", "synthetic_mvtec3d", "puck", "test", "hole", "gt", "000.png"));
    assert(gt.data.every((v) => v === 0 || v === 255) && gt.data.some((v) => v === 255));
  },
});
