"""Lab 05's experiments: update rules on 2-D surfaces, what theory predicts on a quadratic, learning-rate
schedules on noisy gradient descent, and a real network trained on the digits with each rule, many seeds at once.

The quadratic. On f(x) = 1/2 x^T A x, whose Hessian A has eigenvalues in [lambda_min, lambda_max] (condition number
kappa = lambda_max / lambda_min), gradient descent with step alpha shrinks the distance to the minimum by at best
(kappa - 1)/(kappa + 1) per step, at alpha = 2/(lambda_min + lambda_max); heavy-ball momentum,
x' = x - alpha grad f(x) + beta (x - x_prev), by at best (sqrt(kappa) - 1)/(sqrt(kappa) + 1), at
alpha = (2/(sqrt(lambda_max) + sqrt(lambda_min)))^2 and beta = ((sqrt(kappa) - 1)/(sqrt(kappa) + 1))^2 (Goh, "Why
Momentum Really Works", Distill 2017). The course's momentum, v' = mu v - lr dw and w' = w + v', is exactly the
heavy ball with alpha = learning_rate and beta = momentum: w' - w = v' = mu (w - w_prev) - lr dw.

Schedules. The noisy quadratic model: gradient descent on a quadratic whose gradients carry Gaussian noise, as
minibatch gradients do. With a constant rate the loss stalls at a floor proportional to the rate; annealing the
rate lowers the floor. Many noise seeds and several schedules run at once (vectorized).

Digits. A fully connected ReLU network (as course.models.FullyConnectedNet builds it) trained by minibatch gradient
descent on the shipped 8x8 digits, S seeds at once: every parameter is stacked over the seeds, (S, ...), and since
every update rule acts element by element, ONE call of a rule updates all S networks exactly as S separate calls
would. Each seed has its own initialization and its own minibatch order.
"""
from __future__ import annotations

import copy
import functools
import warnings
from dataclasses import dataclass

import numpy as np

from course import data, models, optim
from course._validate import OutOfRangeError, check_int, check_scalar
from course.optim import NonFiniteStep
from course.surfaces import Surface, Trajectory

__all__ = ["QuadraticTheory", "quadratic_theory", "gd_rate", "momentum_rate", "measured_rate", "gradient_scale",
           "gradient_noise", "lbfgs_trajectory", "newton_path", "NOISY_QUADRATIC_CURVATURES", "noise_floor",
           "AnnealingRuns", "annealing_runs", "digits_split", "DigitsRuns", "train_digits", "digits_loss_and_grad",
           "lbfgs_digits"]


# --- what theory predicts on a quadratic -------------------------------------------------------------------------

@dataclass(frozen=True)
class QuadraticTheory:
    """The best settings and rates of gradient descent and of heavy-ball momentum on a quadratic whose Hessian
    has eigenvalues from ``lambda_min`` to ``lambda_max`` (> 0). A rate is the factor by which the distance to the
    minimum shrinks per step (f - f* shrinks by its square)."""
    lambda_min: float
    lambda_max: float

    @property
    def condition(self) -> float:
        return self.lambda_max / self.lambda_min

    @property
    def gd_learning_rate(self) -> float:
        """2 / (lambda_min + lambda_max): both extreme eigen-directions then shrink by the same factor."""
        return 2 / (self.lambda_min + self.lambda_max)

    @property
    def gd_rate(self) -> float:
        """(kappa - 1) / (kappa + 1)."""
        return (self.condition - 1) / (self.condition + 1)

    @property
    def momentum_learning_rate(self) -> float:
        """(2 / (sqrt(lambda_max) + sqrt(lambda_min)))^2."""
        return (2 / (np.sqrt(self.lambda_max) + np.sqrt(self.lambda_min))) ** 2

    @property
    def momentum(self) -> float:
        """((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2."""
        return self.momentum_rate ** 2

    @property
    def momentum_rate(self) -> float:
        """(sqrt(kappa) - 1) / (sqrt(kappa) + 1)."""
        root = np.sqrt(self.condition)
        return (root - 1) / (root + 1)


