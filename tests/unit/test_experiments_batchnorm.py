"""course.experiments.batchnorm: replicas of a deep network trained in lockstep, with and without batch norm."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import layers
from course.experiments import BatchNormTraining, from_replica_columns, replica_columns, standardized_digits
from course.gradcheck import eval_numerical_gradient
from course.models import FullyConnectedNet
from gradient_assertions import assert_gradient

DATA = standardized_digits()
SMALL = dict(hidden=(6, 6, 6), batch_size=8, steps=20, dataset=DATA)


def test_the_digits_are_standardized_with_the_training_statistics():
    assert DATA["X_train"].shape == (1438, 64) and DATA["X_val"].shape == (359, 64)
    assert np.allclose(DATA["X_train"].mean(axis=0), 0)
    assert abs(DATA["X_val"].mean()) < 0.1 and set(np.unique(DATA["y_val"])) == set(range(10))


def test_columns_lay_each_replica_unit_out_as_one_column_and_back():
    z = np.arange(2 * 3 * 4.0).reshape(2, 3, 4)  # (R, B, H)
    x = replica_columns(z)
    assert x.shape == (3, 8)
    np.testing.assert_array_equal(x[:, 4:], z[1])  # replica 1's units are columns 4..7
    np.testing.assert_array_equal(from_replica_columns(x, 2), z)


def test_batch_norm_of_the_columns_normalizes_each_replica_on_its_own():
    z = np.random.default_rng(0).normal(size=(3, 5, 4)) * np.array([1.0, 10.0, 0.1])[:, None, None]
    out, _ = layers.batchnorm_forward(replica_columns(z), np.ones(12), np.zeros(12), {"mode": "train"})
    for r in range(3):
        alone, _ = layers.batchnorm_forward(z[r], np.ones(4), np.zeros(4), {"mode": "train"})
        np.testing.assert_allclose(from_replica_columns(out, 3)[r], alone)


@pytest.mark.parametrize("batchnorm", [False, True])
def test_the_loss_matches_a_fully_connected_net_with_the_same_parameters(batchnorm):
    t = BatchNormTraining(batchnorm=batchnorm, seed=[3, 4], **SMALL)
    model = FullyConnectedNet([6, 6, 6], 64, 10, normalization="batchnorm" if batchnorm else None)
    batch = t._batches[0]
    loss, grads = t.loss(DATA["X_train"][batch], DATA["y_train"][batch])
    for r in range(2):
        for i in range(4):
            model.params[f"W{i + 1}"], model.params[f"b{i + 1}"] = t.params["W"][i][r], t.params["b"][i][r, 0]
        for i in range(3 if batchnorm else 0):
            model.params[f"gamma{i + 1}"] = t.params["gamma"][i][r]
            model.params[f"beta{i + 1}"] = t.params["beta"][i][r]
        expected, expected_grads = model.loss(DATA["X_train"][batch[r]], DATA["y_train"][batch[r]])
        assert loss[r] == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(grads["W"][0][r], expected_grads["W1"], rtol=1e-9, atol=1e-12)


@settings(max_examples=8, deadline=None)
@given(st.integers(2, 4), st.integers(3, 6), st.integers(1, 3), st.booleans(), st.integers(0, 100))
def test_gradients_match_numerical_gradients(width, batch, depth, batchnorm, seed):
    t = BatchNormTraining(batchnorm=batchnorm, seed=[seed, seed + 1], gain=[1.0, 0.5], hidden=(width,) * depth,
                          batch_size=batch, steps=1, dataset=DATA, eps=1e-2)
    index = t._batches[0]
    X, y = DATA["X_train"][index], DATA["y_train"][index]
    t.params["b"] = [b + 0.1 for b in t.params["b"]]  # away from ReLU's kink at 0 on every example
    _, grads = t.loss(X, y)
    for name, arrays in t.params.items():
        for i, p in enumerate(arrays):
            numeric = eval_numerical_gradient(lambda v: t.loss(X, y)[0].sum(), p, h=1e-6)  # narrow batches: sharp curvature
            assert_gradient(grads[name][i], numeric)


def test_a_replica_trains_the_same_alone_or_among_others():
    together = BatchNormTraining(seed=[0, 1, 2], learning_rate=[0.1, 0.3, 0.05], **SMALL).advance()
    alone = BatchNormTraining(seed=1, learning_rate=0.3, **SMALL).advance()
    np.testing.assert_allclose(together.losses[:, 1], alone.losses[:, 0], rtol=1e-10)
    assert together.evaluations[-1].test_mode[1] == alone.evaluations[-1].test_mode[0]


def test_output_gain_scales_only_the_output_layer_and_defaults_to_gain():
    same = BatchNormTraining(gain=[0.5, 2.0], seed=[0, 1], **SMALL)
    split = BatchNormTraining(gain=[0.5, 2.0], output_gain=1.0, seed=[0, 1], **SMALL)
    default = BatchNormTraining(gain=1.0, seed=[0, 1], **SMALL)
    np.testing.assert_array_equal(split.output_gain, [1.0, 1.0])
    for w_same, w_split in zip(same.params["W"][:-1], split.params["W"][:-1]):
        np.testing.assert_array_equal(w_same, w_split)  # the same draws for the hidden layers
    np.testing.assert_allclose(split.params["W"][-1], default.params["W"][-1])  # He's scale, as at gain 1
    np.testing.assert_allclose(same.params["W"][-1][1], 2.0 * default.params["W"][-1][1])


def test_batch_norm_removes_the_scale_of_the_hidden_weights_but_not_of_the_output_layer():
    def first_loss(**gains):
        t = BatchNormTraining(seed=[0, 1], **gains, **SMALL)
        batch = t._batches[0]
        return t.loss(DATA["X_train"][batch], DATA["y_train"][batch])[0]
    np.testing.assert_allclose(first_loss(gain=10.0, output_gain=1.0), first_loss(gain=1.0), rtol=1e-3)
    assert (first_loss(gain=10.0) > 2 * first_loss(gain=1.0)).all()


def test_records_losses_activations_and_evaluations():
    t = BatchNormTraining(seed=[0, 1], eval_every=5, **SMALL)
    t.advance(7)
    assert t.step == 7 and not t.done and t.losses.shape == (7, 2)
    assert [e.step for e in t.evaluations] == [5]
    t.advance()
    assert t.done and [e.step for e in t.evaluations] == [5, 10, 15, 20]
    assert len(t.before) == 3 and t.before[0].shape == (2, 8, 6)
    batch = t._batches[0]
    t.loss(DATA["X_train"][batch], DATA["y_train"][batch])  # with the current gamma and beta
    np.testing.assert_allclose(t.after[1].mean(axis=1), t.params["beta"][1], atol=1e-9)  # normalized, then shifted
    np.testing.assert_allclose(t.after[1].std(axis=1), np.abs(t.params["gamma"][1]), rtol=1e-3)


def test_batch_norm_trains_from_a_bad_initialization_where_the_plain_network_cannot():
    bn = BatchNormTraining(gain=0.1, seed=range(3), steps=100, dataset=DATA).advance()
    plain = BatchNormTraining(batchnorm=False, gain=0.1, seed=range(3), steps=100, dataset=DATA).advance()
    assert bn.evaluations[-1].test_mode.min() > 0.7 and plain.evaluations[-1].test_mode.max() < 0.2
    assert np.std(plain.before[-1]) < 1e-2 * np.std(plain.before[0])  # the signal shrank through the layers


def test_train_mode_accuracy_uses_batches_of_the_batch_size_and_leaves_the_running_averages():
    t = BatchNormTraining(seed=0, **SMALL).advance()
    running = [p["running_mean"].copy() for p in t.bn_params]
    predicted = t.predict(DATA["X_val"][:20], "train")
    assert predicted.shape == (1, 16)  # 20 cut to two batches of 8
    for p, before in zip(t.bn_params, running):
        np.testing.assert_array_equal(p["running_mean"], before)
    first_batch = t.predict(DATA["X_val"][:8], "train")
    np.testing.assert_array_equal(first_batch, predicted[:, :8])


def test_a_diverging_replica_is_frozen_and_the_others_go_on():
    t = BatchNormTraining(batchnorm=False, learning_rate=[0.05, 50.0], seed=0, **SMALL)
    with np.errstate(all="raise"):
        t.advance()
    assert t.diverged_at[0] == -1 and t.diverged_at[1] >= 0
    assert np.isnan(t.losses[t.diverged_at[1]:, 1]).all() and np.isfinite(t.losses[:, 0]).all()
    assert all(np.isfinite(w).all() for w in t.params["W"])


def test_a_students_batchnorm_pair_is_used():
    calls = []

    def forward(x, gamma, beta, bn_param):
        calls.append(x.shape)
        return layers.batchnorm_forward(x, gamma, beta, bn_param)

    BatchNormTraining(batchnorm=(forward, layers.batchnorm_backward), seed=[0, 1], **SMALL).advance(1)
    assert calls[0] == (8, 12)  # B rows, R * H columns


@pytest.mark.parametrize("options, match", [
    (dict(batch_size=1), r"batch_size must be an integer >= 2 \(with batch norm: the variance of a single"),
    (dict(gain=[1.0, -1.0]), "every gain must be > 0"),
    (dict(output_gain=0.0), "every output_gain must be > 0"),
    (dict(hidden=(4, 5)), "the same width"),
    (dict(batchnorm="yes"), "batchnorm must be True, False or a"),
    (dict(gain=[[1.0]]), "1-D sequences"),
])
def test_bad_settings_are_refused_clearly(options, match):
    with pytest.raises((ValueError, TypeError), match=match):
        BatchNormTraining(**{**SMALL, **options})


def test_without_batch_norm_a_batch_of_one_is_fine():
    t = BatchNormTraining(batchnorm=False, **{**SMALL, "batch_size": 1}).advance()
    assert t.done and np.isfinite(t.losses).all()
