"""course.experiments.babysitting: the lab-07 data, the initial loss, a watched training run and the verdicts."""
import numpy as np
import pytest

from course.diagnostics import update_to_weight_ratio
from course.experiments.babysitting import (WatchRecord, WatchedTraining, diagnose, digits_data, initial_loss, watch,
                                            weight_names)


def test_digits_data_is_split_standardized_and_read_only():
    data = digits_data()
    assert {k: v.shape for k, v in data.items()} == {
        "X_train": (1079, 64), "y_train": (1079,), "X_val": (359, 64), "y_val": (359,), "X_test": (359, 64),
        "y_test": (359,)}
    varying = data["X_train"].std(axis=0) > 0
    np.testing.assert_allclose(data["X_train"].mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(data["X_train"].std(axis=0)[varying], 1)
    assert set(np.unique(data["y_train"])) == set(range(10))
    assert not data["X_train"].flags.writeable and digits_data()["X_train"] is data["X_train"]
    assert digits_data() is not data  # a new dict every time: a caller may replace entries


def test_initial_loss_adds_the_l2_penalty_and_shrinks_to_ln_c_with_small_weights():
    loss, data_loss, penalty = initial_loss()
    assert penalty == 0 and loss == data_loss and np.log(10) + 0.3 < loss < np.log(10) + 1
    loss_reg, data_loss_reg, penalty_reg = initial_loss(reg=0.1)
    assert data_loss_reg == pytest.approx(data_loss) and loss_reg == pytest.approx(data_loss + penalty_reg)
    assert penalty_reg == pytest.approx(0.05 * 84, rel=0.05)  # sum of W^2 is about 84 for He weights
    assert initial_loss(init_scale=0.1)[0] == pytest.approx(np.log(10), abs=0.01)
    assert initial_loss(init_scale=10)[0] > 30 * np.log(10)


def test_a_watched_run_records_every_iteration_and_epoch():
    run = WatchedTraining(epochs=3)
    record = run.advance()
    t = run.trainer
    assert record.done and run.done and t.stop_reason == "completed"
    assert record.loss.shape == (33,) and record.ratios.shape == (33, 2) and record.epoch[-1] == pytest.approx(3)
    np.testing.assert_array_equal(record.loss, t.loss_history)
    np.testing.assert_array_equal(record.val_acc, t.val_acc_history)
    assert record.first_loss == t.loss_history[0] and record.diverged_at is None and record.train_size == 1079
    assert weight_names(run.model) == ["W1", "W2"]


def test_the_ratio_is_taken_of_each_update_and_the_weights_before_it():
    seen = []

    def ratio(w, update):
        seen.append((w.copy(), update.copy()))
        return update_to_weight_ratio(w, update)

    run = WatchedTraining(ratio=ratio, update_rule="sgd", learning_rate=0.5)
    before = {name: run.model.params[name].copy() for name in ("W1", "W2")}
    record = run.advance(1)
    (w1, u1), (w2, u2) = seen
    np.testing.assert_array_equal(w1, before["W1"])
    np.testing.assert_allclose(w1 + u1, run.model.params["W1"])
    np.testing.assert_allclose(w2 + u2, run.model.params["W2"])
    assert record.ratios[0, 0] == pytest.approx(np.linalg.norm(u1) / np.linalg.norm(w1))


def test_advancing_in_slices_gives_the_same_record():
    whole = watch(epochs=2, batch_size=50)
    run = WatchedTraining(epochs=2, batch_size=50)
    while not run.done:
        run.advance(7)
    sliced = run.record()
    np.testing.assert_array_equal(whole.loss, sliced.loss)
    np.testing.assert_array_equal(whole.ratios, sliced.ratios)
    np.testing.assert_array_equal(whole.val_acc, sliced.val_acc)


def test_a_tiny_subset_is_overfit_and_a_huge_learning_rate_diverges():
    tiny = watch(train_size=20, batch_size=20, epochs=20)
    assert tiny.train_acc[-1] == 1 and tiny.loss[-1] < 0.01 and tiny.train_size == 20
    assert diagnose(tiny).startswith("sanity check passed: 100% on 20 training examples")
    wild = watch(update_rule="sgd", learning_rate=10.0, epochs=2)
    assert wild.diverged_at is not None and wild.diverged_at <= 5 and wild.done
    largest = np.nanmax(wild.ratios)
    assert largest > 1  # each step rewrote the weights: what a ratio near or above 1 means
    assert diagnose(wild) == (f"diverged at iteration {wild.diverged_at}: the learning rate is too high (updates up "
                              f"to {largest:.2g} of the weights)")


def record(loss, train=(), val=(), first_penalty=0.0, done=True, ratios=1e-3, per_epoch=10, diverged_at=None,
           train_size=1079):
    """A WatchRecord; ``ratios``: one value for every iteration, or (first, last) for a geometric fall."""
    loss = np.asarray(loss, dtype=float)
    ratio = np.full(loss.size, ratios) if np.isscalar(ratios) else np.geomspace(*ratios, loss.size)
    return WatchRecord(loss=loss, epoch=np.arange(1, loss.size + 1) / per_epoch,
                       ratios=np.column_stack([ratio, ratio]), train_acc=np.array(train), val_acc=np.array(val),
                       first_loss=float(loss[0]) if loss.size else float("nan"), first_penalty=first_penalty,
                       num_classes=10, diverged_at=diverged_at, done=done, epochs=len(train), train_size=train_size)


@pytest.mark.parametrize("r, verdict", [
    (record([]), ""),
    (record([2.3] * 5), ""),
    (record(np.geomspace(2.8, 0.01, 40), [0.99] * 4, [0.97] * 4, ratios=(5e-2, 5e-4)),
     "healthy: the loss falls, training 99% / validation 97%; updates from 3e-02 to 9e-04 of the weights"),
    (record(np.geomspace(2.8, 0.01, 40), [0.99] * 4, [0.97] * 4),
     "healthy: the loss falls, training 99% / validation 97%; updates about 1e-03 of the weights"),
    (record(np.geomspace(2.8, 0.01, 40), [1.0] * 4, [0.8] * 4),
     "large train/validation gap (100% vs 80%): overfitting; more data or more regularization"),
    (record(np.geomspace(2.8, 1.0, 40), [0.6] * 4, [0.58] * 4),
     "training accuracy only 60%: underfitting (regularization too strong?)"),
    (record(np.geomspace(2.8, 2.7, 40), [0.2] * 4, [0.2] * 4, ratios=1e-6),
     "loss not decreasing (2.8 -> 2.71): learning rate too low? (updates 1e-06 of the weights)"),
    (record(np.geomspace(2.8, 16.5, 40), [0.96] * 4, [0.92] * 4, ratios=4e-2),
     "loss rising (2.8 -> 13.6) without diverging: learning rate too high (updates 4e-02 of the weights)"),
    (record(np.geomspace(2.8, 2.0, 40), [0.3] * 4, [0.3] * 4, ratios=2e-4),
     "loss barely decreasing (2.8 -> 2.08): learning rate too low (updates 2e-04 of the weights)"),
    (record(np.geomspace(2.8, 2.0, 20), [0.3] * 2, [0.3] * 2, done=False), "training... epoch 2 of 2"),
    (record([180.0, 50.0], diverged_at=3, ratios=(0.9, 2.5)),
     "initial loss 180, far above ln 10 = 2.30: initial weights too large\n"
     "diverged at iteration 3: the learning rate is too high (updates up to 2.5 of the weights)"),
    (record([], diverged_at=1), "diverged at iteration 1: the learning rate is too high"),
    (record(np.geomspace(44.8, 2.3, 40), [0.1] * 4, [0.1] * 4, first_penalty=42.0),
     "initial loss 44.8 = 2.80 + 42 of L2 penalty: regularization raises it, as it should\n"
     "training accuracy only 10%: underfitting (regularization too strong?)"),
], ids=["empty", "no epoch yet", "healthy and converging", "healthy", "gap", "underfitting", "flat", "rising", "slow",
        "training", "too large", "diverged at once", "penalty"])
def test_diagnose_says_what_a_practitioner_would(r, verdict):
    assert diagnose(r) == verdict
