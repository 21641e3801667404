"""Lab 07's search experiments: many small networks trained side by side, the validation-accuracy landscape over
(learning rate, regularization strength) they measure, grid and random trials read off it, and model ensembles.

The network is course.models.FullyConnectedNet([H]) on :func:`course.experiments.babysitting.digits_data`: 64
inputs -> H ReLU units -> 10 scores, the softmax loss plus 0.5 * reg * (sum of the squared weights).
:class:`NetworkBatch` trains K of them at once by minibatch SGD (plain, with momentum, or Adam), network k with its
own learning rate, L2 strength and initialization seed, all on the same minibatches in the same order: their
parameters are stacked along a first axis of length K, so one batched matrix product serves them all. The
arithmetic is that of FullyConnectedNet.loss and course.optim's update rules (a test checks that they agree).

A landscape (:func:`measure_landscape`) is a grid of such networks, one per (learning rate, regularization) pair,
each trained once; a search trial at any other point reads its accuracy off the landscape, interpolated between
the four measured neighbours (linearly in log learning rate and log regularization), except next to a network
that diverged: training either works or diverges, so there the trial takes the accuracy of the nearest measured
network instead of a made-up value halfway to chance. Landscapes are cached per process: building one costs
seconds, reading it microseconds.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course._validate import check_int, check_scalar
from course.experiments.activations import DIVERGENCE_FACTOR
from course.experiments.babysitting import digits_data
from course import optim
from course.models import FullyConnectedNet
from course.search import log_uniform

__all__ = ["NetworkBatch", "over_seeds", "Landscape", "LandscapeMeasurement", "LANDSCAPE_SETTINGS",
           "measure_landscape", "grid_trials", "random_trials", "distinct_values", "best_so_far", "SearchComparison",
           "compare_searches", "EnsembleStudy", "majority_vote", "ensemble_study"]


_OPTIM_NAMES = {"sgd": "sgd", "momentum": "sgd_momentum", "adam": "adam"}  # update_rule -> course.optim name


class NetworkBatch:
    """K one-hidden-layer ReLU networks trained side by side by minibatch SGD (see the module docstring).

    Inputs:
    - data: dict with X_train (N, D), y_train (N,), X_val, y_val (as from digits_data)
    - learning_rates, regs, seeds: a number each, or sequences of K values (numbers are repeated); network k
      starts from the weights of FullyConnectedNet([hidden], D, C, seed=seeds[k]) (He initialization)
    - update_rule: "sgd", "momentum" (course.optim.sgd_momentum, momentum 0.9) or "adam" (course.optim.adam, its
      default betas), the same for all K networks, each with its own learning rate
    - hidden: H; epochs, batch_size: every epoch visits the N training examples once, in minibatches of
      batch_size (the last one smaller), in an order drawn from ``batch_seed`` and shared by all K networks
    - dtype: the float type of the parameters and the arithmetic (float32 halves the time; FullyConnectedNet's
      initial weights are drawn in float64 and rounded to it)

    Parameters: W1 (K, D, H), b1 (K, 1, H), W2 (K, H, C), b2 (K, 1, C): network k's are the k-th slices, and
    one batched matrix product serves all K networks.

    Call :meth:`advance` until :attr:`done` (the planned iterations, or every network diverged). ``diverged_at``
    (K,) holds the iteration (0-based) at which a network's loss stopped being finite or rose above
    DIVERGENCE_FACTOR times its first value, or -1: such a network is stopped there and its parameters are set to
    zero, so it predicts one class for everything (chance accuracy). :meth:`accuracy` and :meth:`scores` evaluate
    all K networks; :meth:`model` hands out network k as a FullyConnectedNet. Every iteration is recorded:
    :attr:`losses` (T, K) the minibatch loss before the update, :attr:`ratios` (T, K, 2) ||update|| / ||W|| of W1
    and W2 (W before the update; NaN once a network is stopped).
    """

    def __init__(self, data: dict, learning_rates, regs=0.0, seeds=0, hidden: int = 32, epochs: int = 5,
                 batch_size: int = 100, batch_seed: int = 0, dtype=np.float64, update_rule: str = "sgd"):
        lrs, regs, seeds = np.broadcast_arrays(np.asarray(learning_rates, dtype=np.float64),
                                               np.asarray(regs, dtype=np.float64), np.asarray(seeds))
        if lrs.ndim > 1:
            raise ValueError(f"learning_rates, regs and seeds must be numbers or 1-D sequences; got shape {lrs.shape}")
        self.learning_rates, self.regs, self.seeds = np.atleast_1d(lrs), np.atleast_1d(regs), np.atleast_1d(seeds)
        if not np.all(np.isfinite(self.learning_rates) & (self.learning_rates > 0)):
            raise ValueError(f"every learning rate must be > 0; got {self.learning_rates}")
        if not np.all(np.isfinite(self.regs) & (self.regs >= 0)):
            raise ValueError(f"every regularization strength must be >= 0; got {self.regs}")
        if update_rule not in _OPTIM_NAMES:
            raise ValueError(f"update_rule must be one of {list(_OPTIM_NAMES)}; got {update_rule!r}")
        self.update_rule = update_rule
        self.hidden = check_int(hidden, "hidden")
        self.batch_size = check_int(batch_size, "batch_size")
        self.dtype = np.dtype(dtype)
        self.X, self.y = np.asarray(data["X_train"], dtype=self.dtype), np.asarray(data["y_train"])
        self.X_val, self.y_val = np.asarray(data["X_val"], dtype=self.dtype), np.asarray(data["y_val"])
        self.num_classes = int(max(self.y.max(), self.y_val.max())) + 1
        self.count = k = self.learning_rates.size
        d, c = self.X.shape[1], self.num_classes
        starts = {int(s): FullyConnectedNet([self.hidden], d, c, seed=int(s)).params for s in np.unique(self.seeds)}
        self.W1 = np.stack([starts[int(s)]["W1"] for s in self.seeds]).astype(self.dtype)  # (K, D, H)
        self.b1 = np.zeros((k, 1, self.hidden), dtype=self.dtype)
        self.W2 = np.stack([starts[int(s)]["W2"] for s in self.seeds]).astype(self.dtype)  # (K, H, C)
        self.b2 = np.zeros((k, 1, c), dtype=self.dtype)
        self._step_rule = optim.unchecked(_OPTIM_NAMES[update_rule])
        rates = self.learning_rates[:, None, None].astype(self.dtype)
        self._configs = [{**optim.DEFAULTS[_OPTIM_NAMES[update_rule]], "learning_rate": rates} for _ in self.params]
        self.iterations_per_epoch = -(-self.X.shape[0] // self.batch_size)
        self.num_iterations = check_int(epochs, "epochs") * self.iterations_per_epoch
        self.iteration = 0
        self.first_loss = None
        self.diverged_at = np.full(k, -1)
        self._losses: list[np.ndarray] = []
        self._ratios: list[np.ndarray] = []
        self._rng = np.random.default_rng(batch_seed)
        self._order = None

    @property
    def params(self) -> tuple:
        return self.W1, self.b1, self.W2, self.b2

    @property
    def done(self) -> bool:
        """True after the planned iterations, or once every network has diverged."""
        return self.iteration >= self.num_iterations or not self.alive.any()

    @property
    def alive(self) -> np.ndarray:
        """(K,) True for the networks that have not diverged."""
        return self.diverged_at < 0

    @property
    def losses(self) -> np.ndarray:
        """(T, K) every network's minibatch loss at each of the T iterations so far, before its update."""
        return np.array(self._losses).reshape(len(self._losses), self.count)

    @property
    def ratios(self) -> np.ndarray:
        """(T, K, 2) ||update|| / ||W|| of W1 and of W2 at each iteration (W before the update)."""
        return np.array(self._ratios).reshape(len(self._ratios), self.count, 2)

    def advance(self, n: int | None = None) -> "NetworkBatch":
        """Do up to ``n`` more iterations (all remaining ones if None); returns self."""
        for _ in range(self.num_iterations - self.iteration if n is None else n):
            if self.done:
                break
            self._step()
        return self

    def _step(self) -> None:
        start = self.iteration % self.iterations_per_epoch * self.batch_size
        if start == 0:
            self._order = self._rng.permutation(self.X.shape[0])
        batch = self._order[start:start + self.batch_size]
        loss, grads = self.loss_and_gradients(self.X[batch], self.y[batch])
        if self.first_loss is None:
            self.first_loss = loss
        bad = self.alive & ~(np.isfinite(loss) & (loss <= DIVERGENCE_FACTOR * self.first_loss))
        if bad.any():  # stop those networks: no update, and nothing of theirs (NaN, inf) carried forward
            self._stop(bad)
            for grad in grads:
                grad[bad] = 0
        self._losses.append(loss)
        before = self.W1.copy(), self.W2.copy()
        for i, (param, grad) in enumerate(zip(self.params, grads)):
            param[...] = self._step_rule(param, grad, self._configs[i])[0]
        with np.errstate(invalid="ignore", divide="ignore"):
            self._ratios.append(np.column_stack([_norms(new - old) / _norms(old)
                                                 for new, old in zip((self.W1, self.W2), before)]))
        self.iteration += 1

    def loss_and_gradients(self, X: np.ndarray, y: np.ndarray):
        """Every network's loss on the minibatch X (n, D), y (n,): (loss (K,), gradients shaped like
        :attr:`params`), with the arithmetic of FullyConnectedNet.loss (softmax loss averaged over the n examples
        plus 0.5 * reg * the sum of the squared weights). The gradients of stopped networks are zero."""
        n, rows = len(y), np.arange(len(y))
        reg = self.regs[:, None, None].astype(self.dtype)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            a = X @ self.W1 + self.b1  # (K, n, H)
            hidden = np.maximum(a, 0)
            scores = hidden @ self.W2 + self.b2  # (K, n, C)
            shifted = scores - _last_axis_max(scores)[:, :, None]
            exp = np.exp(shifted)
            total = np.einsum("knc->kn", exp)
            loss = np.mean(np.log(total) - shifted[:, rows, y], axis=1) + 0.5 * self.regs * (
                _squares(self.W1) + _squares(self.W2))
            dscores = exp / total[:, :, None]
            dscores[:, rows, y] -= 1
            dscores *= (self.alive / n)[:, None, None].astype(self.dtype)
            da = dscores @ self.W2.transpose(0, 2, 1)
            da *= a > 0
            grads = (X.T @ da + reg * self.W1, da.sum(axis=1, keepdims=True),
                     hidden.transpose(0, 2, 1) @ dscores + reg * self.W2, dscores.sum(axis=1, keepdims=True))
        return loss, grads

    def _stop(self, bad: np.ndarray) -> None:
        """Stop the networks flagged in ``bad`` (K,): record where, zero their parameters and their update rule's
        state, and their learning rates (so that they stay at zero)."""
        self.diverged_at[bad] = self.iteration
        for param, config in zip(self.params, self._configs):
            param[bad] = 0
            config["learning_rate"] = np.where(bad[:, None, None], 0, config["learning_rate"]).astype(self.dtype)
            for key in ("velocity", "m", "v"):
                if key in config:
                    config[key][bad] = 0

    def scores(self, X) -> np.ndarray:
        """(K, N, C) the class scores of every network for the examples X (N, D)."""
        X = np.asarray(X, dtype=self.dtype).reshape(len(X), -1)
        return np.maximum(X @ self.W1 + self.b1, 0) @ self.W2 + self.b2

    def accuracy(self, X=None, y=None) -> np.ndarray:
        """(K,) the fraction of the examples X (N, D) each network classifies as y (N,); the validation set by
        default."""
        X, y = (self.X_val, self.y_val) if X is None else (X, np.asarray(y))
        return np.mean(self.scores(X).argmax(axis=2) == y, axis=1)

    def model(self, k: int) -> FullyConnectedNet:
        """Network k as a course.models.FullyConnectedNet (its parameters copied): a model with scores(X)."""
        net = FullyConnectedNet([self.hidden], self.X.shape[1], self.num_classes, reg=float(self.regs[k]),
                                dtype=self.dtype)
        net.params.update(W1=self.W1[k].copy(), b1=self.b1[k, 0].copy(), W2=self.W2[k].copy(),
                          b2=self.b2[k, 0].copy())
        return net


