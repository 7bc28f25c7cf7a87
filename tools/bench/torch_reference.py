"""Same-run PyTorch reference of `deno task bench` (issue 17): PyTorch versions of the bench's
training workloads (the asymmetric student CNN and the teacher normalizing flow, built here from
lib/models/ as this project implements them) and of its EfficientNet-B5 extraction (torchvision's
efficientnet_b5, weights=None, cut after the same MBConv block) and of its scoring of one image
(backbone as the preset resolves it, teacher, student, map, scores), timed in fp32 and in bf16
under torch.autocast("cpu", dtype=torch.bfloat16).

  /usr/bin/python3 tools/bench/torch_reference.py --workloads '[{"kind":"student","name":"s",...}]' \
      --precision fp32,bf16 --threads 2 --budget 20

--workloads: a JSON list of the bench's workload objects (tools/bench/workloads.ts: student
{batch, side, channels, hidden, nBlocks, posEncDim}, teacher {+ kernelSizes, clamp}, effnet
{inputSize, upToBlock}, score {see build_score}); each may carry "analytic_gflops" (tools/bench/flops.ts,
forward only; null: no analytic count, e.g. MobileNetV2):
the convolutions' MACs counted on the torch model (forward hooks) must then agree within 5%.

A training step = forward + loss + backward + Adam step (batch BatchNorm statistics for the
student); extraction = one image forward, no grad, eval mode; scoring = one test image through
resize + backbone + teacher + student + distance map + bicubic map + image scores, no grad, eval
mode (the bench's own score step also decodes the PNG/TIFF and preprocesses the depth: not here;
the line's "note" says so). Memory format: NCHW by default,
the faster here (PyTorch 1.13, 2 threads, the bench host: student_h256 fp32 880 ms NCHW vs
2510 ms channels-last; teacher_h64 about equal, 670-690 ms); --channels-last for the other. Output (stdout): a first line {"torch_version", "threads",
"bf16_isa", ...}, then one JSON line per workload and precision: {name, precision, ms_per_step,
steps_ms, torch_gflops, analytic_gflops, memory_format[, note]}; or {name, precision, error}.
"""
import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import time

try:
    import torch
    import torch.nn as nn
except ImportError as err:  # the bench records the columns as absent
    print(json.dumps({"error": f"PyTorch unavailable ({err})"}))
    sys.exit(0)

TRAIN_STEP_FACTOR = 3  # forward + input gradient + filter gradient (tools/bench/flops.ts)


# ---- the student: conv3x3 (PE + features -> hidden), LeakyReLU, residual blocks, conv3x3 back

