"""Checks for the gradient-checking lab: the sparse gradient check, which compares an analytic gradient with
centred differences at a few random coordinates.

The check runs the student's function on a cubic, whose one-sided and centred differences differ measurably at
h = 0.05, with an analytic gradient that is slightly wrong on purpose (so the relative errors are distinct
numbers to compare), and names the usual mistakes: one-sided differences, dividing by h instead of 2h, a step
other than h, x left perturbed, a copy perturbed instead of x, the full numerical gradient computed, the notes'
relative error, coordinates not drawn with the rng passed in.
"""
from __future__ import annotations

import numpy as np

from course.checks._harness import Mistake, as_array, checker, expect_close, unpack
from course.gradcheck import rel_error

_rng = np.random.default_rng(2024)
_SHAPE = (4, 5)
_X = _rng.uniform(0.5, 2.0, size=_SHAPE) * _rng.choice([-1.0, 1.0], size=_SHAPE)
_COEF = _rng.uniform(0.5, 3.0, size=_SHAPE)
_TRUE = 3 * _COEF * _X ** 2  # the gradient of f(x) = sum(coef * x^3)
_ANALYTIC = _TRUE * (1 + _rng.uniform(-0.02, 0.02, size=_SHAPE))  # slightly wrong: distinct relative errors
_H = 0.05  # large enough that the centred error h^2 / (3 x^2) shows: a step other than h is seen
_K = 12


def _cubic(v):
    return float(np.sum(_COEF * np.asarray(v, dtype=np.float64) ** 3))


class _Counted:
    """f, counting its calls."""

    def __init__(self, f):
        self.f, self.calls = f, 0

    def __call__(self, v):
        self.calls += 1
        return self.f(v)


def _run(grad_check_sparse, f, x, seed, num_checks=_K, h=_H):
    """Call the student's function on fresh copies (x is perturbed in place by design, so it is not copied by
    the harness); return (indices, numeric, errors) as arrays, with x checked to be restored."""
    analytic = _ANALYTIC.copy()
    original = x.copy()
    result = grad_check_sparse(f, x, analytic, num_checks=num_checks, h=h, rng=np.random.default_rng(seed))
    if not np.array_equal(x, original):
        moved = np.argwhere(x != original)
        raise Mistake(f"x was left changed at index {tuple(int(i) for i in moved[0])}: put the old value back after "
                      "evaluating f(x + h) and f(x - h) (x[ix] = old), even though f read it in place")
    if not np.array_equal(analytic, _ANALYTIC):
        raise Mistake("grad_check_sparse modified analytic_grad in place: only read it")
    indices, numeric, errors = unpack(result, 3, "grad_check_sparse")
    return _indices(indices, num_checks), as_array(numeric, "numeric"), as_array(errors, "errors")


def _indices(indices, num_checks):
    indices = as_array(indices, "indices")
    if indices.shape == (num_checks,):
        raise Mistake(f"indices has shape {indices.shape}: return one row per check holding the full index of x, "
                      f"shape (num_checks, x.ndim) = ({num_checks}, {len(_SHAPE)}) (np.unravel_index turns flat "
                      "indices into these)")
    if indices.shape != (num_checks, len(_SHAPE)) or indices.dtype.kind not in "iu":
        raise Mistake(f"indices must be an integer array of shape (num_checks, x.ndim) = ({num_checks}, "
                      f"{len(_SHAPE)}); got {indices.dtype} of shape {indices.shape}")
    if (indices < 0).any() or (indices >= np.array(_SHAPE)).any():
        raise Mistake(f"indices hold coordinates outside x's shape {_SHAPE}: draw each from 0 to its size - 1")
    return indices


def _differences(index, h, one_sided=False):
    """The centred (or one-sided) differences of the cubic at each row of ``index``, step h."""
    out = []
    for ix in map(tuple, index):
        x = _X.copy()
        x[ix] = _X[ix] + h
        plus = _cubic(x)
        x[ix] = _X[ix] - h
        minus = _cubic(x)
        out.append((plus - _cubic(_X)) / h if one_sided else (plus - minus) / (2 * h))
    return np.array(out)


@checker
def check_grad_check_sparse(grad_check_sparse):
    """grad_check_sparse(f, x, analytic_grad, num_checks, h, rng) -> (indices, numeric, errors)."""
    f = _Counted(_cubic)
    indices, numeric, errors = _run(grad_check_sparse, f, _X.copy(), seed=0)
    expected = _differences(indices, _H)
    expect_close(numeric, expected, "numeric", [
        ("one-sided differences (f(x + h) - f(x)) / h, as in the lecture notes' code: their error is O(h), the "
         "centred (f(x + h) - f(x - h)) / 2h has error O(h^2). Evaluate f at x + h and at x - h",
         _differences(indices, _H, one_sided=True)),
        ("divided by h instead of 2h: x + h and x - h are 2h apart", 2 * expected),
        ("ignored the h argument (used 1e-5?): perturb by the h passed in", _differences(indices, 1e-5)),
    ], rtol=1e-5)
    analytic = _ANALYTIC[tuple(indices.T)]
    expected_errors = np.abs(analytic - numeric) / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))
    expect_close(errors, expected_errors, "errors", [
        ("relative error divided by max(|a|, |n|), the lecture notes' form: this course divides by |a| + |n| "
         "(as rel_error does), with a floor of 1e-8 for two zeros",
         np.abs(analytic - numeric) / np.maximum(np.abs(analytic), np.abs(numeric))),
        ("absolute error |a - n|: divide by max(1e-8, |a| + |n|) to make it relative", np.abs(analytic - numeric)),
    ], rtol=1e-5, atol=1e-12)
    if f.calls > 2 * _K + 1:
        raise Mistake(f"f was evaluated {f.calls} times for {_K} checks: check only the num_checks coordinates "
                      "drawn (two evaluations each), not the full numerical gradient")
    again, _, _ = _run(grad_check_sparse, _cubic, _X.copy(), seed=0)
    other, _, _ = _run(grad_check_sparse, _cubic, _X.copy(), seed=1)
    if not np.array_equal(indices, again):
        raise Mistake("two calls with the same seeded rng checked different coordinates: draw them with the rng "
                      "passed in (rng.integers), not np.random or the random module")
    if np.array_equal(indices, other) or len({tuple(row) for row in indices}) == 1:
        raise Mistake("the same coordinates every time: draw a new random index of x for every check, with rng")
    x = _X.copy()
    _, in_place, _ = _run(grad_check_sparse, lambda _: _cubic(x), x, seed=0)
    if rel_error(in_place, numeric) > 1e-6:
        raise Mistake("perturbed a copy of x: an f that reads the parameters itself, as lambda _: model.loss(X, "
                      "y)[0] does, never saw the change. Change x in place (x[ix] = old + h) and restore it")
    return (f"{_K} random coordinates checked with centred differences (2 evaluations each), x restored, "
            "relative errors right")


__all__ = ["check_grad_check_sparse"]
