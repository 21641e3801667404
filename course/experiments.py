"""The experiments behind the live explorers, in pure NumPy.

Saturation: a layer with fan_in inputs of unit variance and weights W ~ weight_scale * N(0, 1) produces
pre-activations z = x @ W whose spread is std(z) = weight_scale * sqrt(fan_in). Standard normal draws are made
once and scaled, so a new (weight_scale, fan_in) costs one multiplication.

Dead ReLUs: a small ReLU network trained by gradient descent on the spiral data set, recording the loss and the
fraction of dead units (active on no example) per hidden layer at every step. Training advances in chunks so an
interactive caller can keep its event loop responsive.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course import data
from course._validate import check_int, check_scalar
from course.diagnostics import SATURATION_THRESHOLD, dead_unit_fraction, saturated_fraction, zero_gradient_fraction
from course.models import FullyConnectedNet


# --- saturation -------------------------------------------------------------------------------------------------

def standard_normal_draws(n_samples: int = 20_000, seed: int | None = 0) -> np.ndarray:
    """(S,) standard normal samples with S = n_samples: pre-activations of unit spread, to be scaled."""
    return np.random.default_rng(seed).standard_normal(check_int(n_samples, "n_samples"))


def preactivation_std(weight_scale: float, fan_in: int) -> float:
    """Spread of z = x @ W for x with fan_in unit-variance entries and W ~ weight_scale * N(0, 1):
    Var(z) = fan_in * weight_scale^2, so std(z) = weight_scale * sqrt(fan_in)."""
    weight_scale = check_scalar(weight_scale, "weight_scale", low=0)
    fan_in = check_scalar(fan_in, "fan_in", low=1)
    return weight_scale * float(np.sqrt(fan_in))


def local_gradients(forward, backward, x: np.ndarray):
    """Run an activation pair on x (any shape) with dout = 1: returns (out, local_grad), both shaped like x.

    ``forward(x) -> (out, cache)`` and ``backward(dout, cache) -> dx``, as in course.activations; local_grad is
    the activation's derivative at each entry of x.
    """
    out, cache = forward(x)
    grad = np.asarray(backward(np.ones_like(out), cache))
    for name, arr in (("forward output", np.asarray(out)), ("backward output", grad)):
        if arr.shape != x.shape:
            raise ValueError(f"the activation's {name} must be shaped like its input {x.shape}; got {arr.shape}")
    return np.asarray(out), grad


@dataclass(frozen=True)
class Saturation:
    """Pre-activations of one layer and the local gradients of its activation there.

    - preactivations, local_grad: (S,) one entry per sampled unit input
    - std: weight_scale * sqrt(fan_in), the spread of the pre-activations
    - saturated: fraction with |local_grad| < threshold; zero_gradient: fraction exactly 0
    """
    preactivations: np.ndarray
    local_grad: np.ndarray
    std: float
    threshold: float
    saturated: float
    zero_gradient: float


def saturation(forward, backward, weight_scale: float, fan_in: int, draws: np.ndarray,
               threshold: float = SATURATION_THRESHOLD) -> Saturation:
    """Pre-activations z = std * draws (draws: (S,) from :func:`standard_normal_draws`, std from
    :func:`preactivation_std`) passed through the activation pair; see :class:`Saturation`."""
    std = preactivation_std(weight_scale, fan_in)
    z = std * draws
    _, grad = local_gradients(forward, backward, z)
    return Saturation(z, grad, std, threshold, saturated_fraction(grad, threshold), zero_gradient_fraction(grad))


# --- dead ReLUs -------------------------------------------------------------------------------------------------

# Defaults measured with hidden=(50, 50), 200 steps, weight_scale=0.1, 5 seeds (fraction of dead units per layer
# at the end of training): learning rate 1 trains well (about 6% / 10% dead, loss 0.12); learning rate 2 kills
# about 36% / 42% and learning rate 3 about 75% / 80%, while the loss stalls. The +0.01 bias lowers the dead
# fraction a little (2% instead of 7% of layer 2 at initialization, 29% / 35% instead of 36% / 42% at
# learning rate 2); a -0.05 bias starts 16% / 82% of the units dead.
BIAS_INITS = {"0": 0.0, "+0.01": 0.01, "-0.05": -0.05}


@dataclass(frozen=True)
class TrainingRecord:
    """What a run recorded so far.

    - loss: (T,) softmax loss before each of the T completed steps (all finite)
    - dead: (T, L) fraction of dead units in each of the L hidden layers, measured on the whole data set in the
      same forward pass as the loss
    - diverged_at: the step whose loss was not finite (training stopped there), or None
    """
    loss: np.ndarray
    dead: np.ndarray
    diverged_at: int | None


class ReluNetTraining:
    """Full-batch gradient descent on course.data.spiral for a ReLU network 2 -> hidden... -> 3 classes.

    The network is a course.models.FullyConnectedNet (``model``) with weights ~ weight_scale * N(0, 1), hidden
    biases = bias_init and output biases 0; every step is param -= learning_rate * grad with the softmax loss of
    all N examples (so "dead" is measured on the whole data
    set at no extra cost). ``relu`` is a (forward, backward) pair like course.activations' relu.

    Call :meth:`advance` repeatedly (each call does at most ``n`` steps) until :attr:`done`; :meth:`record`
    returns what was recorded so far. A non-finite loss or parameter stops the run and sets ``diverged_at``.
    """

    def __init__(self, learning_rate: float = 1.0, bias_init: float = 0.0, weight_scale: float = 0.1,
                 seed: int | None = 0, steps: int = 200, hidden: tuple[int, ...] = (50, 50), relu=None,
                 dataset=None):
        self.learning_rate = check_scalar(learning_rate, "learning_rate", low=0, low_open=True)
        check_scalar(weight_scale, "weight_scale", low=0, low_open=True)
        self.steps = check_int(steps, "steps")
        self.X, self.y = dataset if dataset is not None else data.spiral()
        self.model = FullyConnectedNet(hidden, self.X.shape[1], int(self.y.max()) + 1,
                                       activation=relu or "relu", weight_scale=weight_scale,
                                       bias_init=bias_init, seed=seed)
        self._loss: list[float] = []
        self._dead: list[list[float]] = []
        self.diverged_at: int | None = None

    @property
    def step(self) -> int:
        """Number of completed steps."""
        return len(self._loss)

    @property
    def done(self) -> bool:
        return self.diverged_at is not None or self.step >= self.steps

    def advance(self, n: int | None = None) -> TrainingRecord:
        """Do up to ``n`` more steps (all remaining ones if None) and return the record so far."""
        remaining = self.steps - self.step
        for _ in range(remaining if n is None else min(n, remaining)):
            if self.done:
                break
            self._step()
        return self.record()

    def record(self) -> TrainingRecord:
        dead = np.array(self._dead, dtype=np.float64).reshape(self.step, self.model.num_layers - 1)
        return TrainingRecord(np.array(self._loss, dtype=np.float64), dead, self.diverged_at)

    def _step(self) -> None:
        params = self.model.params
        # Overflow is the divergence we detect below: it must end the run with a message, not print warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, grads = self.model.loss(self.X, self.y)
            if not np.isfinite(loss):
                self.diverged_at = self.step
                return
            for name, grad in grads.items():
                params[name] -= self.learning_rate * grad
        self._loss.append(loss)
        self._dead.append([dead_unit_fraction(h) for h in self.model.last_activations])
        if not all(np.all(np.isfinite(p)) for p in params.values()):
            self.diverged_at = self.step


def train_relu_net(**kwargs) -> TrainingRecord:
    """Run :class:`ReluNetTraining` (same keyword arguments) to the end and return its record."""
    return ReluNetTraining(**kwargs).advance()
