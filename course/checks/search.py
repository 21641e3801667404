"""Checks for the hyperparameter-search lab (course.search): the log-uniform sampler and the ensemble average.

A sampler is random, so :func:`check_log_uniform` tests a large seeded sample: every value within [low, high],
each of 20 equal slices of the log range holding its 5% (so every decade is equally likely, and the density within
a decade falls as 1/x), a shape and a single float as asked, and the rng argument really used. A sample in the
wrong place is matched with the likely mistake: uniform on the linear scale, exp and log10 mixed, whole powers of
ten only, uniform within each decade.

:func:`check_ensemble_predict` averages three small models' predictions where the average of the probabilities,
the average of the scores and a majority vote all disagree, with one model's scores large enough to overflow an
unshifted softmax.
"""
from __future__ import annotations

import numpy as np

from course import search as ref
from course.checks._harness import Mistake, as_array, call, checker, expect_close, naming_warnings, unpack

_LOW, _HIGH = 1e-5, 1e-1
_N = 20_000
_SLICES = 20  # equal slices of log10 range; each should hold 1/20 of the sample (std of a share ~0.0015)


def _sample(f, size, seed, low=_LOW, high=_HIGH):
    return call(f, low, high, size=size, rng=np.random.default_rng(seed))


def _as_sample(x, size) -> np.ndarray:
    x = as_array(x, "the samples")
    if x.shape != (size,):
        raise Mistake(f"with size={size} it returned shape {x.shape}; return an array of that size")
    if x.dtype.kind != "f":
        raise Mistake(f"returned dtype {x.dtype}: the samples must be floats (whole numbers cannot be log-uniform)")
    return x.astype(np.float64)


def _where_wrong(x) -> str:
    """The mistake a sample outside [low, high] points at."""
    lo, hi = x.min(), x.max()
    if lo >= np.exp(np.log10(_LOW)) * 0.99 and hi <= np.exp(np.log10(_HIGH)) * 1.01:
        return ("mixed bases: exp() of an exponent drawn between log10(low) and log10(high). Use one base: "
                "10 ** uniform(log10(low), log10(high)) or exp(uniform(log(low), log(high)))")
    if lo >= 10 ** np.log(_LOW) * 0.99 and hi <= 10 ** np.log(_HIGH) * 1.01:
        return ("mixed bases: 10 ** of an exponent drawn between log(low) and log(high) (natural logs). Use one "
                "base: 10 ** uniform(log10(low), log10(high)) or exp(uniform(log(low), log(high)))")
    if lo >= np.log10(_LOW) - 1e-9 and hi <= np.log10(_HIGH) + 1e-9:
        return "returned the exponents, not the values: raise 10 to them (or exp of natural-log exponents)"
    return f"samples from {lo:.3g} to {hi:.3g}, outside [low, high] = [{_LOW:g}, {_HIGH:g}]"


@checker
def check_log_uniform(log_uniform):
    """log_uniform(low, high, size=None, rng=None): samples whose logarithm is uniform between log(low) and
    log(high), drawn from the Generator rng; one float when size is None, else an array of that shape."""
    x = _as_sample(_sample(log_uniform, _N, 0), _N)
    if not np.all(np.isfinite(x)):
        raise Mistake("returned NaN or inf")
    if x.min() < _LOW * (1 - 1e-9) or x.max() > _HIGH * (1 + 1e-9):
        raise Mistake(_where_wrong(x))
    distinct = np.unique(x).size
    if distinct <= 10:
        raise Mistake(f"only {distinct} distinct values, whole powers of ten: draw the exponent from a continuous "
                      "uniform (rng.uniform(log10(low), log10(high))), not from integers")
    decades = np.histogram(np.log10(x), bins=4, range=(-5, -1))[0] / _N
    if decades[-1] > 0.6:
        raise Mistake(f"uniform on the linear scale: {decades[-1]:.0%} of the samples fall in the top decade "
                      f"[{_HIGH / 10:g}, {_HIGH:g}] and {decades[0]:.2%} in the bottom one. Draw the exponent "
                      "uniformly, then exponentiate: every decade then gets 25% here")
    if np.any(np.abs(decades - 0.25) > 0.02):
        raise Mistake(f"the decades are not equally likely: shares {np.round(decades, 3).tolist()} of the sample "
                      "in the 4 decades from 1e-5 to 1e-1; each should hold 25%")
    slices = np.histogram(np.log10(x), bins=_SLICES, range=(-5, -1))[0] / _N
    if np.any(np.abs(slices - 1 / _SLICES) > 0.01):
        raise Mistake("each decade is equally likely, but within a decade the values are spread on a linear "
                      f"scale (shares of the 5 slices of the first decade: {np.round(slices[:5], 3).tolist()}, "
                      "0.05 each expected): draw the whole exponent from one continuous uniform")
    again = _as_sample(_sample(log_uniform, _N, 0), _N)
    if not np.array_equal(x, again):
        raise Mistake("two calls with equally seeded Generators gave different samples: draw from the rng argument "
                      "(rng.uniform(...)), not from the global np.random")
    if np.array_equal(x, _as_sample(_sample(log_uniform, _N, 1), _N)):
        raise Mistake("Generators seeded differently gave the same samples: draw from the rng argument, not from a "
                      "Generator of your own with a fixed seed")
    shaped = as_array(_sample(log_uniform, (3, 4), 2, 1e-3, 1e2), "the samples")
    if shaped.shape != (3, 4):
        raise Mistake(f"with size=(3, 4) it returned shape {shaped.shape}: pass size on to the rng")
    if shaped.min() < 1e-3 or shaped.max() > 1e2:
        raise Mistake(f"with low = 1e-3, high = 1e2 it returned values from {shaped.min():.3g} to {shaped.max():.3g}: "
                      "use the low and high given, not fixed numbers")
    one = call(log_uniform, 1e-4, 1e-2, rng=np.random.default_rng(3))
    if np.ndim(one) != 0:
        raise Mistake(f"with size=None it returned shape {np.shape(one)}; return one number then (rng.uniform(a, b) "
                      "with size=None gives one)")
    if not 1e-4 <= float(one) <= 1e-2:
        raise Mistake(f"with low = 1e-4, high = 1e-2 and size=None it returned {float(one):.3g}")
    return "every decade equally likely (25% each of 1e-5...1e-1), values within [low, high], the rng used, any size"


