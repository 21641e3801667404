"""Convolution speed: course.conv's fast layers against its naive loops and against PyTorch on the CPU.

One step is a forward and a backward pass on the goal shape: a batch x of (50, 3, 32, 32), 32 filters of 7x7,
pad 3, stride 1. The naive loops are timed on a smaller batch and compared per example (the work is linear in
the batch size). PyTorch is optional: without it the comparison is skipped. Times are medians over repeats; the
fast and PyTorch steps take turns, and their ratio is the median of the paired ratios, which is steadier than a
ratio of medians on a shared machine.

    .venv/bin/python benchmarks/bench_conv.py [--repeats 21] [--naive-batch 2]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np

from course import conv

N, C, H, W, F, K, PAD, STRIDE = 50, 3, 32, 32, 32, 7, 3, 1
CONV_PARAM = {"stride": STRIDE, "pad": PAD}
POOL_PARAM = {"pool_height": 2, "pool_width": 2, "stride": 2}


def timings(steps: dict, repeats: int) -> dict:
    """Seconds per call of each step, the steps taking turns (after one warm-up round) so that all of them see
    the same load on a shared machine."""
    for step in steps.values():
        step()  # first-touch allocations, BLAS threads, torch kernels
    seconds = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            seconds[name].append(time.perf_counter() - start)
    return {name: np.array(s) for name, s in seconds.items()}


def conv_inputs(n: int, dtype, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, C, H, W)).astype(dtype)
    w = (rng.standard_normal((F, C, K, K)) / np.sqrt(C * K * K)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    dout = rng.standard_normal((n, F, H, W)).astype(dtype)  # pad 3 with 7x7 filters keeps 32x32
    return x, w, b, dout


def numpy_conv_step(forward, backward, x, w, b, dout):
    def step():
        _, cache = forward(x, w, b, CONV_PARAM)
        return backward(dout, cache)
    return step


def numpy_pool_step(forward, backward, x):
    dout = np.ones((x.shape[0], x.shape[1], x.shape[2] // 2, x.shape[3] // 2), dtype=x.dtype)

    def step():
        _, cache = forward(x, POOL_PARAM)
        return backward(dout, cache)
    return step


def torch_conv_step(torch, x, w, b, dout):
    xt, wt, bt = (torch.from_numpy(a).requires_grad_() for a in (x, w, b))
    dt = torch.from_numpy(dout)

    def step():
        xt.grad = wt.grad = bt.grad = None
        out = torch.nn.functional.conv2d(xt, wt, bt, stride=STRIDE, padding=PAD)
        out.backward(dt)
        return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()
    return step


def per_example(seconds: float, n: int) -> str:
    return f"{seconds * 1e3:9.1f} ms  ({seconds / n * 1e3:7.2f} ms/example)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21, help="timed repeats of the fast and PyTorch steps")
    parser.add_argument("--naive-repeats", type=int, default=3, help="timed repeats of the naive loops")
    parser.add_argument("--naive-batch", type=int, default=2, help="batch size for the naive loops")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None

    print(f"numpy {np.__version__}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"{os.cpu_count()} CPUs" + (f", torch {torch.__version__} with {torch.get_num_threads()} threads"
                                      if torch else ""))
    print(f"conv forward + backward, x ({N}, {C}, {H}, {W}), {F} filters {K}x{K}, pad {PAD}, stride {STRIDE}: "
          f"medians over {args.repeats} repeats" + (", fast and PyTorch taking turns\n" if torch else "\n"))

    fast = {}
    for dtype in (np.float64, np.float32):
        name = np.dtype(dtype).name
        x, w, b, dout = conv_inputs(N, dtype)
        steps = {"fast": numpy_conv_step(conv.conv_forward, conv.conv_backward, x, w, b, dout)}
        if torch:
            steps["torch"] = torch_conv_step(torch, x, w, b, dout)
        seconds = timings(steps, args.repeats)
        fast[name] = float(np.median(seconds["fast"]))
        print(f"fast  conv  {name}  N={N:<3}{per_example(fast[name], N)}")
        if torch:
            ours, theirs = steps["fast"](), steps["torch"]()
            gap = max(float(np.max(np.abs(a - t)) / np.max(np.abs(t))) for a, t in zip(ours, theirs))
            print(f"torch conv  {name}  N={N:<3}{per_example(float(np.median(seconds['torch'])), N)}   "
                  f"fast/torch = {np.median(seconds['fast'] / seconds['torch']):.2f} (median of paired ratios; "
                  f"gradients agree to {gap:.0e} of the largest)")
    if not torch:
        print("PyTorch comparison skipped: torch is not installed (it is not a dependency of this project)")

    print(f"\nnaive loops: {args.naive_repeats} repeats on a batch of {args.naive_batch}, compared per example")
    naive = float(np.median(timings({"naive": numpy_conv_step(
        conv.conv_forward_naive, conv.conv_backward_naive, *conv_inputs(args.naive_batch, np.float64))},
        args.naive_repeats)["naive"]))
    print(f"naive conv  float64  N={args.naive_batch:<3}{per_example(naive, args.naive_batch)}")
    print(f"  -> fast is {(naive / args.naive_batch) / (fast['float64'] / N):.0f}x faster than naive per example")

    x_pool = np.random.default_rng(1).standard_normal((N, F, H, W))
    pool_fast = float(np.median(timings({"fast": numpy_pool_step(
        conv.max_pool_forward, conv.max_pool_backward, x_pool)}, args.repeats)["fast"]))
    pool_naive = float(np.median(timings({"naive": numpy_pool_step(
        conv.max_pool_forward_naive, conv.max_pool_backward_naive, x_pool[:args.naive_batch])},
        args.naive_repeats)["naive"]))
    print(f"\nmax pool 2x2 stride 2, forward + backward, x ({N}, {F}, {H}, {W}), float64")
    print(f"fast  pool  float64  N={N:<3}{per_example(pool_fast, N)}")
    print(f"naive pool  float64  N={args.naive_batch:<3}{per_example(pool_naive, args.naive_batch)}")
    print(f"  -> fast is {(pool_naive / args.naive_batch) / (pool_fast / N):.0f}x faster than naive per example")


if __name__ == "__main__":
    main()
