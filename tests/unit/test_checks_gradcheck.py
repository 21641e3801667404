"""course.checks.gradcheck: the sparse gradient check passes right versions and names each usual mistake."""
import numpy as np
import pytest

from course import gradcheck
from course.checks import gradcheck as CG
from course.gradcheck import eval_numerical_gradient


def sparse(difference="centred", step=None, restore=True, copy=False, full=False, denominator="sum",
           draw="rng", flat=False):
    """A student's grad_check_sparse, right by default, with one mistake switched on by the arguments."""
    def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
        h = h if step is None else step
        rng = np.random.default_rng() if rng is None else rng
        full_grad = eval_numerical_gradient(f, x, h) if full else None
        target = x.copy() if copy else x
        indices, numeric = [], []
        for _ in range(num_checks):
            if draw == "rng":
                ix = tuple(int(rng.integers(n)) for n in x.shape)
            elif draw == "numpy":
                ix = tuple(int(np.random.randint(n)) for n in x.shape)
            else:
                ix = (0,) * x.ndim
            old = target[ix]
            if full:
                numeric.append(full_grad[ix])
            else:
                target[ix] = old + h
                plus = f(target)
                target[ix] = old - h
                minus = f(target)
                if difference == "one-sided":
                    target[ix] = old
                    minus = f(target)
                if restore:
                    target[ix] = old
                numeric.append((plus - minus) / (h if difference in ("one-sided", "over h") else 2 * h))
            indices.append(ix)
        numeric = np.array(numeric)
        analytic = np.array([analytic_grad[ix] for ix in indices])
        diff = np.abs(analytic - numeric)
        if denominator == "sum":
            errors = diff / np.maximum(1e-8, np.abs(analytic) + np.abs(numeric))
        elif denominator == "max":
            errors = diff / np.maximum(np.abs(analytic), np.abs(numeric))
        else:
            errors = diff
        indices = np.array(indices)
        if flat:
            indices = np.ravel_multi_index(tuple(indices.T), x.shape)
        return indices, numeric, errors
    return grad_check_sparse


def test_the_reference_and_a_students_loop_pass(capsys):
    assert CG.check_grad_check_sparse.evaluate(gradcheck.grad_check_sparse).passed
    result = CG.check_grad_check_sparse.evaluate(sparse())
    assert result.passed, result.message
    CG.check_grad_check_sparse(sparse())
    assert capsys.readouterr().out.startswith("✓ grad_check_sparse: 12 random coordinates checked")


def test_a_stub_is_not_implemented_yet():
    def grad_check_sparse(f, x, analytic_grad, num_checks=10, h=1e-5, rng=None):
        raise NotImplementedError
    assert CG.check_grad_check_sparse.evaluate(grad_check_sparse).status == "not implemented"


MISTAKES = [
    (dict(difference="one-sided"), "one-sided differences (f(x + h) - f(x)) / h"),
    (dict(difference="over h"), "divided by h instead of 2h"),
    (dict(step=1e-5), "ignored the h argument"),
    (dict(restore=False), "x was left changed at index"),
    (dict(copy=True), "perturbed a copy of x"),
    (dict(full=True), "not the full numerical gradient"),
    (dict(denominator="max"), "divided by max(|a|, |n|), the lecture notes' form"),
    (dict(denominator="none"), "absolute error |a - n|"),
    (dict(draw="numpy"), "draw them with the rng passed in"),
    (dict(draw="first"), "the same coordinates every time"),
    (dict(flat=True), "np.unravel_index"),
]


@pytest.mark.parametrize("mistake, phrase", MISTAKES, ids=[m[1][:30] for m in MISTAKES])
def test_each_mistake_is_named(mistake, phrase):
    result = CG.check_grad_check_sparse.evaluate(sparse(**mistake))
    assert result.status == "failed", result.message
    assert phrase in result.detail, result.message


def test_the_reference_checks_the_coordinates_it_reports():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4, 2))
    before = x.copy()
    indices, numeric, errors = gradcheck.grad_check_sparse(lambda v: float(np.sum(np.sin(v))), x, np.cos(x), 7,
                                                           rng=np.random.default_rng(0))
    assert indices.shape == (7, 3) and numeric.shape == errors.shape == (7,)
    np.testing.assert_allclose(numeric, np.cos(before[tuple(indices.T)]), rtol=1e-9)
    assert errors.max() < 1e-9 and np.array_equal(x, before)