class StudentBlock(nn.Module):
    def __init__(self, hidden, slope):
        super().__init__()
        self.l1 = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.l2 = nn.Conv2d(hidden, hidden, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.act = nn.LeakyReLU(slope)

    def forward(self, h):
        y = self.act(self.bn1(self.l1(h)))
        y = self.act(self.bn2(self.l2(y)))
        return y + h


class Student(nn.Module):
    def __init__(self, channels, hidden, n_blocks, pe_dim, slope=0.01):
        super().__init__()
        self.conv1 = nn.Conv2d(channels + pe_dim, hidden, 3, padding=1)
        self.blocks = nn.ModuleList(StudentBlock(hidden, slope) for _ in range(n_blocks))
        self.conv2 = nn.Conv2d(hidden, channels, 3, padding=1)
        self.act = nn.LeakyReLU(slope)

    def forward(self, x, pe):
        h = torch.cat([pe.expand(x.shape[0], -1, -1, -1), x], 1) if pe is not None else x
        h = self.act(self.conv1(h))
        for b in self.blocks:
            h = b(h)
        return self.conv2(h)


# ---- the teacher: per block a fixed channel permutation, then an affine coupling updating both halves

class Subnet(nn.Module):
    """conv k (in -> hidden), ReLU, conv k (hidden -> out), replicate padding, times a learnt gamma (0 at start)."""

    def __init__(self, cin, hidden, cout, k):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, hidden, k, padding=k // 2, padding_mode="replicate")
        self.conv2 = nn.Conv2d(hidden, cout, k, padding=k // 2, padding_mode="replicate")
        self.gamma = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return self.conv2(torch.relu(self.conv1(x))) * self.gamma


class Coupling(nn.Module):
    def __init__(self, channels, cond, hidden, k, clamp):
        super().__init__()
        self.s1 = channels // 2
        self.s2 = channels - self.s1
        self.clamp = clamp
        self.sub1 = Subnet(self.s1 + cond, hidden, 2 * self.s2, k)  # [y1, c] -> scale, shift of x2
        self.sub2 = Subnet(self.s2 + cond, hidden, 2 * self.s1, k)  # [x2, c] -> scale, shift of x1

    def soft_log_scale(self, s):
        # log e(s), e(s) = exp(alpha * 0.636 * atan(s / alpha))
        return self.clamp * 0.636 * torch.atan(s / self.clamp)

    def forward(self, x, c):
        x1, x2 = x[:, : self.s1], x[:, self.s1:]
        a2 = self.sub2(torch.cat([x2, c], 1) if c is not None else x2)
        ls2 = self.soft_log_scale(a2[:, : self.s1])
        y1 = torch.exp(ls2) * x1 + a2[:, self.s1:]
        a1 = self.sub1(torch.cat([y1, c], 1) if c is not None else y1)
        ls1 = self.soft_log_scale(a1[:, : self.s2])
        y2 = torch.exp(ls1) * x2 + a1[:, self.s2:]
        log_det = ls1.sum(1) + ls2.sum(1)
        return torch.clamp(torch.cat([y1, y2], 1), -1e6, 1e6), log_det


class Teacher(nn.Module):
    def __init__(self, channels, hidden, n_blocks, kernel_sizes, clamp, pe_dim, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        for k in range(n_blocks):
            self.register_buffer(f"perm{k}", torch.randperm(channels, generator=g))
        self.n_blocks = n_blocks
        self.couplings = nn.ModuleList(
            Coupling(channels, pe_dim, hidden, kernel_sizes[k % len(kernel_sizes)], clamp) for k in range(n_blocks))

    def forward(self, x, pe):
        c = pe.expand(x.shape[0], -1, -1, -1) if pe is not None else None
        z, log_det = x, None
        for k, coupling in enumerate(self.couplings):
            z, ld = coupling(z.index_select(1, getattr(self, f"perm{k}")), c)
            log_det = ld if log_det is None else log_det + ld
        return z, log_det


# ---- EfficientNet-B5 cut after MBConv block `up_to_block` (0-based over all stages)

def effnet_b5_truncated(up_to_block):
    import torchvision
    full = torchvision.models.efficientnet_b5(weights=None)
    layers = [full.features[0]]  # stem: 3x3/2 conv, BN, SiLU
    n = 0
    for stage in list(full.features)[1:]:
        if not isinstance(stage, nn.Sequential) or not hasattr(stage[0], "block"):
            break  # the 1x1 head conv
        for block in stage:
            if n > up_to_block:
                break
            layers.append(block)
            n += 1
    if n != up_to_block + 1:
        raise ValueError(f"efficientnet_b5 has {n} MBConv blocks, block {up_to_block} asked")
    return nn.Sequential(*layers)


# ---- MAC counting (convolutions only, as flops.ts counts)

def conv_flops(model, run):
    """2 x MACs of every Conv2d that `run()` calls (forward)."""
    total = [0]

    def hook(mod, _inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1]
        total[0] += out.numel() * (mod.in_channels // mod.groups) * k

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            run()
    finally:
        for h in handles:
            h.remove()
    return 2 * total[0]


# ---- timing

def timed(step, warmup, min_steps, max_steps, budget_s):
    last = 0.0
    for _ in range(max(1, warmup)):
        t0 = time.perf_counter()
        step()
        last = time.perf_counter() - t0
    n = min(max_steps, max(min_steps, math.floor(budget_s / max(last, 1e-3))))
    ms = []
    for _ in range(n):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1000)
    return ms


def autocast(precision):
    if precision == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return torch.autocast("cpu", enabled=False)


# ---- scoring one test image (the bench's score_* workloads)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def mobilenet_v2_truncated(block):
    """torchvision's MobileNetV2 at width 0.35 (Keras alpha 0.35 has the same channel rounding) up to
    Keras' block_<block> (features[0] = stem, features[1] = Keras' expanded_conv, features[k + 1] = block_k)."""
    import torchvision
    full = torchvision.models.mobilenet_v2(weights=None, width_mult=0.35)
    if not 1 <= block <= 16:
        raise ValueError(f"mobilenet_v2 has blocks 1..16, block {block} asked")
    return nn.Sequential(*list(full.features)[: block + 2])


class RawPatch(nn.Module):
    """The raw-pixel stand-in: the (already resized, normalised) image unshuffled into 4x4 patches."""

    def forward(self, x):
        return nn.functional.pixel_unshuffle(x, 4)


def score_backbone(w):
    name = w["backbone"]
    if name == "efficientnet-b5":
        return effnet_b5_truncated(w["backboneBlock"])
    if name == "mobilenet_v2":
        return mobilenet_v2_truncated(w["backboneBlock"])
    if name == "raw-patch":
        return RawPatch()
    raise ValueError(f"no PyTorch version of backbone {name!r}")


class ScoreNet(nn.Module):
    """Resize + normalise + backbone, [features, depth] -> teacher z (and log-det) and student, the
    masked distance per map cell, the bicubic anomaly map and the image scores (max of the map, mean
    of the low-resolution distance), as lib/models/ast.ts scores a batch."""

    def __init__(self, w):
        super().__init__()
        self.w = w
        self.backbone = score_backbone(w)
        c = w["backboneChannels"] + w["depthChannels"]
        pe_dim = w["posEncDim"]
        t, s = w["teacher"], w["student"]
        self.teacher = Teacher(c, t["hidden"], t["nBlocks"], t["kernelSizes"], t["clamp"], pe_dim)
        self.student = Student(c, s["hidden"], s["nBlocks"], pe_dim, s["leakySlope"]) if s else None
        g = torch.Generator().manual_seed(1)
        self.register_buffer("pe", torch.randn(1, pe_dim, w["mapLen"], w["mapLen"], generator=g) if pe_dim > 0 else None)
        if w["normalise"] == "imagenet":
            mean, std = IMAGENET_MEAN, IMAGENET_STD
        elif w["normalise"] == "unit-range":  # Keras' mobilenet_v2.preprocess_input: [0,1] -> [-1,1]
            mean, std = (0.5,) * 3, (0.5,) * 3
        else:
            raise ValueError(f"unknown normalisation {w['normalise']!r}")
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))

    def features(self, image):
        """[1,3,S,S] in [0,1] -> backbone features [1,C,mapLen,mapLen] (fp32)."""
        side = self.w["backboneInput"]
        if self.w["resize"] == "bilinear-antialias":  # PIL's bilinear (antialiased when shrinking)
            x = nn.functional.interpolate(image, size=(side, side), mode="bilinear", align_corners=False, antialias=True)
        elif self.w["resize"] == "area":
            x = nn.functional.interpolate(image, size=(side, side), mode="area")
        else:
            raise ValueError(f"unknown resize {self.w['resize']!r}")
        f = self.backbone((x - self.mean) / self.std).float()
        want = (1, self.w["backboneChannels"], self.w["mapLen"], self.w["mapLen"])
        if tuple(f.shape) != want:
            raise ValueError(f"{self.w['backbone']} gave features {tuple(f.shape)}, the spec says {want}")
        return f

    def forward(self, image, depth, mask):
        x = torch.cat([self.features(image), depth], 1)
        z, log_det = self.teacher(x, self.pe)
        z = z.float()
        if self.student is not None:
            d = (((z - self.student(x, self.pe).float()) ** 2) * mask).mean(1)  # mask applied once
            eval_map = d * mask[:, 0]  # and once more for the map
        else:  # the teacher's NLL; the background takes the lowest foreground NLL (backgroundAtForegroundMin)
            nll = 0.5 * (z ** 2).sum(1) - log_det.float()
            fg = mask[:, 0] > 0
            low = torch.where(fg, nll, torch.full_like(nll, math.inf)).amin((1, 2), keepdim=True)
            low = torch.where(torch.isinf(low), torch.zeros_like(low), low)
            d = eval_map = torch.where(fg, nll, low.expand_as(nll))
        out = self.w["outSize"]
        amap = nn.functional.interpolate(eval_map[:, None], size=(out, out), mode="bicubic", align_corners=False)[:, 0]
        return amap, amap.amax((1, 2)), d.mean((1, 2))


def score_note(w):
    """What the PyTorch score step times, and what it leaves out (the bench prints it)."""
    b = w["backbone"] + (f" block {w['backboneBlock']}" if w.get("backboneBlock") is not None else "")
    student = f"student h{w['student']['hidden']}x{w['student']['nBlocks']}" if w["student"] else "no student (teacher NLL)"
    return (f"PyTorch times the network part only: {w['imageSize']} px float image tensor resized to {w['backboneInput']} px "
            f"({w['resize']}) + normalise + {b} + teacher h{w['teacher']['hidden']} + {student} + "
            f"{'distance' if w['student'] else 'NLL'} per cell + "
            f"bicubic map {w['outSize']} px + max/mean; no PNG/TIFF decode, no depth preprocessing (random depth "
            f"features and mask as inputs); the ratios use our network_ms, the same part on images decoded beforehand")


def build_score(w, fmt, g):
    """kind "score" (tools/bench/bench.ts torchSpec): imageSize, backbone ("efficientnet-b5" | "mobilenet_v2" |
    "raw-patch"), backboneBlock, backboneInput, backboneChannels, resize ("bilinear-antialias" | "area"),
    normalise ("imagenet" | "unit-range"), depthChannels, mapLen, posEncDim, teacher {hidden, nBlocks,
    kernelSizes, clamp}, student {hidden, nBlocks, leakySlope} or null, evalMask, outSize."""
    model = ScoreNet(w).to(memory_format=fmt).eval()
    s, m = w["imageSize"], w["mapLen"]
    image = torch.rand(1, 3, s, s, generator=g).contiguous(memory_format=fmt)
    depth = torch.randn(1, w["depthChannels"], m, m, generator=g).contiguous(memory_format=fmt)
    mask = torch.rand(1, 1, m, m, generator=g) if w["evalMask"] else torch.ones(1, 1, m, m)

    def make_step(precision):
        def step():
            with torch.no_grad(), autocast(precision):
                amap, score_max, score_mean = model(image, depth, mask)
            # read back, as our score step's dataSync does
            amap.float().sum().item()
            score_max.float().tolist(), score_mean.float().tolist()
        return step

    return model, lambda: model(image, depth, mask), make_step, 1


def build(w, channels_last):
    """(model, forward-flops runner, step factory(precision)) of one workload."""
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    g = torch.Generator().manual_seed(0)
    kind = w["kind"]
    if kind in ("student", "teacher"):
        b, s, c, pe_dim = w["batch"], w["side"], w["channels"], w["posEncDim"]
        x = torch.randn(b, c, s, s, generator=g).contiguous(memory_format=fmt)
        pe = torch.randn(1, pe_dim, s, s, generator=g).contiguous(memory_format=fmt) if pe_dim > 0 else None
        if kind == "student":
            model = Student(c, w["hidden"], w["nBlocks"], pe_dim)
            target = torch.randn(b, c, s, s, generator=g).contiguous(memory_format=fmt)

            def loss_fn():
                return ((target - model(x, pe)) ** 2).sum(1).mean()
        else:
            model = Teacher(c, w["hidden"], w["nBlocks"], w["kernelSizes"], w["clamp"], pe_dim)

            def loss_fn():
                z, log_det = model(x, pe)
                return (0.5 * (z.float() ** 2).sum(1) - log_det.float()).mean()

        model = model.to(memory_format=fmt).train()
        opt = torch.optim.Adam(model.parameters(), lr=2e-4)

        def make_step(precision):
            def step():
                opt.zero_grad(set_to_none=True)
                with autocast(precision):
                    loss = loss_fn()
                loss.backward()
                opt.step()
            return step

        return model, lambda: loss_fn(), make_step, TRAIN_STEP_FACTOR
    if kind == "effnet":
        model = effnet_b5_truncated(w["upToBlock"]).to(memory_format=fmt).eval()
        x = torch.randn(1, 3, w["inputSize"], w["inputSize"], generator=g).contiguous(memory_format=fmt)

        def make_step(precision):
            def step():
                with torch.no_grad(), autocast(precision):
                    model(x).float().sum().item()
            return step

        return model, lambda: model(x), make_step, 1
    if kind == "score":
        return build_score(w, fmt, g)
    raise ValueError(f"no PyTorch version of workload kind {kind!r}")


def bf16_isa():
    """oneDNN's implementation of a small bf16 conv in this torch (DNNL_VERBOSE, in a subprocess), or None."""
    code = ("import torch;c=torch.nn.Conv2d(64,64,3).to(memory_format=torch.channels_last);"
            "x=torch.randn(2,64,16,16).contiguous(memory_format=torch.channels_last)\n"
            "with torch.no_grad(), torch.autocast('cpu',dtype=torch.bfloat16): c(x)")
    try:
        out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "DNNL_VERBOSE": "1", "OMP_NUM_THREADS": "1"},
                             capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    isa = re.search(r"^(?:dnnl|onednn)_verbose,info,cpu,isa:(.*)$", out, re.M)
    impl = next((line.split(",")[4] for line in out.splitlines() if ",exec,cpu,convolution," in line and "bf16" in line), None)
    if not isa and not impl:
        return None
    return ((isa.group(1).strip() + "; ") if isa else "") + (f"bf16 conv: {impl}" if impl else "no bf16 conv seen")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workloads", required=True, help="JSON list of bench workloads")
    ap.add_argument("--precision", default="fp32", help="fp32, bf16 or fp32,bf16")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--min-steps", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=7)
    ap.add_argument("--budget", type=float, default=40, help="seconds of timed steps per workload and precision")
    ap.add_argument("--channels-last", action="store_true")
    ap.add_argument("--no-isa-probe", action="store_true")
    a = ap.parse_args()
    precisions = [p.strip() for p in a.precision.split(",") if p.strip()]
    for p in precisions:
        if p not in ("fp32", "bf16"):
            ap.error(f"--precision: unknown {p!r}")
    torch.set_num_threads(a.threads)
    cap = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    print(json.dumps({
        "torch_version": torch.__version__, "threads": torch.get_num_threads(),
        "cpu_capability": cap.group(1) if cap else None,
        "bf16_isa": None if a.no_isa_probe or "bf16" not in precisions else bf16_isa(),
        "memory_format": "channels_last" if a.channels_last else "nchw",
    }), flush=True)
    failed = False
    for w in json.loads(a.workloads):
        try:
            model, forward, make_step, factor = build(w, a.channels_last)
            flops = factor * conv_flops(model, forward)
            analytic = w.get("analytic_gflops")
            torch_gflops = round(flops / 1e9, 6)
            print(f"{w['name']}: conv GFLOP per step: torch model {torch_gflops}, analytic (flops.ts) {analytic}", file=sys.stderr)
            note = score_note(w) if w["kind"] == "score" else None
            if analytic is not None and abs(flops / 1e9 - analytic) > 0.05 * analytic:
                raise AssertionError(f"{w['name']}: the torch model's conv GFLOP {torch_gflops} differ from the analytic {analytic} by more than 5%")
        except Exception as err:  # noqa: BLE001 -- one workload's failure is reported, the others still run
            failed = True
            for p in precisions:
                print(json.dumps({"name": w.get("name"), "precision": p, "error": f"{type(err).__name__}: {err}"}), flush=True)
            continue
        for p in precisions:
            try:
                ms = timed(make_step(p), a.warmup, a.min_steps, a.max_steps, a.budget)
                print(json.dumps({"name": w["name"], "precision": p, "ms_per_step": round(statistics.median(ms), 1),
                                  "steps_ms": [round(t, 1) for t in ms], "torch_gflops": torch_gflops, "analytic_gflops": analytic,
                                  "memory_format": "channels_last" if a.channels_last else "nchw",
                                  **({"note": note} if note else {})}), flush=True)
            except Exception as err:  # noqa: BLE001
                failed = True
                print(json.dumps({"name": w["name"], "precision": p, "error": f"{type(err).__name__}: {err}"}), flush=True)
        del model
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
