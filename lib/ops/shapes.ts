/** Shape arithmetic of channels-last tensors ([..., C]), shared by the ops and their kernels. */

/** The channel count: the last dimension. */
export const lastDim = (t: { shape: number[] }): number => t.shape[t.shape.length - 1];

/** Pixels: the product of every dimension but the last. */
export const pixels = (shape: number[]): number => shape.slice(0, -1).reduce((a, b) => a * b, 1);
