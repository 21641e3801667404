"""The machinery behind every check: run a student's function on fresh copies of test inputs, compare with the
reference, and turn a mismatch into the name of the likely mistake.

A check body is a function of the student's functions that returns normally (optionally with a short note of
what was verified) or raises :class:`Mistake`. :func:`checker` turns it into the public check, which prints one
line, and gives it ``.evaluate(*funcs) -> CheckResult`` for silent use (widgets, tests).
"""
from __future__ import annotations

import functools
import traceback
import warnings
from dataclasses import dataclass

import numpy as np

PASSED, FAILED, NOT_IMPLEMENTED, ERROR = "passed", "failed", "not implemented", "error"
_SYMBOL = {PASSED: "✓", FAILED: "✗", NOT_IMPLEMENTED: "…", ERROR: "✗"}


class Mistake(Exception):
    """Raised by a check body: the student's function is wrong; the message says how."""


class NotYet(NotImplementedError):
    """Raised by a check body when a function it depends on is not written yet; the message says which."""


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check. ``status`` is one of "passed", "failed", "not implemented", "error"."""
    name: str
    status: str
    detail: str

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def message(self) -> str:
        return f"{_SYMBOL[self.status]} {self.name}: {self.detail}"

    def __str__(self) -> str:
        return self.message


def _where_it_failed(exc: BaseException) -> str:
    """The last frame of the traceback that is not in course.checks: usually the student's line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "course/checks" not in f.filename.replace("\\", "/")]
    if not frames:
        return ""
    f = frames[-1]
    return f" (in {f.name}, line {f.lineno}: {f.line})" if f.line else f" (in {f.name}, line {f.lineno})"


def evaluate(name: str, body, *funcs) -> CheckResult:
    """Run ``body(*funcs)`` and classify the outcome; never raises for the student's errors."""
    if any(f is None or not callable(f) for f in funcs):
        got = ", ".join(type(f).__name__ for f in funcs)
        return CheckResult(name, ERROR, f"expected the function(s) to check; got {got}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # overflow, invalid value: a stability mistake
            note = body(*funcs)
    except NotYet as exc:
        return CheckResult(name, NOT_IMPLEMENTED, f"not implemented yet: {exc}")
    except NotImplementedError:
        return CheckResult(name, NOT_IMPLEMENTED, "not implemented yet (write the code where it says YOUR CODE HERE)")
    except Mistake as m:
        return CheckResult(name, FAILED, str(m))
    except RuntimeWarning as w:
        return CheckResult(name, FAILED, f"numerical trouble: {w}{_where_it_failed(w)}. "
                                         "Look for exp() of a large number or a division by zero.")
    except Exception as exc:  # the student's code crashed: say where, not a wall of traceback
        return CheckResult(name, ERROR, f"raised {type(exc).__name__}: {exc}{_where_it_failed(exc)}")
    return CheckResult(name, PASSED, note or "correct")


def checker(body):
    """Decorate a check body named ``check_<name>``: the result prints its verdict; ``.evaluate`` is silent."""
    name = body.__name__.removeprefix("check_")

    @functools.wraps(body)
    def check(*funcs) -> None:
        print(evaluate(name, body, *funcs).message)

    check.evaluate = lambda *funcs: evaluate(name, body, *funcs)
    return check


def call(f, *args, **kwargs):
    """Call the student's ``f`` on copies of the array arguments; a Mistake if it modified one in place."""
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    out = f(*copies, **kwargs)
    for i, (a, c) in enumerate(zip(args, copies)):
        if isinstance(a, np.ndarray) and not (a.shape == c.shape and np.array_equal(a, c, equal_nan=True)):
            raise Mistake(f"{getattr(f, '__name__', 'your function')} modified its argument #{i + 1} in place; "
                          "compute a new array instead (x = x * 2, not x *= 2)")
    return out


def unpack(result, n: int, what: str):
    """Check that ``result`` is a tuple of ``n`` items, as the forward/backward contract says."""
    if result is None:
        raise Mistake(f"{what} returned None: did you forget a return statement?")
    if not isinstance(result, tuple) or len(result) != n:
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise Mistake(f"{what} must return a tuple of {n} items; got {got}")
    return result


def expect_close(actual, expected, what: str, mistakes=(), rtol: float = 1e-6, atol: float = 1e-9):
    """Compare ``actual`` with ``expected``; on mismatch name the first of ``mistakes`` (pairs of
    (description, what that mistake would produce)) that ``actual`` matches, else say where it differs."""
    if actual is None:
        raise Mistake(f"{what} is None: did you forget a return statement?")
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    if actual.shape != expected.shape:
        raise Mistake(f"{what} has shape {actual.shape}; expected {expected.shape}")
    if actual.dtype.kind not in "fiub":
        raise Mistake(f"{what} has dtype {actual.dtype}; expected a float array")
    if np.allclose(actual, expected, rtol=rtol, atol=atol):
        return
    for description, wrong in mistakes:
        wrong = np.asarray(wrong)
        if wrong.shape == actual.shape and np.allclose(actual, wrong, rtol=rtol, atol=atol):
            raise Mistake(f"likely mistake: {description}")
    if not np.all(np.isfinite(actual)):
        raise Mistake(f"{what} holds NaN or inf where finite values were expected")
    diff = np.abs(actual - expected)
    i = np.unravel_index(np.argmax(diff), diff.shape)
    raise Mistake(f"{what} is wrong: at index {tuple(int(k) for k in i)} got {actual[i]:.6g}, "
                  f"expected {expected[i]:.6g}")


def expect_dtype(actual, dtype, what: str):
    """The course keeps float32 as float32: say so when a student's function silently upcasts."""
    actual = np.asarray(actual)
    if actual.dtype != dtype:
        raise Mistake(f"{what} has dtype {actual.dtype} for {np.dtype(dtype)} input; keep the input's dtype "
                      "(use x.dtype or operations between arrays, not np.float64 constants)")
