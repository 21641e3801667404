"""course.experiments.regularization: networks trained side by side, their gradients, the regularizers wired into
training, the digits and moons set-ups, the dropout ensemble."""
import warnings

import numpy as np
import pytest

from course import layers, losses
from course.experiments import (MAX_PRODUCT, NetworkStack, Regularizer, StackTraining, class_one_probability,
                                clip_max_norm, digits_holdout, digits_study, digits_subset, dropout_ensemble,
                                moons_training, noisy_labels, noisy_moons)
from course.gradcheck import eval_numerical_gradient
from course.models import FullyConnectedNet

from gradient_assertions import assert_gradient


def stack_and_batch(sizes=(5, 4, 3, 3), seeds=(0, 1), batch=6, seed=9):
    """A stack with non-zero biases (so that no pre-activation sits exactly on ReLU's kink, as a unit whose inputs
    were all dropped would with a zero bias) and a minibatch for each network."""
    stack = NetworkStack(sizes, seeds)
    rng = np.random.default_rng(seed)
    for name in [n for n in stack.params if n.startswith("b")]:
        stack.params[name] = rng.normal(0, 0.5, size=stack.params[name].shape)
    X = rng.normal(size=(len(seeds), batch, sizes[0]))
    y = rng.integers(0, sizes[-1], size=(len(seeds), batch))
    return stack, X, y


@pytest.mark.parametrize("keep", [1.0, 0.6])
def test_loss_gradients_match_numerical_ones_for_every_network(keep):
    stack, X, y = stack_and_batch()
    dropout = (lambda x, param: layers.dropout_forward(x, {**param, "rng": None, "seed": 3}), layers.dropout_backward)
    _, grads = stack.loss(X, y, keep, dropout)
    for name, value in stack.params.items():
        def total(v, name=name):
            stack.params[name] = v
            return stack.loss(X, y, keep, dropout)[0] * len(stack.seeds)  # the sum of the networks' losses
        numeric = eval_numerical_gradient(total, value.copy())
        stack.params[name] = value
        assert_gradient(grads[name], numeric)


def test_each_network_matches_a_fully_connected_net_with_its_parameters():
    stack, X, y = stack_and_batch()
    loss, grads = stack.loss(X, y)
    for s in range(2):
        net = FullyConnectedNet([4, 3], 5, 3)
        net.params = {name: (p[s, 0] if name.startswith("b") else p[s]).copy() for name, p in stack.params.items()}
        expected_loss, expected_grads = net.loss(X[s], y[s])
        np.testing.assert_allclose(losses.softmax_loss(stack.scores(X)[s], y[s])[0], expected_loss)
        np.testing.assert_allclose(stack.scores(X)[s], net.scores(X[s]))
        for name, g in expected_grads.items():
            np.testing.assert_allclose(grads[name][s].reshape(g.shape), g, atol=1e-12)
    assert loss == pytest.approx(np.mean([losses.softmax_loss(stack.scores(X)[s], y[s])[0] for s in range(2)]))


def test_seeds_give_their_own_initialization_and_he_scale():
    stack = NetworkStack([64, 128, 10], [0, 1, 2])
    W1 = stack.params["W1"]
    assert not np.allclose(W1[0], W1[1]) and W1.std() == pytest.approx(np.sqrt(2 / 64), rel=0.05)
    np.testing.assert_array_equal(NetworkStack([64, 128, 10], [1]).params["W1"][0], W1[1])
    assert NetworkStack([64, 128, 10], [0], dtype=np.float32).params["W1"].dtype == np.float32


def test_scores_are_computed_in_chunks_below_the_blas_threading_threshold():
    stack = NetworkStack([64, 128, 10], [0, 1])
    assert stack._rows * 64 * 128 <= MAX_PRODUCT
    X = np.random.default_rng(0).random((300, 64))
    whole = np.maximum(X @ stack.params["W1"] + stack.params["b1"], 0) @ stack.params["W2"] + stack.params["b2"]
    np.testing.assert_allclose(stack.scores(X), whole)
    np.testing.assert_allclose(stack.forward(stack.forward(X, stop=1), start=2), whole)