def over_seeds(data: dict, learning_rates, regs=0.0, seeds=(0, 1, 2, 3), **settings) -> list[NetworkBatch]:
    """The same networks trained once per seed: for each seed s a :class:`NetworkBatch` of the given learning
    rates and regularizations (numbers or K values each) whose initial weights and minibatch order are both drawn
    from s, trained to the end. ``settings``: NetworkBatch's others (update_rule, epochs, batch_size, ...).
    Returns one NetworkBatch per seed, in the order of ``seeds``."""
    return [NetworkBatch(data, learning_rates, regs, seeds=seed, batch_seed=seed, **settings).advance()
            for seed in seeds]


def _squares(stack: np.ndarray) -> np.ndarray:
    """(K,) the sum of the squared entries of each of the K arrays stacked along the first axis of ``stack``."""
    flat = stack.reshape(len(stack), -1)
    return np.einsum("ki,ki->k", flat, flat)


def _norms(stack: np.ndarray) -> np.ndarray:
    """(K,) the Frobenius norm of each of the K arrays stacked along the first axis of ``stack`` (K, ...)."""
    return np.sqrt(_squares(stack))


def _last_axis_max(values: np.ndarray) -> np.ndarray:
    """values.max(axis=-1), several times faster when the last axis is short (the 10 class scores): one
    np.maximum over each of its columns instead of a reduction along it."""
    result = values[..., 0].copy()
    for column in range(1, values.shape[-1]):
        np.maximum(result, values[..., column], out=result)
    return result


