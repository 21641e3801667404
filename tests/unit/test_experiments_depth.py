import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course import activations
from course.experiments import (depth_study, distinct_units, layer_histograms, neuron_sgd_path, propagate,
                                signal_through_depth, standard_normal_weights)
from course.gradcheck import eval_numerical_gradient
from gradient_assertions import assert_gradient


def test_shapes_and_statistics_of_a_signal_through_depth():
    s = signal_through_depth("tanh", "xavier", depth=4, width=30, n=50)
    assert len(s.activations) == len(s.gradients) == 4
    assert all(a.shape == (50, 30) for a in s.activations + s.gradients)
    np.testing.assert_allclose(s.activation_std, [a.std() for a in s.activations])
    np.testing.assert_allclose(s.gradient_std, [g.std() for g in s.gradients])


def test_the_classic_results_through_ten_layers():
    top = lambda s: s.gradient_std[0] / s.gradient_std[-1]
    assert top(signal_through_depth("sigmoid", "xavier")) < 1e-4  # at most 1/4 per layer
    assert 0.3 < top(signal_through_depth("relu", "he")) < 3  # He keeps ReLU's gradients
    small = signal_through_depth("tanh", "small_random", weight_scale=0.01)
    assert small.activation_std[-1] < 1e-10  # 0.01 randn: activations collapse
    big = signal_through_depth("tanh", "small_random", weight_scale=1.0)
    assert np.mean(np.abs(big.activations[-1]) > 0.99) > 0.5  # 1.0 randn: saturated at +-1
    relu_xavier = signal_through_depth("relu", "xavier", depth=10).activation_std
    assert relu_xavier[-1] < relu_xavier[0] / 4  # halves the variance per layer


def test_zero_weights_keep_every_unit_of_a_layer_identical():
    s = signal_through_depth("sigmoid", "zeros", depth=3, width=8, n=5)
    for h in s.activations:
        assert np.all(h == h[:, :1])


def test_a_student_pair_is_used_and_bad_settings_are_explained():
    calls = []

    def forward(x):
        calls.append(x.shape)
        return activations.relu_forward(x)

    signal_through_depth((forward, activations.relu_backward), "he", depth=2, width=4, n=3)
    assert calls == [(3, 4), (3, 4)]
    with pytest.raises(ValueError, match="activation must be"):
        signal_through_depth("swish")
    with pytest.raises(ValueError, match="init must be one of"):
        signal_through_depth("relu", "lecun")


def test_positive_inputs_make_every_step_move_all_weights_the_same_way():
    rng = np.random.default_rng(0)
    positive = activations.sigmoid(rng.normal(size=(30, 2)))
    steps = np.diff(neuron_sgd_path(positive, [1.0, -1.0], learning_rate=1.0, epochs=2), axis=0)
    moving = np.abs(steps).sum(axis=1) > 1e-12
    assert np.all(np.sign(steps[moving, 0]) == np.sign(steps[moving, 1]))
    centred = positive - positive.mean(axis=0)
    steps = np.diff(neuron_sgd_path(centred, [1.0, -1.0], learning_rate=10.0, epochs=2), axis=0)
    assert np.mean(np.sign(steps[:, 0]) == np.sign(steps[:, 1])) < 0.95


def test_the_neuron_reaches_its_target_and_checks_its_inputs():
    rng = np.random.default_rng(1)
    path = neuron_sgd_path(rng.normal(size=(20, 3)), [0.5, -1.0, 2.0], learning_rate=0.3, epochs=30)
    assert path.shape == (601, 3) and np.allclose(path[0], 0)
    np.testing.assert_allclose(path[-1], [0.5, -1.0, 2.0], atol=1e-6)
    with pytest.raises(ValueError, match="inputs must be"):
        neuron_sgd_path(np.ones((4, 2)), [1.0, 2.0, 3.0], learning_rate=0.1)


# --- the pieces behind lab 02's explorer and tables -----------------------------------------------------------


def test_propagate_on_the_same_draws_is_signal_through_depth():
    s = signal_through_depth("relu", "he", depth=3, width=6, n=4, seed=5)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 6))
    weights = [np.sqrt(2 / 6) * rng.standard_normal((6, 6)) for _ in range(3)]
    again = propagate("relu", weights, X, rng.standard_normal((4, 6)))
    for a, b in zip(s.activations + s.gradients, again.activations + again.gradients):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=40, deadline=None)
@given(activation=st.sampled_from(["tanh", "sigmoid", "leaky_relu", "elu"]), depth=st.integers(1, 4),
       width=st.integers(1, 6), n=st.integers(1, 5), seed=st.integers(0, 2 ** 16))
