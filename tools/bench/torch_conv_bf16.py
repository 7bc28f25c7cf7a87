"""PyTorch's CPU convolution (oneDNN / mkldnn inside) in fp32 and bf16 on one shape: forward,
input gradient and filter gradient, median milliseconds of several calls after a warm-up, as one
JSON line. The reference columns of tools/bench/measure_bf16_conv.ts (same shape, same threads).

  /usr/bin/python3 tools/bench/torch_conv_bf16.py --cin 368 --cout 1024 --k 3 --batch 8 --size 24 --threads 2

bf16: the tensors are bfloat16 (x.bfloat16(), w.bfloat16()), outputs bf16; `--autocast` instead
runs fp32 tensors under torch.autocast("cpu", torch.bfloat16) (the casts then count). The
gradients come from aten.convolution_backward with one output selected, so that each pass is
timed alone. Memory format: NCHW (PyTorch's default) or --channels-last.
"""
import argparse
import json
import statistics
import sys
import time

try:
    import torch
except ImportError as err:  # the caller prints the column as absent
    print(json.dumps({"error": f"PyTorch unavailable ({err})"}))
    sys.exit(0)


def median_ms(fn, reps):
    fn()  # warm-up: primitive creation, scratch, threads
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cin", type=int, default=368)
    ap.add_argument("--cout", type=int, default=1024)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=24)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--precisions", default="fp32,bf16")
    ap.add_argument("--autocast", action="store_true")
    ap.add_argument("--channels-last", action="store_true")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    pad = (a.k - 1) // 2
    x32 = torch.randn(a.batch, a.cin, a.size, a.size).to(memory_format=fmt)
    w32 = (torch.randn(a.cout, a.cin, a.k, a.k) * 0.05).to(memory_format=fmt)
    dy32 = torch.randn(a.batch, a.cout, a.size, a.size).to(memory_format=fmt)
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "mkldnn": torch.backends.mkldnn.is_available(),
        "format": "channels_last" if a.channels_last else "nchw",
        "bf16": "autocast" if a.autocast else "bf16 tensors",
        "ms": {},
    }
    conv = torch.nn.functional.conv2d
    bwd = torch.ops.aten.convolution_backward

    def backward(x, w, dy, mask):
        return bwd(dy, x, w, None, [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, mask)

    with torch.no_grad():
        for p in a.precisions.split(","):
            if p == "bf16" and a.autocast:
                # autocast covers the forward op only; the gradients run on bf16 tensors cast per call
                def cast(*ts):
                    return [t.bfloat16() for t in ts]

                def fwd():
                    with torch.autocast("cpu", dtype=torch.bfloat16):
                        conv(x32, w32, padding=pad)

                def bd():
                    backward(*cast(x32, w32, dy32), [True, False, False])

                def bw():
                    backward(*cast(x32, w32, dy32), [False, True, False])
            else:
                dt = torch.bfloat16 if p == "bf16" else torch.float32
                x, w, dy = (t.to(dt) for t in (x32, w32, dy32))

                def fwd():
                    conv(x, w, padding=pad)

                def bd():
                    backward(x, w, dy, [True, False, False])

                def bw():
                    backward(x, w, dy, [False, True, False])

            out["ms"][p] = {
                "fwd": median_ms(fwd, a.reps),
                "bwd_data": median_ms(bd, a.reps),
                "bwd_weights": median_ms(bw, a.reps),
            }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
