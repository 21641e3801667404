"""Lab 03's experiments: one deep ReLU network trained with and without batch normalization, many copies at once.

The network classifies the 8x8 digits: D = 64 inputs -> L hidden layers of width H -> C = 10 scores, each hidden
layer affine -> [batch norm] -> ReLU, the softmax loss on top, trained by minibatch SGD for a fixed number of
steps. Every weight matrix is drawn normal with standard deviation gain * sqrt(2 / fan_in) (the output layer's
with output_gain, by default the same gain): gain 1 is He's initialization, which keeps the spread of the
activations through ReLU layers; another gain g multiplies it by about g at every layer, so without batch norm
the last hidden layer sees g^(L-1) times the first one's spread.

Replicas. R copies of the network ("replicas"), each with its own seed (weights and minibatch order), gain and
learning rate, train in lockstep, so that a study over seeds and settings costs a few array operations per step
instead of a Python loop per run: a layer's weights are one array (R, fan_in, fan_out) and its product one batched
matmul. Batch norm runs on all replicas in a single call of an ordinary ``batchnorm_forward(x, gamma, beta,
bn_param)`` (the reference or a student's): the pre-activations (R, B, H) are laid out as x of shape (B, R * H),
one column per (replica, unit) (:func:`replica_columns`), and batch norm normalizes every column over the B
examples of its replica's minibatch, exactly as it would normalize each replica alone. A replica's results do not
depend on the other replicas.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from course import data, layers
from course._validate import check_int, check_scalar
from course.experiments.activations import DIVERGENCE_FACTOR
from course.preprocess import standardize

__all__ = ["standardized_digits", "replica_columns", "from_replica_columns", "ModeAccuracy", "BatchNormTraining"]


@functools.lru_cache(maxsize=1)
def standardized_digits() -> dict:
    """The 8x8 digits flattened to (N, 64) and split into training and validation parts (stratified, seed 0), both
    standardized with the training mean and standard deviation: X_train (1438, 64), y_train (1438,), X_val
    (359, 64), y_val (359,). The same (read-only) arrays on every call."""
    X, y = data.digits()
    split = data.train_val_test_split(X.reshape(len(X), -1), y, val=0.2, test=0.0, seed=0)
    X_train, mean, std = standardize(split["X_train"])
    X_val, _, _ = standardize(split["X_val"], mean, std)
    arrays = {"X_train": X_train, "y_train": split["y_train"], "X_val": X_val, "y_val": split["y_val"]}
    for a in arrays.values():
        a.flags.writeable = False
    return arrays


def replica_columns(z: np.ndarray) -> np.ndarray:
    """(R, B, H) -> (B, R * H): one column per (replica, unit), the layout batch norm normalizes column by column."""
    r, b, h = z.shape
    return z.transpose(1, 0, 2).reshape(b, r * h)


def from_replica_columns(x: np.ndarray, r: int) -> np.ndarray:
    """(B, R * H) -> (R, B, H), the inverse of :func:`replica_columns`."""
    return x.reshape(x.shape[0], r, -1).transpose(1, 0, 2)


@dataclass(frozen=True)
class ModeAccuracy:
    """Validation accuracy of every replica after ``step`` steps, shape (R,) each.

    - test_mode: batch norm with the running averages (what the network does once deployed)
    - train_mode: batch norm with the statistics of each batch, the validation examples taken in consecutive
      batches of the training batch size B (what the network computed while it trained); equal to test_mode
      without batch norm
    """
    step: int
    test_mode: np.ndarray
    train_mode: np.ndarray


class BatchNormTraining:
    """R replicas of the deep network of the module docstring trained in lockstep by minibatch SGD.

    Inputs:
    - batchnorm: False (no batch norm), True (course.layers' batch norm) or a (forward, backward) pair with the
      contract of course.layers.batchnorm_forward / batchnorm_backward, such as a student's
    - gain, learning_rate, seed: a number each, or 1-D sequences with one value per replica (numbers are repeated)
    - output_gain: the gain of the output layer's weights, in the same form (None: the same as gain). Batch norm
      follows every hidden layer, not the output layer, so only this scale still reaches the scores
    - batch_size B (>= 2 with batch norm: the variance of one example is 0), momentum (of the running averages)
      and eps: shared by the replicas
    - steps: the number of SGD steps T; hidden: the L hidden widths (all equal, H)
    - eval_every: evaluate the validation accuracy every this many steps (and after the last one); None: only
      after the last one
    - dataset: a dict as returned by :func:`standardized_digits` (the default)

    Each replica's minibatches run through its own shuffles of the training set, one epoch after another. Call
    :meth:`advance` until :attr:`done`. Then (and after every step):
    - ``losses``: (T, R) the minibatch loss of every completed step, NaN from the step a replica diverged
    - ``diverged_at``: (R,) the step at which a replica's loss stopped being finite or rose above
      DIVERGENCE_FACTOR times its first value (its parameters stay as they were before that step), or -1
    - ``before``, ``after``: lists of L arrays (R, B, H), the last minibatch's pre-activations of each hidden
      layer before and after batch norm (the same arrays without batch norm)
    - ``evaluations``: list of :class:`ModeAccuracy`
    - ``params``: dict of lists, one array per layer: "W" (R, fan_in, fan_out), "b" (R, 1, fan_out) and with
      batch norm "gamma", "beta" (R, H); ``bn_params``: the L batch-norm dicts (running averages of shape (R * H,))
    """

    def __init__(self, batchnorm=True, gain=1.0, learning_rate=0.1, seed=0, batch_size: int = 32,
                 momentum: float = 0.9, eps: float = 1e-5, steps: int = 300, hidden=(32,) * 6,
                 eval_every: int | None = None, dataset: dict | None = None, output_gain=None):
        self.bn = _batchnorm_pair(batchnorm)
        gain, output_gain, learning_rate, seed = (np.atleast_1d(a) for a in np.broadcast_arrays(
            np.asarray(gain, dtype=np.float64), np.asarray(gain if output_gain is None else output_gain,
                                                           dtype=np.float64),
            np.asarray(learning_rate, dtype=np.float64), np.asarray(seed)))
        if gain.ndim != 1:
            raise ValueError("gain, output_gain, learning_rate and seed must be numbers or 1-D sequences; got shape "
                             f"{gain.shape}")
        for name, values in (("gain", gain), ("output_gain", output_gain), ("learning_rate", learning_rate)):
            if not np.all(np.isfinite(values) & (values > 0)):
                raise ValueError(f"every {name} must be > 0; got {values}")
        self.gain, self.output_gain, self.learning_rate, self.seeds = gain, output_gain, learning_rate, seed
        self.batch_size = check_int(batch_size, "batch_size", low=2 if self.bn else 1, note=(
            "with batch norm: the variance of a single example is 0, so it cannot be normalized" if self.bn else ""))
        self.momentum = check_scalar(momentum, "momentum", low=0, high=1)
        self.eps = check_scalar(eps, "eps", low=0, low_open=True)
        self.steps = check_int(steps, "steps")
        self.eval_every = None if eval_every is None else check_int(eval_every, "eval_every")
        self.data = dataset if dataset is not None else standardized_digits()
        n_train, d = self.data["X_train"].shape
        hidden = [check_int(h, "every hidden width") for h in hidden]
        if len(set(hidden)) != 1:
            raise ValueError(f"the hidden layers must all have the same width; got {hidden}")
        self.replicas = r = gain.size
        dims = [d, *hidden, int(self.data["y_train"].max()) + 1]
        rngs = [np.random.default_rng(int(s)) for s in seed]
        layer_gains = [gain] * len(hidden) + [output_gain]
        self.params = {
            "W": [np.stack([g * np.sqrt(2 / m) * rng.standard_normal((m, n)) for g, rng in zip(gains, rngs)])
                  for gains, m, n in zip(layer_gains, dims[:-1], dims[1:])],
            "b": [np.zeros((r, 1, n)) for n in dims[1:]],
        }
        if self.bn:
            self.params["gamma"] = [np.ones((r, h)) for h in hidden]
            self.params["beta"] = [np.zeros((r, h)) for h in hidden]
        self.bn_params = [{"mode": "train", "momentum": self.momentum, "eps": self.eps} for _ in hidden] \
            if self.bn else []
        epochs = -(-self.steps * self.batch_size // n_train)
        self._batches = np.stack([np.concatenate([rng.permutation(n_train) for _ in range(epochs)])
                                  [:self.steps * self.batch_size].reshape(self.steps, self.batch_size)
                                  for rng in rngs], axis=1)  # (T, R, B) example indices
        self._losses: list[np.ndarray] = []
        self.diverged_at = np.full(r, -1)
        self.before: list[np.ndarray] = []
        self.after: list[np.ndarray] = []
        self.evaluations: list[ModeAccuracy] = []

    # --- progress -------------------------------------------------------------------------------------------------
    @property
    def step(self) -> int:
        """Number of completed steps."""
        return len(self._losses)

    @property
    def done(self) -> bool:
        """True after the last step, or once every replica has diverged."""
        return self.step >= self.steps or bool(np.all(self.diverged_at >= 0))

    @property
    def losses(self) -> np.ndarray:
        return np.array(self._losses).reshape(self.step, self.replicas)

    def advance(self, n: int | None = None) -> "BatchNormTraining":
        """Do up to ``n`` more steps (all remaining ones if None), evaluating when due; returns self."""
        for _ in range(self.steps - self.step if n is None else n):
            if self.done:
                break
            self._step()
            if (self.eval_every and self.step % self.eval_every == 0) or self.done:
                self.evaluations.append(self.evaluate())
        return self

    # --- the network ----------------------------------------------------------------------------------------------
    def _forward(self, X, mode, params=None, bn_params=None):
        """Scores (R, N, C) for inputs X (R, N, D), with the hidden layers' caches (h_in, z, a, bn_cache): z before
        and a after batch norm. ``mode`` "train" normalizes with the batch statistics and updates the running
        averages in ``bn_params`` (default: the network's own), "test" normalizes with the running averages."""
        p = params or self.params
        r, h, caches = X.shape[0], X, []
        for i, (w, b) in enumerate(zip(p["W"][:-1], p["b"][:-1])):
            z = h @ w + b
            a, bn_cache = z, None
            if self.bn:
                param = (bn_params or self.bn_params)[i]
                param["mode"] = mode
                out, bn_cache = self.bn[0](replica_columns(z), p["gamma"][i].ravel(), p["beta"][i].ravel(), param)
                a = from_replica_columns(out, r)
            caches.append((h, z, a, bn_cache))
            h = np.maximum(a, 0)
        return h @ p["W"][-1] + p["b"][-1], caches, h

    def loss(self, X: np.ndarray, y: np.ndarray):
        """The mean softmax loss of every replica on its minibatch, in train mode, and its gradients.

        Inputs: X (R, B, D), y (R, B) integer labels. Returns (loss, grads): loss (R,), grads a dict of lists
        keyed and shaped like ``params``. Records ``before`` and ``after``, and updates the running averages."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            scores, caches, h = self._forward(X, "train")
            shifted = scores - scores.max(axis=2, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
            y = y[:, :, None]
            loss = -np.take_along_axis(log_p, y, axis=2).mean(axis=(1, 2))
            dscores = np.exp(log_p)
            np.put_along_axis(dscores, y, np.take_along_axis(dscores, y, axis=2) - 1, axis=2)
            grads = self._backward(dscores / X.shape[1], caches, h)
        self.before, self.after = [c[1] for c in caches], [c[2] for c in caches]
        return loss, grads

    def _step(self) -> None:
        batch = self._batches[self.step]  # (R, B)
        loss, grads = self.loss(self.data["X_train"][batch], self.data["y_train"][batch])
        alive = self.diverged_at < 0
        first = self._losses[0] if self._losses else loss
        with np.errstate(invalid="ignore"):
            diverging = alive & ~(loss <= DIVERGENCE_FACTOR * first)  # NaN compares False
        self.diverged_at[diverging] = self.step
        alive &= ~diverging
        rate = np.where(alive, self.learning_rate, 0.0)
        with np.errstate(over="ignore", invalid="ignore"):
            for name, arrays in self.params.items():
                for p, g in zip(arrays, grads[name]):
                    step = rate.reshape((-1,) + (1,) * (p.ndim - 1)) * g
                    step[~alive] = 0.0  # a frozen replica's gradient may be NaN, and NaN * 0 is NaN
                    p -= step
        self._losses.append(np.where(alive, loss, np.nan))

    def _backward(self, dscores, caches, h) -> dict:
        """Gradients of the mean minibatch loss, keyed and ordered like ``params``."""
        r, w = dscores.shape[0], self.params["W"]
        grads = {name: [None] * len(arrays) for name, arrays in self.params.items()}
        grads["W"][-1], grads["b"][-1] = h.transpose(0, 2, 1) @ dscores, dscores.sum(axis=1, keepdims=True)
        dh = dscores @ w[-1].transpose(0, 2, 1)
        for i in range(len(caches) - 1, -1, -1):
            h_in, _, a, bn_cache = caches[i]
            dz = dh * (a > 0)
            if self.bn:
                dx, dgamma, dbeta = self.bn[1](replica_columns(dz), bn_cache)
                dz, grads["gamma"][i], grads["beta"][i] = from_replica_columns(dx, r), dgamma.reshape(r, -1), \
                    dbeta.reshape(r, -1)
            grads["W"][i], grads["b"][i] = h_in.transpose(0, 2, 1) @ dz, dz.sum(axis=1, keepdims=True)
            if i:
                dh = dz @ w[i].transpose(0, 2, 1)
        return grads

    # --- evaluation -----------------------------------------------------------------------------------------------
    def predict(self, X: np.ndarray, mode: str = "test") -> np.ndarray:
        """Predicted classes (R, N) for examples X (N, D). ``mode`` "test" uses the running averages; "train"
        normalizes with the statistics of consecutive batches of B examples (N is cut to a multiple of B) and
        leaves the running averages alone: every (replica, batch) pair runs as one replica of its own."""
        r, b = self.replicas, self.batch_size
        if mode == "test" or not self.bn:
            return self._forward(np.broadcast_to(X, (r, *X.shape)), "test")[0].argmax(axis=2)
        groups = X.shape[0] // b
        X = np.broadcast_to(X[:groups * b].reshape(groups, b, -1), (r, groups, b, X.shape[1]))
        repeated = {name: [np.repeat(p, groups, axis=0) for p in arrays] for name, arrays in self.params.items()}
        scores = self._forward(X.reshape(r * groups, b, -1), "train", repeated,
                               [{"eps": self.eps} for _ in self.bn_params])[0]
        return scores.reshape(r, groups * b, -1).argmax(axis=2)

    def accuracy(self, X: np.ndarray, y: np.ndarray, mode: str = "test") -> np.ndarray:
        """(R,) the fraction of the examples X (N, D) classified as y (N,), in ``mode`` (see :meth:`predict`)."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            predicted = self.predict(X, mode)
        return (predicted == y[:predicted.shape[1]]).mean(axis=1)

    def evaluate(self) -> ModeAccuracy:
        """The validation accuracy now, in test mode and in train mode."""
        X, y = self.data["X_val"], self.data["y_val"]
        test = self.accuracy(X, y, "test")
        return ModeAccuracy(self.step, test, self.accuracy(X, y, "train") if self.bn else test)


def _batchnorm_pair(batchnorm):
    """(forward, backward) for ``batchnorm`` True or a pair; None for False."""
    if batchnorm is True:
        return layers.batchnorm_forward, layers.batchnorm_backward
    if batchnorm is False:
        return None
    if isinstance(batchnorm, tuple) and len(batchnorm) == 2 and all(map(callable, batchnorm)):
        return batchnorm
    raise TypeError(f"batchnorm must be True, False or a (forward, backward) pair of functions; got {batchnorm!r}")