def test_the_backward_pass_matches_a_numerical_gradient(activation, depth, width, n, seed):
    """gradients[l] is dL/dh_{l+1} for L = sum(top * h_L): checked against centred differences at every layer, on
    random shapes. Leaky ReLU has a kink at 0 and ELU a jump in its second derivative there: a centred difference
    whose step carries a pre-activation across 0 measures a blend of two slopes, so for those two, draws with a
    pre-activation within 1e-3 of 0 are skipped. (Not ReLU: an example whose units are all 0 gives z = 0 exactly.)"""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, width))
    weights = [rng.standard_normal((width, width)) / np.sqrt(width) for _ in range(depth)]  # gradients of order 1
    top = rng.standard_normal((n, width))
    s = propagate(activation, weights, X, top)
    if activation in ("leaky_relu", "elu"):
        inputs = [X] + s.activations[:-1]
        assume(min(np.abs(h @ w).min() for h, w in zip(inputs, weights)) > 1e-3)
    forward = getattr(activations, f"{activation}_forward")

    def loss_from(h, first):
        for w in weights[first:]:
            h, _ = forward(h @ w)
        return np.sum(h * top)

    for layer in range(depth):
        numeric = eval_numerical_gradient(lambda v: loss_from(v, layer + 1), s.activations[layer].copy())
        assert_gradient(s.gradients[layer], numeric)


def test_local_gradients_and_saturation():
    s = propagate("tanh", [10 * np.eye(3)], np.array([[0.0, 1.0, -2.0]]), np.ones((1, 3)))
    np.testing.assert_allclose(s.local_gradients[0], 1 - np.tanh([[0.0, 10.0, -20.0]]) ** 2)
    assert s.saturated[0] == pytest.approx(2 / 3)  # tanh'(10) and tanh'(-20) are below 0.01


def test_depth_study_repeats_over_seeds():
    study = depth_study("relu", "xavier", seeds=range(3), depth=6, width=40, n=100)
    shapes = {a.shape for a in (study.activation_std, study.gradient_std, study.saturated, study.local_gradient_square)}
    assert shapes == {(3, 6)}
    first = signal_through_depth("relu", "xavier", depth=6, width=40, n=100, seed=0)
    np.testing.assert_array_equal(study.activation_std[0], first.activation_std)
    growth = study.growth_per_layer()
    assert growth.shape == (3,) and np.all((growth > 0.55) & (growth < 0.85))  # about 1/sqrt(2)
    np.testing.assert_allclose(study.local_gradient_square[0], [np.mean(g ** 2) for g in first.local_gradients])
    with pytest.raises(ValueError, match="at least one seed"):
        depth_study(seeds=[])


def test_the_gradient_grows_by_the_square_root_of_n_var_w_mean_square_slope_per_layer():
    study = depth_study("tanh", "small_random", seeds=range(3), weight_scale=1.0)  # width 100, Var(w) = 1
    measured = (study.gradient_std[:, 0] / study.gradient_std[:, -1]) ** (1 / 9)
    predicted = np.sqrt(100 * study.local_gradient_square[:, 1:].mean(axis=1))  # layers 2..10 lie on the way back
    np.testing.assert_allclose(measured, predicted, rtol=0.05)
    assert np.all(measured > 2)  # saturated tanh units, yet the gradient grows on its way down


def test_standard_normal_weights_serve_every_width():
    bank = standard_normal_weights(4, 300, seed=1)
    assert bank.shape == (4, 300, 300)
    block = bank[:, :50, :50]
    assert abs(block.std() - 1) < 0.03 and abs(block.mean()) < 0.02
    np.testing.assert_array_equal(bank, standard_normal_weights(4, 300, seed=1))


def test_layer_histograms_agree_with_numpy_and_count_the_tails_in_the_end_bins():
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(20, 30)), rng.uniform(-0.5, 0.5, size=(20, 30))]
    edges = np.linspace(-1, 1, 11)
    hist = layer_histograms(arrays, edges)
    for row, a in zip(hist, arrays):
        np.testing.assert_allclose(row, np.histogram(np.clip(a, -1, 1), edges)[0] / a.size)
    np.testing.assert_allclose(hist.sum(axis=1), 1)
    assert layer_histograms([np.array([5.0, -5.0, np.inf])], edges).tolist()[0][::9] == [1 / 3, 2 / 3]
    assert layer_histograms(arrays, edges, max_values=10).sum(axis=1).tolist() == [1.0, 1.0]
    with pytest.raises(ValueError, match="increasing"):
        layer_histograms(arrays, [1.0, 0.0])


def test_distinct_units():
    rng = np.random.default_rng(0)
    column = rng.normal(size=(50, 1))
    assert distinct_units(np.repeat(column, 8, axis=1)) == 1
    assert distinct_units(np.repeat(column, 8, axis=1) + 1e-13 * rng.normal(size=(50, 8))) == 1  # rounding noise
    assert distinct_units(rng.normal(size=(50, 8))) == 8
    assert distinct_units(np.zeros((5, 4))) == 1 and distinct_units(np.zeros((5, 0))) == 0
    s = signal_through_depth("tanh", "zeros", depth=2, width=5, n=3)
    assert distinct_units(s.activations[-1]) == 1
