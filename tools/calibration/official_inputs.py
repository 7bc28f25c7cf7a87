#!/usr/bin/env python3
"""Dump the OFFICIAL AST code's depth-mode network inputs of every train and test image (after
its 3D preprocessing, its dataset transform, pixel unshuffle, mask dilation and soft
downsampling) as safetensors, for tools/calibration/compare_inputs.ts. Imports the official
modules from --official (no code of theirs here); --work is the folder official_driver.py
prepared (the class copy with the official z/*.npy).

    /usr/bin/python3 tools/calibration/official_inputs.py --official ~/src/AST \
        --work /tmp/calib/official-work --class puck --out /tmp/calib/official_inputs.safetensors
"""
import argparse, importlib, os, sys, json

p = argparse.ArgumentParser()
p.add_argument("--official", required=True)
p.add_argument("--work", required=True)
p.add_argument("--class", dest="class_name", required=True)
p.add_argument("--out", required=True)
a = p.parse_args()
sys.path.insert(0, os.path.abspath(a.official))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_driver import stub_efficientnet, write_safetensors  # noqa: E402
stub_efficientnet()
import numpy as np, torch  # noqa: E402
torch.set_num_threads(2)
import config as c  # noqa: E402
c.device = "cpu"; c.dataset_dir = os.path.join(os.path.abspath(a.work), "data"); c.use_3D_dataset = True
c.class_name = a.class_name; c.mode = "depth"; c.n_feat = c.depth_channels
utils = importlib.import_module("utils")
unshuffle = torch.nn.PixelUnshuffle(c.depth_downscale)
tensors, keys = {}, []
for split in ("train", "test"):
    ds = utils.DefectDataset(set=split, get_mask=False, get_features=False)
    for i, path in enumerate(ds.images):
        depth, fg = ds.get_3D(i)
        depth = ds.transform(depth, c.depth_len, binary=False)
        fg = ds.transform(fg, c.depth_len, binary=True)
        fgd = utils.dilation(fg[None], c.dilate_size)
        fg_down = utils.downsampling(fgd, (c.map_len, c.map_len), bin=False)[0, 0]
        key = f"{split}/{path.split(os.sep)[-3]}/{os.path.basename(path)}"
        keys.append(key)
        tensors[f"{key}.depth"] = unshuffle(depth[None])[0].numpy()  # (64, 24, 24)
        tensors[f"{key}.fg_down"] = fg_down.numpy()  # (24, 24)
write_safetensors(a.out, tensors)
print(f"{len(keys)} images -> {a.out}")
