"""Checks for the update rules of the optimization lab.

Each check runs the student's rule for four steps from fixed parameters with a fixed sequence of gradients and
non-default hyperparameters, passing the returned config back in as a trainer does, and compares every step's
parameters with the reference; then two parameters updated in turn, each with its own config, to see that the
state lives in config. Momentum and Nesterov are judged by the path of w alone: a velocity stored with the other
sign or scale (PyTorch's v = mu * v + dw, w -= lr * v) visits the same points. The other rules' state (cache; m, v,
t) is compared too. Gradients span magnitudes from 1e-3 to 1 and epsilon is set to 1e-4, so where epsilon sits in
the formula shows; some gradient entries are exactly 0 (always, as for a weight fed by a blank pixel, or once), so
0/0 (a division by dw, or by sqrt(cache) without epsilon) is named. A rule that changes its hyperparameters in
config between calls (a learning rate decayed inside the rule) and a dict as config's default value (one dict shared
by every call) are named too.
"""
from __future__ import annotations

import inspect

import numpy as np

from course import optim as ref
from course.checks._harness import (Mistake, as_array, call, call_float32, checker, expect_close, expect_dtype,
                                    naming_warnings, unpack)

_rng = np.random.default_rng(31)
_W = _rng.normal(size=(3, 4))
_DWS = [_rng.normal(size=(3, 4)) * np.logspace(-3, 0, 4) for _ in range(4)]
for _dw in _DWS:  # a weight fed by an input that is always 0 (a blank pixel of the digits) has the gradient 0
    _dw[0, 1] = 0.0
_DWS[2][2, 3] = 0.0  # and any gradient entry can be exactly 0 once
_CHAINS = ((_W, _DWS), (_rng.normal(size=(3, 4)), [_rng.normal(size=(3, 4)) for _ in range(4)]))
_CONFIGS = {
    "sgd": {"learning_rate": 0.1},
    "sgd_momentum": {"learning_rate": 0.1, "momentum": 0.8},
    "nesterov": {"learning_rate": 0.1, "momentum": 0.8},
    "adagrad": {"learning_rate": 0.1, "epsilon": 1e-4},
    "rmsprop": {"learning_rate": 0.05, "decay_rate": 0.9, "epsilon": 1e-4},
    "adam": {"learning_rate": 0.05, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-4},
}
_STATE_LOST = {
    "sgd_momentum": "velocity not kept between calls: store it in config['velocity'] and start from it next "
                    "time (every step here started from v = 0, which is plain SGD)",
    "nesterov": "velocity not kept between calls: store it in config['velocity'] and start from it next time",
    "adagrad": "cache not accumulated: cache += dw**2 sums ALL past squared gradients; yours holds only the "
               "last one (overwritten with dw**2, or not kept in config['cache'] between calls)",
    "rmsprop": "cache not kept between calls: store it in config['cache'] and start from it next time",
    "adam": "m, v and t not kept between calls: store them in config and start from them next time",
}
_T_AFTER_USE = ("t incremented after use: the first step computed 1 - beta1**0 = 0 and divided by it. Increment t "
                "before the bias correction, so the first step uses t = 1")
_CACHE_OF_DW = "cache must accumulate dw**2, not dw: a negative cache has no square root"
_ZERO_OVER_ZERO = ("0/0 = NaN where a gradient entry is exactly 0 (it happens: a weight fed by a pixel that is blank "
                   "in every image gets the gradient 0 at every step). Do not divide by dw or |dw| (np.abs(dw) / dw "
                   "as the sign of dw is 0/0 there; the update needs no sign), and keep epsilon in the "
                   "denominator: sqrt({}) + epsilon")
_SQUARES = {"adagrad": _CACHE_OF_DW, "rmsprop": _CACHE_OF_DW,
            "adam": "v must average dw**2, not dw: a negative v has no square root"}


def _trouble(name):
    """Names the RuntimeWarnings of rule ``name`` that point at one mistake (for naming_warnings)."""
    def name_it(message):
        if "sqrt" in message:
            return _SQUARES.get(name)
        if "divide by zero" in message and name == "adam":
            return _T_AFTER_USE
        if "invalid value" in message and "divide" in message:
            return _ZERO_OVER_ZERO.format("v_hat" if name == "adam" else "cache")
        return None
    return name_it


