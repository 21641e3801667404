"""Activation functions as forward/backward pairs.

Every forward takes x of any shape and returns ``(out, cache)`` with out shaped like x; every backward takes
the upstream gradient ``dout`` (shaped like out) and the cache and returns ``dx`` (shaped like x).
Float dtypes are preserved; integers become float64. All are stable for inputs of any magnitude.

Conventions at the kinks (where the derivative is undefined, we pick one side):
- ReLU: gradient 0 at x == 0 (the unit counts as inactive).
- Leaky ReLU / PReLU: slope alpha at x == 0.
- ELU: the x <= 0 branch at x == 0, so the gradient there is alpha.
- Maxout: ties go to the first linear piece.
"""
from __future__ import annotations

import numpy as np

from course._validate import as_float_array, check_cache, check_dout, check_ndim, check_same_shape, check_scalar


def _cached_array(value, forward: str, what: str) -> np.ndarray:
    """A float array from the cache of ``forward``; ``what`` says what the cache is ("its output sigmoid(x)")."""
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        got = f"an array of dtype {value.dtype}" if isinstance(value, np.ndarray) else type(value).__name__
        raise TypeError(f"cache must be what {forward} returned: {what}, a float array; got {got}")
    return value


def _cached_tuple(cache, forward: str, layout: str) -> tuple:
    """The cache tuple of ``forward``, laid out as ``layout`` (e.g. "(x, alpha)"), with x a float array."""
    cache = check_cache(cache, layout.count(",") + 1, forward)
    _cached_array(cache[0], forward, f"{layout} with x")
    return cache


def _check_alpha(alpha, why: str, **bounds) -> float:
    """check_scalar(alpha, "alpha", **bounds); a range error also says ``why`` the range is what it is."""
    try:
        return check_scalar(alpha, "alpha", **bounds)
    except ValueError as exc:
        raise ValueError(f"{exc} ({why})") from None


def _check_output_range(out, low, high, forward: str, what: str) -> None:
    """Refuse a cache outside [low, high], the range of the forward's output: most likely x was passed instead."""
    if np.any((out < low) | (out > high)):  # NaN (from a diverged run) passes: the trainer reports it
        raise ValueError(f"cache must be the output of {forward}, {what}, which lies in [{low}, {high}]; got values "
                         f"from {np.nanmin(out):.4g} to {np.nanmax(out):.4g}. Pass the cache {forward} returned, not "
                         "its input x")


def sigmoid(x) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + e^-x), computed without overflow for any x (shape preserved)."""
    x = as_float_array(x)
    e = np.exp(-np.abs(x))  # in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def sigmoid_forward(x):
    """Sigmoid, squashing to (0, 1). Returns (out, cache) with cache = out, since the derivative is
    sigma'(x) = sigma(x) (1 - sigma(x)): computed from the output, not from x."""
    out = sigmoid(x)
    return out, out


def sigmoid_backward(dout, cache):
    """dx = dout * s * (1 - s) with s = sigmoid(x) from the cache. At most 0.25 (at x = 0).

    The cache must be sigmoid_forward's output, in [0, 1]; values outside (x passed instead) raise ValueError."""
    s = _cached_array(cache, "sigmoid_forward", "its output sigmoid(x)")
    _check_output_range(s, 0, 1, "sigmoid_forward", "sigmoid(x)")
    dout = check_dout(dout, s.shape, "sigmoid_forward")
    return dout * s * (1 - s)


def tanh_forward(x):
    """tanh, squashing to (-1, 1) and zero-centred; tanh(x) = 2 sigmoid(2x) - 1. Returns (out, cache=out)."""
    x = as_float_array(x)
    out = np.tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dx = dout * (1 - tanh(x)^2). At most 1 (at x = 0).

    The cache must be tanh_forward's output, in [-1, 1]; values outside (x passed instead) raise ValueError."""
    t = _cached_array(cache, "tanh_forward", "its output tanh(x)")
    _check_output_range(t, -1, 1, "tanh_forward", "tanh(x)")
    dout = check_dout(dout, t.shape, "tanh_forward")
    return dout * (1 - t * t)