# --- the landscape ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Landscape:
    """The validation accuracy of one network per (learning rate, regularization) pair of a log-spaced grid.

    - learning_rates: (L,) increasing; regs: (R,) increasing; both log-spaced
    - accuracy: (R, L) the validation accuracy of the network trained at (learning_rates[j], regs[i])
    - diverged: (R, L) True where that network diverged (its accuracy is then chance: it predicts one class)
    - description: one sentence saying what was measured
    """
    learning_rates: np.ndarray
    regs: np.ndarray
    accuracy: np.ndarray
    diverged: np.ndarray
    description: str

    @property
    def lr_range(self) -> tuple[float, float]:
        return float(self.learning_rates[0]), float(self.learning_rates[-1])

    @property
    def reg_range(self) -> tuple[float, float]:
        return float(self.regs[0]), float(self.regs[-1])

    def accuracy_at(self, learning_rates, regs) -> np.ndarray:
        """The accuracy at any points (arrays of one shape; within the ranges, else clipped to them), interpolated
        bilinearly in (log learning rate, log regularization) between the four measured neighbours; where one of
        them diverged, the accuracy of the nearest measured network (a run works or diverges: a value halfway to
        chance would be one no network reached)."""
        u = _fractional_index(self.learning_rates, learning_rates)
        v = _fractional_index(self.regs, regs)
        j, i = np.minimum(u.astype(int), self.learning_rates.size - 2), np.minimum(v.astype(int), self.regs.size - 2)
        du, dv = u - j, v - i
        a, d = self.accuracy, self.diverged
        bilinear = ((1 - dv) * ((1 - du) * a[i, j] + du * a[i, j + 1])
                    + dv * ((1 - du) * a[i + 1, j] + du * a[i + 1, j + 1]))
        cliff = d[i, j] | d[i, j + 1] | d[i + 1, j] | d[i + 1, j + 1]
        return np.where(cliff, a[np.rint(v).astype(int), np.rint(u).astype(int)], bilinear)

    def best(self) -> tuple[float, float, float]:
        """(accuracy, learning rate, regularization) of the best measured network."""
        i, j = np.unravel_index(np.argmax(self.accuracy), self.accuracy.shape)
        return float(self.accuracy[i, j]), float(self.learning_rates[j]), float(self.regs[i])


