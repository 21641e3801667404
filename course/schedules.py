"""Learning-rate schedules: pure callables ``lr = schedule(t)``, plus a plateau helper driven by a metric.

t counts epochs or iterations (a real number >= 0; fractional epochs are fine). A schedule has no state: the
same t always gives the same rate. It also accepts an array of t's and returns the array of rates, so a whole
curve is one call: ``schedule(np.arange(50))``.
"""
from __future__ import annotations

import numpy as np

from course._validate import check_int, check_scalar


def _check_t(t) -> np.ndarray:
    """t as a float64 array (0-d for a scalar), after checking it is real, finite and >= 0."""
    if isinstance(t, bool) or np.asarray(t).dtype.kind not in "iuf":
        raise TypeError(f"t must be a real number or an array of them (epoch or iteration); got {t!r}")
    t = np.asarray(t, dtype=np.float64)
    bad = ~(np.isfinite(t) & (t >= 0))  # also catches NaN
    if bad.any():
        raise ValueError(f"t must be finite and >= 0 (an epoch or iteration count); got {t[bad].ravel()[0]}")
    return t


class Schedule:
    """A named learning-rate schedule: ``schedule(t)`` returns the rate at t (a float for a scalar t, an array
    shaped like t for an array). Its repr shows how it was made, e.g. ``step_decay(lr0=0.1, drop=0.5, every=5)``.
    Build one with :func:`step_decay`, :func:`exponential_decay` or :func:`inverse_time_decay`.
    """

    def __init__(self, name: str, formula, **params):
        self.name = name
        self.params = params
        self._formula = formula

    def __call__(self, t):
        with np.errstate(over="ignore"):  # k * t beyond the float range: the rate, e^-inf or 1/inf, is 0 exactly
            rate = self._formula(_check_t(t), **self.params)
        return float(rate) if rate.ndim == 0 else rate

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.params.items())})"


def _lr0(lr0) -> float:
    return check_scalar(lr0, "lr0", low=0, low_open=True)


def step_decay(lr0: float, drop: float = 0.5, every: int = 5) -> Schedule:
    """Multiply the rate by ``drop`` every ``every`` epochs: lr(t) = lr0 * drop ** floor(t / every).

    The first drop happens at t = every (t counts from 0). Typical: halve every 5 epochs, or drop to a tenth
    every 20. lr0 > 0, 0 < drop <= 1, every an integer >= 1.
    """
    lr0 = _lr0(lr0)
    drop = check_scalar(drop, "drop", low=0, high=1, low_open=True)
    check_int(every, "every", note="epochs between drops")
    return Schedule("step_decay", lambda t, lr0, drop, every: lr0 * drop ** np.floor(t / every),
                    lr0=lr0, drop=drop, every=int(every))


def exponential_decay(lr0: float, k: float) -> Schedule:
    """lr(t) = lr0 * e^(-k t): a smooth decay by a factor e every 1/k epochs. lr0 > 0, k >= 0."""
    return Schedule("exponential_decay", lambda t, lr0, k: lr0 * np.exp(-k * t),
                    lr0=_lr0(lr0), k=check_scalar(k, "k", low=0))


def inverse_time_decay(lr0: float, k: float) -> Schedule:
    """1/t decay: lr(t) = lr0 / (1 + k t), halved at t = 1/k, slower than exponential later on. lr0 > 0, k >= 0."""
    return Schedule("inverse_time_decay", lambda t, lr0, k: lr0 / (1 + k * t),
                    lr0=_lr0(lr0), k=check_scalar(k, "k", low=0))


class ReduceLROnPlateau:
    """Cut the learning rate when a monitored metric stops improving.

    Call ``lr = plateau.step(metric)`` once per epoch with the validation metric. When ``patience`` epochs in a
    row bring no improvement over the best value so far, the rate is multiplied by ``factor`` (never below
    ``min_lr``) and the count starts again.

    - lr0: initial rate (> 0)
    - factor: multiplier applied at each cut, 0 < factor < 1
    - patience: epochs without improvement tolerated before a cut (integer >= 1)
    - min_lr: floor for the rate, 0 <= min_lr <= lr0
    - mode: 'max' for a metric to maximize (accuracy), 'min' for one to minimize (loss)

    Attributes: ``lr`` (current rate), ``best`` (best metric so far, None before the first step),
    ``bad_epochs`` (epochs since the last improvement or cut).
    """

    def __init__(self, lr0: float, factor: float = 0.5, patience: int = 3, min_lr: float = 0.0, mode: str = "max"):
        self.lr = _lr0(lr0)
        self.factor = check_scalar(factor, "factor", low=0, high=1, low_open=True, high_open=True)
        self.patience = check_int(patience, "patience", note="epochs")
        self.min_lr = check_scalar(min_lr, "min_lr", low=0, high=self.lr)
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' (e.g. accuracy) or 'min' (e.g. loss); got {mode!r}")
        self.mode = mode
        self.best = None
        self.bad_epochs = 0

    def step(self, metric: float) -> float:
        """Record this epoch's metric (a finite number) and return the learning rate for the next epoch."""
        metric = check_scalar(metric, "metric")
        improved = self.best is None or (metric > self.best if self.mode == "max" else metric < self.best)
        if improved:
            self.best, self.bad_epochs = metric, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs >= self.patience:
                self.lr = max(self.lr * self.factor, self.min_lr)
                self.bad_epochs = 0
        return self.lr

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(lr={self.lr!r}, factor={self.factor!r}, patience={self.patience}, "
                f"min_lr={self.min_lr!r}, mode={self.mode!r})")