def _run(rule, config, chains=_CHAINS[:1], fresh=False):
    """Four steps of ``rule`` on each of ``chains`` (w, gradients), the parameters updated in turn, each with its
    own copy of ``config`` passed back in as a trainer does; with ``fresh`` every step gets a new copy, as if the
    state were thrown away between calls. Returns (w after each step stacked (4, 3, 4), final config) per chain;
    ``config`` itself is never modified."""
    runs = [[w, dict(config), []] for w, _ in chains]
    for k in range(len(_DWS)):
        for run, (_, dws) in zip(runs, chains):
            run[0], run[1] = rule(run[0], dws[k], dict(config) if fresh else run[1])
            run[2].append(run[0])
    return [(np.stack(ws), state) for _, state, ws in runs]


def _steps(rule, config, fresh=False):
    """The w path (4, 3, 4) of ``rule`` along the first chain."""
    return _run(rule, config, fresh=fresh)[0][0]


def _student(rule, name):
    """The student's rule as a step returning (next_w as an array, config)."""
    def step(w, dw, config):
        next_w, config = unpack(call(rule, w, dw, config), 2, name)
        return as_array(next_w, f"{name} next_w"), config
    return step


def _simulate(step, h):
    """Four steps of a variant ``step(w, dw, state, h) -> w'`` that keeps its state in the dict ``state``."""
    w, state, ws = _W, {}, []
    for dw in _DWS:
        w = step(w, dw, state, h)
        ws.append(w)
    return np.stack(ws)


def _adaptive(cache_update, root=np.sqrt, eps_inside=False):
    """AdaGrad/RMSProp-style variant: cache = cache_update(cache, dw, h), then a step divided by the root."""
    def step(w, dw, s, h):
        cache = s["cache"] = cache_update(s.get("cache", 0.0), dw, h)
        denom = np.sqrt(cache + h["epsilon"]) if eps_inside else root(cache) + h["epsilon"]
        return w - h["learning_rate"] * dw / denom
    return step


def _adam(bias_correction=True, t_offset=0, eps_inside=False):
    """Adam variant; t_offset shifts the t used in the bias correction."""
    def step(w, dw, s, h):
        b1, b2 = h["beta1"], h["beta2"]
        t = s["t"] = s.get("t", 0) + 1
        m = s["m"] = b1 * s.get("m", 0.0) + (1 - b1) * dw
        v = s["v"] = b2 * s.get("v", 0.0) + (1 - b2) * dw * dw
        if bias_correction:
            m, v = m / (1 - b1 ** (t + t_offset)), v / (1 - b2 ** (t + t_offset))
        denom = np.sqrt(v + h["epsilon"]) if eps_inside else np.sqrt(v) + h["epsilon"]
        return w - h["learning_rate"] * m / denom
    return step


def _momentum_plus(w, dw, s, h):
    v = s["v"] = h["momentum"] * s.get("v", 0.0) + h["learning_rate"] * dw
    return w + v


def _momentum_old_velocity(w, dw, s, h):
    w_next = w + s.get("v", 0.0)
    s["v"] = h["momentum"] * s.get("v", 0.0) - h["learning_rate"] * dw
    return w_next


def _momentum_no_lr(w, dw, s, h):
    v = s["v"] = h["momentum"] * s.get("v", 0.0) - dw
    return w + v


def _nesterov_uphill(w, dw, s, h):
    mu, v = h["momentum"], s.get("v", 0.0)
    v_next = s["v"] = mu * v + h["learning_rate"] * dw
    return w - mu * v + (1 + mu) * v_next


def _nesterov_wrong_sign(w, dw, s, h):
    mu, v = h["momentum"], s.get("v", 0.0)
    v_next = s["v"] = mu * v - h["learning_rate"] * dw
    return w + mu * v + (1 + mu) * v_next


def _eps_inside(what):
    return (f"epsilon inside the square root, sqrt({what} + eps) instead of sqrt({what}) + eps. A mild "
            f"difference (both avoid dividing by zero, and they agree once {what} is much larger than eps), "
            "but this course, like the papers, adds eps after the square root")


_NO_SQRT = "forgot the square root: divide by sqrt(cache) + eps, not cache + eps"

