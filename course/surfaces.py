"""2-D test functions with analytic gradients and Hessians, and runners that trace update rules' paths across them.

A :class:`Surface` holds f(x, y) and its gradient written once for floats and arrays alike: ``surface.f(X, Y)``
evaluates a whole contour grid, ``surface.grad(p)`` the gradient at one point p of shape (2,), ``surface.hessian(p)``
the curvature there. :func:`run_optimizer` returns the path of an update rule from :mod:`course.optim` (or a
student's) and says "diverged at step k" instead of producing NaNs or overflow warnings; :func:`race` runs several
rules at once, in lockstep, each stopping on its own.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

from course._validate import OutOfRangeError, as_float_array, check_int, check_scalar
from course.optim import NonFiniteStep


@dataclass(frozen=True, eq=False)
class Surface:
    """A 2-D function to optimize.

    - name: short name, e.g. "rosenbrock"
    - description: one line for a plot title
    - f: f(x, y) -> values; x and y are floats or arrays of one shape (a meshgrid), vectorized
    - df: df(x, y) -> (df/dx, df/dy), vectorized like f
    - minima: (K, 2) array of the known global or local minima (K = 0 when there is none)
    - bounds: ((x_min, x_max), (y_min, y_max)), a plotting window showing the minima and the start
    - start: (2,) a starting point that makes an instructive race
    - d2f: d2f(x, y) -> (d2f/dx2, d2f/dxdy, d2f/dy2), the entries of the Hessian, vectorized like f (None when
      unknown)
    """
    name: str
    description: str
    f: Callable
    df: Callable
    minima: np.ndarray
    bounds: tuple
    start: np.ndarray
    d2f: Callable | None = None

    @property
    def escape_radius(self) -> float:
        """A path with a coordinate beyond this, 1000 times the plotting window's extent, has diverged."""
        return 1e3 * float(np.max(np.abs(self.bounds)))

    def grad(self, p) -> np.ndarray:
        """Gradient (df/dx, df/dy) at the point p of shape (2,), as a float64 array of shape (2,). Far out, where
        a component exceeds the float range, it is +-inf (without a warning), as for :meth:`value`."""
        return self._at(self.df, p, "the gradient")

    def value(self, p) -> float:
        """f at the point p of shape (2,).

        A point so far out that f exceeds the float range (Rosenbrock at x = 1e300) gives inf (or -inf), the
        honest float value, without a warning; :func:`run_optimizer` reports such a path as diverged. Where the
        sign is lost too (two terms of opposite signs both overflow: inf - inf) there is no honest value, and
        OutOfRangeError is raised.
        """
        return float(self._at(self.f, p, "f"))

    def _at(self, fn, p, what: str) -> np.ndarray:
        x, y = _point(p)
        with np.errstate(over="ignore", invalid="ignore"):
            result = np.array(fn(np.float64(x), np.float64(y)), dtype=np.float64)
        if np.isnan(result).any():
            raise OutOfRangeError(f"{self.name}: {what} at ({x:g}, {y:g}) exceeds the float64 range with terms of "
                                  "opposite signs (inf - inf), so it has no float value")
        return result

    def hessian(self, p) -> np.ndarray:
        """The Hessian [[f_xx, f_xy], [f_xy, f_yy]] at the point p of shape (2,), a float64 array (2, 2): the
        curvature Newton's method divides by."""
        if self.d2f is None:
            raise ValueError(f"{self.name}: no Hessian is known for this surface")
        fxx, fxy, fyy = self._at(self.d2f, p, "the Hessian")
        return np.array([[fxx, fxy], [fxy, fyy]])

    def value_and_grad(self, p):
        """(f(p), grad(p)) for a point p of shape (2,): the form :func:`course.optim.lbfgs` takes."""
        return self.value(p), self.grad(p)


