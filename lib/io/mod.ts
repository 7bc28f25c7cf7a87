/**
 * lib/io: file formats, nothing AST-specific — safetensors (F32/F16/I32), PNG/JPEG decode and
 * encode, xyz point-map TIFF (geotiff). May import: lib/util.
 */
export { type DecodedImage, decodeImage, encodePng, ImageError, readImage, toRgb, writePng } from "./images.ts";
export { type NamedArray, parseSafetensors, readSafetensors, SafetensorsError, type SafetensorsFile, type TensorToWrite, writeSafetensors } from "./safetensors.ts";
export { decodeXyzTiff, encodeXyzTiff, type PointMap, readXyzTiff, TiffError, writeXyzTiff } from "./tiff.ts";
