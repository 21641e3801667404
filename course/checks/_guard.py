"""Run a student's code so that nothing it does can hang, flood or reconfigure the notebook it runs in.

:func:`guarded` is a context manager around a call of student code:

- a **time limit**: past ``time_limit`` seconds a :class:`TimeLimitExceeded` is raised inside the running
  thread at its next Python instruction (a single long NumPy call finishes first), and the guard turns it into
  :class:`StudentCodeStopped` with a message saying so; the kernel stays usable;
- its **printed output** (stdout and stderr) is captured; the first few lines are kept in ``guard.output`` with
  a count of the lines cut, for the caller to show or drop;
- its **warnings** other than RuntimeWarning (which callers decide about) are recorded and the first few kept in
  ``guard.output`` too;
- ``sys.exit()`` becomes :class:`StudentCodeStopped`;
- NumPy's floating-point error state is reset to NumPy's defaults inside and restored afterwards, so
  ``np.seterr(all='raise')`` in a student's function (or in an earlier cell) affects nothing else.

Guards do not nest: inside an active guard on the same thread, an inner one only captures, and the outer time
limit governs.
"""
from __future__ import annotations

import contextlib
import ctypes
import io
import itertools
import os
import sys
import threading
import time
import warnings

import numpy as np

# Seconds: checks run on small inputs, so only a loop that never ends gets near it. The grader shortens it.
TIME_LIMIT = float(os.environ.get("COURSE_CHECK_TIME_LIMIT", 10.0))
MAX_LINES = 6
_REFIRE = 0.5  # seconds between repeated interruptions of code that swallows them (a bare except)
_NUMPY_DEFAULTS = dict(divide="warn", over="warn", invalid="warn", under="ignore")


class TimeLimitExceeded(BaseException):
    """Raised asynchronously in a thread whose student code overran its time limit. A BaseException, so that a
    student's ``except Exception`` does not swallow it."""


class StudentCodeStopped(Exception):
    """The student's code was stopped: it ran past its time limit or called sys.exit(). The message says which."""


class _Watchdog:
    """One daemon thread that interrupts every thread still inside a guard after its deadline."""

    def __init__(self):
        self._cond = threading.Condition()
        self._armed = {}  # token -> [next firing time, thread id, fired?]
        self._tokens = itertools.count()
        self._thread = None

    def arm(self, seconds: float) -> int:
        with self._cond:
            token = next(self._tokens)
            self._armed[token] = [time.monotonic() + seconds, threading.get_ident(), False]
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="student-code-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()
            return token

    def disarm(self, token: int) -> bool:
        """Forget ``token``; True when its deadline passed. No interruption can arrive after this returns: a
        pending one is cancelled under the same lock the watchdog fires under."""
        with self._cond:
            _, thread_id, fired = self._armed.pop(token)
            if fired:
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), None)
            return fired

    def _watch(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                for entry in self._armed.values():
                    if entry[0] <= now:
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(entry[1]),
                                                                   ctypes.py_object(TimeLimitExceeded))
                        entry[0], entry[2] = now + _REFIRE, True
                wake = min((entry[0] for entry in self._armed.values()), default=None)
                self._cond.wait(None if wake is None else max(wake - now, 0.01))


_watchdog = _Watchdog()
_active = threading.local()


class _CappedText(io.TextIOBase):
    """A text stream keeping the first ``max_lines`` lines written to it and counting the rest."""

    def __init__(self, max_lines: int):
        self.max_lines = max_lines
        self.kept: list[str] = []
        self.cut = 0
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._keep(line)
        if len(self._partial) > 2000:  # a flood without newlines
            self._keep(self._partial[:200] + " ...")
            self._partial = ""
        return len(text)

    def _keep(self, line: str) -> None:
        if len(self.kept) < self.max_lines:
            self.kept.append(line if len(line) <= 200 else line[:200] + " ...")
        else:
            self.cut += 1

    def finish(self) -> None:
        if self._partial:
            self._keep(self._partial)
            self._partial = ""


class Guard:
    """What a :func:`guarded` block recorded: ``output``, the student's printed lines and warnings (a few at most,
    with a note of how many were cut; '' when there were none), and ``elapsed`` seconds."""

    def __init__(self):
        self.output = ""
        self.elapsed = 0.0


def _summary(stream: _CappedText, caught) -> str:
    stream.finish()
    lines = list(stream.kept)
    if stream.cut:
        lines.append(f"... {stream.cut} more line{'s' if stream.cut > 1 else ''} of output cut")
    shown = [f"warning: {w.category.__name__}: {w.message}" for w in caught[:3]]
    if len(caught) > 3:
        shown.append(f"... {len(caught) - 3} more warnings cut")
    return "\n".join(lines + shown)


@contextlib.contextmanager
def guarded(what: str = "your function", time_limit: float | None = TIME_LIMIT, max_lines: int = MAX_LINES):
    """Run the block as student code (see the module docstring). ``what`` names the code in messages
    ("relu_forward"); ``time_limit`` None means no limit. Yields a :class:`Guard`. Raises
    :class:`StudentCodeStopped` for an overrun or sys.exit(); other exceptions pass through unchanged."""
    guard = Guard()
    outer = getattr(_active, "depth", 0)
    _active.depth = outer + 1
    stream = _CappedText(max_lines)
    start = time.perf_counter()
    token = _watchdog.arm(time_limit) if time_limit is not None and outer == 0 else None
    overran = False
    try:
        try:
            with warnings.catch_warnings(record=True) as caught, np.errstate(**_NUMPY_DEFAULTS), \
                    contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
                warnings.simplefilter("always")
                warnings.simplefilter("error", RuntimeWarning)  # the caller's business: raised, not recorded
                try:
                    yield guard
                finally:
                    guard.output = _summary(stream, caught)
        finally:
            while token is not None:  # an interruption may land here too: retry until disarmed
                try:
                    overran = _watchdog.disarm(token) or overran
                    token = None
                except TimeLimitExceeded:
                    overran = True
    except TimeLimitExceeded:
        overran = True
    except SystemExit as exc:
        raise StudentCodeStopped(f"{what} called sys.exit({exc.code if exc.code is not None else ''}) "
                                 "(or exit()): remove that call; a function reports problems by raising "
                                 "an exception") from None
    finally:
        _active.depth = outer
        guard.elapsed = time.perf_counter() - start
    if overran:
        raise StudentCodeStopped(f"{what} did not finish within {time_limit:g} s and was stopped: look for a "
                                 "loop that never ends (a while loop whose condition never changes, or "
                                 "iter(int, 1))")

