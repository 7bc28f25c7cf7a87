/**
 * The gradients of this folder's ops: each a call to the op's gradient kernel, or composed from
 * tfjs ops. Registered once, after tfjs' own (training_gradients.ts: ClipByValue's replaces
 * tfjs' definition), by whatever prepares the backend (lib/backend/backend.ts).
 */
import { registerBatchNormLeakyGradient } from "./batch_norm_leaky_relu.ts";
import { registerClipByValueGradient } from "./clip_by_value_gradient.ts";
import { registerCouplingHalfGradient } from "./coupling_half.ts";
import { registerJoinClipGradient } from "./join_clip.ts";
import { registerPermuteSplitGradient } from "./permute_split.ts";
import { registerReplicatePadGradient } from "./replicate_pad.ts";
import { registerSwishGradients } from "./swish.ts";

let registered = false;

/** Registers every op gradient (idempotent). */
export function registerOpGradients(): void {
  if (registered) return;
  registered = true;
  registerReplicatePadGradient();
  registerClipByValueGradient();
  registerCouplingHalfGradient();
  registerPermuteSplitGradient();
  registerJoinClipGradient();
  registerBatchNormLeakyGradient();
  registerSwishGradients();
}
