"""Lab 07's babysitting experiments: a small network trained on the digits while everything a practitioner watches
is recorded, and the verdict a practitioner would give.

- :func:`digits_data`: the data of lab 07 (train / validation / test, standardized);
- :class:`WatchedTraining`: a course.models.FullyConnectedNet trained by course.trainer.Trainer one iteration at a
  time (``Trainer.steps``), recording the loss, the update-to-weight ratio of every weight matrix and the
  accuracies; :func:`watch` runs one to the end;
- :func:`diagnose`: the verdict on a :class:`WatchRecord` ("loss not decreasing: learning rate too low", "diverged
  at iteration 12", "large train/validation gap: overfitting", ...);
- :func:`initial_loss`: a freshly initialized network's loss, split into data loss and L2 penalty.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from course import data, optim
from course.diagnostics import expected_initial_loss, update_to_weight_ratio
from course.models import FullyConnectedNet
from course.preprocess import standardize
from course.trainer import Trainer

__all__ = ["digits_data", "UPDATE_RULES", "WatchRecord", "WatchedTraining", "watch", "diagnose", "initial_loss",
           "weight_names", "GAP", "RATIO_GUIDE"]

UPDATE_RULES = {"sgd": optim.sgd, "momentum": optim.sgd_momentum, "adam": optim.adam}
RATIO_GUIDE = 1e-3  # the lecture notes' rough value for ||update|| / ||W||: a reference line, not a target
GAP = 0.08  # a training accuracy this far above the validation accuracy is a large gap
STALLED = 0.9  # a loss still above this fraction of its first value after an epoch is not decreasing
RISING = 1.5  # a loss above this multiple of its first value is rising: steps too large, though still finite


@functools.lru_cache(maxsize=None)
def _digits_split(seed: int):
    X, y = data.digits()
    split = data.train_val_test_split(X.reshape(len(X), -1), y, val=0.2, test=0.2, seed=seed)
    X_train, mean, std = standardize(split["X_train"])
    parts = {"X_train": X_train, "y_train": split["y_train"]}
    for part in ("val", "test"):
        parts[f"X_{part}"] = standardize(split[f"X_{part}"], mean, std)[0]
        parts[f"y_{part}"] = split[f"y_{part}"]
    for array in parts.values():
        array.flags.writeable = False
    return parts


def digits_data(seed: int = 0) -> dict:
    """The 8x8 digits for lab 07: flattened to (N, 64), split 60/20/20 into training, validation and test parts
    (stratified, seeded), each standardized with the training mean and standard deviation per pixel.

    Returns a new dict with X_train (1079, 64), y_train (1079,), X_val (359, 64), y_val, X_test (359, 64), y_test
    (the layout course.trainer.Trainer expects). The arrays are read-only and shared between calls.
    """
    return dict(_digits_split(seed))


def weight_names(model) -> list[str]:
    """The names of a model's weight matrices, W1, W2, ... in order (not the biases)."""
    return sorted((name for name in model.params if name.startswith("W")), key=lambda name: int(name[1:]))


def initial_loss(reg: float = 0.0, init_scale: float = 1.0, hidden=(32,), seed: int = 0, data: dict | None = None):
    """The softmax loss of a freshly initialized network on the whole training set, before any update.

    The network is FullyConnectedNet(hidden) with He weights multiplied by ``init_scale`` and L2 strength ``reg``.
    Returns (loss, data_loss, penalty): the loss the model reports, its softmax part, and 0.5 * reg * sum of W^2.
    """
    data = data if data is not None else digits_data()
    model = _network(reg, init_scale, hidden, seed, data)
    loss, _ = model.loss(data["X_train"], data["y_train"])
    penalty = 0.5 * reg * sum(np.sum(model.params[name] ** 2) for name in weight_names(model))
    return float(loss), float(loss - penalty), float(penalty)


def _network(reg, init_scale, hidden, seed, data) -> FullyConnectedNet:
    classes = int(max(data["y_train"].max(), data["y_val"].max())) + 1
    model = FullyConnectedNet(list(hidden), data["X_train"].shape[1], classes, reg=reg, seed=seed)
    for name in weight_names(model):
        model.params[name] = model.params[name] * init_scale
    return model


