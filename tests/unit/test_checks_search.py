"""course.checks.search: the log-uniform sampler and the ensemble average. Each likely mistake is named, the
reference and other correct forms pass, and a stub says "not implemented yet"."""
import numpy as np
import pytest

from course import search as ref
from course.checks import check_ensemble_predict, check_log_uniform


def stub(*args, **kwargs):
    raise NotImplementedError


# --- log_uniform ------------------------------------------------------------------------------------------------

def log_uniform_base10(low, high, size=None, rng=None):
    return 10 ** rng.uniform(np.log10(low), np.log10(high), size=size)


def log_uniform_by_power(low, high, size=None, rng=None):
    return low * (high / low) ** rng.random(size)


def linear_uniform(low, high, size=None, rng=None):
    return rng.uniform(low, high, size=size)


def exp_of_log10(low, high, size=None, rng=None):
    return np.exp(rng.uniform(np.log10(low), np.log10(high), size=size))


def ten_to_natural_log(low, high, size=None, rng=None):
    return 10 ** rng.uniform(np.log(low), np.log(high), size=size)


def exponents_only(low, high, size=None, rng=None):
    return rng.uniform(np.log10(low), np.log10(high), size=size)


def whole_powers(low, high, size=None, rng=None):
    return 10.0 ** rng.integers(np.log10(low), np.log10(high), size=size, endpoint=True)


def uniform_within_decades(low, high, size=None, rng=None):
    decade = rng.integers(np.log10(low), np.log10(high), size=size)
    return 10.0 ** decade * rng.uniform(1, 10, size=size)


def global_random(low, high, size=None, rng=None):
    return 10 ** np.random.uniform(np.log10(low), np.log10(high), size=size)


def fixed_seed(low, high, size=None, rng=None):
    return 10 ** np.random.default_rng(0).uniform(np.log10(low), np.log10(high), size=size)


def fixed_range(low, high, size=None, rng=None):
    return 10 ** rng.uniform(-5, -1, size=size)


def always_an_array(low, high, size=None, rng=None):
    return 10 ** rng.uniform(np.log10(low), np.log10(high), size=size or 1)


def returns_a_list(low, high, size=None, rng=None):
    return list(10 ** rng.uniform(np.log10(low), np.log10(high), size=size))


@pytest.mark.parametrize("sampler", [ref.log_uniform, log_uniform_base10, log_uniform_by_power])
def test_correct_samplers_pass(sampler):
    r = check_log_uniform.evaluate(sampler)
    assert r.passed, r.message


@pytest.mark.parametrize("sampler, named", [
    (linear_uniform, "uniform on the linear scale"),
    (exp_of_log10, "mixed bases: exp() of an exponent drawn between log10(low)"),
    (ten_to_natural_log, "mixed bases: 10 ** of an exponent drawn between log(low) and log(high)"),
    (exponents_only, "returned the exponents, not the values"),
    (whole_powers, "whole powers of ten"),
    (uniform_within_decades, "within a decade the values are spread on a linear scale"),
    (global_random, "not from the global np.random"),
    (fixed_seed, "not from a Generator of your own with a fixed seed"),
    (fixed_range, "use the low and high given"),
    (always_an_array, "with size=None it returned shape (1,)"),
    (returns_a_list, "expected a NumPy array"),
])
def test_mistakes_are_named(sampler, named):
    r = check_log_uniform.evaluate(sampler)
    assert r.status == "failed" and named in r.detail, r.message


def test_a_stub_is_not_implemented_yet():
    assert check_log_uniform.evaluate(stub).status == "not implemented"
    assert check_ensemble_predict.evaluate(stub).status == "not implemented"


# --- ensemble_predict -------------------------------------------------------------------------------------------

def _softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def ensemble_stacked(models, X):
    probs = np.mean([_softmax(m.scores(X)) for m in models], axis=0)
    return probs.argmax(axis=1), probs


def averaged_scores(models, X):
    probs = _softmax(np.mean([m.scores(X) for m in models], axis=0))
    return probs.argmax(axis=1), probs


def summed(models, X):
    probs = sum(_softmax(m.scores(X)) for m in models)
    return probs.argmax(axis=1), probs


def last_only(models, X):
    for m in models:
        probs = _softmax(m.scores(X))
    return probs.argmax(axis=1), probs


def first_only(models, X):
    probs = _softmax(models[0].scores(X))
    return probs.argmax(axis=1), probs


def raw_scores(models, X):
    probs = np.mean([m.scores(X) for m in models], axis=0)
    return probs.argmax(axis=1), probs


def unshifted(models, X):
    probs = np.mean([np.exp(s) / np.exp(s).sum(axis=1, keepdims=True) for s in (m.scores(X) for m in models)],
                    axis=0)
    return probs.argmax(axis=1), probs


def majority_vote(models, X):
    probs = np.mean([_softmax(m.scores(X)) for m in models], axis=0)
    votes = np.stack([m.scores(X).argmax(axis=1) for m in models])
    return np.array([np.bincount(v, minlength=probs.shape[1]).argmax() for v in votes.T]), probs


def swapped(models, X):
    y, probs = ensemble_stacked(models, X)
    return probs, y


def argmax_wrong_axis(models, X):
    probs = np.mean([_softmax(m.scores(X)) for m in models], axis=0)
    return probs.argmax(axis=0), probs


def only_predictions(models, X):
    return ensemble_stacked(models, X)[0]


@pytest.mark.parametrize("f", [ref.ensemble_predict, ensemble_stacked])
def test_correct_ensembles_pass(f):
    r = check_ensemble_predict.evaluate(f)
    assert r.passed, r.message


@pytest.mark.parametrize("f, named", [
    (averaged_scores, "averaged the scores, then took one softmax"),
    (summed, "summed the probabilities"),
    (last_only, "used only the last model"),
    (first_only, "used only the first model"),
    (raw_scores, "averaged the raw scores without a softmax"),
    (unshifted, "softmax without the max shift"),
    (majority_vote, "majority vote"),
    (swapped, "return them in the order (y_pred, probs)"),
    (argmax_wrong_axis, "y_pred has shape (3,)"),
    (only_predictions, "must return a tuple of 2 items"),
])
def test_ensemble_mistakes_are_named(f, named):
    r = check_ensemble_predict.evaluate(f)
    assert r.status == "failed" and named in r.detail, r.message
