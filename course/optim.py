"""First-order update rules, and L-BFGS for small problems.

Every update rule has the signature ``next_w, config = rule(w, dw, config=None)``:

- w: the current parameters, an array of any shape (a weight matrix (D, M), a bias (M,), a point (2,) ...)
- dw: the gradient of the loss with respect to w, shaped like w
- config: a dict of hyperparameters and state. Missing hyperparameters are filled in with ``config.setdefault``
  (so values the caller set are kept); the state (velocity, cache, moments, step count) lives in the same dict,
  is created with ``np.zeros_like(w)`` on the first call and is carried to the next call by passing the returned
  config back in. Each parameter needs its own config dict: state is never shared between parameters.

Returns ``next_w`` (a new array shaped like w, of w's float dtype) and the config. Neither w nor dw is modified
in place. Unknown config keys raise a ValueError listing the known ones, so a typo such as 'learning_rte' does
not silently fall back to the default. State passed in as a list (``config['velocity'] = [0, 0]``) is taken as
an array of w's dtype.

Values too large for the float type never turn into silent inf or NaN: when finite w, dw and state give a
next_w or a state beyond the float range (an exploded gradient: AdaGrad, RMSProp and Adam keep squared
gradients, which overflow float64 once |dw| passes about 1e154, float32 at 1e19), the rule raises
course.OutOfRangeError (a ValueError) naming what overflowed, and leaves config as it was. The runners that drive a
rule step after step (course.surfaces.race, course.experiments.train_digits) raise :class:`NonFiniteStep` when a
rule returns NaN or inf for finite input: a bug in the rule (0/0 where a gradient entry is exactly 0, say), not a
divergence.

``UPDATE_RULES`` maps each rule's name to the rule, ``DEFAULTS`` each name to its hyperparameters' defaults and
``STATE_KEYS`` each name to the config keys holding its state. ``unchecked(name)`` is a rule's update without its
checks, for inner loops whose settings are known to be valid.
"""
from __future__ import annotations

import difflib
import functools
import math
import operator

import numpy as np
from scipy.optimize import minimize

from course._validate import OutOfRangeError, as_float_array, check_in_range, check_int, check_scalar

# Valid ranges of the hyperparameters: (low, high, low end included); the high end is always excluded.
_RANGES = {
    "learning_rate": (0.0, math.inf, False),
    "momentum": (0.0, 1.0, True),
    "decay_rate": (0.0, 1.0, False),
    "beta1": (0.0, 1.0, True),
    "beta2": (0.0, 1.0, True),
    "epsilon": (0.0, math.inf, False),
}

# Each rule's hyperparameters with their defaults, and the config keys of the state it keeps.
DEFAULTS = {
    "sgd": {"learning_rate": 1e-2},
    "sgd_momentum": {"learning_rate": 1e-2, "momentum": 0.9},
    "nesterov": {"learning_rate": 1e-2, "momentum": 0.9},
    "adagrad": {"learning_rate": 1e-2, "epsilon": 1e-8},
    "rmsprop": {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8},
    "adam": {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8},
}
STATE_KEYS = {"sgd": (), "sgd_momentum": ("velocity",), "nesterov": ("velocity",), "adagrad": ("cache",),
              "rmsprop": ("cache",), "adam": ("m", "v", "t")}
_KNOWN = {rule: frozenset(DEFAULTS[rule]) | frozenset(STATE_KEYS[rule]) for rule in DEFAULTS}
_ARRAY_STATE = {rule: tuple(key for key in keys if key != "t") for rule, keys in STATE_KEYS.items()}  # all but t


class NonFiniteStep(ArithmeticError):
    """An update rule returned NaN or inf for finite input (finite w and dw): a bug in the rule, such as 0/0 where
    a gradient entry is exactly 0, not a divergence (the rules here raise OutOfRangeError for a step beyond the
    float range). The message names the rule and the step ("adagrad returned NaN or inf for finite input (step
    3)")."""


def _hyperparameter(rule: str, key: str, value) -> float:
    """``value`` of config[key] as a float, after checking it lies in the key's valid range."""
    if type(value) is not float:  # a plain float, the common case, skips the slower general check
        value = check_scalar(value, f"{rule}: config['{key}']")
    low, high, closed = _RANGES[key]
    if not ((low <= value if closed else low < value) and value < high):  # also rejects NaN
        interval = f"in {'[' if closed else '('}{low:g}, {high:g})" if high < math.inf else f"finite and > {low:g}"
        raise ValueError(f"{rule}: config['{key}'] must be {interval}; got {value}")
    return value