def quadratic_theory(hessian) -> QuadraticTheory:
    """The :class:`QuadraticTheory` of f = 1/2 x^T A x for the symmetric positive definite Hessian A (n, n)."""
    eigenvalues = np.linalg.eigvalsh(np.asarray(hessian, dtype=np.float64))
    if not eigenvalues[0] > 0:
        raise ValueError(f"the Hessian must be positive definite (a bowl); its smallest eigenvalue is "
                         f"{eigenvalues[0]:g}")
    return QuadraticTheory(float(eigenvalues[0]), float(eigenvalues[-1]))


def gd_rate(learning_rate: float, eigenvalues) -> float:
    """Per-step rate of gradient descent on a quadratic with these Hessian eigenvalues: max |1 - lr lambda|.
    Above 1 the iteration diverges."""
    return float(np.max(np.abs(1 - learning_rate * np.asarray(eigenvalues, dtype=np.float64))))


def momentum_rate(learning_rate: float, momentum: float, eigenvalues) -> float:
    """Per-step rate of heavy-ball momentum (the course's sgd_momentum) on a quadratic with these Hessian
    eigenvalues: along each eigen-direction the error follows e' = (1 + mu - lr lambda) e - mu e_prev, whose
    roots z solve z^2 - (1 + mu - lr lambda) z + mu = 0; the rate is the largest |z| over the eigenvalues."""
    b = 1 + momentum - learning_rate * np.asarray(eigenvalues, dtype=np.float64)
    root = np.sqrt((b * b - 4 * momentum).astype(complex))
    return float(np.max(np.maximum(np.abs(b + root), np.abs(b - root))) / 2)


def measured_rate(path, minimum) -> float:
    """The rate a path shows: the per-step factor by which its distance to ``minimum`` (2,) shrank over the second
    half of the path (K + 1, 2), (d_K / d_(K/2))^(1 / (K - K/2)). The second half, because the first steps are
    still dominated by how the start projects on the eigen-directions; the path is cut where the distance falls
    below 1e-200 of the first one (further on, float64 underflows to exact zeros). NaN for fewer than 2 steps."""
    distance = np.linalg.norm(np.asarray(path, dtype=np.float64) - minimum, axis=1)
    resolved = np.flatnonzero(distance > 1e-200 * distance[:1])
    k = int(resolved[-1]) if resolved.size else 0
    if k < 2:
        return float("nan")
    half = k // 2
    return float((distance[k] / distance[half]) ** (1 / (k - half)))


# --- races on a surface --------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=32)
def gradient_scale(surface: Surface) -> float:
    """A typical gradient size on ``surface``: the median of |grad f| over a 41 x 41 grid of its plotting window.
    The unit of the gradient noise in the optimizer race."""
    (x0, x1), (y0, y1) = surface.bounds
    x, y = np.meshgrid(np.linspace(x0, x1, 41), np.linspace(y0, y1, 41))
    gx, gy = surface.df(x, y)
    return float(np.median(np.hypot(gx, gy)))


def gradient_noise(steps: int, std: float, seed: int = 0) -> np.ndarray:
    """(steps, 2) Gaussian noise of standard deviation ``std`` per component, to add to the gradients of a race
    (course.surfaces.run_optimizer's gradient_noise): every rule gets the same noise, so the race stays fair."""
    steps = check_int(steps, "steps", low=0)
    std = check_scalar(std, "std", low=0)
    return std * np.random.default_rng(seed).standard_normal((steps, 2))