def relu_forward(x):
    """max(0, x). Returns (out, cache=x)."""
    x = as_float_array(x)
    return np.maximum(x, 0).astype(x.dtype, copy=False), x


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0 (including x == 0)."""
    x = _cached_array(cache, "relu_forward", "its input x")
    dout = check_dout(dout, x.shape, "relu_forward")
    return np.where(x > 0, dout, 0).astype(np.result_type(dout, x), copy=False)


def leaky_relu_forward(x, alpha: float = 0.01):
    """x where x > 0, alpha * x elsewhere, which is max(alpha x, x); alpha in [0, 1): alpha = 0 is the ReLU,
    alpha = 1 would be the identity (no nonlinearity left) and a negative alpha would make it non-monotonic.
    Returns (out, cache=(x, alpha))."""
    x = as_float_array(x)
    alpha = _check_alpha(alpha, "leaky_relu's alpha is the slope for x <= 0, in [0, 1): 0 gives the ReLU, 1 the "
                         "identity", low=0, high=1, high_open=True)
    return np.where(x > 0, x, alpha * x).astype(x.dtype, copy=False), (x, alpha)


def leaky_relu_backward(dout, cache):
    """dx = dout where x > 0, alpha * dout elsewhere."""
    x, alpha = _cached_tuple(cache, "leaky_relu_forward", "(x, alpha)")
    dout = check_dout(dout, x.shape, "leaky_relu_forward")
    return np.where(x > 0, dout, alpha * dout).astype(np.result_type(dout, x), copy=False)


def _prelu_alpha(x, alpha):
    """Broadcast a PReLU alpha against x: a scalar, or one value per feature (N, D) / channel (N, C, ...)."""
    alpha = as_float_array(alpha, "alpha")
    if alpha.ndim == 0:
        return alpha, alpha
    if alpha.ndim != 1 or x.ndim < 2 or alpha.shape[0] != x.shape[1]:
        raise ValueError(f"alpha must be a scalar or have shape (D,) with D = x.shape[1] = "
                         f"{x.shape[1] if x.ndim >= 2 else 'n/a'}; got alpha shape {alpha.shape} for x shape {x.shape}")
    return alpha, alpha.reshape((1, -1) + (1,) * (x.ndim - 2))


def prelu_forward(x, alpha):
    """Parametric ReLU: x where x > 0, alpha * x elsewhere, with alpha learned.

    Inputs:
    - x: (N, D) or (N, C, H, W)
    - alpha: scalar, or (D,) / (C,): one slope per feature or channel

    Returns (out, cache) with out shaped like x.
    """
    x = as_float_array(x)
    alpha, a = _prelu_alpha(x, alpha)
    out = np.where(x > 0, x, a * x).astype(x.dtype, copy=False)
    return out, (x, alpha)


def prelu_backward(dout, cache):
    """Returns (dx, dalpha): dx shaped like x, dalpha shaped like alpha (summed over the other axes)."""
    x, alpha = _cached_tuple(cache, "prelu_forward", "(x, alpha)")
    dout = check_dout(dout, x.shape, "prelu_forward")
    _, a = _prelu_alpha(x, alpha)
    pos = x > 0
    dx = np.where(pos, dout, a * dout)
    contrib = np.where(pos, 0, x * dout)
    if alpha.ndim == 0:
        dalpha = np.asarray(contrib.sum(), dtype=alpha.dtype)
    else:
        dalpha = contrib.sum(axis=tuple(i for i in range(x.ndim) if i != 1)).astype(alpha.dtype, copy=False)
    return dx, dalpha


def elu_forward(x, alpha: float = 1.0):
    """Exponential linear unit: x where x > 0, alpha (e^x - 1) where x <= 0, saturating at -alpha for very
    negative x; alpha >= 0 (a negative alpha would turn the saturation upside down). Returns (out, cache)."""
    x = as_float_array(x)
    alpha = _check_alpha(alpha, "ELU saturates at -alpha for very negative x", low=0)
    neg = alpha * np.expm1(np.minimum(x, 0))  # exp only of non-positive numbers: no overflow
    out = np.where(x > 0, x, neg).astype(x.dtype, copy=False)
    return out, (x, out, alpha)


def elu_backward(dout, cache):
    """dx = dout where x > 0, dout * alpha e^x = dout * (out + alpha) where x <= 0."""
    x, out, alpha = _cached_tuple(cache, "elu_forward", "(x, out, alpha)")
    dout = check_dout(dout, x.shape, "elu_forward")
    check_same_shape(x, out, "the cached x", "the cached out")
    return np.where(x > 0, dout, dout * (out + alpha))


def maxout_forward(x, w1, b1, w2, b2):
    """Maxout with two linear pieces: out = max(x w1 + b1, x w2 + b2), elementwise.

    Inputs:
    - x: (N, D); w1, w2: (D, M); b1, b2: (M,)

    Returns (out, cache) with out of shape (N, M). Generalizes ReLU (w1 = b1 = 0) and leaky ReLU, and never
    dies, at the cost of twice the parameters of one affine layer.
    """
    x = as_float_array(x)
    check_ndim(x, 2, "x", "(N, D)")
    w1, w2 = as_float_array(w1, "w1"), as_float_array(w2, "w2")
    b1, b2 = as_float_array(b1, "b1"), as_float_array(b2, "b2")
    for name, w in (("w1", w1), ("w2", w2)):
        if w.ndim != 2 or w.shape[0] != x.shape[1]:
            raise ValueError(f"{name} must have shape (D, M) with D = x.shape[1] = {x.shape[1]}; got {w.shape}")
    if w1.shape != w2.shape:
        raise ValueError(f"w1 and w2 must have the same shape (D, M); got {w1.shape} and {w2.shape}")
    for name, b in (("b1", b1), ("b2", b2)):
        if b.shape != (w1.shape[1],):
            raise ValueError(f"{name} must have shape (M,) = ({w1.shape[1]},); got {b.shape}")
    z1 = x @ w1 + b1
    z2 = x @ w2 + b2
    first = z1 >= z2
    return np.where(first, z1, z2), (x, w1, w2, first)


def maxout_backward(dout, cache):
    """Returns (dx, dw1, db1, dw2, db2); the gradient flows only through the winning piece."""
    x, w1, w2, first = _cached_tuple(cache, "maxout_forward", "(x, w1, w2, first)")
    dout = check_dout(dout, np.shape(first), "maxout_forward")
    dz1 = np.where(first, dout, 0)
    dz2 = dout - dz1
    dx = dz1 @ w1.T + dz2 @ w2.T
    return dx, x.T @ dz1, dz1.sum(axis=0), x.T @ dz2, dz2.sum(axis=0)
