import numpy as np
import pytest

from course import activations
from course.experiments import neuron_sgd_path, signal_through_depth


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
