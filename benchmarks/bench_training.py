"""Training throughput: one epoch of a 784-100-100-10 ReLU MLP, minibatch SGD, course vs PyTorch (CPU).

    python benchmarks/bench_training.py [--n 10000] [--repeats 5]

One epoch = N / batch_size iterations of forward, backward and an SGD update of every parameter, on random
inputs (N, 784) with random labels in [0, 10). The course side is the loop the Trainer runs
(model.loss + optim.sgd per parameter, without the per-epoch evaluation); the PyTorch side is the equivalent
nn.Sequential + CrossEntropyLoss + torch.optim.SGD loop. Both run in float32 and float64; the figures are
medians over the repeats, and the ratio course / PyTorch is printed (the goal is within 1.5x). PyTorch is not a
dependency: without it the comparison is skipped.

Both libraries use every core by default. On a machine busy with other work, threads fight for the cores and
the figures scatter; for a steadier like-for-like comparison run single-threaded:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/bench_training.py
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from course import optim
from course.models import FullyConnectedNet

HIDDEN = [100, 100]
D, C, BATCH, LR = 784, 10, 100, 1e-2


def course_epoch(X, y, dtype):
    """Seconds for one epoch of the course MLP (a fresh model each time)."""
    model = FullyConnectedNet(HIDDEN, D, C, seed=0, dtype=dtype)
    configs = {name: {"learning_rate": LR} for name in model.params}
    start = time.perf_counter()
    for i in range(0, X.shape[0], BATCH):
        _, grads = model.loss(X[i:i + BATCH], y[i:i + BATCH])
        for name, w in model.params.items():
            model.params[name], configs[name] = optim.sgd(w, grads[name], configs[name])
    return time.perf_counter() - start


def torch_epoch(torch, X, y, dtype):
    """Seconds for one epoch of the same MLP in PyTorch."""
    torch.manual_seed(0)
    dims = [D, *HIDDEN, C]
    layers = []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1]).to(dtype)
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    start = time.perf_counter()
    for i in range(0, X.shape[0], BATCH):
        opt.zero_grad()
        loss_fn(model(Xt[i:i + BATCH]), yt[i:i + BATCH]).backward()
        opt.step()
    return time.perf_counter() - start


def median_seconds(run, repeats):
    run()  # warm-up
    return statistics.median(run() for _ in range(repeats))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000, help="training examples per epoch")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per measurement (median)")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    X64 = rng.standard_normal((args.n, D))
    y = rng.integers(0, C, size=args.n)
    print(f"one epoch: {args.n} x {D} inputs, hidden {HIDDEN}, batch {BATCH}, SGD; median of {args.repeats}")
    if torch is not None:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; NumPy {np.__version__}")
    for dtype in (np.float32, np.float64):
        X = X64.astype(dtype)
        ours = median_seconds(lambda: course_epoch(X, y, dtype), args.repeats)
        line = f"{np.dtype(dtype).name}: course {ours * 1e3:7.1f} ms"
        if torch is not None:
            theirs = median_seconds(lambda: torch_epoch(torch, X, y, getattr(torch, np.dtype(dtype).name)),
                                    args.repeats)
            line += f", PyTorch {theirs * 1e3:7.1f} ms, ratio course/PyTorch {ours / theirs:.2f}x"
        print(line)
    if torch is None:
        print("PyTorch is not installed: the comparison was skipped")


if __name__ == "__main__":
    main()
