/**
 * MVTec 3D-AD point maps: float32 H x W x 3 (x, y, z in metres; z = 0 means "no point"); float64
 * is read too, any other sample type or count is refused (it would not be metres).
 *
 * Reading always goes through geotiff (a real TIFF library: strips/tiles, deflate/LZW, planar or
 * interleaved all work). geotiff's own writer casts samples to 8 bit, so writing uses a minimal
 * uncompressed, single-strip, interleaved float32 baseline TIFF (the same structure Python
 * tifffile writes by default), which geotiff, tifffile and PIL all read.
 */
import { fromArrayBuffer } from "geotiff";

export interface PointMap {
  width: number;
  height: number;
  /** HWC, 3 channels (x, y, z). */
  xyz: Float32Array;
}

export class TiffError extends Error {}

async function readBytes(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new TiffError(`${path}: file not found`);
    throw new TiffError(`${path}: cannot read (${(e as Error).message})`);
  }
}

const SAMPLE_FORMAT_NAMES: Record<number, string> = { 1: "uint", 2: "int", 3: "float", 4: "void", 5: "complex int", 6: "complex float" };

/**
 * Only 3-channel IEEE float (32 or 64 bit) maps are point maps in metres: geotiff would read a
 * uint8 or 16-bit image just as happily, and the depth would then be in grey levels (a teacher
 * loss of thousands instead of ~0.1). Anything else is refused, saying what the file holds.
 */
function checkXyzSamples(image: { getSamplesPerPixel(): number; getSampleFormat(i?: number): number; getBitsPerSample(i?: number): number }, source: string): void {
  const samples = image.getSamplesPerPixel();
  const kinds = Array.from({ length: samples }, (_, i) => {
    const format = image.getSampleFormat(i) ?? 1, bits = image.getBitsPerSample(i);
    return { ok: format === 3 && (bits === 32 || bits === 64), name: `${SAMPLE_FORMAT_NAMES[format] ?? `format ${format} `}${bits}` };
  });
  if (samples === 3 && kinds.every((k) => k.ok)) return;
  const names = [...new Set(kinds.map((k) => k.name))];
  throw new TiffError(`${source}: xyz TIFF must be 3-channel float32 or float64, found ${samples} x ${names.join("/")}`);
}

/** Decode an xyz TIFF held in memory; `source` names it in errors. */
export async function decodeXyzTiff(bytes: Uint8Array, source = "<buffer>"): Promise<PointMap> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let width: number, height: number, raster: ArrayLike<number>;
  let image;
  try {
    image = await (await fromArrayBuffer(buffer)).getImage();
    width = image.getWidth();
    height = image.getHeight();
  } catch (e) {
    throw new TiffError(`${source}: corrupt or unsupported TIFF (${(e as Error).message})`);
  }
  checkXyzSamples(image, source);
  try {
    raster = (await image.readRasters({ interleave: true, samples: [0, 1, 2] })) as unknown as ArrayLike<number>;
  } catch (e) {
    throw new TiffError(`${source}: corrupt or unsupported TIFF (${(e as Error).message})`);
  }
  // a fresh view: geotiff decorates its result with width/height properties
  const xyz = raster instanceof Float32Array
    ? new Float32Array(raster.buffer, raster.byteOffset, raster.length)
    : Float32Array.from(raster);
  return { width, height, xyz };
}

/** Read an MVTec 3D-AD xyz TIFF. Errors name the file. */
export async function readXyzTiff(path: string): Promise<PointMap> {
  return decodeXyzTiff(await readBytes(path), path);
}

/** The z channel (H*W) of a point map. */
export function zChannel(map: PointMap): Float32Array {
  const n = map.width * map.height;
  const z = new Float32Array(n);
  for (let i = 0; i < n; i++) z[i] = map.xyz[i * 3 + 2];
  return z;
}

/** Read just the z channel of an xyz TIFF. */
export async function readDepthTiff(path: string): Promise<{ width: number; height: number; z: Float32Array }> {
  const map = await readXyzTiff(path);
  return { width: map.width, height: map.height, z: zChannel(map) };
}