def lbfgs_trajectory(surface: Surface, x0=None, steps: int = 200) -> Trajectory:
    """L-BFGS (course.optim.lbfgs) on ``surface`` from x0 (None: the surface's start) for at most ``steps``
    iterations, as a :class:`course.surfaces.Trajectory`: one point per iteration (an iteration may evaluate f and
    its gradient several times in its line search). Status "converged after k steps" when it stopped early at a
    minimum, "diverged at step k" when it left for infinity (f unbounded below, as on the saddle), else "ran k
    steps". L-BFGS uses exact gradients: no noise, no learning rate."""
    start = np.array(surface.start if x0 is None else x0, dtype=np.float64)
    steps = check_int(steps, "steps")
    radius = surface.escape_radius
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            _, path = optim.lbfgs(surface.value_and_grad, start, max_iter=steps,
                                  stop=lambda x: not np.all(np.abs(x) <= radius))  # gone: no need to follow it
        except OutOfRangeError:  # f has no float value out there: it escaped to infinity
            path = np.array([start])
            return Trajectory(path, "diverged at step 1")
    far = ~np.all(np.abs(path) <= radius, axis=1)
    if far.any():
        k = int(np.argmax(far))
        return Trajectory(path[:k], f"diverged at step {k}")
    taken = path.shape[0] - 1
    if taken < steps and np.linalg.norm(surface.grad(path[-1])) < 1e-4:
        return Trajectory(path, f"converged after {taken} steps")
    return Trajectory(path, f"ran {taken} steps")


def newton_path(surface: Surface, x0=None, steps: int = 10, tol: float = 1e-10) -> np.ndarray:
    """Newton's method x' = x - H(x)^-1 grad f(x) on ``surface`` (no learning rate): the points (K + 1, 2) from x0
    (None: the surface's start), stopping early where |grad f| < tol (a stationary point: of any kind) or the
    Hessian is singular."""
    path = [np.array(surface.start if x0 is None else x0, dtype=np.float64)]
    for _ in range(check_int(steps, "steps")):
        g = surface.grad(path[-1])
        if not np.linalg.norm(g) >= tol:
            break
        try:
            path.append(path[-1] - np.linalg.solve(surface.hessian(path[-1]), g))
        except np.linalg.LinAlgError:
            break
    return np.array(path)


# --- learning-rate schedules on noisy gradient descent -----------------------------------------------------------

NOISY_QUADRATIC_CURVATURES = np.logspace(0, -1, 10)  # the Hessian's eigenvalues: condition number 10, D = 10


def noise_floor(learning_rate: float, noise: float) -> float:
    """The loss at which noisy gradient descent with a constant rate settles on the noisy quadratic (the mean over
    the noise): along each eigen-direction w' = (1 - lr lambda) w - lr noise xi has the stationary variance
    lr noise^2 / (lambda (2 - lr lambda)), so E f = sum_i lr noise^2 / (2 (2 - lr lambda_i)): proportional to the
    rate, for small rates. Infinite when lr >= 2 / max(lambda), where the iteration diverges."""
    curvature = NOISY_QUADRATIC_CURVATURES
    if learning_rate * curvature.max() >= 2:
        return float("inf")
    return float(np.sum(learning_rate * noise ** 2 / (2 * (2 - learning_rate * curvature))))


@dataclass(frozen=True)
class AnnealingRuns:
    """Noisy gradient descent on f(w) = 1/2 sum_i lambda_i w_i^2 (lambda = NOISY_QUADRATIC_CURVATURES, f* = 0)
    under R learning-rate schedules, averaged over S noise seeds.

    - names: the R schedules' names, in the order given
    - learning_rates: (R, E) the rate of each of the E epochs (for a plateau schedule, the median over the seeds)
    - loss: (R, T + 1) f(w) at each of the T steps (and the start), the mean over the seeds
    - final: (R, S) f(w) averaged over the last epoch, each seed
    """
    names: tuple
    learning_rates: np.ndarray
    loss: np.ndarray
    final: np.ndarray