# Rule-specific mistakes: (description, variant step) pairs, simulated with the check's hyperparameters.
_VARIANTS = {
    "sgd": [("added the gradient (w + lr * dw climbs uphill): step against it, w - lr * dw",
             lambda w, dw, s, h: w + h["learning_rate"] * dw)],
    "sgd_momentum": [
        ("momentum sign: the velocity must move against the gradient, v = mu * v - lr * dw, then w + v",
         _momentum_plus),
        ("position updated with the old velocity: compute v = mu * v - lr * dw first, then w + v",
         _momentum_old_velocity),
        ("learning rate missing from the velocity update: v = mu * v - lr * dw", _momentum_no_lr),
    ],
    "nesterov": [
        ("look-ahead correction with the wrong sign: w' = w - mu * v + (1 + mu) * v'", _nesterov_wrong_sign),
        ("velocity sign: the velocity must move against the gradient, v' = mu * v - lr * dw, then "
         "w' = w - mu * v + (1 + mu) * v'", _nesterov_uphill),
    ],
    "adagrad": [
        (_NO_SQRT, _adaptive(lambda c, dw, h: c + dw * dw, root=lambda c: c)),
        (_eps_inside("cache"), _adaptive(lambda c, dw, h: c + dw * dw, eps_inside=True)),
    ],
    "rmsprop": [
        ("RMSProp without the (1 - decay_rate) factor: cache = decay_rate * cache + (1 - decay_rate) * dw**2",
         _adaptive(lambda c, dw, h: h["decay_rate"] * c + dw * dw)),
        ("decay_rate on the wrong term: cache = decay_rate * cache + (1 - decay_rate) * dw**2 keeps most of "
         "the old cache", _adaptive(lambda c, dw, h: (1 - h["decay_rate"]) * c + h["decay_rate"] * dw * dw)),
        (_NO_SQRT, _adaptive(lambda c, dw, h: h["decay_rate"] * c + (1 - h["decay_rate"]) * dw * dw,
                             root=lambda c: c)),
        (_eps_inside("cache"), _adaptive(lambda c, dw, h: h["decay_rate"] * c + (1 - h["decay_rate"]) * dw * dw,
                                eps_inside=True)),
    ],
    "adam": [
        ("Adam without bias correction: use m_hat = m / (1 - beta1**t) and v_hat = v / (1 - beta2**t)",
         _adam(bias_correction=False)),
        ("t off by one in the bias correction: t starts at 0 and is incremented before use, so the first "
         "step uses t = 1", _adam(t_offset=1)),
        (_eps_inside("v_hat"), _adam(eps_inside=True)),
    ],
}


def _mistakes(name):
    """Everything a wrong rule might have produced over the four steps, most specific first."""
    config = _CONFIGS[name]
    found = [(description, _simulate(step, config)) for description, step in _VARIANTS[name]]
    if name == "nesterov":
        found.append(("Nesterov written as plain momentum: with dw taken at w, the update is "
                      "w' = w - mu * v + (1 + mu) * v', not w + v'", _steps(ref.sgd_momentum, config)))
    if name in _STATE_LOST:
        found.append((_STATE_LOST[name], _steps(getattr(ref, name), config, fresh=True)))
    rule = getattr(ref, name)
    for key, default in ref.DEFAULTS[name].items():
        found.append((f"used the default {key} = {default:g} instead of config['{key}']: read every "
                      "hyperparameter from config", _steps(rule, {**config, key: default})))
    return found


def _check_defaults(name, rule):
    _, config = unpack(call(rule, _W, _DWS[0], {"learning_rate": 0.123}), 2, name)
    if not isinstance(config, dict):
        raise Mistake(f"{name} must return (next_w, config) with config a dict; got {type(config).__name__}")
    if config.get("learning_rate") == ref.DEFAULTS[name]["learning_rate"]:
        raise Mistake("overwrote the learning_rate the caller set with the default: config.setdefault keeps "
                      "values that are already there")
    _check_hyperparameters(name, {"learning_rate": 0.123}, config)
    _, config = unpack(call(rule, _W, _DWS[0], None), 2, name)
    for key, default in ref.DEFAULTS[name].items():
        if key not in config:
            raise Mistake(f"defaults not filled: config['{key}'] is missing after a call with config=None; "
                          f"after `if config is None: config = {{}}`, use config.setdefault('{key}', {default:g})")
        if config[key] != default:
            raise Mistake(f"the default {key} is {config[key]!r}; expected {default:g}")


def _check_signature(name, rule):
    """A dict as config's default value is one dict shared by every call that omits config: state leaks between
    calls (and parameters)."""
    try:
        parameter = inspect.signature(rule).parameters.get("config")
    except (TypeError, ValueError):  # a builtin or a callable without a signature
        return
    default = None if parameter is None else parameter.default
    if isinstance(default, dict):
        raise Mistake("config={} as the default value: Python makes that dict ONCE, so every call without "
                      "a config shares it, and one parameter's state (velocity, cache) leaks into the next call's. "
                      f"Write def {name}(w, dw, config=None) and `if config is None: config = {{}}` inside")