# --- ensembles --------------------------------------------------------------------------------------------------

class _Model:
    """A fixed model with scores(X) = X @ W (N, C)."""

    def __init__(self, W):
        self.W = W

    def scores(self, X):
        return X @ self.W


def _softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_rng = np.random.default_rng(11)
_X = np.abs(_rng.normal(size=(8, 4))) + 0.1  # positive inputs: a scale of W scales every score
_WEIGHTS = [_rng.normal(0, 0.8, (4, 3)) for _ in range(3)]
_WEIGHTS[1] = _WEIGHTS[1] * 1000  # the middle model's scores reach +-2000: an unshifted softmax overflows


def _vote(scores):
    """Majority vote of the models' predicted classes (ties to the lowest class)."""
    votes = np.stack([s.argmax(axis=1) for s in scores])
    return np.array([np.bincount(column, minlength=3).argmax() for column in votes.T])


def _ensemble_mistakes(scores):
    m = len(scores)
    probs = [_softmax(s) for s in scores]
    return [
        ("averaged the scores, then took one softmax: average the probabilities instead, the softmax of each "
         "model's scores", _softmax(sum(scores) / m)),
        ("summed the probabilities: divide by the number of models, so each row sums to 1", sum(probs)),
        ("used only the last model: add every model's probabilities (a loop that assigns instead of adding?)",
         probs[-1]),
        ("used only the first model: average over all of them", probs[0]),
        ("averaged the raw scores without a softmax: the probabilities are softmax(scores) per model",
         sum(scores) / m),
    ]


def _no_shift(message):
    return ("softmax without the max shift: exp() of a large score overflows to inf (and inf / inf is NaN). "
            "Subtract each row's maximum before exponentiating")


@checker
def check_ensemble_predict(ensemble_predict):
    """ensemble_predict(models, X) -> (y_pred (N,), probs (N, C)): probs the mean over the models of
    softmax(model.scores(X)), y_pred its argmax per row."""
    models = [_Model(W) for W in _WEIGHTS]
    scores = [m.scores(_X) for m in models]
    expected_pred, expected = ref.ensemble_predict(models, _X)
    with naming_warnings(_no_shift):
        result = unpack(call(ensemble_predict, models, _X), 2, "ensemble_predict")
    y_pred, probs = result
    if np.ndim(y_pred) == 2 and np.ndim(probs) == 1:
        raise Mistake("returned (probs, y_pred): return them in the order (y_pred, probs)")
    expect_close(probs, expected, "probs", _ensemble_mistakes(scores), rtol=1e-9, atol=1e-12)
    y_pred = as_array(y_pred, "y_pred")
    if y_pred.shape != expected_pred.shape:
        raise Mistake(f"y_pred has shape {y_pred.shape}; expected ({len(_X)},), one class per example: the argmax "
                      "of probs along axis 1")
    if not np.array_equal(y_pred, expected_pred):
        if np.array_equal(y_pred, _vote(scores)):
            raise Mistake("y_pred is a majority vote of the models' classes: take the argmax of the averaged "
                          "probabilities, which weighs how sure each model is")
        raise Mistake("y_pred is not the argmax of probs along axis 1 (one class per example)")
    return f"the mean of {len(models)} models' softmax probabilities and its argmax, stable for large scores"


__all__ = sorted(name for name in dir() if name.startswith("check_"))
