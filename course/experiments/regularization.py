"""Lab 06's experiments: overfitting, and how early stopping, L2, L1, max-norm, dropout and data augmentation
narrow the gap between training and held-out accuracy, measured over many seeds.

Networks trained side by side. A :class:`NetworkStack` holds S fully connected ReLU networks of the same shape,
one per seed, with their weights stacked: W{i} of shape (S, fan_in, fan_out), b{i} of shape (S, 1, fan_out).
:class:`StackTraining` trains them together by minibatch SGD with momentum, each on its own training set, so
ten seeds cost little more than one. Every matrix product is kept below OpenBLAS's threading threshold
(MAX_PRODUCT multiply-adds per matrix), so no thread pool starts, and the results do not depend on the number
of BLAS threads.

The regularizers are passed in as functions with the contracts of the course library, so a student's own
functions can drive the training: ``penalty(w, reg) -> (loss, dw)`` (course.losses.l2_penalty, l1_penalty),
a ``(dropout_forward, dropout_backward)`` pair (course.layers) and ``augment(X, rng) -> X`` for image batches
(course.preprocess). The penalty applies to the weights only, never to the biases.

- :func:`digits_holdout`: the shipped 8x8 digits scaled to [0, 1], split once into a training pool, a validation
  set (for early stopping) and a test set (never used for a choice);
- :func:`digits_study`: S networks, each trained on its own small subset of the pool; accuracies per epoch, the
  test accuracy at the end, at the best validation epoch and after early stopping with a patience;
- :func:`dropout_ensemble`: a dropout-trained network against the average of many thinned copies of it;
- :func:`noisy_moons`, :func:`moons_training` and :func:`class_one_probability`: the small 2-D problem with
  flipped labels behind the regularization explorer.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from course import activations, data, init, layers, losses
from course._validate import check_int, check_scalar

MAX_PRODUCT = 2 ** 18  # multiply-adds per matrix product below which OpenBLAS stays on one thread


# --- networks trained side by side ------------------------------------------------------------------------------

class NetworkStack:
    """S fully connected ReLU networks sizes[0] -> sizes[1] -> ... -> sizes[-1], one per seed, He-initialized from
    its own generator (biases 0), computing in ``dtype`` (float32 halves the time of the many-seed experiments).

    ``params``: W1 (S, sizes[0], sizes[1]), b1 (S, 1, sizes[1]), ..., W{L}, b{L}, the same names as
    course.models.FullyConnectedNet with a leading seed axis.
    """

    def __init__(self, sizes, seeds, dtype=np.float64):
        self.sizes = [check_int(s, "every layer size") for s in sizes]
        self.dtype = np.dtype(dtype)
        self.seeds = list(seeds)
        if len(self.sizes) < 2 or not self.seeds:
            raise ValueError(f"need at least an input and an output size, and one seed; got sizes {sizes}, "
                             f"seeds {self.seeds}")
        rngs = [np.random.default_rng(seed) for seed in self.seeds]
        self.params = {}
        for i, shape in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            self.params[f"W{i}"] = np.stack([init.he(shape, rng) for rng in rngs]).astype(self.dtype)
            self.params[f"b{i}"] = np.zeros((len(self.seeds), 1, shape[1]), dtype=self.dtype)
        self.num_layers = len(self.sizes) - 1
        self._rows = max(1, MAX_PRODUCT // max(a * b for a, b in zip(self.sizes[:-1], self.sizes[1:])))

    @property
    def weights(self) -> list[np.ndarray]:
        """The weight matrices W1..W{L}, each (S, fan_in, fan_out)."""
        return [self.params[f"W{i}"] for i in range(1, self.num_layers + 1)]

    def scores(self, X) -> np.ndarray:
        """Test-mode class scores (S, N, C) for X of shape (N, D) (the same examples for every network) or
        (S, N, D)."""
        return self.forward(X)

    def forward(self, h, start: int = 1, stop: int | None = None, keep: float = 1.0, rng=None) -> np.ndarray:
        """Layers start..stop (1-based, stop = the last by default) on their input h ((N, fan_in) shared by every
        network, or (S, N, fan_in)): affine, then ReLU for a hidden layer, followed, when keep < 1, by inverted
        dropout in train mode (a thinned network, masks drawn from rng). Computed in chunks of rows so that no
        product starts BLAS threads. Returns (S, N, width of layer stop)."""
        stop = self.num_layers if stop is None else stop
        h = np.asarray(h, dtype=self.dtype)
        h = np.broadcast_to(h, (len(self.seeds), *h.shape)) if h.ndim == 2 else h
        chunks = []
        for first in range(0, h.shape[1], self._rows):
            out = h[:, first:first + self._rows]
            for i in range(start, stop + 1):
                out = out @ self.params[f"W{i}"] + self.params[f"b{i}"]
                if i < self.num_layers:
                    out = np.maximum(out, 0.0)
                    if keep < 1:
                        out = layers.dropout_forward(out, {"p": keep, "mode": "train", "rng": rng})[0]
            chunks.append(out)
        return np.concatenate(chunks, axis=1)

    def accuracy(self, X, y) -> np.ndarray:
        """(S,) fraction of the examples X ((N, D) or (S, N, D)) whose top score is the label y ((N,) or (S, N))."""
        return np.mean(self.scores(X).argmax(axis=2) == y, axis=-1)

    def loss(self, X, y, keep: float = 1.0, dropout=(layers.dropout_forward, layers.dropout_backward), rng=None):
        """Training-mode softmax loss and gradients for a minibatch per network: X (S, B, D), y (S, B).

        Dropout with keep probability ``keep`` follows every hidden ReLU (when keep < 1), through the
        (forward, backward) pair ``dropout`` with masks drawn from ``rng``. Returns (loss, grads): the mean over
        the networks of each one's average loss, and grads keyed like ``params``, each network's gradient of
        its own loss. Rows are not chunked: a minibatch of more than MAX_PRODUCT / (fan_in * fan_out) rows may
        start BLAS threads (faster on an idle machine, but the last bits then depend on the thread count).
        """
        forward, backward = dropout
        S, B = X.shape[:2]
        h, caches = X, []
        for i in range(1, self.num_layers):
            z = h @ self.params[f"W{i}"] + self.params[f"b{i}"]
            a = np.maximum(z, 0.0)
            out, cache = forward(a, {"p": keep, "mode": "train", "rng": rng}) if keep < 1 else (a, None)
            caches.append((h, z, cache))
            h = out
        L = self.num_layers
        scores = h @ self.params[f"W{L}"] + self.params[f"b{L}"]
        loss, dscores = losses.softmax_loss(scores.reshape(S * B, -1), y.reshape(-1))
        d = dscores.reshape(scores.shape) * self.dtype.type(S)  # softmax_loss averaged over S * B rows, each
        # network's loss over its own B
        grads = {f"W{L}": np.swapaxes(h, 1, 2) @ d, f"b{L}": d.sum(axis=1, keepdims=True)}
        for i in range(L - 1, 0, -1):
            d = d @ np.swapaxes(self.params[f"W{i + 1}"], 1, 2)
            h_in, z, cache = caches[i - 1]
            if cache is not None:
                d = backward(d, cache)
            d = np.where(z > 0, d, self.dtype.type(0))
            grads[f"W{i}"] = np.swapaxes(h_in, 1, 2) @ d
            grads[f"b{i}"] = d.sum(axis=1, keepdims=True)
        return loss, grads


def _network_losses(scores, y) -> np.ndarray:
    """The softmax loss of each network: scores (S, N, C), labels y (N,) or (S, N) -> (S,), the mean over the N
    examples of -log softmax(scores)[y] (as course.losses.softmax_loss, for S networks at once)."""
    log_probs = scores - _logsumexp(scores)
    y = np.broadcast_to(y, scores.shape[:2])
    return -np.take_along_axis(log_probs, y[..., None], axis=2)[..., 0].mean(axis=1)


def clip_max_norm(w: np.ndarray, max_norm: float) -> np.ndarray:
    """Max-norm constraint: every unit's incoming weight vector (a column of w, the fan_in axis -2) scaled down
    to Euclidean norm at most ``max_norm``; columns already within the ball are unchanged.

    Inputs: w of shape (..., fan_in, fan_out); max_norm > 0. Returns an array shaped like w.
    """
    max_norm = check_scalar(max_norm, "max_norm", low=0, low_open=True)
    norms = np.sqrt(np.sum(np.square(w), axis=-2, keepdims=True))
    return w * np.minimum(1.0, max_norm / np.maximum(norms, 1e-300))


@dataclass(frozen=True)
class Regularizer:
    """The regularization of a training run; the defaults regularize nothing.

    - penalty, reg: ``penalty(w, reg) -> (loss, dw)`` added for every weight matrix (not the biases), strength reg
    - keep, dropout: keep probability of every hidden unit and the (forward, backward) pair of inverted dropout
    - augment: ``augment(X, rng) -> X`` applied to every training minibatch of images (N, C, H, W), or None
    - max_norm: after every update each unit's incoming weights are clipped to this norm (None: no constraint)
    - max_norm_layers: the layers whose units are clipped, numbered from 1 like W1, W2, ... (None: every layer,
      the output units included; (1,): the first hidden layer only)
    """
    penalty: object = losses.l2_penalty
    reg: float = 0.0
    keep: float = 1.0
    dropout: tuple = (layers.dropout_forward, layers.dropout_backward)
    augment: object = None
    max_norm: float | None = None
    max_norm_layers: tuple | None = None

    def clips(self, name: str) -> bool:
        """Whether the parameter ``name`` (W1, b1, ...) is a weight matrix under the max-norm constraint."""
        return (self.max_norm is not None and name.startswith("W")
                and (self.max_norm_layers is None or int(name[1:]) in self.max_norm_layers))


class StackTraining:
    """Minibatch SGD with momentum (v <- momentum v - learning_rate dw; w <- w + v) of a :class:`NetworkStack`,
    network s on its own training set X_train[s], y_train[s], with the :class:`Regularizer` ``regularizer``.

    Inputs:
    - X_train: (S, N, ...) examples per network (images (S, N, C, H, W) when there is an augmentation: it is
      applied to the minibatch as images, then flattened); y_train: (S, N)
    - X_val, y_val: (M, ...) and (M,), shared by all networks: measured after every epoch
    - batch_size, learning_rate, momentum, epochs; seed: seeds the minibatch order, the dropout masks and the
      augmentation (one generator for the whole stack)

    Call :meth:`advance` until :attr:`done`. After each epoch (with ``track``; else after the last one only)
    ``history`` gains the test-mode accuracy and data loss of every network on its training set and on the
    validation set; ``best`` keeps, per network, the parameters of its best validation accuracy so far (the
    checkpoint early stopping returns), ``best_epoch`` its epoch, and ``stopped`` the parameters early stopping
    with ``patience`` epochs returns (stopping once the best epoch is ``patience`` epochs old, as
    course.trainer.Trainer does; ``stop_epoch`` says when), None without a patience. A loss that is not finite
    stops the run and sets ``diverged_at`` (the epoch).
    """

    def __init__(self, stack: NetworkStack, X_train, y_train, X_val, y_val, regularizer: Regularizer = Regularizer(),
                 batch_size: int = 20, learning_rate: float = 0.05, momentum: float = 0.9, epochs: int = 60,
                 patience: int | None = None, seed: int = 0, track: bool = True):
        self.stack, self.reg = stack, regularizer
        self.images = np.asarray(X_train, dtype=stack.dtype)
        self.X_train = self.images.reshape(*self.images.shape[:2], -1)
        self.y_train = np.asarray(y_train)
        self.X_val = np.asarray(X_val, dtype=stack.dtype).reshape(len(y_val), -1)
        self.y_val = np.asarray(y_val)
        self.batch_size = check_int(batch_size, "batch_size")
        self.learning_rate = check_scalar(learning_rate, "learning_rate", low=0, low_open=True)
        self.momentum = check_scalar(momentum, "momentum", low=0, high=1, high_open=True)
        self.epochs = check_int(epochs, "epochs")
        self.patience = None if patience is None else check_int(patience, "patience")
        self.rng = np.random.default_rng(seed)
        self.velocity = {name: np.zeros_like(p) for name, p in stack.params.items()}
        S = len(stack.seeds)
        self.history = {key: [] for key in ("train_acc", "val_acc", "train_loss", "val_loss")}
        self.best_val = np.full(S, -np.inf)
        self.best_epoch = np.zeros(S, dtype=int)
        self.best = {name: p.copy() for name, p in stack.params.items()}
        self.stopped = None if self.patience is None else {name: p.copy() for name, p in stack.params.items()}
        self.stop_epoch = np.full(S, self.epochs)
        self.track = track
        self.epoch = 0
        self.diverged_at: int | None = None

    @property
    def done(self) -> bool:
        return self.diverged_at is not None or self.epoch >= self.epochs

    def advance(self, epochs: int | None = None) -> None:
        """Train up to ``epochs`` more epochs (all remaining ones if None)."""
        for _ in range(self.epochs - self.epoch if epochs is None else epochs):
            if self.done:
                return
            self._epoch()

    def _epoch(self) -> None:
        S, N = self.y_train.shape
        order = np.argsort(self.rng.random((S, N)), axis=1)
        seeds = np.arange(S)[:, None]
        with np.errstate(over="ignore", invalid="ignore"):
            for start in range(0, N, self.batch_size):
                batch = order[:, start:start + self.batch_size]
                X = self.X_train[seeds, batch] if self.reg.augment is None else self._augmented(batch)
                loss, grads = self.stack.loss(X, self.y_train[seeds, batch], self.reg.keep, self.reg.dropout,
                                              self.rng)
                if not np.isfinite(loss):
                    self.diverged_at = self.epoch
                    return
                self._update(grads)
        self.epoch += 1
        if self.track or self.epoch == self.epochs:
            self._measure()

    def _augmented(self, batch) -> np.ndarray:
        images = self.images[np.arange(batch.shape[0])[:, None], batch]
        flat = images.reshape(-1, *images.shape[2:])
        return self.reg.augment(flat, self.rng).reshape(*batch.shape, -1)

    def _update(self, grads) -> None:
        params = self.stack.params
        for name, w in params.items():
            grad = grads[name]
            if name.startswith("W") and self.reg.reg:
                grad = grad + self.reg.penalty(w, self.reg.reg)[1]
            v = self.velocity[name]
            v *= self.momentum
            v -= self.learning_rate * grad
            w += v
            if self.reg.clips(name):
                w[...] = clip_max_norm(w, self.reg.max_norm)

    def _measure(self) -> None:
        stack = self.stack
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            val_scores = stack.scores(self.X_val)
            train_scores = stack.scores(self.X_train)
        if not (np.all(np.isfinite(val_scores)) and np.all(np.isfinite(train_scores))):
            self.diverged_at = self.epoch
            return
        val_acc = np.mean(val_scores.argmax(axis=2) == self.y_val, axis=1)
        self.history["val_acc"].append(val_acc)
        self.history["train_acc"].append(np.mean(train_scores.argmax(axis=2) == self.y_train, axis=1))
        self.history["val_loss"].append(_network_losses(val_scores, self.y_val))
        self.history["train_loss"].append(_network_losses(train_scores, self.y_train))
        improved = val_acc > self.best_val
        self.best_val = np.where(improved, val_acc, self.best_val)
        self.best_epoch = np.where(improved, self.epoch, self.best_epoch)
        running = self.stop_epoch >= self.epochs  # not stopped early yet
        for name, p in stack.params.items():
            self.best[name] = np.where(improved[:, None, None], p, self.best[name])
            if self.stopped is not None:
                self.stopped[name] = np.where((improved & running)[:, None, None], p, self.stopped[name])
        if self.patience is not None:
            stop_now = running & (self.epoch - self.best_epoch >= self.patience)
            self.stop_epoch = np.where(stop_now, self.epoch, self.stop_epoch)

    def record(self) -> dict:
        """The history so far: name -> (S, E) array for E completed epochs."""
        S = len(self.stack.seeds)
        return {key: np.array(values).T.reshape(S, len(values)) for key, values in self.history.items()}


# --- the digits experiment --------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _digits_split():
    X, y = data.digits()
    split = data.train_val_test_split(X / 16.0, y, val=0.2, test=0.3, seed=0)
    for value in split.values():
        value.flags.writeable = False  # shared by every caller
    return split


def digits_holdout() -> dict:
    """The shipped digits (course.data.digits), scaled to [0, 1], split once (seed 0, stratified): X_train (899,
    1, 8, 8) is the pool the small training sets are drawn from, X_val (359, ...) serves early stopping, X_test
    (539, ...) only measures. Returns a new dict of (read-only) arrays."""
    return dict(_digits_split())


def digits_subset(n_per_class: int, seed: int) -> np.ndarray:
    """Indices into digits_holdout()["X_train"] of a class-balanced subset: n_per_class examples of each digit,
    drawn with ``seed``. Returns (10 * n_per_class,) indices."""
    y = _digits_split()["y_train"]
    rng = np.random.default_rng(seed)
    check_int(n_per_class, "n_per_class", high=int(np.bincount(y).min()))
    return np.concatenate([rng.choice(np.flatnonzero(y == c), n_per_class, replace=False) for c in range(10)])


def noisy_labels(y, fraction: float, seed: int) -> np.ndarray:
    """A copy of the labels y (N,) in [0, 10) with round(fraction * N) of them, chosen at random, replaced by one of
    the nine other classes (uniformly): the wrong labels real data sets contain, made many."""
    fraction = check_scalar(fraction, "fraction", low=0, high=1)
    rng = np.random.default_rng([seed, 606])
    y = np.array(y)
    wrong = rng.choice(y.size, round(fraction * y.size), replace=False)
    y[wrong] = (y[wrong] + rng.integers(1, 10, size=wrong.size)) % 10
    return y


@dataclass(frozen=True)
class DigitsStudy:
    """One setting trained once per seed (S seeds) by :func:`digits_study`.

    - train_acc, val_acc, train_loss, val_loss: (S, E) after each of the E epochs (test mode, on the training
      labels as given, wrong ones included), or (S, 1) after the last epoch only when the run did not track
    - train_acc_correct: (S,) accuracy after the last epoch on the training digits whose label is right (all of
      them without label noise): how much of the real pattern the network fits, whatever it does with wrong labels
    - test_final: (S,) test accuracy after the last epoch
    - test_best, best_epoch: (S,) test accuracy of the checkpoint with the best validation accuracy, and its
      epoch (1-based), when tracked
    - test_stopped, stop_epoch: (S,) test accuracy where early stopping with the given patience returned, and
      the epoch it stopped at (the last epoch when it never stopped); None without a patience
    - network: the S trained networks (a :class:`NetworkStack`, float32), as after the last epoch
    """
    train_acc: np.ndarray
    val_acc: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    train_acc_correct: np.ndarray
    test_final: np.ndarray
    test_best: np.ndarray | None
    best_epoch: np.ndarray | None
    test_stopped: np.ndarray | None
    stop_epoch: np.ndarray | None
    network: NetworkStack

    @property
    def gap(self) -> np.ndarray:
        """(S,) training accuracy minus test accuracy after the last epoch."""
        return self.train_acc[:, -1] - self.test_final


def digits_study(seeds=range(10), n_per_class: int = 10, label_noise: float = 0.0, hidden=(128,), epochs: int = 60,
                 batch_size: int = 20, learning_rate: float = 0.02, momentum: float = 0.9, curves: bool = False,
                 patience: int | None = None, **regularizer) -> DigitsStudy:
    """Train one network 64 -> hidden -> 10 per seed, each on its own class-balanced subset of the digits
    (n_per_class of each digit, :func:`digits_subset`) with a fraction ``label_noise`` of its labels wrong
    (:func:`noisy_labels`), all side by side in float32 (:class:`StackTraining`), and measure them
    (:class:`DigitsStudy`). With ``curves`` or a ``patience`` every epoch is measured on the validation set
    (early stopping needs it); else only the last. ``regularizer``: the fields of :class:`Regularizer`
    (penalty, reg, keep, dropout, augment, max_norm)."""
    seeds = list(seeds)
    split = _digits_split()
    subsets = np.stack([digits_subset(n_per_class, seed) for seed in seeds])
    labels = np.stack([noisy_labels(split["y_train"][subset], label_noise, seed)
                       for subset, seed in zip(subsets, seeds)])
    stack = NetworkStack([64, *hidden, 10], seeds, dtype=np.float32)
    track = curves or patience is not None
    training = StackTraining(stack, split["X_train"][subsets], labels, split["X_val"], split["y_val"],
                             Regularizer(**regularizer), batch_size, learning_rate, momentum, epochs, patience,
                             seed=seeds[0], track=track)
    training.advance()
    if training.diverged_at is not None:
        raise FloatingPointError(f"training diverged at epoch {training.diverged_at + 1}: lower the learning rate")
    right = labels == split["y_train"][subsets]  # (S, N): the labels given are the true ones
    predicted = stack.scores(training.X_train).argmax(axis=2)
    train_acc_correct = np.sum((predicted == labels) & right, axis=1) / np.sum(right, axis=1)
    X_test, y_test = split["X_test"].reshape(len(split["y_test"]), -1), split["y_test"]
    final, test = stack.params, {}
    for key, params in (("final", final), ("best", training.best if track else None), ("stopped", training.stopped)):
        if params is not None:
            stack.params = params
            test[key] = stack.accuracy(X_test, y_test)
    stack.params = final
    history = training.record()
    return DigitsStudy(history["train_acc"], history["val_acc"], history["train_loss"], history["val_loss"],
                       train_acc_correct, test["final"], test.get("best"),
                       training.best_epoch.copy() if track else None, test.get("stopped"),
                       None if patience is None else np.minimum(training.stop_epoch, epochs), stack)


@dataclass(frozen=True)
class DropoutEnsemble:
    """The full networks of a stack against the average of M thinned copies of them, on N examples.

    - test_scores: (S, N, C) the scores of the full networks (test mode: every unit kept, nothing rescaled)
    - mean_scores: (S, N, C) the scores of the M thinned networks, averaged
    - mean_probabilities: (S, N, C) their softmax probabilities, averaged: the ensemble's prediction
    """
    test_scores: np.ndarray
    mean_scores: np.ndarray
    mean_probabilities: np.ndarray


def dropout_ensemble(network: NetworkStack, X, keep: float, masks: int = 100, seed: int = 0) -> DropoutEnsemble:
    """Run every network of ``network`` on X (N, D) once in test mode and ``masks`` times thinned: every hidden
    unit kept with probability keep and divided by keep (course.layers.dropout_forward in train mode, a new mask
    each time, drawn from ``seed``). The first layer's activations do not depend on the mask and are computed once.
    Returns a :class:`DropoutEnsemble`."""
    check_int(masks, "masks")
    rng = np.random.default_rng(seed)
    first = network.forward(X, stop=1)  # the first hidden layer's ReLU output: the same for every mask
    test = network.forward(first, start=2)
    mean_scores, mean_probabilities = np.zeros_like(test), np.zeros_like(test)
    for _ in range(masks):
        thinned = layers.dropout_forward(first, {"p": keep, "mode": "train", "rng": rng})[0]
        scores = network.forward(thinned, start=2, keep=keep, rng=rng)
        mean_scores += scores / masks
        mean_probabilities += np.exp(scores - _logsumexp(scores)) / masks
    return DropoutEnsemble(test, mean_scores, mean_probabilities)


def _logsumexp(scores) -> np.ndarray:
    top = scores.max(axis=-1, keepdims=True)
    return top + np.log(np.exp(scores - top).sum(axis=-1, keepdims=True))


# --- the 2-D problem behind the explorer -----------------------------------------------------------------------

MOONS_CENTRE = np.array([0.5, 0.25])  # the middle of course.data.moons: the networks see centred points
MOONS_NOISE = 0.15


def noisy_moons(n: int, label_noise: float, seed: int, noise: float = MOONS_NOISE):
    """course.data.moons(n, noise, seed) with round(label_noise * n) labels, chosen at random, flipped.

    Returns (X, y, flipped): X (N, 2) in the moons' own coordinates (about [-1, 2] x [-0.5, 1]), y (N,) in
    {0, 1}, flipped (N,) True where the label was flipped.
    """
    X, y = data.moons(n, noise, seed)
    label_noise = check_scalar(label_noise, "label_noise", low=0, high=1)
    flipped = np.zeros(n, dtype=bool)
    flipped[np.random.default_rng([seed, 606]).choice(n, round(label_noise * n), replace=False)] = True
    return X, np.where(flipped, 1 - y, y), flipped


def moons_training(n_train: int = 60, label_noise: float = 0.2, epochs: int = 1000, seed: int = 0,
                   regularizer: Regularizer = Regularizer(), hidden=(64, 64), batch_size: int | None = None,
                   learning_rate: float = 0.1, n_val: int = 400) -> StackTraining:
    """One network 2 -> hidden -> 2 (a :class:`NetworkStack` of one) set up to train on :func:`noisy_moons`
    (n_train points, a fraction label_noise of their labels flipped, seed) and validate on n_val other points with
    correct labels (seed + 1000), by :class:`StackTraining` (full-batch gradient descent with momentum when
    batch_size is None); call its ``advance``. The points are centred on MOONS_CENTRE for the network."""
    X, y, _ = noisy_moons(n_train, label_noise, seed)
    X_val, y_val, _ = noisy_moons(n_val, 0.0, seed + 1000)
    stack = NetworkStack([2, *hidden, 2], [seed])
    return StackTraining(stack, (X - MOONS_CENTRE)[None], y[None], X_val - MOONS_CENTRE, y_val, regularizer,
                         batch_size or n_train, learning_rate, 0.9, epochs, seed=seed)


def class_one_probability(stack: NetworkStack, X) -> np.ndarray:
    """The first network's probability of class 1 (softmax over two classes = sigmoid of s1 - s0) at the points
    X (N, 2) in the moons' coordinates. Returns (N,)."""
    scores = stack.scores(np.asarray(X, dtype=np.float64) - MOONS_CENTRE)[0]
    return activations.sigmoid(scores[:, 1] - scores[:, 0])


__all__ = ["MAX_PRODUCT", "NetworkStack", "clip_max_norm", "Regularizer", "StackTraining", "digits_holdout",
           "digits_subset", "noisy_labels", "DigitsStudy", "digits_study", "DropoutEnsemble", "dropout_ensemble",
           "MOONS_CENTRE", "MOONS_NOISE", "noisy_moons", "moons_training", "class_one_probability"]
