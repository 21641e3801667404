"""Numerical gradients by centred differences, and the relative error used to compare them with analytic ones.

Centred differences, (f(x + h) - f(x - h)) / 2h, have error O(h^2); the one-sided (f(x + h) - f(x)) / h of
many lecture notes has error O(h). Relative errors below about 1e-7 mean a smooth function's gradient is right;
near a kink (ReLU at 0, max) 1e-4 can be acceptable.
"""
from __future__ import annotations

import numpy as np


def _check_array(x, name="x"):
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"{name} must be a float numpy array (it is perturbed in place); got "
                        f"{type(x).__name__}{'' if not isinstance(x, np.ndarray) else ' of dtype ' + str(x.dtype)}")


def eval_numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of a scalar function at ``x``.

    Inputs:
    - f: callable taking an array shaped like x and returning a scalar
    - x: float array of any shape; perturbed one entry at a time and restored afterwards
    - h: step size

    Returns:
    - grad: array shaped like x, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h)
    """
    _check_array(x)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        fxph = float(f(x))
        x[ix] = old - h
        fxmh = float(f(x))
        x[ix] = old
        grad[ix] = (fxph - fxmh) / (2 * h)
    return grad


def eval_numerical_gradient_array(f, x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of ``sum(f(x) * df)`` with respect to ``x``: what a backward pass receiving the
    upstream gradient ``df`` must return.

    Inputs:
    - f: callable taking an array shaped like x and returning an array shaped like df
    - x: float array of any shape (restored afterwards)
    - df: upstream gradient, shaped like f(x)

    Returns:
    - grad: array shaped like x
    """
    _check_array(x)
    df = np.asarray(df)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        old = x[ix]
        x[ix] = old + h
        pos = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old - h
        neg = np.array(f(x), dtype=np.float64, copy=True)
        x[ix] = old
        if pos.shape != df.shape:
            raise ValueError(f"f(x) has shape {pos.shape} but df has shape {df.shape}; they must match")
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
    return grad


def rel_error(a, b) -> float:
    """Maximum over entries of |a - b| / max(1e-8, |a| + |b|)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of one shape; got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
