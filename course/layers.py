"""Fully connected layers as forward/backward pairs."""
from __future__ import annotations

import numpy as np

from course._validate import as_float_array


def affine_forward(x, w, b):
    """Affine (fully connected) layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: (N, d_1, ..., d_k), flattened to (N, D) with D = d_1 * ... * d_k
    - w: (D, M)
    - b: (M,)

    Returns (out, cache): out of shape (N, M), cache = (x, w, b).
    """
    x, w, b = as_float_array(x, "x"), as_float_array(w, "w"), as_float_array(b, "b")
    if x.ndim < 1:
        raise ValueError(f"x must have shape (N, d_1, ..., d_k); got a scalar")
    n = x.shape[0]
    d = int(np.prod(x.shape[1:], dtype=np.int64))
    if w.ndim != 2 or w.shape[0] != d:
        raise ValueError(f"w must have shape (D, M) with D = {d} (x of shape {x.shape} flattens to ({n}, {d})); "
                         f"got w of shape {w.shape}")
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape (M,) = ({w.shape[1]},); got {b.shape}")
    out = x.reshape(n, d) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    """Backward pass of :func:`affine_forward`.

    Inputs:
    - dout: (N, M) upstream gradient
    - cache: (x, w, b) from the forward pass

    Returns (dx, dw, db) with dx: (N, d_1, ..., d_k), dw: (D, M), db: (M,).
    """
    x, w, b = cache
    dout = as_float_array(dout, "dout")
    if dout.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dout must have shape (N, M) = ({x.shape[0]}, {w.shape[1]}); got {dout.shape}")
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x2.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
