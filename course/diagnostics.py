"""Diagnostics for a network in training: dead and saturated units, statistics through depth, the size of an
update relative to the weights, and the loss expected at initialization.

Every function reads arrays and returns plain numbers (or arrays of numbers); nothing is modified.
"""
from __future__ import annotations

import numbers

import numpy as np

from course._numeric import moments, scale_of
from course._validate import as_float_array, check_ndim, check_int, check_scalar

# A local gradient below 1% of the steepest slope of tanh and ReLU (which is 1) lets through too little signal
# to learn from: sigmoid'(x) < 0.01 for |x| > 4.6, tanh'(x) < 0.01 for |x| > 3.0, and ReLU's zero counts too.
SATURATION_THRESHOLD = 1e-2


def dead_unit_fraction(h) -> float:
    """Fraction of units that are active on no example at all: dead ReLUs.

    Inputs:
    - h: (N, H) post-ReLU activations of one layer over a whole data set (N examples, H units)

    Returns the fraction of the H columns in which no entry is > 0. A dead unit passes no gradient to its
    weights on any example, so gradient descent cannot move them. In the first hidden layer, whose inputs are the
    fixed data, it is dead for good; in a deeper layer its inputs change as the layers below learn, and it can
    come back. (The same count on the outputs of tanh, leaky ReLU or ELU gives the units inactive everywhere.)
    """
    h = as_float_array(h, "h")
    check_ndim(h, 2, "h", "(N, H)")
    if h.shape[0] == 0 or h.shape[1] == 0:
        raise ValueError(f"h must hold at least one example and one unit; got shape {h.shape}")
    return float(np.mean(~np.any(h > 0, axis=0)))


def saturated_fraction(local_grad, threshold: float = SATURATION_THRESHOLD) -> float:
    """Fraction of local gradients with |local_grad| < threshold (exact zeros included).

    Inputs:
    - local_grad: array of any shape: the derivative of an activation at each unit's input, as returned by its
      backward pass with dout = 1
    - threshold: default SATURATION_THRESHOLD = 0.01, i.e. 1% of the steepest slope of tanh and ReLU; sigmoid
      drops below it for |x| > 4.6 and tanh for |x| > 3.0
    """
    g = _nonempty(local_grad, "local_grad")
    threshold = check_scalar(threshold, "threshold", low=0, low_open=True)
    return float(np.mean(np.abs(g) < threshold))


def zero_gradient_fraction(local_grad) -> float:
    """Fraction of local gradients that are exactly 0 (array of any shape): units that pass no gradient at all,
    such as ReLUs with a negative input."""
    g = _nonempty(local_grad, "local_grad")
    return float(np.mean(g == 0))


def layer_statistics(arrays, threshold: float = SATURATION_THRESHOLD) -> dict[str, np.ndarray]:
    """Statistics of a list of L arrays, one per layer (activations or gradients, each of any shape).

    Returns a dict of arrays of shape (L,):
    - "mean", "std": mean and standard deviation of each layer's values
    - "zero": fraction of values exactly 0 (dead ReLU outputs, blocked gradients)
    - "saturated": fraction with |value| < threshold; for local gradients this is :func:`saturated_fraction`

    Watching "std" through depth shows activations or gradients shrinking to zero or exploding. The mean and std
    are finite for finite values of any magnitude (an exploded layer at 1e200 has std about 1e200, not inf).
    """
    arrays = [_nonempty(a, f"arrays[{i}]") for i, a in enumerate(arrays)]
    if not arrays:
        raise ValueError("arrays must hold at least one layer's array; got an empty list")
    threshold = check_scalar(threshold, "threshold", low=0, low_open=True)
    stats = [moments(a, axis=None) for a in arrays]
    return {
        "mean": np.array([mean for mean, _, _ in stats], dtype=np.float64),
        "std": np.array([std for _, _, std in stats], dtype=np.float64),
        "zero": np.array([zero_gradient_fraction(a) for a in arrays]),
        "saturated": np.array([saturated_fraction(a, threshold) for a in arrays]),
    }


def update_to_weight_ratio(w, update) -> float:
    """||update|| / ||w|| (Frobenius norms) for one parameter array and the step applied to it.

    Inputs:
    - w: parameters of any shape; update: shaped like w (for SGD, -learning_rate * dw)

    A rough heuristic: about 1e-3 is healthy; much lower suggests the learning rate is too low, much higher
    that it is too high. Returns inf for all-zero weights with a non-zero update, 0 when both are zero. Both
    norms are taken of the arrays divided by one power of two (exactly), so values of any magnitude work.
    """
    w = as_float_array(w, "w")
    update = as_float_array(update, "update")
    if w.shape != update.shape:
        raise ValueError(f"update must be shaped like w {w.shape}; got {update.shape}")
    s = scale_of(w, update)
    w_norm = float(np.linalg.norm((w / s).astype(np.float64).ravel()))
    u_norm = float(np.linalg.norm((update / s).astype(np.float64).ravel()))
    if w_norm == 0:
        return 0.0 if u_norm == 0 else float("inf")
    with np.errstate(over="ignore"):
        return float(np.float64(u_norm) / w_norm)


def expected_initial_loss(num_classes: int) -> float:
    """Softmax loss of a network whose initial scores are all about equal: every class gets probability 1/C,
    so the loss is -log(1/C) = log(C) (2.303 for C = 10)."""
    return float(np.log(_num_classes(num_classes)))


def check_initial_loss(loss, num_classes: int, tol: float = 0.1) -> str:
    """Compare a freshly initialized network's softmax loss with log(C); returns a one-line verdict.

    ``tol`` is the accepted relative deviation, |loss - log C| <= tol * log C (10% by default), for a network
    without regularization. The verdict starts with "ok", "too high", "too low" or "not finite".
    """
    expected = expected_initial_loss(num_classes)
    tol = check_scalar(tol, "tol", low=0)
    if isinstance(loss, np.ndarray) and loss.ndim == 0:
        loss = loss.item()
    if isinstance(loss, bool) or not isinstance(loss, numbers.Real):
        raise TypeError(f"loss must be a real number; got {loss!r} ({type(loss).__name__})")
    loss = float(loss)
    ref = f"log({num_classes}) = {expected:.3f}"
    if not np.isfinite(loss):
        return f"not finite: the initial loss is {loss}; look for overflow in the scores or a log of 0"
    if loss > expected * (1 + tol):
        return (f"too high: initial loss {loss:.3f} > {ref}; the initial scores are too large (weights too "
                "big?) or regularization is switched on")
    if loss < expected * (1 - tol):
        return (f"too low: initial loss {loss:.3f} < {ref}; an untrained network cannot beat chance: check "
                "the labels and that the loss is averaged correctly")
    return f"ok: initial loss {loss:.3f} is close to {ref}, as for equal class scores"


def _num_classes(num_classes) -> int:
    return check_int(num_classes, "num_classes", low=2)


def _nonempty(x, name: str) -> np.ndarray:
    x = as_float_array(x, name)
    if x.size == 0:
        raise ValueError(f"{name} must hold at least one value; got shape {x.shape}")
    return x
