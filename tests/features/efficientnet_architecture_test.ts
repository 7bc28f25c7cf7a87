import {
  AST_FEATURE_BLOCK,
  B5_BLOCKS,
  B5_STEM_CHANNELS,
  B5_STEM_PADS,
  blockOutputSize,
  roundFilters,
  roundRepeats,
  samePadding,
} from "../../lib/features/efficientnet/architecture.ts";
import { assert, assertEquals } from "../assert.ts";

Deno.test("B5 scaling: round_filters / round_repeats as in efficientnet_pytorch", () => {
  assertEquals([32, 16, 24, 40, 80, 112, 192, 320].map((c) => roundFilters(c)), [48, 24, 40, 64, 128, 176, 304, 512]);
  assertEquals([1, 2, 3, 4].map((r) => roundRepeats(r)), [3, 5, 7, 9]);
  assertEquals(B5_STEM_CHANNELS, 48);
});

Deno.test("B5 block list: 39 blocks, stage sizes 3,5,5,7,7,9,3; block 13/27 open stride-2 stages; 35 ends the 304 stage", () => {
  assertEquals(B5_BLOCKS.length, 39);
  const perStage = [0, 0, 0, 0, 0, 0, 0];
  for (const b of B5_BLOCKS) perStage[b.stage]++;
  assertEquals(perStage, [3, 5, 5, 7, 7, 9, 3]);
  const b13 = B5_BLOCKS[13], b27 = B5_BLOCKS[27], b35 = B5_BLOCKS[AST_FEATURE_BLOCK];
  assertEquals([b13.kernel, b13.stride, b13.inChannels, b13.outChannels, b13.midChannels, b13.seChannels], [3, 2, 64, 128, 384, 16]);
  assertEquals([b27.kernel, b27.stride, b27.inChannels, b27.outChannels], [5, 2, 176, 304]);
  assertEquals([b35.stage, b35.position, b35.outChannels, b35.residual], [5, 8, 304, true]);
  assert(B5_BLOCKS[36].inChannels === 304 && B5_BLOCKS[36].outChannels === 512);
  // stage 0 has no expansion; its first block changes 48 -> 24 channels, so no skip
  assertEquals([B5_BLOCKS[0].expandRatio, B5_BLOCKS[0].midChannels, B5_BLOCKS[0].residual], [1, 48, false]);
});

Deno.test("static padding for 456: symmetric at blocks 13 (1,1) and 27 (2,2), where TF's dynamic padding at 768 is (0,1) and (1,2)", () => {
  assertEquals(B5_STEM_PADS, [0, 1, 0, 1]);
  assertEquals(B5_BLOCKS[3].depthwisePads, [0, 1, 0, 1]);
  assertEquals(B5_BLOCKS[8].depthwisePads, [1, 2, 1, 2]);
  assertEquals(B5_BLOCKS[13].depthwisePads, [1, 1, 1, 1]);
  assertEquals(B5_BLOCKS[27].depthwisePads, [2, 2, 2, 2]);
  assertEquals(samePadding(96, 3, 2), [0, 1, 0, 1]); // block 13's input side at 768
  assertEquals(samePadding(48, 5, 2), [1, 2, 1, 2]); // block 27's input side at 768
  for (const b of B5_BLOCKS.filter((b) => b.stride === 1)) assertEquals(b.depthwisePads, Array(4).fill((b.kernel - 1) / 2));
});

Deno.test("output sides with static pads: 768 -> 48 (block 13), 24 (blocks 27, 35); 64 -> 2", () => {
  assertEquals([blockOutputSize(768, 13), blockOutputSize(768, 27), blockOutputSize(768, 35)], [48, 24, 24]);
  assertEquals(blockOutputSize(64, 35), 2);
});