@dataclass(frozen=True)
class WatchRecord:
    """What a watched run recorded so far, over T iterations and E completed epochs, for L weight matrices.

    - loss: (T,) the minibatch loss of every iteration; epoch: (T,) where each iteration ends, in epochs
    - ratios: (T, L) ||update|| / ||W|| of each weight matrix at each iteration (W before the update)
    - train_acc, val_acc: (E,) after each epoch
    - first_loss, first_penalty: the loss of the first minibatch before any update, and its L2 part
    - num_classes: C, so that the first loss can be compared with ln C
    - diverged_at: the iteration (1-based) at which the loss diverged and training stopped, or None
    - done: True once training has ended; epochs: the number of epochs planned; train_size: training examples
    """
    loss: np.ndarray
    epoch: np.ndarray
    ratios: np.ndarray
    train_acc: np.ndarray
    val_acc: np.ndarray
    first_loss: float
    first_penalty: float
    num_classes: int
    diverged_at: int | None
    done: bool
    epochs: int
    train_size: int


class WatchedTraining:
    """A FullyConnectedNet trained on the digits by course.trainer.Trainer, one iteration at a time, watched.

    Settings: learning_rate; reg (L2 strength); batch_size; init_scale (the He weights are multiplied by it: 1 is
    He's initialization); train_size (the first examples of the training set, None for all); update_rule (a key
    of UPDATE_RULES or a rule); hidden (layer widths); epochs; seed (weights and minibatch order); data (a
    digits_data dict by default); ratio: the function ratio(w, update) -> ||update|| / ||w|| (course.diagnostics'
    update_to_weight_ratio, or a student's).

    Call :meth:`advance` until :attr:`done`; :meth:`record` returns what was recorded so far; ``model`` is the
    network (its first layer, ``model.params["W1"]`` (D, H), holds one weight image per hidden unit). When
    training ends the Trainer restores the parameters of the epoch with the best validation accuracy.
    """

    def __init__(self, learning_rate: float = 0.1, reg: float = 0.0, batch_size: int = 100, init_scale: float = 1.0,
                 train_size: int | None = None, update_rule="momentum", hidden=(32,), epochs: int = 20,
                 seed: int = 0, data: dict | None = None, ratio=update_to_weight_ratio):
        data = dict(data if data is not None else digits_data())
        if train_size is not None:
            data["X_train"], data["y_train"] = data["X_train"][:train_size], data["y_train"][:train_size]
        self.model = _network(reg, init_scale, hidden, seed, data)
        self.names = weight_names(self.model)
        self.ratio = ratio
        self.num_classes = self.model.params[self.names[-1]].shape[1]
        self.first_penalty = 0.5 * reg * sum(float(np.sum(self.model.params[n] ** 2)) for n in self.names)
        rule = UPDATE_RULES[update_rule] if isinstance(update_rule, str) else update_rule
        self.trainer = Trainer(self.model, data, rule, {"learning_rate": learning_rate}, batch_size=batch_size,
                               num_epochs=epochs, callback=self._watch, seed=seed, verbose=False)
        self._before = {name: self.model.params[name].copy() for name in self.names}
        self._ratios: list[list[float]] = []
        self._steps = self.trainer.steps()
        self.done = False

    def _watch(self, trainer: Trainer, event: str) -> None:
        if event != "iteration":
            return
        params = trainer.model.params
        self._ratios.append([float(self.ratio(self._before[n], params[n] - self._before[n])) for n in self.names])
        self._before = {name: params[name].copy() for name in self.names}

    def advance(self, n: int | None = None) -> WatchRecord:
        """Do up to ``n`` more iterations (all remaining ones if None) and return the record so far."""
        count = 0
        while not self.done and (n is None or count < n):
            try:
                next(self._steps)
                count += 1
            except StopIteration:
                self.done = True
        return self.record()

    def record(self) -> WatchRecord:
        t = self.trainer
        loss = np.array(t.loss_history[:len(self._ratios)], dtype=np.float64)
        return WatchRecord(
            loss=loss, epoch=np.arange(1, loss.size + 1) / t.iterations_per_epoch,
            ratios=np.array(self._ratios, dtype=np.float64).reshape(loss.size, len(self.names)),
            train_acc=np.array(t.train_acc_history), val_acc=np.array(t.val_acc_history),
            first_loss=float(loss[0]) if loss.size else float("nan"), first_penalty=self.first_penalty,
            num_classes=self.num_classes, diverged_at=t.iteration + 1 if t.diverged else None,
            done=self.done, epochs=t.num_epochs, train_size=len(t.y_train))