def _point(p, name: str = "p") -> tuple[float, float]:
    p = as_float_array(p, name)
    if p.shape != (2,):
        raise ValueError(f"{name} must be a point (x, y) of shape (2,); got shape {p.shape}")
    return float(p[0]), float(p[1])


def quadratic(condition: float = 10.0, angle: float = 0.0) -> Surface:
    """An ill-conditioned bowl f = 1/2 p^T A p with eigenvalues 1 and ``condition`` (>= 1), minimum at (0, 0).

    With angle = 0 (the default) the bowl is axis-aligned: f = (x^2 + condition * y^2) / 2, steep along y.
    A nonzero ``angle`` (degrees) rotates its axes: A = R diag(1, condition) R^T. Per-parameter methods
    (AdaGrad, RMSProp, Adam) rescale x and y separately, which helps most on the axis-aligned bowl.
    Plain SGD is stable only for learning_rate < 2 / condition.
    """
    condition = check_scalar(condition, "condition", low=1)
    angle = check_scalar(angle, "angle")
    theta = np.deg2rad(angle)
    c, s = np.cos(theta), np.sin(theta)
    a, b, d = c * c + condition * s * s, (1 - condition) * c * s, s * s + condition * c * c
    tilt = "axis-aligned" if angle % 180 == 0 else f"rotated by {angle:g} degrees"
    return Surface(
        name="quadratic", description=f"quadratic bowl, condition number {condition:g}, {tilt}",
        f=lambda x, y: 0.5 * (a * x * x + 2 * b * x * y + d * y * y),
        df=lambda x, y: (a * x + b * y, b * x + d * y),
        minima=np.zeros((1, 2)), bounds=((-4.0, 4.0), (-4.0, 4.0)), start=np.array([-3.5, 2.0]),
        d2f=lambda x, y: (a + 0 * x, b + 0 * x, d + 0 * x))


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Surface:
    """The Rosenbrock valley f = (a - x)^2 + b (y - x^2)^2, minimum 0 at (a, a^2).

    The minimum lies in a long, curved, flat-bottomed valley: easy to reach, slow to follow.
    df/dx = -2 (a - x) - 4 b x (y - x^2), df/dy = 2 b (y - x^2). a real, b > 0.
    """
    a = check_scalar(a, "a")
    b = check_scalar(b, "b", low=0, low_open=True)
    bounds = ((min(-2.0, a - 1), max(2.0, a + 1)), (min(-1.0, a * a - 1), max(3.0, a * a + 1)))
    return Surface(
        name="rosenbrock", description=f"Rosenbrock valley (a = {a:g}, b = {b:g})",
        f=lambda x, y: (a - x) ** 2 + b * (y - x * x) ** 2,
        df=lambda x, y: (-2 * (a - x) - 4 * b * x * (y - x * x), 2 * b * (y - x * x)),
        minima=np.array([[a, a * a]]), bounds=bounds, start=np.array([-1.5, 2.5]),
        d2f=lambda x, y: (2 - 4 * b * (y - x * x) + 8 * b * x * x, -4 * b * x, 2 * b + 0 * x))


def saddle() -> Surface:
    """The saddle f = x^2 - y^2, computed as (x - y)(x + y) (finite where x^2 and y^2 overflow): it has NO
    minimum (``minima`` is empty).

    (0, 0) is a stationary point, a minimum along x and a maximum along y. f is unbounded below along y, so a
    path that escapes the saddle keeps going until :func:`run_optimizer` reports that it diverged. Starting
    just off the x axis shows how slowly plain SGD escapes compared with momentum or adaptive methods.
    """
    return Surface(
        name="saddle", description="saddle x^2 - y^2 (no minimum)",
        f=lambda x, y: (x - y) * (x + y), df=lambda x, y: (2 * x, -2 * y),
        minima=np.zeros((0, 2)), bounds=((-2.0, 2.0), (-2.0, 2.0)), start=np.array([-1.5, 0.05]),
        d2f=lambda x, y: (2 + 0 * x, 0 * x, -2 + 0 * x))


