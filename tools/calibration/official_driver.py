#!/usr/bin/env python3
"""Run the OFFICIAL AST implementation (a checkout the user provides) on one MVTec 3D-AD-style
class in depth mode at the `reference-small` configuration, with a seed, and dump per-image
scores and AUROCs as JSON for tools/calibration/compare.ts.

This file contains no code of the official repository: it imports the official modules from
--official, sets their `config` module's attributes, and calls their functions
(preprocess.py's 3D functions, train_teacher.train, train_student.train, eval.evaluate).

    /usr/bin/python3 tools/calibration/official_driver.py --official ~/src/AST \
        --data ../shared/data/synthetic_mvtec3d --class puck --seed 0 \
        --work /tmp/calib/official-work --out /tmp/calib/official/seed0

Needs python3-torch, python3-torchvision, python3-numpy, python3-scipy, python3-sklearn,
python3-pil, python3-tifffile, python3-tqdm, python3-matplotlib (Debian packages). The
official model.py imports `efficientnet_pytorch` at import time; depth mode never uses it, so
when it is not installed a stand-in module that refuses to build the extractor is registered.

Deviations from running the official scripts by hand (documented, none changes the numerics):
- preprocess.py runs image-feature extraction (EfficientNet download) at import; we execute
  only its function definitions (parsed with `ast` from the user's file) and call its 3D
  preprocessing on a COPY of the class folder under --work (it writes z/*.npy next to xyz/).
- depth mode needs no image features, but the official dataset loads a feature file when
  `pre_extracted` is on: we write zero placeholders (never read by the depth model).
- eval.py's ROC/histogram figures and localisation plots are switched off; its
  `roc_auc_score` is wrapped to capture the per-image scores and pixel maps it computes.
"""
import argparse
import ast
import importlib
import json
import os
import random
import shutil
import sys
import time
import types


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--official", required=True, help="a checkout of the official AST repository")
    p.add_argument("--data", required=True, help="folder holding the class folder (MVTec 3D-AD layout)")
    p.add_argument("--class", dest="class_name", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--work", required=True, help="scratch folder: a copy of the class with z/*.npy, placeholder features")
    p.add_argument("--out", required=True, help="run folder (created; models/ and scores.json go here)")
    p.add_argument("--epochs", type=int, default=24, help="teacher and student epochs each (reference-small: 24)")
    p.add_argument("--teacher-hidden", type=int, default=64)
    p.add_argument("--student-hidden", type=int, default=256)
    p.add_argument("--student-blocks", type=int, default=4)
    p.add_argument("--eval-only", action="store_true",
                   help="re-evaluate the trained models in --out/models (no training; scores.json rewritten)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--depth-npy", default=None,
                   help="swap experiment: a folder <set>/<type>/z/<stem>.npy of (H,W,2) [depth, foreground] "
                        "arrays to use instead of the official 3D preprocessing")
    return p.parse_args()


def stub_efficientnet():
    try:
        importlib.import_module("efficientnet_pytorch")
    except ImportError:
        m = types.ModuleType("efficientnet_pytorch")

        class EfficientNet:  # noqa: D401 - stand-in, depth mode never builds it
            @staticmethod
            def from_pretrained(*a, **k):
                raise RuntimeError("efficientnet_pytorch stand-in: image features are not available here (depth mode only)")

        m.EfficientNet = EfficientNet
        sys.modules["efficientnet_pytorch"] = m


def configure(c, a, work_data, feature_dir):
    c.device = "cpu"
    c.dataset_dir = work_data
    c.feature_dir = feature_dir
    c.use_3D_dataset = True
    c.pre_extracted = True
    c.modelname = f"calib_seed{a.seed}"
    c.mode = "depth"
    c.n_feat = c.depth_channels
    c.training_mask = True
    c.eval_mask = True
    c.channels_hidden_teacher = a.teacher_hidden
    c.channels_hidden_student = a.student_hidden
    c.n_st_blocks = a.student_blocks
    c.batch_size = 8
    c.eval_batch_size = 16
    c.lr = 2e-4
    c.meta_epochs = 1
    c.sub_epochs = a.epochs
    c.verbose = True
    c.hide_tqdm_bar = True
    c.save_model = True
    c.localize = False
    c.class_name = a.class_name


def official_functions(path, names, namespace):
    """Define the named top-level functions of an official file (nothing else of it runs)."""
    tree = ast.parse(open(path).read(), path)
    body = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    exec(compile(ast.Module(body=body, type_ignores=[]), path, "exec"), namespace)
    return namespace


def write_safetensors(path, tensors):
    """float32 tensors as safetensors (8-byte header length, JSON header, raw little-endian data)."""
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        data = arr.astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    a = parse_args()
    t_start = time.time()
    official = os.path.abspath(a.official)
    out = os.path.abspath(a.out)
    work = os.path.abspath(a.work)
    os.makedirs(out, exist_ok=a.eval_only)
    sys.path.insert(0, official)
    stub_efficientnet()

    import numpy as np
    import torch
    torch.set_num_threads(a.threads)

    import config as c
    work_data = os.path.join(work, "data")
    feature_dir = os.path.join(work, "features")
    configure(c, a, work_data, feature_dir)

    # 1. the class copied to scratch, 3D preprocessing by the official functions (once per --work)
    cls_dir = os.path.join(work_data, a.class_name)
    if not os.path.exists(os.path.join(cls_dir, ".preprocessed")):
        shutil.rmtree(cls_dir, ignore_errors=True)
        shutil.copytree(os.path.join(a.data, a.class_name), cls_dir,
                        ignore=shutil.ignore_patterns("validation"))
        if a.depth_npy:
            for root, _, files in os.walk(a.depth_npy):
                for f in files:
                    rel = os.path.relpath(os.path.join(root, f), a.depth_npy)
                    os.makedirs(os.path.dirname(os.path.join(cls_dir, rel)), exist_ok=True)
                    shutil.copy(os.path.join(root, f), os.path.join(cls_dir, rel))
        else:
            import tifffile
            from os.path import join
            from tqdm import tqdm
            ns = official_functions(os.path.join(official, "preprocess.py"),
                                    {"get_neighbor_mean", "fill_gaps", "get_corner_points", "remove_background", "preprocess_3D"},
                                    {"np": np, "os": os, "tifffile": tifffile, "join": join, "tqdm": tqdm})
            t0 = time.time()
            ns["preprocess_3D"](work_data, n_fills=c.n_fills, bg_thresh=c.bg_thresh)
            print(f"official 3D preprocessing: {time.time() - t0:.1f} s")
        open(os.path.join(cls_dir, ".preprocessed"), "w").close()

    utils = importlib.import_module("utils")
    # placeholder image features (depth mode does not read them; the dataset loads the file)
    os.makedirs(os.path.join(feature_dir, a.class_name), exist_ok=True)
    for split in ("train", "test"):
        n = len(utils.DefectDataset(set=split, get_mask=False, get_features=False).images)
        np.save(os.path.join(feature_dir, a.class_name, f"{split}.npy"), np.zeros((n, 1), np.float32))

    # 2. seed, train teacher and student with the official loops (models/ under --out)
    os.chdir(out)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    train_teacher = importlib.import_module("train_teacher")
    train_student = importlib.import_module("train_student")
    eval_mod = importlib.import_module("eval")

    train_set, test_set = utils.load_datasets(get_mask=False)
    train_loader, test_loader = utils.make_dataloaders(train_set, test_set)
    t_teacher = t_student = None
    if not a.eval_only:
        t0 = time.time()
        train_teacher.train(train_loader, test_loader)
        t_teacher = time.time() - t0
        t0 = time.time()
        train_student.train(train_loader, test_loader)
        t_student = time.time() - t0

    # 3. the official evaluation, capturing what it scores
    captured = []

    def capture(y, s, *rest, **kw):
        captured.append((np.asarray(y).copy(), np.asarray(s).copy()))
        return _sk_auc(y, s, *rest, **kw)

    _sk_auc = eval_mod.roc_auc_score
    eval_mod.roc_auc_score = capture
    eval_mod.viz_roc = lambda *x, **k: None
    eval_mod.compare_histogram = lambda *x, **k: None
    _, test_set_m = utils.load_datasets(get_mask=True)
    _, test_loader_m = utils.make_dataloaders(train_set, test_set_m)
    t0 = time.time()
    mean_auc, max_auc, pixel_auc = eval_mod.evaluate(test_loader_m)
    t_eval = time.time() - t0
    (labels, mean_sc), (_, max_sc), (gt_pix, map_pix) = captured
    n_img = len(test_set_m.images)
    side = int(round((len(map_pix) / n_img) ** 0.5))
    write_safetensors(os.path.join(out, "maps.safetensors"), {
        "anomaly_maps": map_pix.astype(np.float32).reshape(n_img, side, side),
        "ground_truth": gt_pix.astype(np.float32).reshape(n_img, side, side),
    })

    images = []
    for i, p in enumerate(test_set_m.images):
        rel = os.path.relpath(p, cls_dir)
        images.append({
            "path": rel,
            "defect_type": rel.split(os.sep)[1],
            "label": int(labels[i]),
            "score_max": float(max_sc[i]),
            "score_mean": float(mean_sc[i]),
        })
    result = {
        "implementation": "official",
        "official_commit": os.environ.get("AST_OFFICIAL_COMMIT", ""),
        "class": a.class_name,
        "mode": "depth",
        "seed": a.seed,
        "epochs": a.epochs,
        "teacher_hidden": a.teacher_hidden,
        "student_hidden": a.student_hidden,
        "student_blocks": a.student_blocks,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "image_auroc_max": float(max_auc),
        "image_auroc_mean": float(mean_auc),
        "pixel_auroc": float(pixel_auc),
        "seconds": None if a.eval_only else time.time() - t_start,
        "seconds_teacher": t_teacher,
        "seconds_student": t_student,
        "seconds_eval": t_eval,
        "depth_npy": a.depth_npy,
        "images": images,
    }
    if a.eval_only and os.path.exists(os.path.join(out, "scores.json")):
        with open(os.path.join(out, "scores.json")) as f:
            prev = json.load(f)
        for k in ("seconds", "seconds_teacher", "seconds_student"):
            result[k] = prev.get(k)
    with open(os.path.join(out, "scores.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k != "images"}, indent=1))


if __name__ == "__main__":
    main()