def _fractional_index(grid: np.ndarray, values) -> np.ndarray:
    """Where ``values`` fall on a log-spaced increasing ``grid``, in units of grid steps (clipped to the grid)."""
    logs = np.log(np.clip(np.asarray(values, dtype=np.float64), grid[0], grid[-1]))
    return np.interp(logs, np.log(grid), np.arange(grid.size, dtype=np.float64))


# lr 1e-4 ... 10 at 12 points a decade (fine enough that the cliff where training diverges falls between two
# neighbours a fifth of a decade apart), reg 1e-4 ... 1 at 2 a decade: 61 x 9 = 549 networks, in float32
LANDSCAPE_SETTINGS = dict(lr_range=(1e-4, 10.0), reg_range=(1e-4, 1.0), n_lr=61, n_reg=9, hidden=32, epochs=5,
                          batch_size=100, seed=0, dtype="float32")
_LANDSCAPES: dict[tuple, Landscape] = {}


class LandscapeMeasurement:
    """Measure a :class:`Landscape` by training its grid of networks as one :class:`NetworkBatch`, all from the same
    initial weights (``seed``) on the same minibatches, so that two points differ only by their hyperparameters.

    Settings (LANDSCAPE_SETTINGS by default): lr_range, reg_range (low, high), n_lr, n_reg (grid points, log-spaced,
    ends included), hidden, epochs, batch_size, seed, dtype; data: a digits_data dict (the default).
    Call :meth:`advance` until :attr:`done`, then :meth:`result`. A finished landscape on the default data is cached
    per process: :func:`measure_landscape` with the same settings returns it at once.
    """

    def __init__(self, data: dict | None = None, **settings):
        unknown = set(settings) - set(LANDSCAPE_SETTINGS)
        if unknown:
            raise TypeError(f"unknown landscape settings {sorted(unknown)}; expected {sorted(LANDSCAPE_SETTINGS)}")
        self.settings = {**LANDSCAPE_SETTINGS, **settings}
        s = self.settings
        self.learning_rates = _log_grid(*s["lr_range"], check_int(s["n_lr"], "n_lr", low=2))
        self.regs = _log_grid(*s["reg_range"], check_int(s["n_reg"], "n_reg", low=2))
        # cached only on the default data: a dict passed in may change between calls
        self.key = None if data is not None else tuple(
            tuple(v) if isinstance(v, (tuple, list)) else v for _, v in sorted(self.settings.items()))
        self._result = _LANDSCAPES.get(self.key)
        self.batch = None
        if self._result is None:
            lrs, regs = np.meshgrid(self.learning_rates, self.regs)
            self.batch = NetworkBatch(data if data is not None else digits_data(), lrs.ravel(), regs.ravel(),
                                      seeds=s["seed"], hidden=s["hidden"], epochs=s["epochs"],
                                      batch_size=s["batch_size"], batch_seed=s["seed"], dtype=s["dtype"])

    @property
    def done(self) -> bool:
        return self._result is not None or self.batch.done

    @property
    def progress(self) -> tuple[int, int]:
        """(iterations done, iterations in all)."""
        if self.batch is None:
            return 1, 1
        return self.batch.iteration, self.batch.num_iterations

    def advance(self, n: int | None = None) -> "LandscapeMeasurement":
        if not self.done:
            self.batch.advance(n)
        return self

    def result(self) -> Landscape:
        """The landscape (training it to the end first if needed)."""
        if self._result is None:
            b, s = self.batch.advance(), self.settings
            shape = (self.regs.size, self.learning_rates.size)
            self._result = Landscape(
                self.learning_rates, self.regs, b.accuracy().reshape(shape), (~b.alive).reshape(shape),
                f"validation accuracy of {b.count} networks 64-{s['hidden']}-10 (one per point of a "
                f"{shape[1]} x {shape[0]} grid), each trained once: SGD, {s['epochs']} epochs, batch "
                f"{s['batch_size']}, the same initial weights")
            if self.key is not None:
                _LANDSCAPES[self.key] = self._result
        return self._result


