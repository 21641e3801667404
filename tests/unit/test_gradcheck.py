import numpy as np
import pytest

from course.gradcheck import eval_numerical_gradient, eval_numerical_gradient_array, rel_error


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
