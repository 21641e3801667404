"""Weight initializers.

Why the scale matters: a unit sums fan_in inputs, so with weights of standard deviation s and inputs of
variance v its output has variance fan_in * s^2 * v. Too small an s and the activations (and gradients) shrink
layer after layer toward zero; too large and they explode or saturate. Choosing s so that fan_in * s^2 is about
1 keeps the variance steady through depth:

- ``xavier``: std 1/sqrt(fan_in), for tanh (and other activations that are linear around 0);
- ``he``: std sqrt(2/fan_in), for ReLU, which zeroes half of its inputs and so halves the variance;
- ``glorot``: std sqrt(2/(fan_in + fan_out)), the compromise of Glorot & Bengio (2010) between keeping the
  forward variance (fan_in) and the backward variance (fan_out) steady;
- ``small_random``: std ``scale`` (0.01 by default), fine for shallow nets, vanishing in deep ones;
- ``zeros`` / ``constant``: for biases (and batch norm's beta / gamma); as weights they make every unit of a layer
  compute the same thing and receive the same update, so the symmetry is never broken.

All draws are from a NORMAL distribution (``rng.standard_normal``, the Generator equivalent of ``np.random.randn``).
Some lecture notes write Xavier and He as ``np.random.rand(fan_in, fan_out) / np.sqrt(fan_in)``. ``rand`` is
uniform on [0, 1): every weight is positive, with mean 0.5/sqrt(fan_in) instead of 0 and a spread around that
mean of only 1/sqrt(12) ~ 0.29 of the intended std. That matters twice over: (1) all the weight vectors of a
layer point in nearly the same direction (their common positive mean dominates), so the units compute nearly the
same thing, much as with a constant initialization; (2) with positive inputs (ReLU or sigmoid outputs) every
pre-activation is a sum of fan_in positive terms, of mean ~0.5 sqrt(fan_in) times the input mean, so the
activations drift away from 0 and grow with depth instead of keeping their variance. ``randn`` (standard normal,
mean 0) is what is meant.

Fans: for a dense weight of shape (D, M), fan_in = D and fan_out = M; for a conv weight of shape (F, C, HH, WW),
fan_in = C * HH * WW (the inputs one filter sees) and fan_out = F * HH * WW. See :func:`fans`.

Randomness: ``rng`` is a ``numpy.random.Generator`` (``np.random.default_rng(seed)``), or an int seed, or
None for a fresh ``default_rng()`` -- nondeterministic, a different draw on every call. Pass a seeded Generator
for reproducible results. Every initializer returns a new float64 array.

``INITIALIZERS`` maps a name ('zeros', 'small_random', 'xavier', 'glorot', 'he') to a function called as
``f(shape, rng)`` (rng positional or keyword, None allowed), for models and widgets that pick the initializer by
name (``FullyConnectedNet(init='he')``). Its 'small_random' uses the default scale 0.01.
"""
from __future__ import annotations

import numbers

import numpy as np

from course._validate import check_in_range, check_scalar

__all__ = ["zeros", "constant", "small_random", "xavier", "glorot", "he", "fans", "expected_std", "INITIALIZERS"]


def _check_shape(shape, name: str = "shape") -> tuple[int, ...]:
    """A weight shape: an int or a non-empty tuple/list of positive ints."""
    if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of positive ints such as (D, M); got {type(shape).__name__} "
                        f"{shape!r}")
    if len(shape) == 0:
        raise ValueError(f"{name} must have at least one dimension, such as (D, M) or (M,); got ()")
    for s in shape:
        if isinstance(s, bool) or not isinstance(s, numbers.Integral):
            raise TypeError(f"{name} must hold positive ints; got {tuple(shape)!r} ({type(s).__name__} {s!r})")
        if s < 1:
            raise ValueError(f"{name} must hold positive ints; got {tuple(shape)!r}")
    return tuple(int(s) for s in shape)


def _rng(rng) -> np.random.Generator:
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), a non-negative int seed or "
                    f"None; got {type(rng).__name__}")


def fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape.

    - dense (D, M): fan_in = D, fan_out = M
    - conv (F, C, HH, WW): fan_in = C * HH * WW, fan_out = F * HH * WW

    Other numbers of dimensions raise ValueError (a bias (M,) has no fan: initialize it with zeros).
    """
    shape = _check_shape(shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) == 4:
        f, c, hh, ww = shape
        return c * hh * ww, f * hh * ww
    raise ValueError(f"fan-based initializers need a weight shape: (D, M) for a dense layer or (F, C, HH, WW) for a "
                     f"conv layer; got {shape} ({len(shape)}-D). Initialize biases (M,) with zeros")


def zeros(shape) -> np.ndarray:
    """All zeros, float64. For biases; as weights every unit would stay identical (no symmetry breaking)."""
    return np.zeros(_check_shape(shape), dtype=np.float64)


def constant(shape, value) -> np.ndarray:
    """All equal to ``value``, float64 (for example batch norm's gamma = 1)."""
    value = check_scalar(value, "value")
    return np.full(_check_shape(shape), value, dtype=np.float64)


def small_random(shape, scale: float = 0.01, rng=None) -> np.ndarray:
    """Normal with mean 0 and std ``scale``: ``scale * randn(*shape)``. Any shape; scale >= 0 (a scale so large
    that a draw exceeds the float range, such as 1e308, raises course.OutOfRangeError)."""
    shape = _check_shape(shape)
    if isinstance(scale, np.random.Generator):
        raise TypeError("scale must be a real number; got a Generator. The second argument of small_random is the "
                        "scale: pass the generator by keyword, small_random(shape, rng=rng)")
    scale = check_scalar(scale, "scale", low=0)
    draws = _rng(rng).standard_normal(shape)
    with np.errstate(over="ignore"):
        weights = scale * draws
    check_in_range(weights, "small_random: scale * randn", draws, scale, advice="the scale is far too large (a draw "
                   "a few standard deviations out exceeds the largest float)")
    return weights


def _normal(shape, std, rng):
    return std * _rng(rng).standard_normal(shape)


def xavier(shape, rng=None) -> np.ndarray:
    """Normal with mean 0 and std 1/sqrt(fan_in): ``randn(fan_in, fan_out) / sqrt(fan_in)`` (randn, not rand).
    For tanh-like activations. Shape (D, M) or (F, C, HH, WW)."""
    fan_in, _ = fans(shape)
    return _normal(_check_shape(shape), 1.0 / np.sqrt(fan_in), rng)


def glorot(shape, rng=None) -> np.ndarray:
    """Normal with mean 0 and std sqrt(2/(fan_in + fan_out)) (Glorot & Bengio 2010). Shape (D, M) or (F, C, HH, WW)."""
    fan_in, fan_out = fans(shape)
    return _normal(_check_shape(shape), np.sqrt(2.0 / (fan_in + fan_out)), rng)


def he(shape, rng=None) -> np.ndarray:
    """Normal with mean 0 and std sqrt(2/fan_in): ``randn(fan_in, fan_out) / sqrt(fan_in / 2)`` (He et al. 2015).
    For ReLU. Shape (D, M) or (F, C, HH, WW)."""
    fan_in, _ = fans(shape)
    return _normal(_check_shape(shape), np.sqrt(2.0 / fan_in), rng)


def expected_std(name: str, shape, scale: float = 0.01) -> float:
    """The standard deviation initializer ``name`` aims for at ``shape`` (``scale`` for 'small_random')."""
    if name not in INITIALIZERS:
        raise ValueError(f"unknown initializer {name!r}; expected one of {sorted(INITIALIZERS)}")
    if name == "zeros":
        _check_shape(shape)
        return 0.0
    if name == "small_random":
        _check_shape(shape)
        return check_scalar(scale, "scale", low=0)
    fan_in, fan_out = fans(shape)
    return float({"xavier": np.sqrt(1.0 / fan_in), "he": np.sqrt(2.0 / fan_in),
                  "glorot": np.sqrt(2.0 / (fan_in + fan_out))}[name])


def _zeros_initializer(shape, rng=None) -> np.ndarray:
    """zeros(shape), with the rng argument every entry of INITIALIZERS accepts (ignored)."""
    return zeros(shape)


def _small_random_initializer(shape, rng=None) -> np.ndarray:
    """small_random(shape) with the default scale 0.01, taking rng second like every entry of INITIALIZERS."""
    return small_random(shape, rng=rng)


INITIALIZERS = {
    "zeros": _zeros_initializer,
    "small_random": _small_random_initializer,
    "xavier": xavier,
    "glorot": glorot,
    "he": he,
}