def _log_grid(low: float, high: float, n: int) -> np.ndarray:
    low = check_scalar(low, "low", low=0, low_open=True)
    high = check_scalar(high, "high", low=low, low_open=True)
    return np.exp(np.linspace(np.log(low), np.log(high), n))


def measure_landscape(data: dict | None = None, **settings) -> Landscape:
    """The :class:`Landscape` for ``settings`` (see :class:`LandscapeMeasurement`), measured now or taken from the
    per-process cache."""
    return LandscapeMeasurement(data, **settings).result()


# --- trials -------------------------------------------------------------------------------------------------------

def grid_trials(budget: int, lr_range, reg_range) -> np.ndarray:
    """The trials of a grid search within ``budget``: k = floor(sqrt(budget)) values of each hyperparameter, k * k
    trials. The k values split each range into k equal parts on a log scale and sit in their middles (a grid never
    wastes trials on the two ends). Returns (k * k, 2) rows (learning rate, regularization)."""
    k = int(np.sqrt(check_int(budget, "budget")) + 1e-9)
    lrs, regs = (_centred(*r, k) for r in (lr_range, reg_range))
    lr, reg = np.meshgrid(lrs, regs)
    return np.column_stack([lr.ravel(), reg.ravel()])


def _centred(low: float, high: float, k: int) -> np.ndarray:
    return np.exp(np.log(low) + (np.arange(k) + 0.5) / k * (np.log(high) - np.log(low)))


