"""Numerical gradients by centred differences, and the relative error used to compare them with analytic ones.

Centred differences, (f(x + h) - f(x - h)) / 2h, have error O(h^2); the one-sided (f(x + h) - f(x)) / h of
many lecture notes has error O(h). Relative errors below about 1e-7 mean a smooth function's gradient is right;
near a kink (ReLU at 0, max) 1e-4 can be acceptable. :func:`grad_check_sparse` checks only a few random
coordinates: the affordable check for a model with many parameters.
"""
from __future__ import annotations

import numpy as np

from course._numeric import scale_of
from course._validate import check_finite, check_int, check_scalar


def _check_x(x, h):
    """x must be a finite float64 (or wider) array, perturbed in place; h a finite step > 0. Returns h."""
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a float numpy array (it is perturbed in place); got "
                        f"{type(x).__name__}{'' if not isinstance(x, np.ndarray) else ' of dtype ' + str(x.dtype)}")
    if np.finfo(x.dtype).eps > np.finfo(np.float64).eps:
        raise TypeError(f"x must be float64 for a numerical gradient; got {x.dtype}. In {x.dtype} the step is rounded "
                        "(float32 numbers near 100 are 7.6e-6 apart, so x + 1e-5 cannot be represented) and the "
                        "rounding of f(x) swamps f(x + h) - f(x - h): the result would be wrong. Pass "
                        "x.astype(np.float64); the layers keep float64 through")
    check_finite(x, "x")
    return check_scalar(h, "h (the step)", low=0, low_open=True)


def _centred_difference(f, x, ix, h, read):
    """(read(f(x + h e_ix)), read(f(x - h e_ix)), the step between the two points as stored in x), with x[ix]
    restored even when f raises. Dividing by the stored step rather than 2h corrects for its rounding."""
    old = x[ix]
    try:
        with np.errstate(over="ignore"):
            x[ix] = old + h
            upper = x[ix]
            plus = read(f(x))
            x[ix] = old - h
            lower = x[ix]
            minus = read(f(x))
    finally:
        x[ix] = old
    step = upper - lower
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"h = {h:g} gives no usable step at x{list(ix)} = {float(old)!r}: x + h and x - h are "
                         f"stored as {float(upper)!r} and {float(lower)!r}; choose h above the float spacing there "
                         f"({float(np.spacing(old)):.3g}) and small next to |x|")
    return plus, minus, step


def _scalar(value):
    value = np.asarray(value, dtype=np.float64)
    if value.size != 1:
        raise TypeError(f"f must return a scalar; got an array of shape {value.shape}")
    return float(value.reshape(()))


def eval_numerical_gradient(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of a scalar function at ``x``.

    Inputs:
    - f: callable taking an array shaped like x and returning a scalar
    - x: finite float64 array of any shape; perturbed IN PLACE one entry at a time (so an f that reads x through
      another reference, such as ``lambda _: model.loss(X, y)[0]`` with x = model.params["W1"], works) and
      restored afterwards, even when f raises. float32 is refused: its rounding makes the differences wrong
    - h: step size, finite and > 0

    Returns:
    - grad: array shaped like x, grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2h), where 2h is the distance
      between the two points as actually stored (x + h rounds when |x| is large)
    """
    h = _check_x(x, h)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        plus, minus, step = _centred_difference(f, x, ix, h, _scalar)
        grad[ix] = (plus - minus) / step
    return grad


def eval_numerical_gradient_array(f, x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of ``sum(f(x) * df)`` with respect to ``x``: what a backward pass receiving the
    upstream gradient ``df`` must return.

    Inputs:
    - f: callable taking an array shaped like x and returning an array shaped like df
    - x: finite float64 array of any shape, perturbed in place and restored afterwards (as for
      :func:`eval_numerical_gradient`)
    - df: upstream gradient, shaped like f(x)
    - h: step size, finite and > 0

    Returns:
    - grad: array shaped like x
    """
    h = _check_x(x, h)
    df = np.asarray(df)
    grad = np.zeros_like(x)
    for ix in np.ndindex(x.shape):
        pos, neg, step = _centred_difference(f, x, ix, h, lambda out: np.array(out, dtype=np.float64, copy=True))
        if pos.shape != df.shape:
            raise ValueError(f"f(x) has shape {pos.shape} but df has shape {df.shape}; they must match")
        grad[ix] = np.sum((pos - neg) * df) / step
    return grad


def rel_error(a, b) -> float:
    """Maximum over entries of |a - b| / max(1e-8, |a| + |b|). Everything is divided by one power of two first
    (exactly), so a - b and |a| + |b| do not overflow for values near the float limit."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of one shape; got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    s = scale_of(a, b)
    a, b = a / s, b / s
    return float(np.max(np.abs(a - b) / np.maximum(1e-8 / s, np.abs(a) + np.abs(b))))


def grad_check_sparse(f, x: np.ndarray, analytic_grad, num_checks: int = 10, h: float = 1e-5, rng=None):
    """Compare an analytic gradient with centred differences at a few random coordinates of ``x``.

    The full numerical gradient costs two evaluations of f per entry of x (15,000 forward passes for a network
    of 7,500 parameters); checking a few random entries costs two each, and a wrong backward pass is rarely
    right on every one of them.

    Inputs:
    - f: callable taking an array shaped like x and returning a scalar
    - x: finite float64 array of any shape; perturbed IN PLACE one entry at a time and restored afterwards (as for
      :func:`eval_numerical_gradient`, so ``lambda _: model.loss(X, y)[0]`` with x = model.params["W1"] works)
    - analytic_grad: the gradient to check, shaped like x
    - num_checks: K, how many coordinates to check, each drawn uniformly at random (with replacement)
    - h: step size, finite and > 0
    - rng: a numpy.random.Generator that draws the coordinates (None: a fresh, unseeded one)

    Returns (indices, numeric, errors):
    - indices: (K, x.ndim) int array; row k is the index of x checked k-th, x[tuple(indices[k])]
    - numeric: (K,) the centred differences (f(x + h e_k) - f(x - h e_k)) / 2h there
    - errors: (K,) relative errors |a - n| / max(1e-8, |a| + |n|), a = analytic_grad at the index, n = numeric
    """
    h = _check_x(x, h)
    analytic_grad = np.asarray(analytic_grad, dtype=np.float64)
    if analytic_grad.shape != x.shape:
        raise ValueError(f"analytic_grad must be shaped like x {x.shape}; got {analytic_grad.shape}")
    num_checks = check_int(num_checks, "num_checks")
    if x.size == 0:
        raise ValueError("x must hold at least one entry to check; got an empty array")
    rng = np.random.default_rng() if rng is None else rng
    indices = rng.integers(0, x.shape, size=(num_checks, x.ndim))
    numeric = np.empty(num_checks)
    for k, ix in enumerate(map(tuple, indices)):
        plus, minus, step = _centred_difference(f, x, ix, h, _scalar)
        numeric[k] = (plus - minus) / step
    analytic = analytic_grad[tuple(indices.T)]
    errors = np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))
    return indices, numeric, errors
