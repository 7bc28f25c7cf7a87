/**
 * What an image feature extractor is: the interface every backbone implements (the registry of
 * them: backbones.ts). Its own module so the backbones can name it without importing the registry.
 */
import type { DecodedImage } from "../io/images.ts";
import type { RgbRecipe } from "../preprocess/rgb.ts";

export interface Backbone {
  name: string;
  /** what the features are, for records and tables */
  description: string;
  channels: number;
  /** HWC [mapLen, mapLen, channels] */
  extract(image: DecodedImage, mapLen: number): Promise<Float32Array>;
  /** the network layer the features come from */
  layer?: string;
  /** input pixels per feature cell */
  stride?: number;
  /** square input side used for a map of side mapLen */
  inputSize?(mapLen: number): number;
  /** how the image is resized and scaled for it (lib/preprocess/rgb.ts) */
  recipe: RgbRecipe;
  /** identifies resize + normalisation; a change invalidates cached features */
  preprocessing?: string;
  /** SHA-256 of the weight files (see weights_files.ts) */
  weightsChecksum?: string;
  weightsFiles?: string[];
  dispose?(): void;
}
