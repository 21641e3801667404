"""Checks for the babysitting lab's diagnostics (course.diagnostics): the update-to-weight ratio.

The ratio is checked on a weight matrix, a bias vector and a 4-D conv weight, each with an update of another size,
against ||update|| / ||w|| (Frobenius norms, the weights before the update); a mismatch is compared with the
likely mistakes: the ratio inverted or squared, the weights after the update, element-wise ratios, means or
maxima of magnitudes, the spectral norm.
"""
from __future__ import annotations

import numpy as np

from course import diagnostics as ref
from course.checks._harness import Mistake, call, checker, expect_close

_rng = np.random.default_rng(7)
_CASES = [  # (what, w, update): a matrix, a vector, a conv weight; updates of very different relative size
    ("a (5, 4) weight matrix", _rng.normal(0, 0.3, (5, 4)), _rng.normal(0, 1e-3, (5, 4))),
    ("a (6,) bias vector", _rng.normal(0, 0.1, 6), _rng.normal(0, 0.05, 6)),
    ("a (3, 2, 3, 3) conv weight", _rng.normal(0, 0.2, (3, 2, 3, 3)), _rng.normal(0, 2e-5, (3, 2, 3, 3))),
]


def _norm(a) -> float:
    return float(np.sqrt(np.sum(np.asarray(a, dtype=np.float64) ** 2)))


def _mistakes(w, update):
    """(description, the value that mistake returns) for one case."""
    mistakes = [
        ("inverted: ||w|| / ||update||; the ratio is the size of the update relative to the weights",
         _norm(w) / _norm(update)),
        ("squared norms: use ||update|| / ||w||, with the square roots (np.linalg.norm)",
         _norm(update) ** 2 / _norm(w) ** 2),
        ("divided by the weights after the update (w + update): use the weights before it, ||update|| / ||w||",
         _norm(update) / _norm(w + update)),
        ("the mean of element-wise ratios |update| / |w|: a weight near 0 makes one ratio huge; divide the two "
         "norms instead", float(np.mean(np.abs(update) / np.abs(w)))),
        ("a ratio of mean magnitudes, mean|update| / mean|w|: use the norms, ||update|| / ||w||",
         float(np.mean(np.abs(update)) / np.mean(np.abs(w)))),
        ("a ratio of the largest magnitudes, max|update| / max|w|: use the norms of the whole arrays",
         float(np.max(np.abs(update)) / np.max(np.abs(w)))),
    ]
    if w.ndim == 2:
        mistakes.append(("the spectral norm (np.linalg.norm(w, 2)): use the Frobenius norm, np.linalg.norm(w) with "
                         "no ord", float(np.linalg.norm(update, 2) / np.linalg.norm(w, 2))))
    return mistakes


@checker
def check_update_to_weight_ratio(update_to_weight_ratio):
    """update_to_weight_ratio(w, update) -> ||update|| / ||w|| as one number, for arrays of any shape."""
    for what, w, update in _CASES:
        result = call(update_to_weight_ratio, w, update)
        if result is None:
            raise Mistake("update_to_weight_ratio returned None: did you forget a return statement?")
        if np.ndim(result) != 0:
            raise Mistake(f"for {what} it returned shape {np.shape(result)}; return one number, the ratio of the "
                          "two norms (np.linalg.norm of each whole array)")
        expected = ref.update_to_weight_ratio(w, update)
        expect_close(np.float64(result), np.float64(expected), f"the ratio for {what}",
                     [(d, np.float64(v)) for d, v in _mistakes(w, update)], rtol=1e-6, atol=0)
    return "||update|| / ||w|| for a matrix, a vector and a conv weight"


__all__ = sorted(name for name in dir() if name.startswith("check_"))
