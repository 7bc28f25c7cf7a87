/**
 * The one image-size rule of a class: every image (train, validation, test) has the same size,
 * as in MVTec AD and 3D-AD, and every defect mask has its image's size. The model is trained at
 * that size and records it (model.json `input`); scoring refuses other sizes. Checked from the
 * file headers when a dataset is opened (a few bytes per file), so an odd image fails before any
 * training, naming the file and both sizes, instead of being stretched silently.
 */
import type { Sample } from "../types.ts";
import { DatasetError } from "./errors.ts";

export interface ImageSize {
  width: number;
  height: number;
}

/** Reads at most `n` bytes from the start of a file. */
async function readHead(path: string, n: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    const buf = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const r = await file.read(buf.subarray(got));
      if (r === null) break;
      got += r;
    }
    return buf.subarray(0, got);
  } finally {
    file.close();
  }
}

/** JPEG size from the first SOF marker, or null when not within `bytes`. */
function jpegSize(bytes: Uint8Array): ImageSize | null {
  let p = 2;
  while (p + 9 < bytes.length) {
    if (bytes[p] !== 0xff) return null;
    const marker = bytes[p + 1];
    if (marker === 0xff) {
      p++;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      p += 2; // markers without a length
      continue;
    }
    const len = (bytes[p + 2] << 8) | bytes[p + 3];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return { height: (bytes[p + 5] << 8) | bytes[p + 6], width: (bytes[p + 7] << 8) | bytes[p + 8] };
    p += 2 + len;
  }
  return null;
}

/**
 * Width and height of a PNG or JPEG from its header, without decoding the pixels (the format is
 * told by the signature, not the extension, as the decoder does). Errors name the file.
 */
export async function readImageSize(path: string): Promise<ImageSize> {
  const fail = (why: string) => new DatasetError(`${path}: ${why}; re-export the image or remove it from the folder`);
  let head: Uint8Array;
  try {
    head = await readHead(path, 4096);
  } catch (e) {
    throw new DatasetError(`${path}: cannot read (${(e as Error).message})`);
  }
  const isPng = head.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => head[i] === b);
  if (isPng) {
    const ihdr = String.fromCharCode(...head.subarray(12, 16));
    if (head.length < 24 || ihdr !== "IHDR") throw fail("corrupt PNG (no IHDR header)");
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const size = { width: view.getUint32(16), height: view.getUint32(20) };
    if (!size.width || !size.height) throw fail("corrupt PNG (zero width or height)");
    return size;
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    // the size may sit behind a large EXIF/ICC block: then read the whole file
    const size = jpegSize(head) ?? jpegSize(await Deno.readFile(path));
    if (!size || !size.width || !size.height) throw fail("corrupt JPEG (no frame header with a size)");
    return size;
  }
  throw fail(head.length === 0 ? "empty file" : "not a PNG or JPEG (unrecognised signature)");
}

const sizeText = (s: ImageSize) => `${s.width}x${s.height}`;

/**
 * The class's image size; refuses the first image of another size (naming it, the first image
 * and both sizes) and a mask whose size differs from its image's.
 */
export async function checkClassImageSizes(samples: Sample[]): Promise<ImageSize | null> {
  let first: { path: string; size: ImageSize } | null = null;
  for (const s of samples) {
    const size = await readImageSize(s.rgbPath);
    if (!first) first = { path: s.rgbPath, size };
    else if (size.width !== first.size.width || size.height !== first.size.height) {
      throw new DatasetError(
        `${s.rgbPath}: ${sizeText(size)} pixels, but ${first.path} is ${sizeText(first.size)}; all images of a class must share one size (the model is trained and scored at it): resize or crop them to ${sizeText(first.size)}`,
      );
    }
    if (!s.maskPath) continue;
    const m = await readImageSize(s.maskPath);
    if (m.width !== size.width || m.height !== size.height) {
      throw new DatasetError(`${s.maskPath}: mask is ${sizeText(m)} but its image ${s.rgbPath} is ${sizeText(size)}; save the mask at the image's size`);
    }
  }
  return first ? first.size : null;
}