def _check_hyperparameters(name, config, student_config):
    """The rule must read its hyperparameters from config, never change them: only its state changes."""
    if not isinstance(student_config, dict):
        return
    for key in ref.DEFAULTS[name]:
        if key in config and student_config.get(key) != config[key]:
            raise Mistake(f"config['{key}'] changed from {config[key]!r} to {student_config.get(key)!r} in your "
                          "rule: a rule reads its hyperparameters from config and must not change them (only its "
                          "state changes between calls). To decay the learning rate, use a schedule, outside the rule")


def _check_rule(name, rule):
    _check_signature(name, rule)
    step, config, reference = _student(rule, name), _CONFIGS[name], getattr(ref, name)
    keys = ref.STATE_KEYS[name]
    outside = (f"state kept outside config (a global variable, a closure or a function attribute): {{}}. Keep it in "
               f"config[{', '.join(repr(k) for k in keys) or '...'}], which the caller passes back, one config per "
               "parameter")
    with naming_warnings(_trouble(name)):
        _check_defaults(name, rule)
        once, again = (step(_W, _DWS[0], dict(config))[0] for _ in range(2))
        if not np.array_equal(once, again, equal_nan=True):
            raise Mistake(outside.format("two calls with the same w, dw and a fresh config gave different steps"))
        ((expected, ref_config),), ((ws, student_config),) = _run(reference, config), _run(step, config)
        _check_hyperparameters(name, config, student_config)
        expect_close(ws, expected, f"{name}: w over four steps", _mistakes(name))
        for (path, _), (right, _) in zip(_run(step, config, _CHAINS), _run(reference, config, _CHAINS)):
            if not np.allclose(path, right):
                raise Mistake(outside.format("two parameters updated in turn, each with its own config, got each "
                                             "other's state"))
        for key in keys:
            if not isinstance(student_config, dict) or key not in student_config:
                raise Mistake(f"config['{key}'] is missing after the update: keep the state in config under "
                              f"'{key}' so the next call continues from it")
            if key != "velocity":  # its sign and scale are conventions; the path of w already said it is right
                expect_close(student_config[key], ref_config[key], f"config['{key}'] after four steps")
        w32, _ = unpack(call_float32(rule, _W, _DWS[0], dict(config)), 2, name)
    expect_dtype(w32, np.float32, f"{name} next_w")
    state = "".join(f", config['{key}']" for key in keys if key != "velocity")
    return f"correct over four steps (w{state}), state kept in config, defaults filled with setdefault, float32 kept"


@checker
def check_sgd(sgd):
    """sgd(w, dw, config=None) -> (next_w, config)."""
    return _check_rule("sgd", sgd)


@checker
def check_sgd_momentum(sgd_momentum):
    """sgd_momentum(w, dw, config=None) -> (next_w, config), velocity kept in config['velocity']."""
    return _check_rule("sgd_momentum", sgd_momentum)


@checker
def check_nesterov(nesterov):
    """nesterov(w, dw, config=None) -> (next_w, config) in the look-ahead form."""
    return _check_rule("nesterov", nesterov)


@checker
def check_adagrad(adagrad):
    """adagrad(w, dw, config=None) -> (next_w, config), cache in config['cache']."""
    return _check_rule("adagrad", adagrad)


@checker
def check_rmsprop(rmsprop):
    """rmsprop(w, dw, config=None) -> (next_w, config), cache in config['cache']."""
    return _check_rule("rmsprop", rmsprop)


@checker
def check_adam(adam):
    """adam(w, dw, config=None) -> (next_w, config), state m, v, t in config; bias-corrected."""
    try:
        with naming_warnings(_trouble("adam")):
            first, _ = unpack(call(adam, _W, _DWS[0], dict(_CONFIGS["adam"])), 2, "adam")
    except ZeroDivisionError:  # 1 - beta1**0 == 0 in Python floats
        raise Mistake(_T_AFTER_USE) from None
    if first is not None and not np.all(np.isfinite(np.asarray(first, dtype=np.float64))):
        raise Mistake(_T_AFTER_USE)
    return _check_rule("adam", adam)


__all__ = sorted(name for name in dir() if name.startswith("check_"))
