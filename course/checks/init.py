"""Checks for the initialization lab: fans, small_random, xavier, glorot and he.

A weight initializer is random, so it cannot be compared value by value: each check draws a large seeded sample
and tests its mean (about 0), its standard deviation (within a few percent of the target) and its shape (normal,
not uniform), then names the mistake whose standard deviation the sample matches: np.random.rand (uniform on
[0, 1)) for randn, the variance used as the standard deviation, fan_out (or a conv weight's F or C) for fan_in,
another initializer's formula, the global np.random instead of the rng passed in.
"""
from __future__ import annotations

import numpy as np

from course import init as ref
from course.checks._harness import Mistake, as_array, call, checker

_DENSE = (400, 100)     # fan_in 400, fan_out 100: not square, so fan_in and fan_out are told apart
_CONV = (16, 64, 3, 3)  # fan_in = C*HH*WW = 576, fan_out = F*HH*WW = 144: F, C and the fans all told apart
_STD_TOL = 0.03         # relative; the sample std of 9 216+ normal values is within about 0.7% (1 sigma)
_RAND = ("used np.random.rand (uniform on [0, 1)) instead of randn: every weight is >= 0 (mean "
         "{mean:.3g}), so the weights do not average to zero. Draw from the standard normal: "
         "rng.standard_normal(shape) (np.random.randn)")


def _draw(f, shape, seed, **kw):
    w = as_array(call(f, shape, rng=np.random.default_rng(seed), **kw), "the weights")
    if w.shape != tuple(shape):
        raise Mistake(f"returned shape {w.shape} for shape {shape}: return an array of exactly that shape")
    if w.dtype != np.float64:
        raise Mistake(f"returned dtype {w.dtype}; expected float64, the course's dtype for weights (no "
                      ".astype or dtype= needed: rng.standard_normal gives float64)")
    if not np.all(np.isfinite(w)):
        raise Mistake("returned NaN or inf")
    return w


def _check_sample(w, target, candidates, where):
    """Mean ~ 0, std ~ target (else the candidate mistake whose std matches), normal rather than uniform."""
    n = w.size
    mean, std = float(w.mean()), float(w.std())
    if np.all(w >= 0):
        raise Mistake(_RAND.format(mean=mean))
    if abs(mean) > 5 * target / np.sqrt(n) + 1e-12:
        raise Mistake(f"the weights{where} have mean {mean:.3g}; expected about 0 (a zero-mean normal times a scale)")
    if abs(std / target - 1) >= _STD_TOL:
        for cand_std, description in candidates:
            if cand_std > 0 and abs(std / cand_std - 1) < _STD_TOL:
                raise Mistake(f"likely mistake: {description} (std {std:.4g}{where}; expected {target:.4g})")
        raise Mistake(f"the weights{where} have std {std:.4g}; expected {target:.4g}")
    if np.max(np.abs(w)) <= np.sqrt(3) * std * 1.05:
        raise Mistake(f"the weights{where} look uniform, not normal (none beyond {np.max(np.abs(w)):.3g}): draw from "
                      "the standard normal, rng.standard_normal(shape), and multiply by the std")
    return std


def _check_rng(f, shape, **kw):
    a = _draw(f, shape, 5, **kw)
    b = _draw(f, shape, 5, **kw)
    if not np.array_equal(a, b):
        raise Mistake("two calls with equally seeded Generators gave different weights: draw from the rng argument "
                      "(rng.standard_normal(shape)), not from the global np.random")
    c = _draw(f, shape, 6, **kw)
    if np.array_equal(a, c):
        raise Mistake("different seeds gave the same weights: draw from the rng argument")
    w = call(f, shape, **kw)  # rng=None: a fresh generator
    if np.shape(w) != tuple(shape):
        raise Mistake(f"with rng=None, returned shape {np.shape(w)}; expected {shape}. rng=None means a fresh "
                      "np.random.default_rng()")


