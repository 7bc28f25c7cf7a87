/**
 * Issue 17: why MobileNetV2's bf16 features differ from fp32 by a few percent (relative L2
 * 3e-2 at 256 px, 6e-2 at 384 px, at the default layer block_12_add) when EfficientNet-B5's
 * fixture features differ by 6e-3 (tests/features/efficientnet_bf16_test.ts). The same network run with fp32 kernels on
 * inputs and filters rounded to bf16 first (tests/backend/_bf16.ts) is as far from fp32 as
 * oneDNN's bf16 kernels are, and close to them: the gap is bf16 rounding itself, not the
 * kernels. The trained 0.35-width weights amplify it: a 1x1 projection (a sum of
 * products that largely cancel, BatchNorm's scale folded in) turns a 5e-3 error of its
 * input into ~3e-2 (measured per layer on a grid image: 5.9e-4 after the stem, 5.0e-3 after the
 * first depthwise, 2.7e-2 after the first projection). Rounding the filters alone costs more
 * than rounding the activations alone (measured 5.4e-2 vs 2.2e-2 at 384 px), likely because
 * many activations are ReLU6's exact 0 and 6, which bf16 holds exactly. PyTorch's bf16 autocast rounds the same
 * two operands, so it would see the same gap.
 *
 * Bounds (measured on the grid image at 384 px: see the log line):
 * - oneDNN bf16 vs emulated bf16 below a third of bf16 vs fp32 (measured 6.1e-3 vs 6.1e-2: the two
 *   round the same values, and differ only where a summation-order difference moves an
 *   intermediate across a bf16 rounding boundary);
 * - emulated vs fp32 within a factor 2 of oneDNN bf16 vs fp32 (measured equal to 2 digits).
 * A kernel that accumulated in bf16, or skipped rounding one operand, would break one of them.
 */
import { initBackend } from "../../lib/backend/backend.ts";
import { setConvolutionPrecision } from "../../lib/backend/precision.ts";
import { runtimeFromEnv } from "../../lib/config/runtime.ts";
import { mobileNetV2Backbone } from "../../lib/features/mobilenet_v2.ts";
import { readImage } from "../../lib/io/images.ts";
import { bf16Unavailable, relL2, withEmulatedBf16Convolutions } from "../backend/_bf16.ts";
import { needsShared, sharedPath } from "../_shared.ts";
import { assert } from "../assert.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const WEIGHTS = new URL("../../data/pretrained/mobilenet_v2_0.35_224", import.meta.url).pathname;
const MAP_LEN = 24;

Deno.test({ name: "MobileNetV2 bf16 features: as far from fp32 as fp32 kernels on bf16-rounded inputs and filters, and close to those", ignore: needsShared(), ...opts, fn: async () => {
  await initBackend(runtimeFromEnv().backend);
  const unavailable = bf16Unavailable();
  if (unavailable) return console.warn(`SKIP: ${unavailable}`);
  const backbone = await mobileNetV2Backbone(WEIGHTS);
  const image = await readImage(sharedPath("data", "mvtec_ad_grid_subset", "test", "good", "000.png"));
  try {
    const fp32 = await backbone.extract(image, MAP_LEN);
    setConvolutionPrecision("bf16");
    const bf16 = await backbone.extract(image, MAP_LEN).finally(() => setConvolutionPrecision("fp32"));
    const emulate = (what: { inputs: boolean; filters: boolean }) => withEmulatedBf16Convolutions(() => backbone.extract(image, MAP_LEN), what);
    const emulated = await emulate({ inputs: true, filters: true });
    const filtersOnly = await emulate({ inputs: false, filters: true });
    const inputsOnly = await emulate({ inputs: true, filters: false });
    const gap = relL2(bf16, fp32), kernelVsEmulated = relL2(bf16, emulated), emulatedGap = relL2(emulated, fp32);
    console.log(
      `  ${backbone.layer} at ${backbone.inputSize!(MAP_LEN)} px, rel L2: oneDNN bf16 vs fp32 ${gap.toExponential(2)}; ` +
        `emulated vs fp32 ${emulatedGap.toExponential(2)} (filters only ${relL2(filtersOnly, fp32).toExponential(2)}, ` +
        `activations only ${relL2(inputsOnly, fp32).toExponential(2)}); oneDNN bf16 vs emulated ${kernelVsEmulated.toExponential(2)}`,
    );
    assert(gap > 1e-4, `bf16 did not run (rel L2 ${gap})`);
    assert(kernelVsEmulated < gap / 3, `oneDNN bf16 is ${kernelVsEmulated} from the emulation, the gap to fp32 is ${gap}`);
    assert(emulatedGap > gap / 2 && emulatedGap < gap * 2, `emulated gap ${emulatedGap} vs oneDNN's ${gap}`);
  } finally {
    setConvolutionPrecision("fp32");
    backbone.dispose?.();
  }
} });
