"""Signals through depth: activations pushed forward and gradients pushed back through a deep stack of fully
connected layers at initialization, the experiment behind vanishing gradients (lab 01) and weight
initialization (lab 02).

The stack is h_0 = X (N unit-Gaussian examples of width D), z_l = h_{l-1} @ W_l, h_l = f(z_l) for l = 1..L (no
biases, every W_l of shape (D, D)). A unit-Gaussian gradient dL/dh_L is then sent back:
dL/dz_l = f'(z_l) * dL/dh_l and dL/dh_{l-1} = dL/dz_l @ W_l^T. Watching the spread of h_l and of dL/dh_l layer
by layer shows them shrink to zero, saturate or stay healthy, depending on f and on the scale of W.

- :func:`signal_through_depth` draws everything from one seed and runs the stack once;
- :func:`propagate` runs the stack on given weights, inputs and top gradient (an explorer draws standard normal
  weights once, :func:`standard_normal_weights`, and scales them for each setting);
- :func:`depth_study` repeats :func:`signal_through_depth` over seeds and keeps the statistics per layer;
- :func:`layer_histograms` and :func:`distinct_units` summarize the activations of every layer.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course import activations as act
from course._validate import check_int, check_scalar
from course.diagnostics import SATURATION_THRESHOLD
from course.init import INITIALIZERS, small_random

__all__ = ["DepthSignal", "DepthStudy", "activation_pair", "depth_study", "distinct_units", "layer_histograms",
           "propagate", "signal_through_depth", "standard_normal_weights"]


def activation_pair(activation):
    """(forward, backward) for a name of course.activations ("tanh", "relu", "leaky_relu", ...) or a given pair."""
    if isinstance(activation, tuple) and len(activation) == 2 and all(map(callable, activation)):
        return activation
    if isinstance(activation, str) and hasattr(act, f"{activation}_forward"):
        return getattr(act, f"{activation}_forward"), getattr(act, f"{activation}_backward")
    raise ValueError(f"activation must be a name such as 'tanh', 'relu', 'sigmoid' or a (forward, backward) pair; "
                     f"got {activation!r}")


@dataclass(frozen=True)
class DepthSignal:
    """What :func:`propagate` measured, for L layers of width D and N examples.

    - activations: list of L arrays (N, D), h_1 ... h_L
    - gradients: list of L arrays (N, D), dL/dh_1 ... dL/dh_L (the gradient arriving at each layer's output)
    - local_gradients: list of L arrays (N, D), f'(z_1) ... f'(z_L)
    - activation_std, gradient_std: (L,) the standard deviation of each
    - saturated: (L,) the fraction of each layer's local gradients below course.diagnostics.SATURATION_THRESHOLD
      (saturated tanh or sigmoid units; for ReLU, the inactive units, whose local gradient is 0)
    """
    activations: list
    gradients: list
    local_gradients: list
    activation_std: np.ndarray
    gradient_std: np.ndarray
    saturated: np.ndarray


def propagate(activation, weights, X: np.ndarray, top_gradient: np.ndarray) -> DepthSignal:
    """Run the stack of the module docstring on given weights.

    Inputs:
    - activation: a course.activations name or a (forward, backward) pair of an element-wise function, so that
      backward(dout, cache) = dout * f'(z) (the local gradient f'(z) = backward(1, cache) is computed once)
    - weights: L arrays (D, D) (a list, or an array (L, D, D))
    - X: (N, D) the inputs h_0; top_gradient: (N, D) the gradient dL/dh_L sent back from the top

    Returns a :class:`DepthSignal`. Values too large for the float range show as inf, without warnings.
    """
    forward, backward = activation_pair(activation)
    h, caches, hs, local = X, [], [], []
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for w in weights:
            h, cache = forward(h @ w)
            caches.append(cache)
            hs.append(h)
        dh, grads = top_gradient, []
        for w, cache in zip(reversed(weights), reversed(caches)):
            grads.append(dh)
            local.append(backward(np.ones_like(dh), cache))
            dh = (dh * local[-1]) @ w.T  # = backward(dh, cache) @ w.T for an element-wise f
        grads.reverse()
        local.reverse()
        return DepthSignal(hs, grads, local, np.array([a.std() for a in hs]), np.array([g.std() for g in grads]),
                           np.array([np.mean(np.abs(g) < SATURATION_THRESHOLD) for g in local]))


def signal_through_depth(activation="tanh", init: str = "xavier", depth: int = 10, width: int = 100, n: int = 500,
                         weight_scale: float = 0.01, seed: int | None = 0) -> DepthSignal:
    """Forward N unit-Gaussian examples through ``depth`` layers and a unit-Gaussian gradient back (see the module
    docstring).

    Inputs:
    - activation: a course.activations name or a (forward, backward) pair
    - init: a course.init.INITIALIZERS name ("zeros", "small_random", "xavier", "glorot", "he"); "small_random"
      draws normal weights of std ``weight_scale``
    - depth L, width D, n N: integers >= 1
    - seed: seeds the data, the weights and the gradient (drawn in that order)

    Returns a :class:`DepthSignal`.
    """
    activation = activation_pair(activation)
    depth, width, n = check_int(depth, "depth"), check_int(width, "width"), check_int(n, "n")
    if init not in INITIALIZERS:
        raise ValueError(f"init must be one of {sorted(INITIALIZERS)}; got {init!r}")
    weight_scale = check_scalar(weight_scale, "weight_scale", low=0)
    rng = np.random.default_rng(seed)
    draw = (lambda shape: small_random(shape, weight_scale, rng)) if init == "small_random" else \
        (lambda shape: INITIALIZERS[init](shape, rng))
    X = rng.standard_normal((n, width))
    weights = [draw((width, width)) for _ in range(depth)]
    return propagate(activation, weights, X, rng.standard_normal((n, width)))


@dataclass(frozen=True)
class DepthStudy:
    """:func:`signal_through_depth` repeated over S seeds, for L layers: arrays of shape (S, L).

    - activation_std, gradient_std, saturated: per seed and layer, as in :class:`DepthSignal`
    - local_gradient_square: per seed and layer, the mean of f'(z_l)^2 over the layer's units and examples: on
      its way back through layer l the gradient's variance is multiplied by about D Var(w) E[f'(z_l)^2]
    """
    activation_std: np.ndarray
    gradient_std: np.ndarray
    saturated: np.ndarray
    local_gradient_square: np.ndarray

    def growth_per_layer(self) -> np.ndarray:
        """(S,) the factor by which the activations' std changes per layer, as the geometric mean over layers
        1..L of std_{l+1} / std_l: 1 keeps the signal, 1/sqrt(2) ~ 0.71 halves its variance at every layer."""
        a = self.activation_std
        return (a[:, -1] / a[:, 0]) ** (1 / (a.shape[1] - 1))


def depth_study(activation="tanh", init: str = "xavier", seeds=range(10), **settings) -> DepthStudy:
    """:func:`signal_through_depth` for every seed in ``seeds`` (``settings``: depth, width, n, weight_scale)."""
    runs = [signal_through_depth(activation, init, seed=seed, **settings) for seed in seeds]
    if not runs:
        raise ValueError("seeds must hold at least one seed")
    return DepthStudy(*(np.array([getattr(r, name) for r in runs])
                        for name in ("activation_std", "gradient_std", "saturated")),
                      np.array([[np.mean(g * g) for g in r.local_gradients] for r in runs]))


def standard_normal_weights(depth: int, width: int, seed: int | None = 0) -> np.ndarray:
    """(L, D, D) standard normal draws for L = depth layers of width D. Any top-left (d, d) block of each layer
    holds independent standard normals too, so one draw at the largest width serves every smaller width:
    ``std * weights[:depth, :d, :d]`` are the weights of a normal initializer of standard deviation std."""
    depth, width = check_int(depth, "depth"), check_int(width, "width")
    return np.random.default_rng(seed).standard_normal((depth, width, width))


def layer_histograms(arrays, edges: np.ndarray, max_values: int | None = None) -> np.ndarray:
    """(L, B) the fraction of each layer's values in each of the B bins between ``edges`` (B + 1 increasing
    edges, evenly spaced); values beyond the ends are counted in the end bins.

    Inputs:
    - arrays: L arrays of any shape (an array (L, ...) works too), e.g. the activations of every layer
    - max_values: histogram at most this many values of each layer (its first ones), for speed; None: all
    """
    edges = np.asarray(edges, dtype=np.float64)
    bins = edges.size - 1
    if bins < 1 or not np.all(np.diff(edges) > 0):
        raise ValueError(f"edges must hold at least two increasing values; got {edges}")
    values = np.array([np.ravel(a)[:max_values] for a in arrays], dtype=np.float64)  # (L, V)
    with np.errstate(invalid="ignore"):
        index = np.clip(np.floor((values - edges[0]) / (edges[-1] - edges[0]) * bins), 0, bins - 1)
    index = np.where(np.isnan(index), 0, index).astype(np.intp)
    counts = np.bincount((index + bins * np.arange(len(values))[:, None]).ravel(), minlength=bins * len(values))
    return counts.reshape(len(values), bins) / max(values.shape[1], 1)


def distinct_units(h: np.ndarray, rtol: float = 1e-9) -> int:
    """How many different units a layer holds: the number of distinct columns of h (N, D), two columns counting
    as one when they agree to ``rtol`` relative to the largest |h|. A layer initialized with equal weights (zeros,
    a constant) has 1: every unit computes the same function.

    Each column is reduced to one number, its dot product with a fixed random vector (different columns give
    different numbers, almost surely); the sorted numbers are then split wherever two neighbours differ by
    more than the tolerance."""
    h = np.asarray(h, dtype=np.float64)
    if h.ndim != 2:
        raise ValueError(f"h must have shape (N, D); got {h.shape}")
    scale = np.max(np.abs(h)) if h.size else 0.0
    if h.shape[1] == 0 or not np.isfinite(scale) or scale == 0:
        return min(h.shape[1], 1)
    r = np.random.default_rng(0).uniform(0.5, 1.5, size=h.shape[0]) * np.where(np.arange(h.shape[0]) % 2, 1, -1)
    signatures = np.sort(r @ (h / scale))
    return 1 + int(np.sum(np.diff(signatures) > rtol * np.abs(r).sum()))
