import numpy as np
import pytest

from course.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, grad_check_sparse, rel_error


def test_numerical_gradient_of_a_quadratic_is_exact_and_x_restored():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 4))
    before = x.copy()
    grad = eval_numerical_gradient(lambda v: np.sum(v ** 2), x)
    assert rel_error(grad, 2 * before) < 1e-9
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_array_matches_a_linear_map():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 3))
    x = rng.normal(size=(2, 4))
    df = rng.normal(size=(2, 3))
    grad = eval_numerical_gradient_array(lambda v: v @ a, x, df)
    assert rel_error(grad, df @ a.T) < 1e-9


def test_centred_differences_are_second_order():
    # for f = x^3 at x = 1 the one-sided error is ~3h, the centred one ~h^2
    x = np.array([1.0])
    g = eval_numerical_gradient(lambda v: float(v[0] ** 3), x, h=1e-3)
    assert abs(g[0] - 3.0) < 2e-6


def test_rel_error_definition():
    assert rel_error(np.array([1.0]), np.array([1.0])) == 0.0
    assert rel_error(np.array([1.0, 0.0]), np.array([3.0, 0.0])) == pytest.approx(0.5)
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0


def test_bad_input_messages():
    with pytest.raises(TypeError, match="float numpy array"):
        eval_numerical_gradient(lambda v: 0.0, [1.0, 2.0])
    with pytest.raises(TypeError, match="float numpy array"):
        eval_numerical_gradient(lambda v: 0.0, np.arange(3))
    with pytest.raises(ValueError, match="one shape"):
        rel_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match="df has shape"):
        eval_numerical_gradient_array(lambda v: v, np.zeros(3), np.zeros(4))


BOTH = [
    ("eval_numerical_gradient", lambda x, h: eval_numerical_gradient(lambda v: float(np.sum(v ** 2)), x, h)),
    ("eval_numerical_gradient_array",
     lambda x, h: eval_numerical_gradient_array(lambda v: v ** 2, x, np.ones_like(x), h)),
]


@pytest.mark.parametrize("name, grad", BOTH)
@pytest.mark.parametrize("h", [0, 0.0, -1e-5, float("nan"), float("inf")])
def test_a_step_that_is_not_positive_and_finite_is_refused(name, grad, h):
    with pytest.raises(ValueError, match=r"h \(the step\) must be (> 0|finite)"):
        grad(np.array([1.0, 2.0]), h)


@pytest.mark.parametrize("name, grad", BOTH)
def test_float32_is_refused_with_the_reason(name, grad):
    # In float32, x = 100 + 1e-5 rounds: the old result for sum(x**2) at 100 was 152.6 instead of 200.
    with pytest.raises(TypeError, match=r"x must be float64 for a numerical gradient; got float32.*x.astype"):
        grad(np.array([100.0], dtype=np.float32), 1e-5)


@pytest.mark.parametrize("name, grad", BOTH)
def test_the_gradient_at_100_is_right_in_float64(name, grad):
    np.testing.assert_allclose(grad(np.array([100.0, -3.0]), 1e-5), [200.0, -6.0], rtol=1e-8)


def test_the_stored_step_is_used_where_x_plus_h_rounds():
    # At 3e5, x + 1e-5 and x - 1e-5 are stored about 2.0000e-5 +- 6e-11 apart: dividing by 2h would be off.
    x = np.array([3e5 + 0.1, -7e5])
    assert np.all(eval_numerical_gradient(lambda v: float(v[0] + v[1]), x) == 1.0)


def test_a_step_lost_in_rounding_is_explained():
    with pytest.raises(ValueError, match=r"h = 1e-05 gives no usable step at x\[1\] = 1000000000000\.0.*spacing"):
        eval_numerical_gradient(lambda v: float(v.sum()), np.array([1.0, 1e12]))
    with pytest.raises(ValueError, match="no usable step"):
        eval_numerical_gradient_array(lambda v: v, np.array([1e300]), np.ones(1))


def test_x_is_restored_even_when_f_raises():
    x = np.array([1.0, 2.0])

    def broken(v):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        eval_numerical_gradient(broken, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_f_reading_x_through_another_reference_still_works():
    params = {"W": np.array([1.0, -2.0])}
    grad = eval_numerical_gradient(lambda _: float(np.sum(params["W"] ** 3)), params["W"])
    np.testing.assert_allclose(grad, [3.0, 12.0], rtol=1e-8)


def test_non_finite_x_and_non_scalar_f_are_explained():
    with pytest.raises(ValueError, match=r"x holds NaN at index \[1\]"):
        eval_numerical_gradient(lambda v: 0.0, np.array([0.0, np.nan]))
    with pytest.raises(TypeError, match=r"f must return a scalar; got an array of shape \(2,\)"):
        eval_numerical_gradient(lambda v: v, np.zeros(2))


@pytest.mark.filterwarnings("error")
def test_rel_error_near_the_float_limit():
    assert rel_error(np.array([1e308]), np.array([-1e308])) == 1.0
    assert rel_error(np.array([1.7e308, 1.0]), np.array([1.7e308, 1.0])) == 0.0
    assert rel_error(np.array([1e-300]), np.array([3e-300])) == pytest.approx(2e-292)  # below the 1e-8 floor
    assert rel_error(np.array([1e-12]), np.array([0.0])) == pytest.approx(1e-4)  # the 1e-8 floor


# --- grad_check_sparse ------------------------------------------------------------------------------------------


def test_sparse_check_finds_a_wrong_gradient_and_passes_a_right_one():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(5, 6))
    right = grad_check_sparse(lambda v: float(np.sum(v ** 3)), x, 3 * x ** 2, 8, rng=np.random.default_rng(0))
    wrong = grad_check_sparse(lambda v: float(np.sum(v ** 3)), x, 2 * x ** 2, 8, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(right[0], wrong[0])  # the same seed checks the same coordinates
    assert right[2].max() < 1e-7 and wrong[2].min() > 0.1
    assert wrong[2] == pytest.approx(np.full(8, 0.2))  # |3 - 2| / (3 + 2)


def test_sparse_check_evaluates_f_twice_per_check_and_restores_x_when_f_raises():
    calls = []
    x = np.arange(6.0).reshape(2, 3)

    def f(v):
        calls.append(1)
        return float(np.sum(v))
    grad_check_sparse(f, x, np.ones_like(x), num_checks=5)
    assert len(calls) == 10

    def broken(v):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        grad_check_sparse(broken, x, np.ones_like(x))
    np.testing.assert_array_equal(x, np.arange(6.0).reshape(2, 3))


def test_sparse_check_bad_input_messages():
    with pytest.raises(TypeError, match="x must be float64 for a numerical gradient"):
        grad_check_sparse(lambda v: 0.0, np.ones(3, dtype=np.float32), np.ones(3))
    with pytest.raises(ValueError, match=r"analytic_grad must be shaped like x \(3,\); got \(4,\)"):
        grad_check_sparse(lambda v: 0.0, np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="num_checks must be an integer >= 1"):
        grad_check_sparse(lambda v: 0.0, np.ones(3), np.ones(3), num_checks=0)
    with pytest.raises(ValueError, match="at least one entry"):
        grad_check_sparse(lambda v: 0.0, np.ones((0, 2)), np.ones((0, 2)))
