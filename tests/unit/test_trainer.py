"""course.trainer.Trainer, driven mostly by a tiny softmax classifier defined here."""
import warnings

import numpy as np
import pytest

from course import data, optim, schedules
from course.losses import softmax_loss
from course.models import FullyConnectedNet
from course.trainer import Trainer


class SoftmaxClassifier:
    """scores = X W + b; records every training batch it sees."""

    def __init__(self, dim, num_classes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": 0.01 * rng.standard_normal((dim, num_classes)), "b": np.zeros(num_classes)}
        self.seen = []

    def scores(self, X):
        return X @ self.params["W"] + self.params["b"]

    def loss(self, X, y):
        self.seen.append(X.copy())
        loss, dscores = softmax_loss(self.scores(X), y)
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def keep(w, dw, config):
    """An update rule that changes nothing: the validation accuracy never improves."""
    config.setdefault("learning_rate", 0.1)
    return w, config


def random_walk(w, dw, config):
    """An update rule that jumps at random: the validation accuracy goes up and down."""
    config.setdefault("rng", np.random.default_rng(config.pop("seed", 0)))
    return w + config["rng"].normal(size=w.shape), config


@pytest.fixture
def blobs():
    X, y = data.blobs(n_per_class=60, n_classes=3, std=0.8)
    return data.train_val_test_split(X, y, val=0.25, test=0.0, seed=0)


def test_training_fills_the_histories_and_learns(blobs):
    model = SoftmaxClassifier(2, 3)
    trainer = Trainer(model, blobs, optim.sgd, {"learning_rate": 0.5}, batch_size=32, num_epochs=4, verbose=False)
    assert trainer.train() is trainer
    n_train = blobs["y_train"].size
    assert trainer.iterations_per_epoch == int(np.ceil(n_train / 32))
    assert len(trainer.loss_history) == 4 * trainer.iterations_per_epoch == trainer.iteration
    assert len(trainer.train_acc_history) == len(trainer.val_acc_history) == len(trainer.lr_history) == 4
    assert trainer.loss_history[-1] < trainer.loss_history[0]
    assert trainer.val_acc_history[-1] > 0.9
    assert trainer.stop_reason == "completed" and trainer.diverged is None
    assert trainer.lr_history == [0.5] * 4


def test_each_epoch_visits_every_example_once_in_a_new_order():
    X = np.arange(30, dtype=float).reshape(30, 1)
    split = {"X_train": X, "y_train": np.zeros(30, dtype=int), "X_val": X[:3], "y_val": np.zeros(3, dtype=int)}
    model = SoftmaxClassifier(1, 2)
    Trainer(model, split, keep, batch_size=8, num_epochs=2, verbose=False).train()
    assert [len(batch) for batch in model.seen] == [8, 8, 8, 6] * 2
    epochs = [np.concatenate(model.seen[:4]).ravel(), np.concatenate(model.seen[4:]).ravel()]
    for order in epochs:
        np.testing.assert_array_equal(np.sort(order), np.arange(30))
    assert not np.array_equal(epochs[0], epochs[1])
    again = SoftmaxClassifier(1, 2)
    Trainer(again, split, keep, batch_size=8, num_epochs=2, verbose=False).train()
    np.testing.assert_array_equal(np.concatenate(again.seen), np.concatenate(model.seen))  # seeded


def test_a_lone_last_example_joins_the_previous_minibatch():
    # 21 = 10 + 10 + 1: the single example would make batch norm fail in train mode, so it joins the batch before
    X = np.random.default_rng(0).normal(size=(21, 2))
    y = (X[:, 0] > 0).astype(int)
    split = {"X_train": X, "y_train": y, "X_val": X[:4], "y_val": y[:4]}
    model = SoftmaxClassifier(2, 2)
    trainer = Trainer(model, split, keep, batch_size=10, num_epochs=1, verbose=False).train()
    assert [len(batch) for batch in model.seen] == [10, 11] and trainer.iterations_per_epoch == 2
    assert sorted(np.concatenate(model.seen)[:, 0]) == sorted(X[:, 0])
    bn = Trainer(FullyConnectedNet([4], 2, 2, normalization="batchnorm", seed=0), split, optim.sgd, batch_size=10,
                 num_epochs=2, verbose=False).train()
    assert bn.stop_reason == "completed"
    one = Trainer(SoftmaxClassifier(2, 2), {**split, "X_train": X[:1], "y_train": y[:1]}, keep, batch_size=10)
    assert one.iterations_per_epoch == 1


@pytest.mark.parametrize("key, index, what", [("X_train", (3, 1), "NaN"), ("X_val", (0, 0), "inf")])
def test_non_finite_data_is_named_at_construction(blobs, key, index, what):
    blobs[key] = blobs[key].copy()
    blobs[key][index] = np.nan if what == "NaN" else np.inf
    with pytest.raises(ValueError, match=rf"{key} holds {what} at index \[{index[0]}, {index[1]}\] "
                                         rf"\({int(what == 'NaN')} NaN and {int(what == 'inf')} inf in total"):
        Trainer(SoftmaxClassifier(2, 3), blobs)


def test_an_out_of_range_update_is_reported_as_divergence(blobs):
    def exploding_adam(w, dw, config):
        return optim.adam(w, dw * 1e300, config)   # squared gradients beyond float64: OutOfRangeError

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = Trainer(SoftmaxClassifier(2, 3), blobs, exploding_adam, verbose=False).train()
    assert trainer.stop_reason == "diverged"
    assert "iteration 1: a computation overflowed (adam: config['v'] exceeds the float64 range" in trainer.diverged


def test_every_parameter_gets_its_own_config(blobs):
    model = SoftmaxClassifier(2, 3)
    trainer = Trainer(model, blobs, optim.sgd_momentum, {"learning_rate": 0.1}, num_epochs=1, verbose=False)
    trainer.train()
    assert trainer.optim_configs["W"]["velocity"].shape == (2, 3)
    assert trainer.optim_configs["b"]["velocity"].shape == (3,)


def test_early_stopping_after_patience_epochs_without_improvement(blobs):
    trainer = Trainer(SoftmaxClassifier(2, 3), blobs, keep, num_epochs=20, patience=3, verbose=False).train()
    assert trainer.stop_reason == "early stopping"
    assert trainer.best_epoch == 1 and trainer.epoch == 4 and len(trainer.val_acc_history) == 4


def test_best_parameters_are_restored(blobs):
    model = SoftmaxClassifier(2, 3)
    trainer = Trainer(model, blobs, random_walk, {"seed": 0}, num_epochs=8, verbose=False).train()
    best = max(trainer.val_acc_history)
    assert trainer.best_val_acc == best and trainer.val_acc_history[trainer.best_epoch - 1] == best
    assert trainer.best_epoch != 8 and trainer.val_acc_history[-1] < best  # the last epoch was worse
    assert trainer.check_accuracy(blobs["X_val"], blobs["y_val"]) == best


def test_batchnorm_running_statistics_are_restored_with_the_parameters(blobs):
    model = FullyConnectedNet([8], 2, 3, normalization="batchnorm", seed=0)
    trainer = Trainer(model, blobs, optim.sgd, {"learning_rate": 3.0}, batch_size=20, num_epochs=6, verbose=False)
    trainer.train()
    assert trainer.best_epoch < 6
    assert trainer.check_accuracy(blobs["X_val"], blobs["y_val"]) == trainer.best_val_acc


def test_a_schedule_sets_the_learning_rate_each_epoch(blobs):
    trainer = Trainer(SoftmaxClassifier(2, 3), blobs, optim.sgd, lr_schedule=schedules.step_decay(0.8, 0.5, 1),
                      num_epochs=3, verbose=False).train()
    assert trainer.lr_history == [0.8, 0.4, 0.2]
    assert trainer.optim_configs["W"]["learning_rate"] == 0.2


def test_reduce_on_plateau_cuts_the_rate_when_validation_stalls(blobs):
    plateau = schedules.ReduceLROnPlateau(1.0, factor=0.5, patience=2)
    trainer = Trainer(SoftmaxClassifier(2, 3), blobs, keep, lr_schedule=plateau, num_epochs=6, verbose=False).train()
    assert trainer.lr_history == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]