def _unknown_key_error(rule: str, config: dict) -> ValueError:
    known = _KNOWN[rule]
    key = sorted(map(str, config.keys() - known))[0]
    close = difflib.get_close_matches(key, known, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return ValueError(f"{rule}: unknown config key '{key}'{hint}; known keys: {', '.join(sorted(known))}")


def _prepare(rule: str, w, dw, config: dict | None):
    """Check w and dw, fill the rule's defaults into config and validate it.

    Returns (w, dw, config, hyperparameters): w as a float array, dw cast to w's dtype, the config dict (a new
    one when None was passed) and the validated hyperparameters as floats, in the order of ``DEFAULTS[rule]``.
    """
    w = as_float_array(w, "w")
    dw = as_float_array(dw, "dw")
    if dw.shape != w.shape:
        raise ValueError(f"{rule}: dw must have the shape of w {w.shape}; got {dw.shape}")
    if config is None:
        config = {}
    elif not isinstance(config, dict):
        raise TypeError(f"{rule}: config must be a dict or None; got {type(config).__name__}")
    if not config.keys() <= _KNOWN[rule]:
        raise _unknown_key_error(rule, config)
    hyper = [_hyperparameter(rule, key, config.setdefault(key, default)) for key, default in DEFAULTS[rule].items()]
    for key in _ARRAY_STATE[rule]:
        if config.get(key) is None:
            continue
        value = as_float_array(config[key], f"{rule}: config['{key}']")  # a list becomes an array
        if value.shape != w.shape:
            raise ValueError(f"{rule}: config['{key}'] has shape {value.shape} but w has shape {w.shape}; "
                             "each parameter needs its own config dict (copy it per parameter)")
        config[key] = value.astype(w.dtype, copy=False)
    if "t" in STATE_KEYS[rule]:
        config["t"] = check_int(config.get("t", 0), f"{rule}: config['t']", low=0, note="the step count")
    return w, dw.astype(w.dtype, copy=False), config, hyper


def _range_checked(rule):
    """Run an update rule with overflow warnings off, then check that finite w, dw and state gave a finite next_w
    and state. If not (a result beyond the float range), restore config and raise OutOfRangeError."""
    name = rule.__name__
    states = _ARRAY_STATE[name]

    @functools.wraps(rule)
    def checked(w, dw, config=None):
        before = dict(config) if isinstance(config, dict) else None
        with np.errstate(over="ignore", invalid="ignore"):
            next_w, config = rule(w, dw, config)
        if np.isfinite(next_w).all() and all(np.isfinite(config[key]).all() for key in states):
            return next_w, config  # the common case, checked cheaply
        inputs = [w, dw] + [before[key] for key in states if before and before.get(key) is not None]
        results = [("the updated w", next_w)] + [(f"config['{key}']", config[key]) for key in states]
        try:
            for what, value in results:
                check_in_range(value, f"{name}: {what}", *inputs, advice="the gradient or the learning rate is "
                               "far too large (lower the learning rate, or clip the gradients)")
        except OutOfRangeError:
            if before is not None:
                config.clear()
                config.update(before)
            raise
        return next_w, config

    return checked


def _zeros_unless_set(config: dict, key: str, w: np.ndarray) -> np.ndarray:
    """The state array config[key], or zeros shaped like w on the first call."""
    value = config.get(key)
    return np.zeros_like(w) if value is None else value


# --- the update formulas ----------------------------------------------------------------------------------------
# One per rule: step(w, dw, config, *hyperparameters) -> next_w, the hyperparameters in the order of DEFAULTS[rule],
# the state read from and written to config. They check nothing: the public rules below validate their input first
# (_validated), and unchecked() runs a formula alone.

def _sgd_step(w, dw, config, lr):
    return w - lr * dw


def _momentum_step(w, dw, config, lr, mu):
    v = mu * _zeros_unless_set(config, "velocity", w) - lr * dw
    config["velocity"] = v
    return w + v


def _nesterov_step(w, dw, config, lr, mu):
    v = _zeros_unless_set(config, "velocity", w)
    v_next = mu * v - lr * dw
    config["velocity"] = v_next
    return w - mu * v + (1 + mu) * v_next


def _adagrad_step(w, dw, config, lr, eps):
    cache = _zeros_unless_set(config, "cache", w) + dw * dw
    config["cache"] = cache
    return w - lr * dw / (np.sqrt(cache) + eps)


def _rmsprop_step(w, dw, config, lr, rho, eps):
    cache = rho * _zeros_unless_set(config, "cache", w) + (1 - rho) * dw * dw  # (1 - rho) * dw first: no early overflow
    config["cache"] = cache
    return w - lr * dw / (np.sqrt(cache) + eps)


def _adam_step(w, dw, config, lr, b1, b2, eps):
    t = config.get("t", 0) + 1
    m = b1 * _zeros_unless_set(config, "m", w) + (1 - b1) * dw
    v = b2 * _zeros_unless_set(config, "v", w) + (1 - b2) * dw * dw  # (1 - b2) * dw first: no early overflow
    config.update(m=m, v=v, t=t)
    m_hat = m / (1 - b1 ** t)
    v_hat = v / (1 - b2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


_STEPS = {"sgd": _sgd_step, "sgd_momentum": _momentum_step, "nesterov": _nesterov_step, "adagrad": _adagrad_step,
          "rmsprop": _rmsprop_step, "adam": _adam_step}


def _validated(rule: str, w, dw, config):
    """Validate the input of ``rule`` (see _prepare), then take its step: returns (next_w, config)."""
    w, dw, config, hyper = _prepare(rule, w, dw, config)
    return _STEPS[rule](w, dw, config, *hyper), config


# --- the update rules --------------------------------------------------------------------------------------------

@_range_checked
def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w' = w - learning_rate * dw.

    config: learning_rate (default 1e-2). No state.
    """
    return _validated("sgd", w, dw, config)


@_range_checked
def sgd_momentum(w, dw, config=None):
    """SGD with momentum, the "ball rolling downhill" update:

        v' = momentum * v - learning_rate * dw      (integrate velocity)
        w' = w + v'                                  (integrate position)

    config: learning_rate (1e-2), momentum (0.9, in [0, 1)), velocity (state, zeros at first).
    The velocity is a decaying sum of past steps: along a direction where the gradient keeps its sign, the
    step grows towards learning_rate / (1 - momentum) times the gradient; oscillating components cancel.
    """
    return _validated("sgd_momentum", w, dw, config)


@_range_checked
def nesterov(w, dw, config=None):
    """Nesterov accelerated gradient, in the form that needs the gradient at w itself:

        v' = momentum * v - learning_rate * dw
        w' = w - momentum * v + (1 + momentum) * v'

    Derivation. The textbook form evaluates the gradient at the look-ahead point theta + momentum * v:

        v' = momentum * v - learning_rate * grad(theta + momentum * v),    theta' = theta + v'.

    Keep the look-ahead point w = theta + momentum * v as the parameter instead of theta. Its gradient is then
    the ordinary dw, and w' = theta' + momentum * v' = (w - momentum * v) + v' + momentum * v'
    = w - momentum * v + (1 + momentum) * v'. Both forms visit the same points, shifted by momentum * v.

    config: learning_rate (1e-2), momentum (0.9, in [0, 1)), velocity (state, zeros at first).
    """
    return _validated("nesterov", w, dw, config)


@_range_checked
def adagrad(w, dw, config=None):
    """AdaGrad: a per-parameter learning rate that shrinks with the gradients seen so far.

        cache' = cache + dw**2                                  (sum of all squared gradients)
        w'     = w - learning_rate * dw / (sqrt(cache') + epsilon)

    config: learning_rate (1e-2), epsilon (1e-8, avoids dividing by zero), cache (state, zeros at first).
    The cache only grows, so the effective step decays towards zero and learning can stop too early.
    """
    return _validated("adagrad", w, dw, config)


@_range_checked
def rmsprop(w, dw, config=None):
    """RMSProp: AdaGrad with a leaky cache, a moving average of the squared gradients.

        cache' = decay_rate * cache + (1 - decay_rate) * dw**2
        w'     = w - learning_rate * dw / (sqrt(cache') + epsilon)

    config: learning_rate (1e-2), decay_rate (0.99, in (0, 1)), epsilon (1e-8), cache (state, zeros at first).
    Unlike AdaGrad's, the steps do not shrink monotonically.
    """
    return _validated("rmsprop", w, dw, config)


@_range_checked
def adam(w, dw, config=None):
    """Adam (Kingma & Ba, 2015): momentum on the gradient plus RMSProp's scaling, with bias correction.

        t'    = t + 1                                   (incremented BEFORE use: the first step has t = 1)
        m'    = beta1 * m + (1 - beta1) * dw            (first moment: smoothed gradient)
        v'    = beta2 * v + (1 - beta2) * dw**2         (second moment: smoothed squared gradient)
        m_hat = m' / (1 - beta1**t'),  v_hat = v' / (1 - beta2**t')
        w'    = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    config: learning_rate (1e-3), beta1 (0.9), beta2 (0.999), epsilon (1e-8); state m, v (zeros at first) and
    t (0 at first). Without the bias correction the moments, started at zero, are too small during the first
    steps, and unequally so (m' = 0.1 dw but v' = 0.001 dw**2 at t = 1): the steps come out too LARGE, 3.2 times
    learning_rate at t = 1 and about 6.5 times around t = 10 with the defaults. With it, m_hat = dw and
    v_hat = dw**2 at t = 1, so every entry of the first step has magnitude about learning_rate. Some lecture notes
    show Adam without the correction.
    """
    return _validated("adam", w, dw, config)


UPDATE_RULES = {rule.__name__: rule for rule in (sgd, sgd_momentum, nesterov, adagrad, rmsprop, adam)}


def unchecked(name: str):
    """The update of rule ``name`` (a key of UPDATE_RULES) without its checks: ``next_w, config = step(w, dw,
    config)``, three to five times faster on small arrays, for inner loops that take thousands of steps (the
    optimizer race explorer runs six rules for hundreds of steps on every slider event).

    The caller guarantees what the rule would otherwise check: w and dw float arrays of one shape and dtype, every
    hyperparameter of ``DEFAULTS[name]`` set in config and valid, one config per parameter. A step beyond the float
    range gives inf or NaN (with NumPy's warnings), not OutOfRangeError.
    """
    if name not in _STEPS:
        raise ValueError(f"unknown update rule {name!r}; expected one of {list(_STEPS)}")
    step, keys = _STEPS[name], tuple(DEFAULTS[name])
    hyperparameters = operator.itemgetter(*keys)  # a tuple of values; for one key, the value itself

    if len(keys) == 1:
        def run(w, dw, config):
            return step(w, dw, config, hyperparameters(config)), config
    else:
        def run(w, dw, config):
            return step(w, dw, config, *hyperparameters(config)), config

    run.__name__ = run.__qualname__ = name
    return run


def lbfgs(f_and_grad, x0, max_iter: int = 100, tol: float = 1e-10, stop=None):
    """Minimize a smooth function with L-BFGS (SciPy's L-BFGS-B without bounds), recording every iterate.

    L-BFGS builds a curvature estimate from the last few gradients, so it needs no learning rate; it suits
    small deterministic problems (2-D surfaces, tiny networks on the full batch), not noisy minibatches.

    Inputs:
    - f_and_grad: callable x -> (f(x), grad f(x)), with x and the gradient shaped like x0
    - x0: starting point, an array of any shape (S...)
    - max_iter: maximum number of iterations (int >= 1)
    - tol: stopping tolerance on the decrease of f and on the projected gradient
    - stop: None, or a callable x -> bool: L-BFGS stops after the first iterate for which it is true (say, one
      that left the region of interest, on a function unbounded below)

    Returns (x, path): the solution, shaped like x0, and the iterates including x0 as an array (K + 1, S...)
    for K iterations, ready to draw over a contour plot.
    """
    x0 = np.array(as_float_array(x0, "x0"), dtype=np.float64)
    check_int(max_iter, "max_iter")
    tol = check_scalar(tol, "tol", low=0, low_open=True)
    shape = x0.shape

    def flat_f_and_grad(x):
        value, grad = f_and_grad(x.reshape(shape))
        grad = np.asarray(grad, dtype=np.float64)
        if grad.shape != shape:
            raise ValueError(f"f_and_grad must return a gradient shaped like x0 {shape}; got {grad.shape}")
        return float(value), grad.ravel()

    path = [x0.copy()]

    def record(xk):
        path.append(xk.reshape(shape).copy())
        if stop is not None and stop(path[-1]):
            raise StopIteration  # SciPy ends the minimization there

    result = minimize(flat_f_and_grad, x0.ravel(), jac=True, method="L-BFGS-B", tol=tol, callback=record,
                      options={"maxiter": int(max_iter)})
    return result.x.reshape(shape), np.stack(path)
