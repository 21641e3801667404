"""Lab 01's experiments: saturation through a layer, and dead units while training.

Saturation: a layer with fan_in inputs of unit variance and weights of standard deviation s produces
pre-activations z = x @ W whose spread is std(z) = s * sqrt(fan_in): s = weight_scale for a fixed scale,
1/sqrt(fan_in) for Xavier (std(z) = 1 whatever the fan-in) and sqrt(2/fan_in) for He (std(z) = sqrt(2)).
Standard normal draws are made once and scaled, so a new setting costs one multiplication.

Dead units: a small network trained by gradient descent on the spiral data set, recording the loss and the
fraction of units in each hidden layer whose pre-activation is <= 0 on every example (dead, for ReLU) at every
step. Training advances in chunks so an interactive caller can keep its event loop responsive.
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


WEIGHT_STDS = {  # initialization -> std of the weights as a function of (weight_scale, fan_in)
    "fixed scale": lambda scale, fan_in: scale,
    "Xavier": lambda scale, fan_in: 1 / np.sqrt(fan_in),
    "He": lambda scale, fan_in: np.sqrt(2 / fan_in),
}


def preactivation_std(weight_scale: float, fan_in: int, init: str = "fixed scale") -> float:
    """Spread of z = x @ W for x with fan_in unit-variance entries and weights of std s (one of WEIGHT_STDS:
    s = weight_scale, 1/sqrt(fan_in) or sqrt(2/fan_in)): Var(z) = fan_in * s^2, so std(z) = s * sqrt(fan_in)."""
    weight_scale = check_scalar(weight_scale, "weight_scale", low=0)
    fan_in = check_scalar(fan_in, "fan_in", low=1)
    if init not in WEIGHT_STDS:
        raise ValueError(f"init must be one of {list(WEIGHT_STDS)}; got {init!r}")
    return float(WEIGHT_STDS[init](weight_scale, fan_in) * np.sqrt(fan_in))


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
               threshold: float = SATURATION_THRESHOLD, init: str = "fixed scale") -> Saturation:
    """Pre-activations z = std * draws (draws: (S,) from :func:`standard_normal_draws`, std from
    :func:`preactivation_std`) passed through the activation pair; see :class:`Saturation`."""
    std = preactivation_std(weight_scale, fan_in, init)
    z = std * draws
    _, grad = local_gradients(forward, backward, z)
    return Saturation(z, grad, std, threshold, saturated_fraction(grad, threshold), zero_gradient_fraction(grad))


# --- zig-zag ---------------------------------------------------------------------------------------------------

def neuron_sgd_path(inputs, target, learning_rate: float, epochs: int = 20) -> np.ndarray:
    """Per-example gradient descent of one linear neuron z = w . x learning the weights ``target``.

    For each example x (a row of inputs, in order, ``epochs`` times) the loss is 1/2 (w . x - target . x)^2 and
    the step is w <- w - learning_rate * (w . x - target . x) * x: a multiple of x itself. With inputs that are all
    positive (sigmoid or ReLU outputs) every step moves all the weights the same way, up or down together.

    Inputs: inputs (N, D), target (D,), learning_rate > 0, epochs >= 1. Starts at w = 0.
    Returns the path (epochs * N + 1, D), one row per step.
    """
    inputs = np.asarray(inputs, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    check_scalar(learning_rate, "learning_rate", low=0, low_open=True)
    check_int(epochs, "epochs")
    if inputs.ndim != 2 or target.shape != inputs.shape[1:]:
        raise ValueError(f"inputs must be (N, D) and target (D,); got {inputs.shape} and {target.shape}")
    path = [np.zeros(inputs.shape[1])]
    with np.errstate(over="ignore", invalid="ignore"):  # a learning rate too high shows as a path that leaves
        for _ in range(epochs):
            for x in inputs:
                w = path[-1]
                path.append(w - learning_rate * (w @ x - target @ x) * x)
    return np.array(path)


# --- dead units ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainingRecord:
    """What a run recorded so far.

    - loss: (T,) softmax loss before each of the T completed steps (all finite)
    - dead: (T, L) fraction of units in each of the L hidden layers whose pre-activation is <= 0 on every
      example (measured on the whole data set in the same forward pass as the loss). For ReLU these units are
      dead: their output and local gradient are 0 on every example. For leaky ReLU and ELU they are only
      inactive: they still pass a gradient (alpha, alpha * e^z) and can recover.
    - diverged_at: the step whose loss was not finite or above DIVERGENCE_FACTOR times the first loss (training
      stopped there), or None
    """
    loss: np.ndarray
    dead: np.ndarray
    diverged_at: int | None


DIVERGENCE_FACTOR = 100.0  # a loss this many times the first one has exploded, even while it is still finite


class DeadUnitTraining:
    """Full-batch gradient descent on course.data.spiral for a network 2 -> hidden... -> 3 classes.

    The network is a course.models.FullyConnectedNet (``model``) with weights ~ weight_scale * N(0, 1), hidden
    biases = bias_init and output biases 0; ``activation`` is a name of course.models.ACTIVATIONS or a
    (forward, backward) pair such as a student's relu. Every step is param -= learning_rate * grad with the
    softmax loss of all N examples, so "dead" is measured on the whole data set at no extra cost.

    Call :meth:`advance` repeatedly (each call does at most ``n`` steps) until :attr:`done`; :meth:`record`
    returns what was recorded so far. A step is recorded whole or not at all (one entry per step), so a record
    is always consistent. A non-finite parameter, or a loss that is not finite or exceeds DIVERGENCE_FACTOR times
    the first one, stops the run and sets ``diverged_at``.
    """

    def __init__(self, learning_rate: float = 1.0, bias_init: float = 0.0, weight_scale: float = 0.1,
                 seed: int | None = 0, steps: int = 200, hidden: tuple[int, ...] = (50, 50), activation="relu",
                 dataset=None):
        self.learning_rate = check_scalar(learning_rate, "learning_rate", low=0, low_open=True)
        check_scalar(weight_scale, "weight_scale", low=0, low_open=True)
        self.steps = check_int(steps, "steps")
        self.X, self.y = dataset if dataset is not None else data.spiral()
        self.model = FullyConnectedNet(hidden, self.X.shape[1], int(self.y.max()) + 1, activation=activation,
                                       weight_scale=weight_scale, bias_init=bias_init, seed=seed)
        self._history: list[tuple[float, tuple[float, ...]]] = []  # (loss, dead fraction per layer) per step
        self.diverged_at: int | None = None

    @property
    def step(self) -> int:
        """Number of completed steps."""
        return len(self._history)

    @property
    def done(self) -> bool:
        return self.diverged_at is not None or self.step >= self.steps

    def advance(self, n: int | None = None) -> TrainingRecord:
        """Do up to ``n`` more steps (all remaining ones if None) and return the record so far."""
        for _ in range(self.steps - self.step if n is None else n):
            if self.done:
                break
            self._step()
        return self.record()

    def record(self) -> TrainingRecord:
        history = list(self._history)
        loss = np.array([h[0] for h in history], dtype=np.float64)
        dead = np.array([h[1] for h in history], dtype=np.float64).reshape(len(history), self.model.num_layers - 1)
        return TrainingRecord(loss, dead, self.diverged_at)

    def _step(self) -> None:
        params = self.model.params
        # Overflow is the divergence we detect below: it must end the run with a message, not print warnings.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            loss, grads = self.model.loss(self.X, self.y)
            if not np.isfinite(loss) or (self._history and loss > DIVERGENCE_FACTOR * self._history[0][0]):
                self.diverged_at = self.step
                return
            dead = tuple(dead_unit_fraction(z) for z in self.model.last_preactivations)
            for name, grad in grads.items():
                params[name] -= self.learning_rate * grad
        self._history.append((float(loss), dead))
        if not all(np.all(np.isfinite(p)) for p in params.values()):
            self.diverged_at = self.step


def train_dead_units(**kwargs) -> TrainingRecord:
    """Run :class:`DeadUnitTraining` (same keyword arguments) to the end and return its record."""
    return DeadUnitTraining(**kwargs).advance()


@dataclass(frozen=True)
class DeadUnitStudy:
    """One setting of :class:`DeadUnitTraining` run once per seed, S seeds, L hidden layers.

    - start, peak, end: (S, L) fraction of dead units per layer at step 0, the highest along the way, and at
      the last step
    - loss: (S,) the loss at the last step
    - diverged: (S,) True where the run diverged
    """
    start: np.ndarray
    peak: np.ndarray
    end: np.ndarray
    loss: np.ndarray
    diverged: np.ndarray


def dead_unit_study(seeds=range(10), **settings) -> DeadUnitStudy:
    """Run :class:`DeadUnitTraining` with ``settings`` (its keyword arguments) once for each seed."""
    records = [train_dead_units(seed=seed, **settings) for seed in seeds]
    if not records:
        raise ValueError("seeds must hold at least one seed")
    return DeadUnitStudy(start=np.array([r.dead[0] for r in records]),
                         peak=np.array([r.dead.max(axis=0) for r in records]),
                         end=np.array([r.dead[-1] for r in records]),
                         loss=np.array([r.loss[-1] for r in records]),
                         diverged=np.array([r.diverged_at is not None for r in records]))


__all__ = ["neuron_sgd_path", "WEIGHT_STDS", "standard_normal_draws", "preactivation_std", "local_gradients", "Saturation",
           "saturation", "TrainingRecord", "DIVERGENCE_FACTOR", "DeadUnitTraining", "train_dead_units",
           "DeadUnitStudy", "dead_unit_study"]
