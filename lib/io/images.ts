/**
 * Image decode/encode for the datasets: PNG (pngjs) and JPEG (jpeg-js) -> 8-bit HWC with 1 or 3
 * channels. Alpha is dropped (as PIL's convert("RGB") does); 16-bit PNGs are rescaled to 8 bit;
 * palette PNGs become RGB. Encoding writes 8-bit gray or RGB PNGs.
 */
import { Buffer } from "node:buffer";
import { extname } from "node:path";
import { PNG } from "pngjs";
import jpeg from "jpeg-js";

export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 3;
  /** HWC, row-major. */
  data: Uint8Array;
}

export interface DecodeOptions {
  /** Replicate a grayscale image into 3 channels (for the RGB feature extractor). */
  toRgb?: boolean;
}

export class ImageError extends Error {}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];
const JPEG_SIGNATURE = [0xff, 0xd8];

function startsWith(bytes: Uint8Array, sig: number[]): boolean {
  return sig.every((b, i) => bytes[i] === b);
}

/** Gray -> RGB by replication; RGB passes through. */
export function toRgb(image: DecodedImage): DecodedImage {
  if (image.channels === 3) return image;
  const n = image.width * image.height;
  const data = new Uint8Array(n * 3);
  for (let k = 0; k < n; k++) data[3 * k] = data[3 * k + 1] = data[3 * k + 2] = image.data[k];
  return { width: image.width, height: image.height, channels: 3, data };
}

/** Keep 1 or 3 of the 4 channels of an RGBA buffer. */
function fromRgba(rgba: Uint8Array, width: number, height: number, channels: 1 | 3): DecodedImage {
  const n = width * height;
  const data = new Uint8Array(n * channels);
  if (channels === 1) for (let k = 0; k < n; k++) data[k] = rgba[4 * k];
  else {
    for (let k = 0; k < n; k++) {
      data[3 * k] = rgba[4 * k];
      data[3 * k + 1] = rgba[4 * k + 1];
      data[3 * k + 2] = rgba[4 * k + 2];
    }
  }
  return { width, height, channels, data };
}

/** Decode a PNG held in memory. */
export function decodePng(bytes: Uint8Array, source = "<buffer>"): DecodedImage {
  let png: { width: number; height: number; data: Uint8Array; color: boolean; palette: boolean };
  try {
    // pngjs normalises every colour type / bit depth to 8-bit RGBA (16-bit rescaled).
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    throw new ImageError(`${source}: corrupt PNG (${(e as Error).message})`);
  }
  const channels = png.color || png.palette ? 3 : 1;
  return fromRgba(png.data, png.width, png.height, channels);
}

/** Decode a JPEG held in memory (baseline/progressive; gray JPEGs come back as 1 channel). */
export function decodeJpeg(bytes: Uint8Array, source = "<buffer>"): DecodedImage {
  let raw: { width: number; height: number; data: Uint8Array };
  try {
    raw = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 2048 });
  } catch (e) {
    throw new ImageError(`${source}: corrupt or unsupported JPEG (${(e as Error).message ?? e})`);
  }
  // jpeg-js expands gray to RGBA; detect single-component files from the SOF marker.
  const gray = jpegComponents(bytes) === 1;
  return fromRgba(raw.data, raw.width, raw.height, gray ? 1 : 3);
}

/** Number of colour components declared by the first SOF marker, or 0 if not found. */
function jpegComponents(bytes: Uint8Array): number {
  let p = 2;
  while (p + 9 < bytes.length) {
    if (bytes[p] !== 0xff) return 0;
    const marker = bytes[p + 1];
    if (marker === 0xff) {
      p++;
      continue;
    }
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return bytes[p + 9];
    p += 2 + len;
  }
  return 0;
}

/** Decode PNG or JPEG bytes, detected by signature. */
export function decodeImage(bytes: Uint8Array, source = "<buffer>", options: DecodeOptions = {}): DecodedImage {
  let image: DecodedImage;
  if (startsWith(bytes, PNG_SIGNATURE)) image = decodePng(bytes, source);
  else if (startsWith(bytes, JPEG_SIGNATURE)) image = decodeJpeg(bytes, source);
  else {
    const ext = extname(source).toLowerCase();
    if (ext === ".png") throw new ImageError(`${source}: corrupt PNG (bad signature)`);
    if (ext === ".jpg" || ext === ".jpeg") throw new ImageError(`${source}: corrupt JPEG (bad signature)`);
    throw new ImageError(`${source}: unsupported image format (PNG and JPEG are supported)`);
  }
  return options.toRgb ? toRgb(image) : image;
}

/** Read and decode a PNG/JPEG file. Errors name the file. */
export async function readImage(path: string, options: DecodeOptions = {}): Promise<DecodedImage> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new ImageError(`${path}: file not found`);
    throw new ImageError(`${path}: cannot read (${(e as Error).message})`);
  }
  return decodeImage(bytes, path, options);
}

/** Encode an 8-bit gray (1 channel) or RGB (3 channels) HWC image as PNG. */
export function encodePng(image: DecodedImage): Uint8Array {
  const { width, height, channels, data } = image;
  if (data.length !== width * height * channels) {
    throw new ImageError(`encodePng: ${data.length} bytes do not fill ${height}x${width}x${channels}`);
  }
  const colorType = channels === 1 ? 0 : 2;
  const png = { width, height, data: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
  const out: Uint8Array = PNG.sync.write(png as unknown as PNG, {
    colorType,
    inputColorType: colorType,
    inputHasAlpha: false,
    bitDepth: 8,
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Write an image as PNG. */
export async function writePng(path: string, image: DecodedImage): Promise<void> {
  await Deno.writeFile(path, encodePng(image));
}