def test_divergence_stops_with_a_message_and_no_warnings(capsys):
    X, y = data.spiral()
    split = data.train_val_test_split(X, y, val=0.2, test=0.0)
    model = FullyConnectedNet([50, 50], 2, 3, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = Trainer(model, split, optim.sgd, {"learning_rate": 1e3}, batch_size=20, num_epochs=5).train()
    assert trainer.stop_reason == "diverged"
    assert trainer.diverged.startswith("training diverged at epoch 1, iteration ")
    assert trainer.diverged.endswith("the learning rate 1000 is probably too high")
    assert trainer.diverged in capsys.readouterr().out
    assert all(np.isfinite(trainer.loss_history))
    initial = FullyConnectedNet([50, 50], 2, 3, seed=0).params
    for name, value in model.params.items():
        np.testing.assert_array_equal(value, initial[name])  # back to the only known-good state


def test_an_overflow_is_reported_not_warned():
    X, y = data.spiral()
    split = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trainer = Trainer(FullyConnectedNet([50, 50], 2, 3, seed=0), split, optim.sgd, {"learning_rate": 1e30},
                          batch_size=20, divergence_factor=1e300, verbose=False).train()
    assert "a computation overflowed (overflow encountered" in trainer.diverged
    assert trainer.diverged.endswith("the learning rate 1e+30 is probably too high")


def test_a_non_finite_loss_is_reported():
    class Broken(SoftmaxClassifier):
        def loss(self, X, y):
            return np.inf, {k: np.zeros_like(v) for k, v in self.params.items()}

    X, y = data.blobs(n_per_class=10)
    split = {"X_train": X, "y_train": y, "X_val": X, "y_val": y}
    trainer = Trainer(Broken(2, 3), split, optim.sgd, {"learning_rate": 0.05}, verbose=False).train()
    assert trainer.diverged == ("training diverged at epoch 1, iteration 1: the loss became inf; "
                                "the learning rate 0.05 is probably too high")
    assert trainer.loss_history == []


def test_callback_events_and_stopping_on_request(blobs):
    events = []
    trainer = Trainer(SoftmaxClassifier(2, 3), blobs, optim.sgd, batch_size=50, num_epochs=2, verbose=False,
                      callback=lambda t, event: events.append((event, t.epoch, t.iteration)))
    trainer.train()
    per_epoch = trainer.iterations_per_epoch
    assert [e for e, _, _ in events] == (["iteration"] * per_epoch + ["epoch"]) * 2 + ["end"]
    assert events[per_epoch] == ("epoch", 1, per_epoch) and events[-1] == ("end", 2, 2 * per_epoch)

    def stop_at_third(t, event):
        if t.iteration == 3:
            t.stop()

    stopped = Trainer(SoftmaxClassifier(2, 3), blobs, optim.sgd, batch_size=10, callback=stop_at_third,
                      verbose=False).train()
    assert stopped.stop_reason == "stopped" and stopped.iteration == 3


def test_augmentation_is_applied_to_training_batches_only(blobs):
    model = SoftmaxClassifier(2, 3)
    Trainer(model, blobs, keep, num_epochs=1, verbose=False, augment=lambda X, rng: X + 1000.0).train()
    assert all(batch.min() > 900 for batch in model.seen)


def test_training_accuracy_uses_a_fixed_subsample(blobs):
    trainer = Trainer(SoftmaxClassifier(2, 3), blobs, keep, num_train_samples=7, verbose=False)
    assert trainer.train_sample.size == 7
    again = Trainer(SoftmaxClassifier(2, 3), blobs, keep, num_train_samples=7, verbose=False)
    np.testing.assert_array_equal(trainer.train_sample, again.train_sample)


def test_verbose_prints_one_line_per_epoch(blobs, capsys):
    Trainer(SoftmaxClassifier(2, 3), blobs, optim.sgd, num_epochs=2).train()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("epoch 1/2: loss ") and ", lr 0.01" in lines[0]
    assert lines[-1].startswith("completed: best val acc")


@pytest.mark.parametrize("change, error, match", [
    (lambda d: d.pop("X_val"), ValueError, r"missing \['X_val'\]"),
    (lambda d: d.update(y_train=d["y_train"][:-1]), ValueError, r"y_train must have shape \(N,\)"),
    (lambda d: d.update(X_val=d["X_val"][:0], y_val=d["y_val"][:0]), ValueError, "must hold examples"),
])
def test_bad_data_is_explained(blobs, change, error, match):
    change(blobs)
    with pytest.raises(error, match=match):
        Trainer(SoftmaxClassifier(2, 3), blobs)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1"),
    ({"num_epochs": 2.5}, ValueError, "num_epochs must be an integer >= 1"),
    ({"update_rule": "sgd"}, TypeError, "update_rule must be callable"),
    ({"update_rule": None}, TypeError, "update_rule must be callable"),
    ({"lr_schedule": 0.1}, TypeError, "lr_schedule must be a callable"),
])
def test_bad_settings_are_explained(blobs, kwargs, error, match):
    with pytest.raises(error, match=match):
        Trainer(SoftmaxClassifier(2, 3), blobs, **kwargs)


def test_a_model_without_the_contract_is_explained(blobs):
    with pytest.raises(TypeError, match="lacks scores"):
        Trainer(type("NoScores", (), {"params": {}, "loss": None})(), blobs)

    class WrongGrads(SoftmaxClassifier):
        def loss(self, X, y):
            return 1.0, {"W": np.zeros_like(self.params["W"])}

    with pytest.raises(ValueError, match=r"grads keyed like model.params \['W', 'b'\]; got \['W'\]"):
        Trainer(WrongGrads(2, 3), blobs, verbose=False).train()