def _fan_candidates(kind, shape):
    """(std, description) of the common mistakes for initializer ``kind`` at ``shape``."""
    fan_in, fan_out = ref.fans(shape)
    conv = len(shape) == 4
    target_name = {"xavier": "1/sqrt(fan_in)", "he": "sqrt(2/fan_in)", "glorot": "sqrt(2/(fan_in + fan_out))"}[kind]
    std_of = {
        "xavier": lambda fi, fo: 1 / np.sqrt(fi),
        "he": lambda fi, fo: np.sqrt(2 / fi),
        "glorot": lambda fi, fo: np.sqrt(2 / (fi + fo)),
    }[kind]
    cands = []
    if conv:
        f, c, hh, ww = shape
        cands += [
            (std_of(f, fan_out), f"fan_in of a conv weight (F, C, HH, WW) is C*HH*WW = {fan_in}, the inputs one "
                                 f"filter sees; you used shape[0] = F = {f}"),
            (std_of(fan_out, fan_in), f"used fan_out = F*HH*WW = {fan_out} where fan_in = C*HH*WW = {fan_in} "
                                      "belongs"),
            (std_of(c, fan_out), f"fan_in of a conv weight (F, C, HH, WW) is C*HH*WW = {fan_in}; you used C = {c}"),
        ]
        if kind == "glorot":
            cands += [
                (std_of(fan_in, f), f"fan_out of a conv weight is F*HH*WW = {fan_out}; you used F = {f}"),
                (std_of(c, f), f"used F = {f} and C = {c} as the fans, as for a dense weight: for a conv weight "
                               f"(F, C, HH, WW), fan_in = C*HH*WW = {fan_in} and fan_out = F*HH*WW = {fan_out}"),
            ]
    else:
        cands.append((std_of(fan_out, fan_in), f"used fan_out = shape[1] = {fan_out} where fan_in = shape[0] = "
                                               f"{fan_in} belongs"))
    cands += [
        (1.0, f"forgot to scale: multiply the standard normal by {target_name}"),
        (0.01, f"used the small_random scale 0.01 instead of {target_name}"),
    ]
    if kind == "xavier":
        cands += [
            (1 / fan_in, "used the variance as the std: divided by fan_in instead of sqrt(fan_in) (1/fan_in is "
                         "Var(w); the std is its square root)"),
            (np.sqrt(2 / fan_in), "that is He's std sqrt(2/fan_in); Xavier's is 1/sqrt(fan_in)"),
            (np.sqrt(2 / (fan_in + fan_out)), "that is Glorot's std sqrt(2/(fan_in + fan_out)); Xavier's is "
                                              "1/sqrt(fan_in)"),
        ]
    elif kind == "he":
        cands += [
            (1 / np.sqrt(fan_in), "used Xavier's std 1/sqrt(fan_in); He (for ReLU) is sqrt(2/fan_in): divide by "
                                  "sqrt(fan_in / 2)"),
            (2 / fan_in, "used the variance as the std: divided by fan_in / 2 instead of sqrt(fan_in / 2) "
                         "(2/fan_in is Var(w); the std is its square root)"),
            (1 / fan_in, "divided by fan_in instead of sqrt(fan_in / 2)"),
            (2 / np.sqrt(fan_in), "multiplied by 2 instead of sqrt(2): the std is sqrt(2/fan_in)"),
            (1 / np.sqrt(2 * fan_in), "divided by sqrt(2 fan_in) instead of sqrt(fan_in / 2)"),
        ]
    else:
        cands += [
            (np.sqrt(1 / (fan_in + fan_out)), "forgot the 2: the std is sqrt(2/(fan_in + fan_out))"),
            (2 / (fan_in + fan_out), "used the variance as the std (forgot the square root): the std is "
                                     "sqrt(2/(fan_in + fan_out))"),
            (1 / (fan_in + fan_out), "divided by fan_in + fan_out instead of sqrt((fan_in + fan_out)/2)"),
            (1 / np.sqrt(fan_in), "used Xavier's 1/sqrt(fan_in): Glorot averages the fans, "
                                  "sqrt(2/(fan_in + fan_out))"),
            (np.sqrt(2 / fan_in), "used He's sqrt(2/fan_in): Glorot is sqrt(2/(fan_in + fan_out))"),
        ]
    return cands