def watch(**settings) -> WatchRecord:
    """Run :class:`WatchedTraining` (same keyword arguments) to the end and return its record."""
    return WatchedTraining(**settings).advance()


def diagnose(record: WatchRecord) -> str:
    """What a practitioner would say about a run: one or two lines.

    - the initial loss against ln C (a sanity check): far above it without regularization means initial weights
      too large; with regularization the L2 penalty raises it, as it should;
    - "diverged at iteration k": the loss became NaN or exploded (the learning rate is too high), with the
      largest update-to-weight ratio seen (near 1 or above: each step rewrote the weights);
    - "loss rising": above RISING times its first value without diverging (the learning rate is too high: the
      network grows confident and its mistakes cost more and more, even while its accuracy may hold up);
    - "loss not decreasing": still above STALLED times its first value after an epoch; "loss barely decreasing":
      above half of it at the end (the learning rate is too low), with the size of the updates;
    - "large train/validation gap": training accuracy GAP or more above validation accuracy (overfitting; on a
      handful of examples, the sanity check passing);
    - "training accuracy only ...": below 90% (underfitting);
    - otherwise healthy, with how the updates shrank from the first epoch to the last (the ratio read as a relative
      signal: a converging run's updates shrink; no particular value is the target).
    Returns '' while nothing can be said yet.
    """
    lines = []
    if record.loss.size:
        data_loss, chance = record.first_loss - record.first_penalty, expected_initial_loss(record.num_classes)
        if not np.isfinite(record.first_loss) or data_loss > 1.5 * chance:
            lines.append(f"initial loss {record.first_loss:.3g}, far above ln {record.num_classes} = {chance:.2f}: "
                         "initial weights too large")
        elif record.first_penalty > 0.5 * chance:
            lines.append(f"initial loss {record.first_loss:.3g} = {data_loss:.2f} + {record.first_penalty:.3g} of L2 "
                         "penalty: regularization raises it, as it should")
    if record.diverged_at is not None:
        largest = np.nanmax(record.ratios) if np.isfinite(record.ratios).any() else float("nan")
        seen = f" (updates up to {largest:.2g} of the weights)" if np.isfinite(largest) else ""
        return "\n".join(lines + [f"diverged at iteration {record.diverged_at}: the learning rate is too high{seen}"])
    if record.train_acc.size == 0:
        return "\n".join(lines)
    per_epoch = max(1, int(round(1 / record.epoch[0])))
    first, recent = record.first_loss, record.loss[-per_epoch:].mean()
    early, late = float(np.median(record.ratios[:per_epoch])), float(np.median(record.ratios[-per_epoch:]))
    size = f"updates {late:.0e} of the weights"
    train, val = record.train_acc[-1], record.val_acc[-1]
    if recent > RISING * first:
        lines.append(f"loss rising ({first:.3g} -> {recent:.3g}) without diverging: learning rate too high ({size})")
    elif recent > STALLED * first:
        lines.append(f"loss not decreasing ({first:.3g} -> {recent:.3g}): learning rate too low? ({size})")
    elif not record.done:
        lines.append(f"training... epoch {record.train_acc.size} of {record.epochs}")
    elif recent > 0.5 * first:
        lines.append(f"loss barely decreasing ({first:.3g} -> {recent:.3g}): learning rate too low ({size})")
    elif train - val >= GAP and train == 1 and record.train_size <= 50:
        lines.append(f"sanity check passed: 100% on {record.train_size} training examples; validation {val:.0%}, "
                     "a large gap, as expected")
    elif train - val >= GAP:
        lines.append(f"large train/validation gap ({train:.0%} vs {val:.0%}): overfitting; more data or more "
                     "regularization")
    elif train < 0.9:
        lines.append(f"training accuracy only {train:.0%}: underfitting (regularization too strong?)")
    else:
        shrank = f"from {early:.0e} to {late:.0e}" if early > 3 * late else f"about {late:.0e}"
        lines.append(f"healthy: the loss falls, training {train:.0%} / validation {val:.0%}; updates {shrank} of "
                     "the weights")
    return "\n".join(lines)