// TIFF tag ids and field types used by the writer.
const SHORT = 3, LONG = 4, RATIONAL = 5;

/** Encode a float32 HxWx3 point map as an uncompressed little-endian TIFF. */
export function encodeXyzTiff(map: PointMap): Uint8Array {
  const { width, height, xyz } = map;
  if (xyz.length !== width * height * 3) {
    throw new TiffError(`encodeXyzTiff: ${xyz.length} values do not fill ${height}x${width}x3`);
  }
  const dataBytes = xyz.length * 4;
  // Layout: header (8) | pixel data | IFD | out-of-line tag values.
  const dataOffset = 8;
  type Entry = [tag: number, type: number, values: number[]];
  const entries: Entry[] = [
    [256, LONG, [width]], // ImageWidth
    [257, LONG, [height]], // ImageLength
    [258, SHORT, [32, 32, 32]], // BitsPerSample
    [259, SHORT, [1]], // Compression: none
    [262, SHORT, [1]], // Photometric: min-is-black (data, not colour)
    [273, LONG, [dataOffset]], // StripOffsets
    [277, SHORT, [3]], // SamplesPerPixel
    [278, LONG, [height]], // RowsPerStrip: one strip
    [279, LONG, [dataBytes]], // StripByteCounts
    [282, RATIONAL, [1, 1]], // XResolution
    [283, RATIONAL, [1, 1]], // YResolution
    [284, SHORT, [1]], // PlanarConfiguration: interleaved
    [296, SHORT, [1]], // ResolutionUnit: none
    [339, SHORT, [3, 3, 3]], // SampleFormat: IEEE float
  ];
  const typeSize = (t: number) => (t === SHORT ? 2 : t === LONG ? 4 : 8);
  const valueBytes = (e: Entry) => (e[1] === RATIONAL ? 8 * (e[2].length / 2) : typeSize(e[1]) * e[2].length);
  const ifdOffset = dataOffset + dataBytes;
  const ifdSize = 2 + entries.length * 12 + 4;
  let extraOffset = ifdOffset + ifdSize;
  const extras: { offset: number; entry: Entry }[] = [];
  const inlineOrOffset = entries.map((e) => {
    if (valueBytes(e) <= 4) return -1;
    const off = extraOffset;
    extras.push({ offset: off, entry: e });
    extraOffset += valueBytes(e);
    extraOffset += extraOffset % 2; // word alignment
    return off;
  });
  const out = new Uint8Array(extraOffset);
  const dv = new DataView(out.buffer);
  out[0] = 0x49, out[1] = 0x49; // "II": little endian
  dv.setUint16(2, 42, true);
  dv.setUint32(4, ifdOffset, true);
  for (let i = 0; i < xyz.length; i++) dv.setFloat32(dataOffset + i * 4, xyz[i], true);
  const writeValues = (at: number, [, type, values]: Entry) => {
    values.forEach((v, k) => {
      if (type === SHORT) dv.setUint16(at + k * 2, v, true);
      else dv.setUint32(at + k * 4, v, true); // LONG and the two LONGs of a RATIONAL
    });
  };
  dv.setUint16(ifdOffset, entries.length, true);
  entries.forEach((e, i) => {
    const p = ifdOffset + 2 + i * 12;
    dv.setUint16(p, e[0], true);
    dv.setUint16(p + 2, e[1], true);
    dv.setUint32(p + 4, e[1] === RATIONAL ? e[2].length / 2 : e[2].length, true);
    if (inlineOrOffset[i] < 0) writeValues(p + 8, e);
    else dv.setUint32(p + 8, inlineOrOffset[i], true);
  });
  dv.setUint32(ifdOffset + 2 + entries.length * 12, 0, true); // no next IFD
  for (const { offset, entry } of extras) writeValues(offset, entry);
  return out;
}

/** Write a point map as a float32 xyz TIFF. */
export async function writeXyzTiff(path: string, map: PointMap): Promise<void> {
  await Deno.writeFile(path, encodeXyzTiff(map));
}