def _check_fan_initializer(f, kind):
    for shape, seed in ((_DENSE, 0), (_CONV, 1)):
        w = _draw(f, shape, seed)
        where = f" for shape {shape}"
        _check_sample(w, ref.expected_std(kind, shape), _fan_candidates(kind, shape), where)
    _check_rng(f, _DENSE)
    formula = {"xavier": "1/sqrt(fan_in)", "he": "sqrt(2/fan_in)", "glorot": "sqrt(2/(fan_in + fan_out))"}[kind]
    return f"zero mean, std {formula} for dense {_DENSE} and conv {_CONV} weights, normal, uses rng"


@checker
def check_xavier(xavier):
    """xavier(shape, rng=None): normal, mean 0, std 1/sqrt(fan_in), for dense and conv shapes."""
    return _check_fan_initializer(xavier, "xavier")


@checker
def check_he(he):
    """he(shape, rng=None): normal, mean 0, std sqrt(2/fan_in), for dense and conv shapes."""
    return _check_fan_initializer(he, "he")


@checker
def check_glorot(glorot):
    """glorot(shape, rng=None): normal, mean 0, std sqrt(2/(fan_in + fan_out)), for dense and conv shapes."""
    return _check_fan_initializer(glorot, "glorot")


@checker
def check_small_random(small_random):
    """small_random(shape, scale=0.01, rng=None): normal, mean 0, std scale."""
    w = _draw(small_random, _DENSE, 0)
    _check_sample(w, 0.01, [(1.0, "forgot to multiply by scale"),
                            (0.01 ** 2, "used the variance as the std: multiplied by scale twice, or by "
                                        "scale**2; scale is the std"),
                            (0.1, "multiplied by sqrt(scale): scale is the std itself")], " with the default scale")
    w = _draw(small_random, _DENSE, 1, scale=0.2)
    _check_sample(w, 0.2, [(0.01, "ignored the scale argument (always 0.01)"),
                           (0.04, "used the variance as the std: multiplied by scale**2; scale is the std"),
                           (np.sqrt(0.2), "multiplied by sqrt(scale): scale is the std itself")], " with scale=0.2")
    _check_rng(small_random, _DENSE)
    return "zero mean, std = scale, normal, uses rng"


@checker
def check_fans(fans):
    """fans(shape) -> (fan_in, fan_out) for dense (D, M) and conv (F, C, HH, WW) shapes."""
    result = call(fans, (30, 20))
    if tuple(np.ravel(result)) != (30, 20):
        if tuple(np.ravel(result)) == (20, 30):
            raise Mistake("fan_in and fan_out swapped: a dense weight (D, M) has fan_in = D = shape[0]")
        raise Mistake(f"fans((30, 20)) returned {result!r}; expected (30, 20)")
    result = call(fans, (8, 3, 5, 5))
    got = tuple(int(v) for v in np.ravel(result)) if np.size(result) == 2 else None
    expected = (3 * 25, 8 * 25)
    if got != expected:
        named = {(8, 3): "used shape[0] and shape[1] as for a dense weight: for a conv weight (F, C, HH, WW), "
                         "fan_in = C*HH*WW and fan_out = F*HH*WW",
                 (8 * 25, 3 * 25): "fan_in and fan_out swapped: fan_in = C*HH*WW (the inputs of one filter)",
                 (3, 8): "forgot the kernel size: fan_in = C*HH*WW and fan_out = F*HH*WW"}
        raise Mistake(f"likely mistake: {named[got]}" if got in named else
                      f"fans((8, 3, 5, 5)) returned {result!r}; expected {expected}")
    return "dense and conv fans correct"


__all__ = sorted(name for name in dir() if name.startswith("check_"))
