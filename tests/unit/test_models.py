"""course.models: gradients checked numerically, the lecture's sanity checks, diagnostics and bad input."""
import numpy as np
import pytest

from course import data, optim
from course.gradcheck import eval_numerical_gradient, rel_error
from course.models import ConvNet, FullyConnectedNet
from course.trainer import Trainer


def _jitter(model, seed):
    """Move every parameter off its initial value (biases off 0), so no ReLU input sits exactly on the kink."""
    rng = np.random.default_rng(seed)
    for name, value in model.params.items():
        value += 0.1 * rng.standard_normal(value.shape)


def _max_gradient_error(model, X, y):
    _, grads = model.loss(X, y)
    assert set(grads) == set(model.params)
    errors = []
    for name, value in model.params.items():
        assert grads[name].shape == value.shape and grads[name].dtype == value.dtype
        numeric = eval_numerical_gradient(lambda _: model.loss(X, y)[0], value)
        if np.abs(numeric).max() < 1e-9:  # a bias before batch norm: its mean subtraction cancels the bias
            assert np.abs(grads[name]).max() < 1e-12
            continue
        errors.append(rel_error(grads[name], numeric))
    return max(errors)


@pytest.mark.parametrize("hidden_dims", [[], [6], [5, 4, 3]])
@pytest.mark.parametrize("options", [
    {},
    {"normalization": "batchnorm"},
    {"dropout_keep": 0.6},
    {"reg": 0.7, "activation": "tanh"},
    {"activation": "elu", "normalization": "batchnorm", "dropout_keep": 0.75, "reg": 0.2},
    {"activation": "sigmoid", "init": "xavier"},
    {"activation": "leaky_relu", "init": "glorot", "reg": 0.1},
])
def test_fully_connected_gradients(hidden_dims, options):
    rng = np.random.default_rng(len(hidden_dims))
    X, y = rng.normal(size=(5, 4)), rng.integers(0, 3, size=5)
    model = FullyConnectedNet(hidden_dims, input_dim=4, num_classes=3, seed=1, **options)
    _jitter(model, 2)
    if model.dropout_keep < 1:
        model.dropout_param = {"p": model.dropout_keep, "seed": 4}  # the same masks on every call
    assert _max_gradient_error(model, X, y) < 1e-6


def test_parameter_names_and_shapes():
    model = FullyConnectedNet([5, 4], input_dim=6, num_classes=3, normalization="batchnorm", seed=0)
    shapes = {name: value.shape for name, value in model.params.items()}
    assert shapes == {"W1": (6, 5), "b1": (5,), "gamma1": (5,), "beta1": (5,), "W2": (5, 4), "b2": (4,),
                      "gamma2": (4,), "beta2": (4,), "W3": (4, 3), "b3": (3,)}
    assert np.all(model.params["gamma1"] == 1) and np.all(model.params["b3"] == 0)
    assert model.scores(np.ones((2, 2, 3))).shape == (2, 3)  # (N, d1, d2) inputs are flattened


def test_regularization_penalizes_weights_only():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(4, 3)), rng.integers(0, 2, size=4)
    plain = FullyConnectedNet([5], 3, 2, normalization="batchnorm", seed=0)
    _jitter(plain, 0)
    regularized = FullyConnectedNet([5], 3, 2, normalization="batchnorm", seed=0, reg=0.3)
    regularized.params = {k: v.copy() for k, v in plain.params.items()}
    (loss0, grads0), (loss1, grads1) = plain.loss(X, y), regularized.loss(X, y)
    weights = sum(np.sum(plain.params[w] ** 2) for w in ("W1", "W2"))
    assert loss1 - loss0 == pytest.approx(0.5 * 0.3 * weights, rel=1e-12)
    for name in ("b1", "gamma1", "beta1", "b2"):
        np.testing.assert_allclose(grads1[name], grads0[name])
    np.testing.assert_allclose(grads1["W2"] - grads0["W2"], 0.3 * plain.params["W2"])


def test_initial_loss_is_log_num_classes_with_small_weights():
    X, y = data.digits()
    model = FullyConnectedNet([50, 50], 64, 10, weight_scale=1e-3, seed=0)
    loss, _ = model.loss(X[:200] / 16, y[:200])
    assert loss == pytest.approx(np.log(10), abs=1e-3)
    model.reg = 10.0
    assert model.loss(X[:200] / 16, y[:200])[0] > np.log(10)  # regularization raises it


def test_scores_are_in_test_mode():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8, 4))
    model = FullyConnectedNet([6], 4, 3, dropout_keep=0.5, normalization="batchnorm", seed=0)
    np.testing.assert_array_equal(model.scores(X), model.scores(X))  # no dropout, fixed statistics
    np.testing.assert_array_equal(model.scores(X[:3]), model.scores(X)[:3])  # independent of the batch
    assert model.bn_params[0]["mode"] == "test"
    model.loss(X, np.zeros(8, dtype=int))
    assert model.bn_params[0]["mode"] == "train"
    np.testing.assert_allclose(model.bn_params[0]["running_mean"], 0.1 * (X @ model.params["W1"]).mean(axis=0))


def test_last_activations_hold_each_hidden_layer():
    X = np.random.default_rng(6).normal(size=(7, 4))
    model = FullyConnectedNet([5, 3], 4, 2, activation="tanh", seed=0)
    model.scores(X)
    assert [a.shape for a in model.last_activations] == [(7, 5), (7, 3)]
    np.testing.assert_allclose(model.last_activations[0], np.tanh(model.last_preactivations[0]))
    np.testing.assert_allclose(model.last_preactivations[0], X @ model.params["W1"] + model.params["b1"])


