"""Checks for the learning-rate schedules: each factory builds a schedule, a callable t -> lr, evaluated at
t = 0 ... 12 in a scrambled order (a schedule must depend on t alone, not on how often it was called)."""
from __future__ import annotations

import numpy as np

from course.checks._harness import Mistake, call, checker, expect_close

_T = np.array([7, 0, 12, 3, 5, 1, 10, 4, 9, 2, 6, 11, 8])


def _values(name, schedule):
    if not callable(schedule):
        raise Mistake(f"{name}(...) must return a schedule, a callable t -> lr; got {type(schedule).__name__}")
    values = [schedule(int(t)) for t in _T]
    if any(v is None for v in values):
        raise Mistake(f"the schedule returned by {name} returned None: did you forget a return statement?")
    return np.array([np.asarray(v, dtype=np.float64) for v in values])


def _check(name, factory, args, expected, mistakes=lambda t, *args: []):
    """Compare factory(*args)(t) with expected(t, *args) over _T; ``mistakes`` maps (t, *args) to pairs of
    (description, what that mistake gives)."""
    values = _values(name, call(factory, *args))
    call_text = f"{name}({', '.join(map(repr, args))})"
    expect_close(values, expected(_T, *args), f"{call_text}(t) for t = {_T.tolist()}", mistakes(_T, *args))


@checker
def check_step_decay(step_decay):
    """step_decay(lr0, drop=0.5, every=5) -> schedule with lr(t) = lr0 * drop ** (t // every)."""
    def rate(t, lr0, drop=0.5, every=5):
        return lr0 * drop ** (t // every)

    _check("step_decay", step_decay, (0.2, 0.4, 3), rate, lambda t, lr0, drop, every: [
        ("drops at t = every - 1: off by one. t counts from 0, so the first drop is at t = every",
         lr0 * drop ** ((t + 1) // every)),
        ("drops every epoch: the exponent is t // every, not t", lr0 * drop ** t),
        ("decays smoothly: use the integer division t // every, not t / every", lr0 * drop ** (t / every)),
        ("multiplied by the number of drops: lr0 * drop ** (t // every) raises drop to that power",
         lr0 * drop * (t // every)),
        ("ignored the drop and every arguments (used 0.5 and 5)", rate(t, lr0)),
    ])
    _check("step_decay", step_decay, (0.2,), rate)  # the defaults drop=0.5, every=5
    return "correct at t = 0 ... 12, first drop at t = every, defaults drop=0.5, every=5"


@checker
def check_exponential_decay(exponential_decay):
    """exponential_decay(lr0, k) -> schedule with lr(t) = lr0 * exp(-k t)."""
    _check("exponential_decay", exponential_decay, (0.3, 0.2), lambda t, lr0, k: lr0 * np.exp(-k * t),
           lambda t, lr0, k: [
               ("used e^(kt): the rate must decay, lr0 * e^(-kt)", lr0 * np.exp(k * t)),
               ("forgot lr0: lr0 * e^(-kt)", np.exp(-k * t)),
               ("used e^(-t/k): k multiplies t, lr0 * e^(-kt)", lr0 * np.exp(-t / k)),
           ])
    return "correct at t = 0 ... 12"


@checker
def check_inverse_time_decay(inverse_time_decay):
    """inverse_time_decay(lr0, k) -> schedule with lr(t) = lr0 / (1 + k t)."""
    _check("inverse_time_decay", inverse_time_decay, (0.3, 0.5), lambda t, lr0, k: lr0 / (1 + k * t),
           lambda t, lr0, k: [
               ("multiplied by (1 + kt): the rate must decay, lr0 / (1 + kt)", lr0 * (1 + k * t)),
               ("ignored k: lr0 / (1 + kt), not lr0 / (1 + t)", lr0 / (1 + t)),
               ("used lr0 / (1 + k)**t, an exponential decay: 1/t decay is lr0 / (1 + kt)", lr0 / (1 + k) ** t),
           ])
    return "correct at t = 0 ... 12"


__all__ = sorted(name for name in dir() if name.startswith("check_"))