# Himmelblau's four minima (f = 0 at each), to 16 significant digits.
_HIMMELBLAU_MINIMA = np.array([
    [3.0, 2.0],
    [-2.805118086952745, 3.131312518250573],
    [-3.779310253377747, -3.283185991286169],
    [3.584428340330492, -1.848126526964404],
])


def several_minima() -> Surface:
    """Himmelblau's function f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2: four minima, all with f = 0.

    Minima at (3, 2), (-2.805, 3.131), (-3.779, -3.283) and (3.584, -1.848); a local maximum near
    (-0.271, -0.923) between them. Which minimum a path reaches depends on the rule and its settings.
    df/dx = 4 x (x^2 + y - 11) + 2 (x + y^2 - 7), df/dy = 2 (x^2 + y - 11) + 4 y (x + y^2 - 7).
    """
    return Surface(
        name="himmelblau", description="Himmelblau's function (four minima)",
        f=lambda x, y: (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
        df=lambda x, y: (4 * x * (x * x + y - 11) + 2 * (x + y * y - 7),
                         2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)),
        minima=_HIMMELBLAU_MINIMA.copy(), bounds=((-5.0, 5.0), (-5.0, 5.0)), start=np.array([-0.5, -0.5]),
        d2f=lambda x, y: (12 * x * x + 4 * y - 42, 4 * (x + y), 12 * y * y + 4 * x - 26))


SURFACES = {"quadratic": quadratic, "rosenbrock": rosenbrock, "saddle": saddle, "several_minima": several_minima}


class Trajectory(NamedTuple):
    """The result of :func:`run_optimizer`: ``path`` (K + 1, 2), the start and the points after each of the K
    steps taken, and ``status``, "ran 100 steps" or "diverged at step 12" (a message for the plot)."""
    path: np.ndarray
    status: str

    @property
    def diverged(self) -> bool:
        return self.status.startswith("diverged")


def run_optimizer(rule, surface: Surface, x0=None, steps: int = 100, config: dict | None = None,
                  lr_schedule=None, gradient_noise=None) -> Trajectory:
    """Follow ``rule`` (``next_w, config = rule(w, dw, config)``) on ``surface`` for ``steps`` steps.

    Inputs:
    - rule: an update rule, e.g. course.optim.adam
    - surface: a :class:`Surface`
    - x0: start point (2,); None for ``surface.start``
    - steps: number of updates, an integer >= 0
    - config: hyperparameters for the rule; copied, so one dict can serve several runs
    - lr_schedule: optional callable t -> learning rate, applied before step t = 0, 1, ...
    - gradient_noise: optional (steps, 2) array added to the gradient of step t = 0, 1, ... (a model of the noise
      of minibatch gradients)

    Returns a :class:`Trajectory` (path, status). The run stops early, with status "diverged at step k" and the
    path up to the last good point (k points), as soon as the point after step k has a coordinate beyond
    +-``surface.escape_radius``, or when the rule raises OutOfRangeError (a step beyond the float range); no
    overflow warning is emitted along the way. A rule that returns NaN or inf from a finite point and gradient
    has a bug, not a divergence: course.optim.NonFiniteStep is raised, naming it and the step. An exception the
    rule raises otherwise propagates as it is.
    """
    try:
        return race([(rule, config)], surface, x0, steps, lr_schedule, gradient_noise)[0]
    except RuleFailed as failure:
        raise failure.__cause__ from None


class RuleFailed(Exception):
    """Raised by :func:`race` when a rule raises (other than OutOfRangeError), or returns NaN or inf from a finite
    point and gradient: ``index`` is the rule's place in the list, the ``__cause__`` the rule's exception or a
    course.optim.NonFiniteStep naming the rule and the step."""

    def __init__(self, index: int):
        super().__init__(f"rule {index} raised an exception")
        self.index = index


