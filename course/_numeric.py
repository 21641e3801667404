"""Sums, means and variances that do not overflow, for finite arrays of any magnitude.

The trick: divide by a power of two s that brings the largest magnitude into [1, 2), compute there, multiply
back. Dividing or multiplying by a power of two only changes the exponent, so it is exact: for ordinary inputs
the results are bit for bit those of the textbook formulas, and only sums and squares that would overflow
(|x| beyond about 1.3e154 in float64, 1.8e19 in float32) or underflow are saved.
"""
from __future__ import annotations

import numpy as np


def pow2_scale(amax, dtype=np.float64):
    """Powers of two s, shaped like ``amax`` and of ``dtype``, with amax / s in [1, 2) (never below the smallest
    normal number of dtype); 1 where amax is 0 or not finite."""
    amax = np.asarray(amax, dtype=np.float64)
    _, exponent = np.frexp(amax)
    scale = np.ldexp(1.0, np.maximum(exponent - 1, np.finfo(dtype).minexp))
    return np.where(np.isfinite(amax) & (amax > 0), scale, 1.0).astype(dtype)


def scale_of(*arrays) -> float:
    """:func:`pow2_scale` of the largest magnitude in all the ``arrays``, as a Python float."""
    dtype = np.result_type(*arrays)
    dtype = dtype if dtype.kind == "f" else np.float64
    amax = max(float(np.max(np.abs(a), initial=0)) for a in arrays)
    return float(pow2_scale(amax, dtype))


def _scaled(x: np.ndarray, axis):
    """(x / s, s) with s the power of two per slice along ``axis`` (kept as a length-1 axis) of :func:`pow2_scale`."""
    scale = pow2_scale(np.max(np.abs(x), axis=axis, keepdims=True), x.dtype)
    return x / scale, scale


def stable_mean(x: np.ndarray, axis=0) -> np.ndarray:
    """Mean of the float array ``x`` along ``axis`` (reduced away): finite for finite x of any magnitude, where
    x.mean() overflows in the sum (two values of 1e308)."""
    y, scale = _scaled(x, axis)
    return np.squeeze(y.mean(axis=axis, keepdims=True) * scale, axis=axis)


def moments(x: np.ndarray, axis=0):
    """Mean, biased variance and standard deviation of the float array ``x`` along ``axis`` (reduced away).

    For finite x the mean and the standard deviation are always finite; the variance is inf, without a warning,
    where it exceeds the float range (a spread beyond about 1.3e154 in float64). x must not be empty along axis.
    """
    y, scale = _scaled(x, axis)
    mean_y = y.mean(axis=axis, keepdims=True)
    centred = y - mean_y
    var = (centred * centred).mean(axis=axis, keepdims=True)
    std = np.sqrt(var) * scale
    with np.errstate(over="ignore"):
        var = var * scale * scale
    return tuple(np.squeeze(v, axis=axis) for v in (mean_y * scale, var, std))