def test_clip_max_norm_scales_only_the_columns_beyond_the_ball():
    w = np.array([[3.0, 0.3, 0.0], [4.0, 0.4, 0.0]])  # column norms 5, 0.5, 0
    clipped = clip_max_norm(w, 1.0)
    np.testing.assert_allclose(np.linalg.norm(clipped, axis=0), [1.0, 0.5, 0.0])
    np.testing.assert_allclose(clipped[:, 0], [0.6, 0.8])
    np.testing.assert_array_equal(clipped[:, 1:], w[:, 1:])
    with pytest.raises(ValueError, match="max_norm"):
        clip_max_norm(w, 0.0)


def tiny_training(regularizer=Regularizer(), epochs=3, **options):
    stack = NetworkStack([4, 6, 3], [0, 1])
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(2, 12, 4)), rng.integers(0, 3, size=(2, 12))
    return StackTraining(stack, X, y, rng.normal(size=(10, 4)), rng.integers(0, 3, size=10), regularizer,
                         batch_size=4, learning_rate=0.1, epochs=epochs, **options)


def test_the_penalty_reaches_the_weights_only():
    seen = []

    def penalty(w, reg):
        seen.append(w.shape)
        return losses.l2_penalty(w, reg)

    tiny_training(Regularizer(penalty=penalty, reg=0.1), epochs=1).advance()
    assert set(seen) == {(2, 4, 6), (2, 6, 3)}


def test_l2_makes_the_weights_smaller_and_max_norm_bounds_them():
    plain, decayed = tiny_training(epochs=20), tiny_training(Regularizer(reg=0.5), epochs=20)
    clipped = tiny_training(Regularizer(max_norm=0.5), epochs=20)
    for training in (plain, decayed, clipped):
        training.advance()
    norm = [np.linalg.norm(t.stack.params["W1"]) for t in (plain, decayed)]
    assert norm[1] < 0.5 * norm[0]
    assert np.linalg.norm(clipped.stack.params["W1"], axis=1).max() <= 0.5 + 1e-12


def test_max_norm_layers_chooses_which_units_are_clipped():
    norms = {}
    for layers in (None, (1,), (2,)):
        training = tiny_training(Regularizer(max_norm=0.3, max_norm_layers=layers), epochs=20)
        training.advance()
        norms[layers] = [np.linalg.norm(training.stack.params[name], axis=1).max() for name in ("W1", "W2")]
    assert max(norms[None]) <= 0.3 + 1e-12
    assert norms[(1,)][0] <= 0.3 + 1e-12 < norms[(1,)][1]
    assert norms[(2,)][1] <= 0.3 + 1e-12 < norms[(2,)][0]
    assert not Regularizer().clips("W1") and not Regularizer(max_norm=1.0).clips("b1")
    assert Regularizer(max_norm=1.0, max_norm_layers=(2,)).clips("W2")


def test_history_best_checkpoint_and_early_stopping_follow_the_trainer_rule():
    training = tiny_training(epochs=12, patience=2)
    training.advance()
    record = training.record()
    assert record["val_acc"].shape == (2, 12) and np.isfinite(record["train_loss"]).all()
    for s in range(2):
        val = record["val_acc"][s]
        assert training.best_epoch[s] == np.argmax(val) + 1  # the first epoch with the best accuracy
        best = 0
        for epoch in range(1, 13):  # Trainer: stop once epoch - best_epoch >= patience
            if val[epoch - 1] > val[best - 1] or best == 0:
                best = epoch
            if epoch - best >= 2:
                break
        assert training.stop_epoch[s] == (epoch if epoch - best >= 2 else 12)


def test_untracked_training_measures_the_last_epoch_only():
    training = tiny_training(epochs=5, track=False)
    training.advance(2)
    assert training.record()["val_acc"].shape == (2, 0)
    training.advance()
    assert training.record()["val_acc"].shape == (2, 1) and training.done


