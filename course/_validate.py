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