def annealing_runs(schedules: dict, epochs: int = 20, steps_per_epoch: int = 20, noise: float = 1.0,
                   seeds: int = 20, seed: int = 0) -> AnnealingRuns:
    """Run noisy gradient descent w' = w - lr (grad f(w) + noise * xi), xi ~ N(0, I), from w = (3, ..., 3), under
    each schedule of ``schedules`` (name -> schedule) for ``epochs`` epochs of ``steps_per_epoch`` steps, with
    ``seeds`` noise seeds (the same noise for every schedule: a fair comparison).

    A schedule is a callable epoch -> learning rate (course.schedules), applied at the start of each epoch, or an
    object with ``.lr`` (the first epoch's rate) and ``.step(metric) -> lr`` such as
    course.schedules.ReduceLROnPlateau in mode "min": it is copied for every seed and stepped at the end of each
    epoch with that seed's mean loss over the epoch. Returns :class:`AnnealingRuns`.
    """
    epochs, steps_per_epoch, seeds = (check_int(epochs, "epochs"), check_int(steps_per_epoch, "steps_per_epoch"),
                                      check_int(seeds, "seeds"))
    noise = check_scalar(noise, "noise", low=0)
    names = tuple(schedules)
    curvature = NOISY_QUADRATIC_CURVATURES
    w = np.full((len(names), seeds, curvature.size), 3.0)
    plateaus = {r: [copy.deepcopy(s) for _ in range(seeds)] for r, s in enumerate(schedules.values())
                if hasattr(s, "step")}
    lr = np.empty((len(names), seeds))
    rates = np.empty((len(names), epochs))
    loss = np.empty((len(names), seeds, epochs * steps_per_epoch + 1))
    loss[:, :, 0] = 0.5 * (curvature * w * w).sum(-1)
    draws = np.random.default_rng(seed).standard_normal((epochs * steps_per_epoch, seeds, curvature.size))
    for epoch in range(epochs):
        for r, schedule in enumerate(schedules.values()):
            lr[r] = [p.lr for p in plateaus[r]] if r in plateaus else schedule(epoch)
        rates[:, epoch] = np.median(lr, axis=1)
        for t in range(epoch * steps_per_epoch, (epoch + 1) * steps_per_epoch):
            w -= lr[:, :, None] * (curvature * w + noise * draws[t])
            loss[:, :, t + 1] = 0.5 * (curvature * w * w).sum(-1)
        epoch_loss = loss[:, :, epoch * steps_per_epoch + 1:(epoch + 1) * steps_per_epoch + 1].mean(-1)
        for r, objects in plateaus.items():
            for s, plateau in enumerate(objects):
                plateau.step(float(epoch_loss[r, s]))
    return AnnealingRuns(names, rates, loss.mean(axis=1), epoch_loss)


# --- a real network on the digits, many seeds at once -------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _digits_split():
    X, y = data.digits()
    return data.train_val_test_split(X.reshape(len(X), -1) / 16, y, val=0.2, test=0.0, seed=0)


def digits_split() -> dict:
    """The shipped digits as X_train (1438, 64), y_train, X_val (359, 64), y_val: pixels scaled to [0, 1], a
    stratified split with seed 0 (the same split every time; copies, so the caller may change them)."""
    return {key: value.copy() for key, value in _digits_split().items() if key[2:] in ("train", "val")}


@dataclass(frozen=True)
class DigitsRuns:
    """The result of :func:`train_digits`, one row per seed (S seeds, I iterations).

    - loss_history: (S, I) the minibatch loss of every iteration (NaN after a seed diverged)
    - final_loss: (S,) the loss on the whole training set after training (inf for a diverged seed)
    - val_accuracy: (S,) accuracy on the validation set after training
    - diverged_at: (S,) the iteration at which the loss diverged (became non-finite or 100 times its start), -1
      when it did not; a diverged seed is frozen from then on
    """
    loss_history: np.ndarray
    final_loss: np.ndarray
    val_accuracy: np.ndarray
    diverged_at: np.ndarray


def _stacked_params(seeds, hidden, init, weight_scale) -> dict:
    """The parameters of FullyConnectedNet(hidden, 64, 10, init, weight_scale, seed=s) for each seed s, stacked:
    name -> (S, ...)."""
    nets = [models.FullyConnectedNet(hidden, 64, 10, init=init, weight_scale=weight_scale, seed=s) for s in seeds]
    return {name: np.stack([net.params[name] for net in nets]) for name in nets[0].params}


