"""The machinery behind every check: run a student's function on fresh copies of test inputs, compare with the
reference, and turn a mismatch into the name of the likely mistake.

A check body is a function of the student's functions that returns normally (optionally with a short note of
what was verified) or raises :class:`Mistake`. :func:`checker` turns it into the public check, which prints one
line, and gives it ``.evaluate(*funcs) -> CheckResult`` for silent use (widgets, tests).
"""
from __future__ import annotations

import contextlib
import functools
import traceback
import warnings
from dataclasses import dataclass

import numpy as np

from course.checks._guard import StudentCodeStopped, guarded

PASSED, FAILED, NOT_IMPLEMENTED, ERROR = "passed", "failed", "not implemented", "error"
_SYMBOL = {PASSED: "✓", FAILED: "✗", NOT_IMPLEMENTED: "…", ERROR: "✗"}


class Mistake(Exception):
    """Raised by a check body: the student's function is wrong; the message says how."""


class NotYet(NotImplementedError):
    """Raised by a check body when a function it depends on is not written yet; the message says which."""


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check. ``status`` is one of "passed", "failed", "not implemented", "error"; ``output`` is
    what the student's code printed or warned, cut to a few lines ('' when nothing)."""
    name: str
    status: str
    detail: str
    output: str = ""

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
    """Run ``body(*funcs)`` and classify the outcome; never raises for the student's errors.

    The body runs as student code (course.checks._guard): with a time limit, its printed output and warnings
    captured into the result's ``output``, sys.exit() caught and NumPy's error state restored afterwards.
    RuntimeWarnings (overflow, invalid value) are stability mistakes and fail the check."""
    if any(f is None or not callable(f) for f in funcs):
        got = ", ".join(type(f).__name__ for f in funcs)
        return CheckResult(name, ERROR, f"expected the function(s) to check; got {got}")
    outcome = None
    try:
        with guarded(name) as guard:
            try:
                outcome = PASSED, body(*funcs) or "correct"
            except NotYet as exc:
                outcome = NOT_IMPLEMENTED, f"not implemented yet: {exc}"
            except NotImplementedError:
                outcome = NOT_IMPLEMENTED, "not implemented yet (write the code where it says YOUR CODE HERE)"
            except Mistake as m:
                outcome = FAILED, str(m)
            except RuntimeWarning as w:
                outcome = FAILED, (f"numerical trouble: {w}{_where_it_failed(w)}. "
                                   "Look for exp() of a large number or a division by zero.")
            except Exception as exc:  # the student's code crashed: say where, not a wall of traceback
                outcome = ERROR, f"raised {type(exc).__name__}: {exc}{_where_it_failed(exc)}"
    except StudentCodeStopped as exc:
        outcome = ERROR, str(exc)
    return CheckResult(name, *outcome, output=guard.output)


def checker(body):
    """Decorate a check body named ``check_<name>``: the result prints its verdict (after a few lines of what the
    student's code printed, if it printed anything); ``.evaluate`` is silent."""
    name = body.__name__.removeprefix("check_")

    @functools.wraps(body)
    def check(*funcs) -> None:
        result = evaluate(name, body, *funcs)
        if result.output:
            print("your code printed:\n" + "\n".join("    " + line for line in result.output.splitlines()))
        print(result.message)

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


def as_array(actual, what: str) -> np.ndarray:
    """The student's result as an array; a Mistake naming what arrived instead (None, a list, a tuple)."""
    if actual is None:
        raise Mistake(f"{what} is None: did you forget a return statement?")
    if isinstance(actual, (list, tuple)):
        raise Mistake(f"{what}: returned a {type(actual).__name__}; expected a NumPy array "
                      "(use np.array / NumPy operations)")
    return np.asarray(actual)


def expect_shape(actual, shape, what: str, mistakes=()) -> np.ndarray:
    """``actual`` as an array of ``shape``; on another shape name the first of ``mistakes`` (pairs of
    (description, the shape that mistake gives)) that matches."""
    actual, shape = as_array(actual, what), tuple(shape)
    if actual.shape != shape:
        for description, wrong in mistakes:
            if actual.shape == tuple(wrong):
                raise Mistake(f"{what} has shape {actual.shape} instead of {shape}; likely mistake: {description}")
        raise Mistake(f"{what} has shape {actual.shape}; expected {shape}")
    return actual


def expect_close(actual, expected, what: str, mistakes=(), rtol: float = 1e-6, atol: float = 1e-9):
    """Compare ``actual`` with ``expected``: an array (not a list) of the same shape and float dtype (float64
    stays float64), then the values; on mismatch name the first of ``mistakes`` (pairs of (description, what
    that mistake would produce)) that ``actual`` matches, else say where it differs."""
    expected = np.asarray(expected)
    actual = expect_shape(actual, expected.shape, what)
    if actual.dtype.kind not in "fiub":
        raise Mistake(f"{what} has dtype {actual.dtype}; expected a float array")
    if actual.dtype.kind == "f" and expected.dtype.kind == "f":
        expect_dtype(actual, expected.dtype, what)
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
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
    if actual.dtype.kind != "f" and expected.dtype.kind == "f":
        raise Mistake(f"{what} has dtype {actual.dtype}; expected {expected.dtype}: compute in floats (an "
                      "integer or boolean array cannot hold the fractions other inputs give)")


def expect_dtype(actual, dtype, what: str):
    """The input's float dtype is kept: float64 stays float64 and float32 stays float32. Names a silent
    downcast (precision lost) and a silent upcast (np.float64 constants) apart."""
    actual, dtype = as_array(actual, what), np.dtype(dtype)
    if actual.dtype == dtype:
        return
    if actual.dtype.kind == "f" and actual.dtype.itemsize < dtype.itemsize:
        raise Mistake(f"{what} has dtype {actual.dtype} for {dtype} input: a downcast that loses precision. Keep "
                      f"{dtype} (look for .astype(np.{actual.dtype}), np.{actual.dtype}(...) or "
                      f"dtype=np.{actual.dtype})")
    raise Mistake(f"{what} has dtype {actual.dtype} for {dtype} input; keep the input's dtype "
                  "(use x.dtype or operations between arrays, not np.float64 constants)")


@contextlib.contextmanager
def naming_warnings(name_it):
    """Inside the block a RuntimeWarning (overflow, invalid value, division by zero) fails the check:
    ``name_it(warning text)`` names the likely mistake (None leaves it to the generic "numerical trouble"),
    followed by the student's line."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            yield
        except RuntimeWarning as w:
            named = name_it(str(w))
            if named is None:
                raise
            raise Mistake(f"{named}{_where_it_failed(w)}") from None


_FLOAT32_ONLY = ("a clip that breaks only float32: the float64 input ran cleanly, the same values in float32 gave "
                 "'{}'. A bound chosen for float64, such as clipping x to [-500, 500] before exp, is too wide for "
                 "float32: exp(500) is about 1.4e217, but float32 ends at 3.4e38 (about exp(88.7)). Compute in a "
                 "form that never exponentiates a large positive number (exp(-|x|), or subtract the maximum) "
                 "instead of clipping")


def call_float32(f, *args, **kwargs):
    """:func:`call` with every float64 array argument cast to float32, run after the float64 inputs passed: a
    RuntimeWarning now comes from float32's smaller range, and is named so."""
    args = [a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a for a in args]
    with naming_warnings(_FLOAT32_ONLY.format):
        return call(f, *args, **kwargs)