def random_trials(budget: int, lr_range, reg_range, rng=None, sampler=log_uniform) -> np.ndarray:
    """``budget`` trials with both hyperparameters drawn by ``sampler(low, high, size, rng)`` (log-uniform by
    default): the learning rates first, then the regularization strengths. Returns (budget, 2) rows (learning
    rate, regularization)."""
    budget = check_int(budget, "budget")
    rng = np.random.default_rng(rng)
    lrs = np.asarray(sampler(*lr_range, size=budget, rng=rng), dtype=np.float64)
    regs = np.asarray(sampler(*reg_range, size=budget, rng=rng), dtype=np.float64)
    return np.column_stack([lrs, regs])


def distinct_values(values, rtol: float = 1e-9) -> int:
    """How many different numbers ``values`` holds (two within ``rtol`` of each other count as one)."""
    v = np.sort(np.asarray(values, dtype=np.float64).ravel())
    return int(v.size and 1 + np.sum(np.diff(v) > rtol * np.abs(v[1:])))


def best_so_far(scores) -> np.ndarray:
    """The best score after each trial: the running maximum along the last axis (NaN counts as the worst)."""
    return np.maximum.accumulate(np.nan_to_num(np.asarray(scores, dtype=np.float64), nan=-np.inf), axis=-1)


@dataclass(frozen=True)
class SearchComparison:
    """Grid against random search on one landscape, for every budget 1 ... B.

    - budgets: (B,) 1 ... B
    - grid: (B,) the best accuracy a grid search within each budget finds (k * k <= budget trials)
    - random: (S, B) the best accuracy after each of B random trials, for S independent searches
    - grid_distinct, random_distinct: (B,) learning rates each strategy tries within the budget (random: the mean)
    """
    budgets: np.ndarray
    grid: np.ndarray
    random: np.ndarray
    grid_distinct: np.ndarray
    random_distinct: np.ndarray

    def random_summary(self, low: float = 10, high: float = 90) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(mean, low percentile, high percentile) of the random searches' best, each (B,)."""
        return self.random.mean(axis=0), np.percentile(self.random, low, axis=0), np.percentile(self.random, high,
                                                                                               axis=0)