def _scores(params: dict, X: np.ndarray, layers: int):
    """Forward pass of S stacked ReLU networks: X (S, N, D) or (N, D) -> (scores (S, N, C), caches)."""
    h, caches = X, []
    for i in range(1, layers):
        a = h @ params[f"W{i}"] + params[f"b{i}"][:, None, :]
        caches.append((h, a > 0))
        h = np.maximum(a, 0)
    caches.append((h, None))
    return h @ params[f"W{layers}"] + params[f"b{layers}"][:, None, :], caches


def digits_loss_and_grad(params: dict, X: np.ndarray, y: np.ndarray):
    """Softmax loss and gradients of S stacked ReLU networks (parameters name -> (S, ...), as FullyConnectedNet
    names them) on X (S, N, D) or a batch shared by all, (N, D), with labels y (S, N) or (N,).

    Returns (loss (S,), grads name -> (S, ...)): each network's loss averaged over its N examples, exactly what
    FullyConnectedNet.loss gives for each one (reg = 0)."""
    layers = len(params) // 2
    scores, caches = _scores(params, X, layers)
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    y = np.broadcast_to(y, scores.shape[:2])
    n = scores.shape[1]
    loss = -np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0].mean(axis=1)
    d = np.exp(log_p)
    np.put_along_axis(d, y[..., None], np.take_along_axis(d, y[..., None], axis=-1) - 1, axis=-1)
    d /= n
    grads = {}
    for i in range(layers, 0, -1):
        h, active = caches[i - 1]
        grads[f"W{i}"] = np.swapaxes(h, -1, -2) @ d  # a batch shared by all (N, D) broadcasts to (S, D, M)
        grads[f"b{i}"] = d.sum(axis=1)
        if i > 1:  # through layer i's weights, then the ReLU of layer i - 1
            d = (d @ np.swapaxes(params[f"W{i}"], -1, -2)) * caches[i - 2][1]
    return loss, grads


