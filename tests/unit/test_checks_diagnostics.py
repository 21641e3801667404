"""course.checks.diagnostics: the update-to-weight ratio. Each likely mistake is named, correct forms pass, and a
stub says "not implemented yet"."""
import numpy as np
import pytest

from course import diagnostics as ref
from course.checks import check_update_to_weight_ratio


def by_linalg(w, update):
    return np.linalg.norm(update) / np.linalg.norm(w)


def by_ravel(w, update):
    return float(np.sqrt(np.sum(update.ravel() ** 2)) / np.sqrt(np.sum(w.ravel() ** 2)))


def inverted(w, update):
    return np.linalg.norm(w) / np.linalg.norm(update)


def squared(w, update):
    return np.sum(update ** 2) / np.sum(w ** 2)


def after_update(w, update):
    return np.linalg.norm(update) / np.linalg.norm(w + update)


def elementwise(w, update):
    return np.mean(np.abs(update) / np.abs(w))


def mean_magnitudes(w, update):
    return np.mean(np.abs(update)) / np.mean(np.abs(w))


def max_magnitudes(w, update):
    return np.max(np.abs(update)) / np.max(np.abs(w))


def spectral(w, update):
    if w.ndim == 2:
        return np.linalg.norm(update, 2) / np.linalg.norm(w, 2)
    return np.linalg.norm(update) / np.linalg.norm(w)


def per_column(w, update):
    return np.linalg.norm(update, axis=0) / np.linalg.norm(w, axis=0)


def no_return(w, update):
    np.linalg.norm(update) / np.linalg.norm(w)


def stub(w, update):
    raise NotImplementedError


@pytest.mark.parametrize("f", [ref.update_to_weight_ratio, by_linalg, by_ravel])
def test_correct_forms_pass(f):
    r = check_update_to_weight_ratio.evaluate(f)
    assert r.passed, r.message


@pytest.mark.parametrize("f, named", [
    (inverted, "inverted"),
    (squared, "squared norms"),
    (after_update, "weights after the update"),
    (elementwise, "element-wise ratios"),
    (mean_magnitudes, "mean magnitudes"),
    (max_magnitudes, "largest magnitudes"),
    (spectral, "spectral norm"),
    (per_column, "return one number"),
    (no_return, "forget a return statement"),
])
def test_mistakes_are_named(f, named):
    r = check_update_to_weight_ratio.evaluate(f)
    assert r.status == "failed" and named in r.detail, r.message


def test_a_stub_is_not_implemented_yet():
    assert check_update_to_weight_ratio.evaluate(stub).status == "not implemented"