def test_float32_model_stays_float32():
    model = FullyConnectedNet([5], 4, 3, dtype=np.float32, normalization="batchnorm", seed=0)
    assert all(v.dtype == np.float32 for v in model.params.values())
    X = np.random.default_rng(0).normal(size=(6, 4))
    assert model.scores(X).dtype == np.float32
    _, grads = model.loss(X, np.arange(6) % 3)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_initialization_follows_the_named_initializer():
    he = FullyConnectedNet([400], 400, 10, init="he", seed=0).params["W1"]
    xavier = FullyConnectedNet([400], 400, 10, init="xavier", seed=0).params["W1"]
    assert he.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert xavier.std() == pytest.approx(np.sqrt(1 / 400), rel=0.02)
    scaled = FullyConnectedNet([400], 400, 10, weight_scale=0.05, seed=0).params["W1"]
    assert scaled.std() == pytest.approx(0.05, rel=0.02)
    np.testing.assert_array_equal(he, FullyConnectedNet([400], 400, 10, seed=0).params["W1"])


def _fit(model, X, y, learning_rate, epochs, batch_size):
    split = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    return Trainer(model, split, optim.adam, {"learning_rate": learning_rate}, batch_size=batch_size,
                   num_epochs=epochs, verbose=False).train()


def test_two_layer_net_fits_the_spiral():
    X, y = data.spiral()
    trainer = _fit(FullyConnectedNet([100], 2, 3, seed=0), X, y, 3e-2, epochs=100, batch_size=100)
    assert trainer.check_accuracy(X, y) >= 0.95


def test_deep_net_overfits_a_small_sample():
    X, y = data.digits()
    model = FullyConnectedNet([100, 100, 100, 100], 64, 10, seed=0)
    trainer = _fit(model, X[:50] / 16, y[:50], 1e-3, epochs=30, batch_size=25)
    assert trainer.check_accuracy(X[:50] / 16, y[:50]) == 1.0


def test_conv_net_gradients():
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(2, 2, 6, 4)), np.array([0, 2])
    model = ConvNet((2, 6, 4), num_filters=3, filter_size=3, hidden_dim=5, num_classes=3, reg=0.1, seed=0)
    _jitter(model, 1)
    assert _max_gradient_error(model, X, y) < 1e-6
    shapes = {name: value.shape for name, value in model.params.items()}
    assert shapes == {"W1": (3, 2, 3, 3), "b1": (3,), "W2": (3 * 3 * 2, 5), "b2": (5,), "W3": (5, 3), "b3": (3,)}


def test_conv_net_overfits_a_few_digits():
    X, y = data.digits()
    trainer = _fit(ConvNet((1, 8, 8), num_filters=8, hidden_dim=50, seed=0), X[:30] / 16, y[:30], 5e-3,
                   epochs=25, batch_size=10)
    assert trainer.check_accuracy(X[:30] / 16, y[:30]) == 1.0


@pytest.mark.parametrize("make, error, match", [
    (lambda: FullyConnectedNet([5], 4, 3, init="gaussian"), ValueError,
     r"unknown init 'gaussian'; expected one of \['glorot', 'he', 'small_random', 'xavier', 'zeros'\]"),
    (lambda: FullyConnectedNet([5], 4, 3, activation="softplus"), ValueError, "unknown activation 'softplus'"),
    (lambda: FullyConnectedNet([5, 0], 4, 3), ValueError, "every entry of hidden_dims must be an integer >= 1"),
    (lambda: FullyConnectedNet(5, 4, 3), TypeError, "hidden_dims must be a list"),
    (lambda: FullyConnectedNet([5], 4, 3, normalization="layernorm"), ValueError, "None or 'batchnorm'"),
    (lambda: FullyConnectedNet([5], 4, 3, dropout_keep=0), ValueError, "dropout_keep must be > 0"),
    (lambda: FullyConnectedNet([5], 4, 3, dtype=np.int32), TypeError, "dtype must be a float type"),
    (lambda: ConvNet((1, 7, 8)), ValueError, r"\(7 - 2 \+ 2\*0\)/2 \+ 1 = 3.5"),
    (lambda: ConvNet((1, 8, 8), filter_size=4), ValueError, "filter_size must be odd"),
    (lambda: ConvNet((8, 8)), ValueError, r"input_dim must be \(C, H, W\)"),
])
def test_bad_arguments_are_explained(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_wrong_input_width_is_explained():
    model = FullyConnectedNet([5], 4, 3, seed=0)
    with pytest.raises(ValueError, match=r"w must have shape \(D, M\) with D = 6"):
        model.scores(np.zeros((2, 6)))
    with pytest.raises(ValueError, match=r"y must hold labels in \[0, 3\)"):
        model.loss(np.zeros((2, 4)), np.array([0, 3]))


def test_own_activation_pair_and_bias_init():
    from course import activations
    calls = []

    def relu_forward(x):
        calls.append(x.shape)
        return activations.relu_forward(x)

    model = FullyConnectedNet([4, 3], 5, 2, activation=(relu_forward, activations.relu_backward), bias_init=0.01,
                              seed=0)
    assert model.activation == "relu" and model.activation_functions[0] is relu_forward
    np.testing.assert_array_equal(model.params["b1"], 0.01)
    np.testing.assert_array_equal(model.params["b3"], 0.0)  # the output layer's biases start at 0
    model.loss(np.ones((6, 5)), np.zeros(6, dtype=int))
    assert calls == [(6, 4), (6, 3)]
    with pytest.raises(ValueError, match="or a \\(forward, backward\\) pair of functions"):
        FullyConnectedNet([4], 5, 2, activation="softplus")