def compare_searches(landscape: Landscape, max_budget: int = 64, searches: int = 1000, seed: int = 0,
                     sampler=log_uniform) -> SearchComparison:
    """Run grid search for every budget up to ``max_budget`` and ``searches`` random searches of ``max_budget``
    trials each (``sampler`` draws them, log-uniform by default), all read off ``landscape``."""
    budgets = np.arange(1, check_int(max_budget, "max_budget") + 1)
    rng = np.random.default_rng(seed)
    lo_lr, hi_lr = landscape.lr_range
    lo_reg, hi_reg = landscape.reg_range
    shape = (check_int(searches, "searches"), budgets.size)
    lrs = np.asarray(sampler(lo_lr, hi_lr, size=shape, rng=rng), dtype=np.float64)
    regs = np.asarray(sampler(lo_reg, hi_reg, size=shape, rng=rng), dtype=np.float64)
    random = best_so_far(landscape.accuracy_at(lrs, regs))
    grids = [grid_trials(b, landscape.lr_range, landscape.reg_range) for b in budgets]
    grid = np.array([landscape.accuracy_at(g[:, 0], g[:, 1]).max() for g in grids])
    grid_distinct = np.array([distinct_values(g[:, 0]) for g in grids])
    random_distinct = np.array([np.mean([distinct_values(row[:b]) for row in lrs[:20]]) for b in budgets])
    return SearchComparison(budgets, grid, random, grid_distinct, random_distinct)


# --- ensembles ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EnsembleStudy:
    """E ensembles of M networks each, all trained alike but from different initial weights, on the test set.

    - members: (E, M) the accuracy of each network alone
    - ensemble: (E,) the accuracy of each ensemble (its members' softmax probabilities averaged)
    - vote: (E,) the accuracy of each ensemble's majority vote of its members' predicted classes (a tie goes to
      the lowest class index among the tied ones)
    - ties: (E,) the fraction of the examples on which the vote is tied
    - disagree: (E,) the fraction of the examples on which the average and the vote predict different classes
    - gain: (E,) ensemble minus the mean of its members, in accuracy (0.01 = one percentage point)
    """
    members: np.ndarray
    ensemble: np.ndarray
    vote: np.ndarray
    ties: np.ndarray
    disagree: np.ndarray

    @property
    def gain(self) -> np.ndarray:
        return self.ensemble - self.members.mean(axis=1)


def majority_vote(predictions: np.ndarray, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """predictions: (M, N) the classes M models predict for N examples. Returns (winner (N,), tied (N,)): the class
    most models predict (a tie goes to the lowest class index) and whether another class has as many votes."""
    counts = np.zeros((num_classes, predictions.shape[1]), dtype=int)
    for row in predictions:
        counts[row, np.arange(row.size)] += 1
    top = counts.max(axis=0)
    return counts.argmax(axis=0), (counts == top).sum(axis=0) > 1


def ensemble_study(ensemble_predict, data: dict | None = None, ensembles: int = 10, members: int = 5,
                   learning_rate: float = 0.1, reg: float = 1e-3, **training) -> EnsembleStudy:
    """Train ``ensembles * members`` networks (seeds 0, 1, ...; one :class:`NetworkBatch`, ``training``: hidden,
    epochs, batch_size, batch_seed, update_rule) and measure on the test set each network alone, and each group of
    ``members`` consecutive seeds combined by ``ensemble_predict(models, X) -> (y_pred, probs)`` (course.search's,
    or a student's) and by a majority vote."""
    data = data if data is not None else digits_data()
    e, m = check_int(ensembles, "ensembles"), check_int(members, "members")
    batch = NetworkBatch(data, learning_rate, reg, seeds=np.arange(e * m), **training).advance()
    X, y = data["X_test"], data["y_test"]
    predictions = batch.scores(X).argmax(axis=2).reshape(e, m, len(y))
    averaged = np.array([np.asarray(ensemble_predict([batch.model(i * m + j) for j in range(m)], X)[0])
                         for i in range(e)])
    votes = [majority_vote(p, batch.num_classes) for p in predictions]
    voted, tied = np.array([v for v, _ in votes]), np.array([t for _, t in votes])
    return EnsembleStudy(members=np.mean(predictions == y, axis=2), ensemble=np.mean(averaged == y, axis=1),
                         vote=np.mean(voted == y, axis=1), ties=tied.mean(axis=1),
                         disagree=np.mean(averaged != voted, axis=1))
