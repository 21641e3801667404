import numpy as np
import pytest

from course import activations
from course.diagnostics import (SATURATION_THRESHOLD, check_initial_loss, dead_unit_fraction, expected_initial_loss,
                                layer_statistics, saturated_fraction, update_to_weight_ratio, zero_gradient_fraction)


def test_dead_unit_fraction_counts_units_inactive_on_every_example():
    h = np.array([[0.0, 1.0, 0.0, 0.0],
                  [0.0, 0.0, 2.0, 0.0],
                  [0.0, 0.0, 0.0, 0.0]])
    assert dead_unit_fraction(h) == 0.5  # columns 0 and 3 never fire
    assert dead_unit_fraction(np.maximum(np.random.default_rng(0).normal(size=(50, 8)), 0)) == 0.0


@pytest.mark.parametrize("bad", [np.zeros(5), np.zeros((0, 3)), np.zeros((2, 2, 2))])
def test_dead_unit_fraction_rejects_wrong_shapes(bad):
    with pytest.raises(ValueError, match=r"\(N, H\)|at least one"):
        dead_unit_fraction(bad)


def test_saturated_fraction_of_sigmoid_matches_its_threshold_crossing():
    x = np.linspace(-10, 10, 20001)
    grad = activations.sigmoid_backward(np.ones_like(x), activations.sigmoid_forward(x)[1])
    # sigmoid'(x) < 0.01 exactly where |x| > 4.59 (solve s(1 - s) = 0.01)
    crossing = np.log((1 + np.sqrt(1 - 0.04)) / (1 - np.sqrt(1 - 0.04)))
    assert saturated_fraction(grad) == pytest.approx(np.mean(np.abs(x) > crossing), abs=1e-4)
    assert SATURATION_THRESHOLD == 0.01
    assert saturated_fraction(grad, threshold=0.3) == 1.0  # sigmoid' never exceeds 0.25


def test_saturated_and_zero_fractions_differ_on_small_but_nonzero_gradients():
    g = np.array([0.0, 1e-4, -1e-3, 0.5, 1.0])
    assert saturated_fraction(g) == pytest.approx(3 / 5)  # |g| counts: -1e-3 is saturated too
    assert zero_gradient_fraction(g) == pytest.approx(1 / 5)
    with pytest.raises(ValueError, match="threshold"):
        saturated_fraction(g, threshold=0)
    with pytest.raises(ValueError, match="at least one"):
        zero_gradient_fraction(np.array([]))


def test_layer_statistics_per_layer():
    layers = [np.array([[0.0, 2.0], [0.0, 2.0]]), np.array([1.0, -1.0, 0.005, 0.0])]
    stats = layer_statistics(layers)
    np.testing.assert_allclose(stats["mean"], [1.0, 0.00125])
    np.testing.assert_allclose(stats["std"], [1.0, np.std(layers[1])])
    np.testing.assert_allclose(stats["zero"], [0.5, 0.25])
    np.testing.assert_allclose(stats["saturated"], [0.5, 0.5])
    with pytest.raises(ValueError, match="at least one layer"):
        layer_statistics([])


def test_update_to_weight_ratio():
    w = np.full((10, 10), 0.1)  # norm 1
    assert update_to_weight_ratio(w, -1e-3 * w) == pytest.approx(1e-3)
    assert update_to_weight_ratio(np.zeros(3), np.zeros(3)) == 0.0
    assert update_to_weight_ratio(np.zeros(3), np.ones(3)) == float("inf")
    with pytest.raises(ValueError, match="shaped like w"):
        update_to_weight_ratio(w, np.zeros(3))


def test_update_to_weight_ratio_does_not_overflow_in_float32():
    w = np.full(4, 1e30, dtype=np.float32)
    assert update_to_weight_ratio(w, w * np.float32(1e-3)) == pytest.approx(1e-3, rel=1e-5)


@pytest.mark.filterwarnings("error")
def test_statistics_and_ratio_of_huge_values():
    base = np.array([1.0, -3.0, 2.0, 0.5])
    stats = layer_statistics([base * 1e200, base * -1e300, base.astype(np.float32) * np.float32(1e30)])
    np.testing.assert_allclose(stats["std"], np.std(base) * np.array([1e200, 1e300, 1e30]), rtol=1e-6)
    np.testing.assert_allclose(stats["mean"], np.mean(base) * np.array([1e200, -1e300, 1e30]), rtol=1e-6)
    w = np.full((10, 10), 1e300)
    assert update_to_weight_ratio(w, -1e-3 * w) == pytest.approx(1e-3)
    assert update_to_weight_ratio(np.full(4, 1e-300), np.full(4, 1e-303)) == pytest.approx(1e-3)


def test_expected_initial_loss_is_log_c():
    assert expected_initial_loss(10) == pytest.approx(2.302585, abs=1e-6)
    with pytest.raises(ValueError, match="num_classes"):
        expected_initial_loss(1)


def test_check_initial_loss_verdicts():
    assert check_initial_loss(2.31, 10).startswith("ok")
    assert check_initial_loss(np.float64(2.31), 10).startswith("ok")
    assert check_initial_loss(5.0, 10).startswith("too high")
    assert check_initial_loss(0.5, 10).startswith("too low")
    assert check_initial_loss(float("nan"), 10).startswith("not finite")
    assert check_initial_loss(2.8, 10, tol=0.25).startswith("ok")
    with pytest.raises(TypeError, match="loss must be a real number"):
        check_initial_loss("2.3", 10)


def test_softmax_of_equal_scores_gives_the_expected_initial_loss():
    from course.losses import softmax_loss
    loss, _ = softmax_loss(np.zeros((7, 5)), np.arange(7) % 5)
    assert check_initial_loss(loss, 5).startswith("ok")
    assert loss == pytest.approx(expected_initial_loss(5))