def race(rules, surface: Surface, x0=None, steps: int = 100, lr_schedule=None, gradient_noise=None) -> list:
    """Follow R update rules from one start on ``surface`` for ``steps`` steps, all at once.

    ``rules`` is a list of (rule, config) pairs (config None for the defaults; copied). The rules take their steps
    in lockstep: at every step one vectorized evaluation of the gradient serves every rule still running, then
    each rule takes its step. Each rule gets the same ``gradient_noise`` and ``lr_schedule`` (as in
    :func:`run_optimizer`) and stops on its own when it diverges, while the others go on.

    Returns a list of R :class:`Trajectory`, one per rule, each as :func:`run_optimizer` would return it. A rule
    raising an exception (other than OutOfRangeError, which counts as diverging) or returning NaN or inf from a
    finite point and gradient (a bug, not a divergence: e.g. 0/0 where a gradient component is exactly 0) stops
    the race with :class:`RuleFailed` naming the rule's index.
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a Surface (e.g. surfaces.rosenbrock()); got {type(surface).__name__}")
    check_int(steps, "steps", low=0)
    for _, config in rules:
        if config is not None and not isinstance(config, dict):
            raise TypeError(f"config must be a dict or None; got {type(config).__name__}")
    x, y = _point(surface.start if x0 is None else x0, "x0")
    configs = [dict(config or {}) for _, config in rules]
    functions = [rule for rule, _ in rules]
    if gradient_noise is not None:
        gradient_noise = as_float_array(gradient_noise, "gradient_noise")
        if gradient_noise.shape != (steps, 2):
            raise ValueError(f"gradient_noise must have shape (steps, 2) = ({steps}, 2); got {gradient_noise.shape}")
    radius = surface.escape_radius
    paths = np.empty((len(rules), steps + 1, 2))
    paths[:, 0] = x, y
    ended = [steps] * len(rules)  # the step after which each rule stopped
    running = list(range(len(rules)))
    every = slice(None)  # the rows of the rules still running: all of them (a view), or a list of indices
    gradients = np.empty((len(rules), 2))
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # a blow-up is reported, not warned
        for t in range(steps):
            points = np.array(paths[every, t])  # a copy: a rule that changes its w in place changes nothing here
            gradients = gradients[:len(running)]
            gradients[:, 0], gradients[:, 1] = surface.df(points[:, 0], points[:, 1])
            if gradient_noise is not None:
                gradients += gradient_noise[t]
            overflowed = []  # the rules whose step went beyond the float range (OutOfRangeError)
            for r, point, dw in zip(running, points, gradients):
                if lr_schedule is not None:
                    configs[r]["learning_rate"] = lr_schedule(t)
                try:
                    paths[r, t + 1], configs[r] = functions[r](point, dw, configs[r])
                except OutOfRangeError:
                    paths[r, t + 1] = np.nan
                    overflowed.append(r)
                except Exception as exc:
                    raise RuleFailed(r) from exc
            reached = np.abs(paths[every, t + 1])
            if not reached.max() <= radius:  # some rule escaped (or hit NaN, for which every comparison is False)
                escaped = ~np.all(reached <= radius, axis=1)
                for r, dw in zip(np.asarray(running)[escaped], gradients[escaped]):
                    if r not in overflowed and not np.isfinite(paths[r, t + 1]).all() and np.isfinite(dw).all():
                        name = getattr(functions[r], "__name__", "the rule")  # its point was finite: inside radius
                        raise RuleFailed(r) from NonFiniteStep(f"{name} returned NaN or inf for finite input "
                                                               f"(step {t + 1})")
                    ended[r] = t
                running = [r for r, gone in zip(running, escaped) if not gone]
                every = running
                if not running:
                    break
    return [Trajectory(path[:k + 1], f"ran {steps} steps" if k == steps else f"diverged at step {k + 1}")
            for path, k in zip(paths, ended)]
