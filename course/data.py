"""Offline data sets: generated on the fly from a seed, nothing downloaded."""
from __future__ import annotations

import numpy as np

from course._validate import check_scalar


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; got {value!r}")
    return int(value)


def spiral(n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int | None = 0):
    """The classic 2-D spiral: ``n_classes`` interleaved arms, not linearly separable.

    Returns (X, y): X of shape (N, 2) with N = n_per_class * n_classes, values within about [-1, 1];
    y of shape (N,) with integer labels in [0, n_classes). ``noise`` is the standard deviation of the angle jitter.
    """
    n_per_class = _positive_int(n_per_class, "n_per_class")
    n_classes = _positive_int(n_classes, "n_classes")
    noise = check_scalar(noise, "noise", low=0)
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.0, 1.0, n_per_class), n_classes)
    k = np.repeat(np.arange(n_classes), n_per_class)
    t = np.linspace(0.0, 4.0, n_per_class)[np.newaxis, :] + (k.reshape(n_classes, -1) * 4.0)
    t = t.ravel() + rng.normal(0.0, noise, size=r.shape)
    X = np.column_stack([r * np.sin(t), r * np.cos(t)])
    return X, k.astype(np.int64)
