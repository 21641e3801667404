"""Signals through depth: activations pushed forward and gradients pushed back through a deep stack of fully
connected layers at initialization, the experiment behind vanishing gradients (lab 01) and weight
initialization (lab 02).

The stack is h_0 = X (N unit-Gaussian examples of width D), z_l = h_{l-1} @ W_l, h_l = f(z_l) for l = 1..L (no
biases, every W_l of shape (D, D)). A unit-Gaussian gradient dL/dh_L is then sent back:
dL/dz_l = f'(z_l) * dL/dh_l and dL/dh_{l-1} = dL/dz_l @ W_l^T. Watching the spread of h_l and of dL/dh_l layer
by layer shows them shrink to zero, saturate or stay healthy, depending on f and on the scale of W.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course import activations as act
from course._validate import check_int, check_scalar
from course.init import INITIALIZERS, small_random

__all__ = ["DepthSignal", "signal_through_depth", "activation_pair"]


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
    """What :func:`signal_through_depth` measured, for L layers of width D and N examples.

    - activations: list of L arrays (N, D), h_1 ... h_L
    - gradients: list of L arrays (N, D), dL/dh_1 ... dL/dh_L (the gradient arriving at each layer's output)
    - activation_std, gradient_std: (L,) the standard deviation of each
    """
    activations: list
    gradients: list
    activation_std: np.ndarray
    gradient_std: np.ndarray


def signal_through_depth(activation="tanh", init: str = "xavier", depth: int = 10, width: int = 100, n: int = 500,
                         weight_scale: float = 0.01, seed: int | None = 0) -> DepthSignal:
    """Forward N unit-Gaussian examples through ``depth`` layers and a unit-Gaussian gradient back (see the module
    docstring).

    Inputs:
    - activation: a course.activations name or a (forward, backward) pair
    - init: a course.init.INITIALIZERS name ("zeros", "small_random", "xavier", "glorot", "he"); "small_random"
      draws normal weights of std ``weight_scale``
    - depth L, width D, n N: integers >= 1
    - seed: seeds the data, the weights and the gradient

    Returns a :class:`DepthSignal`.
    """
    forward, backward = activation_pair(activation)
    depth, width, n = check_int(depth, "depth"), check_int(width, "width"), check_int(n, "n")
    if init not in INITIALIZERS:
        raise ValueError(f"init must be one of {sorted(INITIALIZERS)}; got {init!r}")
    weight_scale = check_scalar(weight_scale, "weight_scale", low=0)
    rng = np.random.default_rng(seed)
    draw = (lambda shape: small_random(shape, weight_scale, rng)) if init == "small_random" else \
        (lambda shape: INITIALIZERS[init](shape, rng))
    h = rng.standard_normal((n, width))
    weights, caches, hs = [], [], []
    with np.errstate(over="ignore", under="ignore"):  # a scale that explodes shows as inf, not as warnings
        for _ in range(depth):
            w = draw((width, width))
            h, cache = forward(h @ w)
            weights.append(w)
            caches.append(cache)
            hs.append(h)
        dh = rng.standard_normal((n, width))
        grads = []
        for w, cache in zip(reversed(weights), reversed(caches)):
            grads.append(dh)
            dh = backward(dh, cache) @ w.T
    grads.reverse()
    return DepthSignal(hs, grads, np.array([a.std() for a in hs]), np.array([g.std() for g in grads]))
