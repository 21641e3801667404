"""Input validation shared by every module: clear errors that say what was expected and what arrived."""
from __future__ import annotations

import numbers

import numpy as np


def as_float_array(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a floating-point array.

    A float array keeps its dtype (float32 stays float32); integers, booleans and lists become float64.
    Raises TypeError for anything that is not numeric (strings, objects, complex numbers).
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a numeric array; could not convert {type(x).__name__}: {exc}") from None
    if arr.dtype.kind == "f":
        return arr
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    raise TypeError(f"{name} must be a real numeric array; got dtype {arr.dtype} (from {type(x).__name__})")


def check_ndim(x: np.ndarray, ndim: int, name: str, dims: str) -> None:
    """Raise ValueError unless ``x.ndim == ndim``; ``dims`` names the axes, e.g. ``"(N, D)"``."""
    if x.ndim != ndim:
        raise ValueError(f"{name} must have shape {dims} ({ndim}-D); got shape {x.shape} ({x.ndim}-D)")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Raise ValueError unless ``a`` and ``b`` have the same shape."""
    if np.shape(a) != np.shape(b):
        raise ValueError(f"{name_a} and {name_b} must have the same shape; got {np.shape(a)} and {np.shape(b)}")


def check_scalar(value, name: str, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float after checking it is a real number within [low, high] (ends optionally open)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number; got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        bound = f"> {low}" if low_open else f">= {low}"
        raise ValueError(f"{name} must be {bound}; got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        bound = f"< {high}" if high_open else f"<= {high}"
        raise ValueError(f"{name} must be {bound}; got {value}")
    return value


def check_int(value, name: str, low: int = 1, high: int | None = None, note: str = "") -> int:
    """Return ``value`` as an int after checking it is an integer (not a bool, not 2.0) within [low, high]."""
    if (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low
            or (high is not None and value > high)):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {bound}{f' ({note})' if note else ''}; got {value!r}")
    return int(value)


def check_labels(y, n: int, num_classes: int | None = None, name: str = "y") -> np.ndarray:
    """Return integer class labels of shape (N,), checking their count and range [0, num_classes)."""
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != n:
        raise ValueError(f"{name} must have shape (N,) = ({n},), one label per example; got shape {y.shape}")
    if y.dtype.kind not in "iu":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise TypeError(f"{name} must hold integer class labels; got dtype {y.dtype}")
    if num_classes is not None and y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{name} must hold labels in [0, {num_classes}); got values from {y.min()} to {y.max()}")
    return y


class OutOfRangeError(ValueError):
    """A computation on finite numbers whose true result lies beyond the float range: the values are too large.
    Callers that watch for divergence (the trainer, :func:`course.surfaces.run_optimizer`) treat it as one."""


def check_finite(x, name: str) -> None:
    """Raise ValueError if the array ``x`` holds NaN or inf, saying how many and where the first one is."""
    x = np.asarray(x)
    if x.dtype.kind != "f":  # integers and booleans are always finite
        return
    bad = ~np.isfinite(x)
    if bad.any():
        first = tuple(int(i) for i in np.unravel_index(np.argmax(bad), x.shape))
        n_nan = int(np.count_nonzero(np.isnan(x)))
        what = "NaN" if np.isnan(x[first]) else ("inf" if x[first] > 0 else "-inf")
        raise ValueError(f"{name} holds {what} at index {list(first)} ({n_nan} NaN and {int(bad.sum()) - n_nan} "
                         f"inf in total, out of {x.size} values); expected finite numbers")


def check_in_range(value, what: str, *inputs, advice: str = "") -> None:
    """Raise OutOfRangeError if ``value`` holds inf or NaN although every array in ``inputs`` is finite: the
    computation of ``what`` from finite numbers went beyond the float range. Non-finite inputs are let through
    (NaN in, NaN out: a diverged run is reported by whoever watches for it)."""
    value = np.asarray(value)
    if np.all(np.isfinite(value)) or not all(np.all(np.isfinite(a)) for a in inputs):
        return
    largest = max((float(np.max(np.abs(a), initial=0)) for a in inputs), default=0.0)
    raise OutOfRangeError(f"{what} exceeds the {value.dtype} range (largest finite value "
                          f"{np.finfo(value.dtype).max:.3g}); the values it is computed from reach {largest:.3g} in "
                          f"magnitude{': ' + advice if advice else ''}")


def check_cache(cache, n: int, forward: str) -> tuple:
    """Raise TypeError unless ``cache`` is a tuple of ``n`` items, as ``forward`` returns it."""
    if not isinstance(cache, tuple) or len(cache) != n:
        got = f"a tuple of {len(cache)} items" if isinstance(cache, tuple) else type(cache).__name__
        raise TypeError(f"cache must be the tuple returned by {forward} ({n} items); got {got}")
    return cache


def check_dout(dout, shape, forward: str) -> np.ndarray:
    """``dout`` as a float array, after checking it is shaped like the output of ``forward``, ``shape``."""
    dout = as_float_array(dout, "dout")
    if dout.shape != tuple(shape):
        raise ValueError(f"dout must be shaped like the output of {forward}, {tuple(shape)}; got {dout.shape}")
    return dout