def test_a_diverging_run_stops_with_no_warning():
    training = tiny_training(epochs=50)
    training.learning_rate = 1e30
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        training.advance()
    assert training.diverged_at is not None and training.done


def test_the_digits_holdout_and_subsets():
    split = digits_holdout()
    assert split["X_train"].shape == (899, 1, 8, 8) and len(split["y_val"]) == 359 and len(split["y_test"]) == 539
    assert 0 <= split["X_train"].min() and split["X_train"].max() <= 1
    with pytest.raises(ValueError):
        split["X_train"][0, 0, 0, 0] = 1.0  # shared, read-only
    subset = digits_subset(10, seed=3)
    assert np.array_equal(np.bincount(split["y_train"][subset]), np.full(10, 10))
    np.testing.assert_array_equal(subset, digits_subset(10, seed=3))


def test_noisy_labels_change_exactly_the_fraction_asked():
    y = np.repeat(np.arange(10), 10)
    noisy = noisy_labels(y, 0.2, seed=0)
    assert np.sum(noisy != y) == 20 and noisy.min() >= 0 and noisy.max() <= 9
    np.testing.assert_array_equal(noisy_labels(y, 0.0, seed=0), y)


def test_digits_study_is_deterministic_and_shaped():
    a = digits_study([0, 1], epochs=3, curves=True, patience=1)
    b = digits_study([0, 1], epochs=3, curves=True, patience=1)
    np.testing.assert_array_equal(a.val_acc, b.val_acc)
    assert a.train_acc.shape == (2, 3) and a.test_final.shape == (2,) and a.gap.shape == (2,)
    assert a.network.params["W1"].shape == (2, 64, 128) and a.stop_epoch.max() <= 3
    quick = digits_study([0, 1], epochs=2)
    assert quick.train_acc.shape == (2, 1) and quick.test_best is None and quick.test_stopped is None


def test_the_fit_of_the_correct_labels_counts_only_the_digits_labelled_right():
    clean = digits_study([0, 1], epochs=20)
    np.testing.assert_allclose(clean.train_acc_correct, clean.train_acc[:, -1])  # every label is right
    noisy = digits_study([0, 1], label_noise=0.2, epochs=20)
    split = digits_holdout()
    for s, seed in enumerate([0, 1]):
        subset = digits_subset(10, seed)
        given, true = noisy_labels(split["y_train"][subset], 0.2, seed), split["y_train"][subset]
        predicted = noisy.network.scores(split["X_train"][subset].reshape(100, -1))[s].argmax(axis=1)
        right = given == true
        assert noisy.train_acc_correct[s] == pytest.approx(np.mean(predicted[right] == true[right]))


def test_dropout_ensemble_averages_toward_the_full_network():
    stack = NetworkStack([8, 16, 3], [0, 1])
    X = np.random.default_rng(0).random((40, 8))
    kept = dropout_ensemble(stack, X, keep=1.0, masks=3)
    np.testing.assert_allclose(kept.mean_scores, kept.test_scores)
    few, many = (dropout_ensemble(stack, X, keep=0.5, masks=m, seed=1) for m in (4, 400))
    error = [np.abs(e.mean_scores - e.test_scores).mean() for e in (few, many)]
    assert error[1] < error[0] / 4  # one hidden layer: the mean of the thinned scores is the full network's
    np.testing.assert_allclose(many.mean_probabilities.sum(axis=2), 1.0)


def test_noisy_moons_and_their_training():
    X, y, flipped = noisy_moons(50, 0.2, seed=0)
    clean_X, clean_y, none = noisy_moons(50, 0.0, seed=0)
    np.testing.assert_array_equal(X, clean_X)
    assert flipped.sum() == 10 and np.array_equal(flipped, y != clean_y) and not none.any()
    training = moons_training(30, 0.1, epochs=5)
    training.advance()
    p = class_one_probability(training.stack, np.array([[0.0, 0.5], [1.0, -0.3]]))
    assert training.record()["val_loss"].shape == (1, 5) and p.shape == (2,) and np.all((0 <= p) & (p <= 1))