def _accuracy(params: dict, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(S,) the fraction of X (N, D) whose highest score is the label y (N,), for each of the S networks."""
    with np.errstate(all="ignore"):
        scores, _ = _scores(params, X, len(params) // 2)
    return np.mean(np.argmax(scores, axis=-1) == y, axis=-1)


def train_digits(rule, config: dict | None = None, seeds=range(10), epochs: int = 10, hidden=(50,),
                 batch_size: int = 50, init: str = "he", weight_scale: float | None = None,
                 lr_schedule=None) -> DigitsRuns:
    """Train one ReLU network per seed on the digits (:func:`digits_split`) with the update rule ``rule``
    (``next_w, config = rule(w, dw, config)``, e.g. course.optim.adam or yours) and the settings ``config``.

    Each network is FullyConnectedNet(hidden, 64, 10, init=init, weight_scale=weight_scale, seed=s): seed s draws
    its weights and its minibatch order (reshuffled every epoch). Every parameter gets its own copy of config;
    ``lr_schedule`` (a callable epoch -> learning rate) sets config["learning_rate"] at the start of each epoch.
    All seeds train at once (see the module docstring). Returns :class:`DigitsRuns`. A rule that returns NaN or inf
    for finite w and dw has a bug, not a diverging loss: course.optim.NonFiniteStep is raised, naming it.
    """
    seeds = list(seeds)
    epochs, batch_size = check_int(epochs, "epochs"), check_int(batch_size, "batch_size")
    split = _digits_split()
    X, y = split["X_train"], split["y_train"]
    params = _stacked_params(seeds, tuple(hidden), init, weight_scale)
    configs = {name: copy.deepcopy(dict(config or {})) for name in params}
    rngs = [np.random.default_rng([s, 1]) for s in seeds]
    starts = range(0, y.size, batch_size)
    history = np.full((len(seeds), epochs * len(starts)), np.nan)
    diverged_at = np.full(len(seeds), -1)
    it = 0
    for epoch in range(epochs):
        if lr_schedule is not None:
            for c in configs.values():
                c["learning_rate"] = lr_schedule(epoch)
        order = np.stack([rng.permutation(y.size) for rng in rngs])
        for start in starts:
            batch = order[:, start:start + batch_size]
            with np.errstate(all="ignore"):
                loss, grads = digits_loss_and_grad(params, X[batch], y[batch])
            limit = 100 * history[:, 0] if it else np.inf  # a hundred times the first loss
            diverged_at[(diverged_at < 0) & ~(np.isfinite(loss) & (loss < limit))] = it
            alive = diverged_at < 0
            history[alive, it] = loss[alive]
            for name, w in params.items():
                keep = alive.reshape((-1,) + (1,) * (w.ndim - 1))
                dw = grads[name] if alive.all() else np.where(keep, grads[name], 0.0)  # diverged: no gradient
                next_w, configs[name] = rule(w, dw, configs[name])
                if not np.isfinite(next_w).all() and np.isfinite(w).all() and np.isfinite(dw).all():
                    raise NonFiniteStep(f"{getattr(rule, '__name__', 'the rule')} returned NaN or inf for finite "
                                        f"input (iteration {it + 1}, parameter {name})")
                params[name] = next_w if alive.all() else np.where(keep, next_w, w)  # diverged: frozen, finite
            it += 1
    with np.errstate(all="ignore"):
        final, _ = digits_loss_and_grad(params, X, y)
    final = np.where(diverged_at < 0, final, np.inf)
    return DigitsRuns(history, final, _accuracy(params, split["X_val"], split["y_val"]), diverged_at)


def lbfgs_digits(seeds=range(5), max_iter: int = 100, batch_size: int | None = None, hidden=(50,)) -> DigitsRuns:
    """Train one ReLU network per seed on the digits with L-BFGS (course.optim.lbfgs) for at most ``max_iter``
    iterations: on the whole training set (``batch_size`` None), or, as one would with minibatches, on a new
    random minibatch of ``batch_size`` examples at every evaluation of the loss and gradient. ``loss_history``
    holds the loss on the whole training set after each iteration (NaN once L-BFGS stopped). Returns
    :class:`DigitsRuns` (nothing diverges: diverged_at is -1)."""
    split = _digits_split()
    X, y = split["X_train"], split["y_train"]
    seeds = list(seeds)
    history = np.full((len(seeds), max_iter), np.nan)
    final, accuracy = np.empty(len(seeds)), np.empty(len(seeds))
    for row, seed in enumerate(seeds):
        params = _stacked_params([seed], tuple(hidden), "he", None)
        shapes = {name: w.shape for name, w in params.items()}
        sizes = np.cumsum([0] + [w.size for w in params.values()])
        rng = np.random.default_rng([seed, 2])

        def unflatten(flat):
            return {name: flat[a:b].reshape(shapes[name]) for name, a, b in zip(shapes, sizes[:-1], sizes[1:])}

        def f_and_grad(flat, batch_size=batch_size):
            batch = slice(None) if batch_size is None else rng.choice(y.size, batch_size, replace=False)
            loss, grads = digits_loss_and_grad(unflatten(flat), X[batch], y[batch])
            return float(loss[0]), np.concatenate([grads[name].ravel() for name in shapes])

        flat0 = np.concatenate([w.ravel() for w in params.values()])
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            _, path = optim.lbfgs(f_and_grad, flat0, max_iter=max_iter)
        for k, point in enumerate(path[1:]):
            history[row, k] = f_and_grad(point, None)[0]
        final[row] = f_and_grad(path[-1], None)[0]
        accuracy[row] = _accuracy(unflatten(path[-1]), split["X_val"], split["y_val"])[0]
    return DigitsRuns(history, final, accuracy, np.full(len(seeds), -1))
