"""Checks for the activation functions of lab 01: each forward, and each backward paired with its forward."""
from __future__ import annotations

import inspect

import numpy as np

from course import activations as ref
from course.checks._harness import (Mistake, NotYet, call, call_float32, checker, expect_close, expect_dtype,
                                    unpack)

_rng = np.random.default_rng(1234)
# Test inputs: moderate values, an exact zero (the kinks' conventions) and huge magnitudes (stability).
_X = np.concatenate([_rng.normal(0, 3, size=17), [0.0, 1000.0, -1000.0]]).reshape(4, 5)
_DOUT = _rng.normal(size=_X.shape)


def _sig(x):
    return ref.sigmoid(x)


def _at_zero(gradient):
    """The mistake of sending x = 0 down the linear piece, for an activation whose gradient at 0 is ``gradient``."""
    return (f"at x = 0 you used the linear piece (x >= 0), as one set of lecture notes does; this course's convention puts "
            f"x = 0 on the alpha side (x <= 0), so the gradient there is {gradient}: test x > 0 for the linear piece")


_NO_ALPHA_IN_CACHE = ("the backward used the default alpha because the cache does not hold the alpha passed to the "
                      "forward: the cache must carry alpha (return it from forward in the cache, e.g. (x, alpha))")


# For each elementwise activation: keyword arguments to pass, reference forward and backward as functions of
# (x, **kw) and (x, dout, **kw), and the outputs of the common mistakes. Non-default alphas catch a forgotten alpha.
_SPECS = {
    "sigmoid": dict(
        kw={},
        forward=lambda x: _sig(x),
        backward=lambda x, d: d * _sig(x) * (1 - _sig(x)),
        forward_mistakes=lambda x: [
            ("used exp(x) instead of exp(-x): that is sigmoid(-x) = 1 - sigmoid(x)", _sig(-x)),
        ],
        backward_mistakes=lambda x, d: [
            ("sigmoid_backward uses x instead of sigmoid(x): the derivative is s * (1 - s) with s = sigmoid(x)",
             d * x * (1 - x)),
            ("sigmoid applied twice: the cache already holds sigmoid(x)",
             d * _sig(_sig(x)) * (1 - _sig(_sig(x)))),
            ("forgot to multiply by dout (the chain rule)", _sig(x) * (1 - _sig(x))),
            ("used sigmoid(x) itself instead of its derivative s * (1 - s)", d * _sig(x)),
        ]),
    "tanh": dict(
        kw={},
        forward=lambda x: np.tanh(x),
        backward=lambda x, d: d * (1 - np.tanh(x) ** 2),
        forward_mistakes=lambda x: [("used sigmoid instead of tanh", _sig(x))],
        backward_mistakes=lambda x, d: [
            ("tanh_backward uses x instead of tanh(x): the derivative is 1 - tanh(x)**2", d * (1 - x ** 2)),
            ("forgot to square: the derivative is 1 - tanh(x)**2, not 1 - tanh(x)", d * (1 - np.tanh(x))),
            ("tanh applied twice: the cache already holds tanh(x), so the derivative is 1 - cache**2, "
             "not 1 - tanh(cache)**2", d * (1 - np.tanh(np.tanh(x)) ** 2)),
            ("forgot to multiply by dout (the chain rule)", 1 - np.tanh(x) ** 2),
        ]),
    "relu": dict(
        kw={},
        forward=lambda x: np.maximum(x, 0),
        backward=lambda x, d: np.where(x > 0, d, 0),
        forward_mistakes=lambda x: [("kept the negative side and zeroed the positive one", np.minimum(x, 0))],
        backward_mistakes=lambda x, d: [
            ("gradient passed where x < 0: ReLU blocks it wherever its input was negative", d),
            ("gradient passed at x == 0: by this course's convention the ReLU gradient at exactly 0 is 0 "
             "(use x > 0, not x >= 0)", np.where(x >= 0, d, 0)),
            ("masked with the output instead of the upstream gradient: dx = dout * (x > 0)", np.maximum(x, 0)),
            ("forgot to multiply by dout: dx = dout * (x > 0)", (x > 0).astype(float)),
        ]),
    "leaky_relu": dict(
        kw={"alpha": 0.1},
        forward=lambda x, alpha: np.where(x > 0, x, alpha * x),
        backward=lambda x, d, alpha: np.where(x > 0, d, alpha * d),
        forward_mistakes=lambda x, alpha: [
            ("leaky slope applied on the wrong side: alpha multiplies the NEGATIVE inputs",
             np.where(x > 0, alpha * x, x)),
            ("negative inputs set to 0: that is plain ReLU, the leak alpha * x is missing", np.maximum(x, 0)),
            ("ignored the alpha argument (used 0.01 whatever alpha was passed)", np.where(x > 0, x, 0.01 * x)),
        ],
        backward_mistakes=lambda x, d, alpha: [
            ("leaky slope applied on the wrong side: alpha multiplies dout where x < 0",
             np.where(x > 0, alpha * d, d)),
            ("gradient blocked where x < 0: that is ReLU's backward; leaky ReLU passes alpha * dout",
             np.where(x > 0, d, 0)),
            (_at_zero("alpha * dout"), np.where(x >= 0, d, alpha * d)),
            ("ignored the alpha stored in the cache (used 0.01)", np.where(x > 0, d, 0.01 * d)),
        ],
        # what a backward that falls back to the default alpha gives
        default_alpha=lambda x, d, alpha, default: [np.where(x > 0, d, default * d)]),
    "elu": dict(
        kw={"alpha": 0.5},
        forward=lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
        backward=lambda x, d, alpha: np.where(x > 0, d, d * alpha * np.exp(np.minimum(x, 0))),
        forward_mistakes=lambda x, alpha: [
            ("ELU alpha missing: the negative side is alpha * (exp(x) - 1)", np.where(x > 0, x, np.expm1(np.minimum(x, 0)))),
            ("used exp(x) instead of exp(x) - 1: ELU must be continuous at 0",
             np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0)))),
        ],
        backward_mistakes=lambda x, d, alpha: [
            ("ELU alpha missing in the gradient: for x <= 0 it is alpha * exp(x) = out + alpha",
             np.where(x > 0, d, d * np.exp(np.minimum(x, 0)))),
            ("used the output instead of out + alpha for x <= 0",
             np.where(x > 0, d, d * alpha * np.expm1(np.minimum(x, 0)))),
            ("gradient blocked where x <= 0: ELU passes alpha * exp(x) * dout there", np.where(x > 0, d, 0)),
            (_at_zero("alpha * exp(0) * dout = alpha * dout"),
             np.where(x >= 0, d, d * alpha * np.exp(np.minimum(x, 0)))),
        ],
        default_alpha=lambda x, d, alpha, default: [  # as default * exp(x), or as out + default
            np.where(x > 0, d, d * default * np.exp(np.minimum(x, 0))),
            np.where(x > 0, d, d * (alpha * np.expm1(np.minimum(x, 0)) + default))]),
}


def _check_forward(name, forward):
    spec = _SPECS[name]
    kw = spec["kw"]
    out, _ = unpack(call(forward, _X, **kw), 2, f"{name}_forward")
    expect_close(out, spec["forward"](_X, **kw), f"{name}_forward output",
                 spec["forward_mistakes"](_X, **kw))
    out32, _ = unpack(call_float32(forward, _X, **kw), 2, f"{name}_forward")
    expect_dtype(out32, np.float32, f"{name}_forward output")
    ints = np.array([[-3, -1, 0, 1, 3]])
    out_int, _ = unpack(call(forward, ints, **kw), 2, f"{name}_forward")
    if isinstance(out_int, np.ndarray) and out_int.dtype.kind in "iub":
        raise Mistake(f"{name}_forward turned integer input into an integer output ({out_int.ravel().tolist()} for "
                      f"{ints.ravel().tolist()}): convert integers to floats first, e.g. x = x.astype(np.float64) "
                      "when x.dtype.kind != 'f' (float32 and float64 inputs keep their dtype)")
    expect_close(out_int, spec["forward"](ints.astype(np.float64), **kw), f"{name}_forward output for integers")
    return ("correct, including x = 0 and x = ±1000 without overflow; float32 stays float32 and integers "
            "become float64")


def _carries(cache, value) -> bool:
    """Whether the number ``value`` is stored in ``cache``: as the cache itself or inside its tuples, lists and
    dicts."""
    if isinstance(cache, dict):
        return any(_carries(item, value) for item in cache.values())
    if isinstance(cache, (tuple, list)):
        return any(_carries(item, value) for item in cache)
    return np.ndim(cache) == 0 and isinstance(cache, (int, float, np.number, np.ndarray)) and bool(cache == value)


def _check_backward(name, forward, backward):
    spec = _SPECS[name]
    kw = spec["kw"]
    try:
        _, cache = unpack(call(forward, _X, **kw), 2, f"{name}_forward")
    except NotImplementedError:
        raise NotYet(f"{name}_backward needs the cache of {name}_forward: write the forward pass first") from None
    dx = call(backward, _DOUT, cache)
    if isinstance(dx, tuple):
        raise Mistake(f"{name}_backward must return dx alone, not a tuple")
    mistakes = spec["backward_mistakes"](_X, _DOUT, **kw)
    if "alpha" in kw and not _carries(cache, kw["alpha"]):
        default = inspect.signature(getattr(ref, f"{name}_forward")).parameters["alpha"].default
        mistakes[:0] = [(_NO_ALPHA_IN_CACHE, wrong) for wrong in spec["default_alpha"](_X, _DOUT, kw["alpha"], default)]
    expect_close(dx, spec["backward"](_X, _DOUT, **kw), f"{name}_backward dx", mistakes)
    if name in ("sigmoid", "tanh"):
        return "correct, including the saturated ends (x = ±1000)"
    return "correct, including the convention at x = 0 and large inputs"


@checker
def check_sigmoid_forward(sigmoid_forward):
    """sigmoid_forward(x) -> (out, cache): values, stability at ±1000, dtype."""
    return _check_forward("sigmoid", sigmoid_forward)


@checker
def check_sigmoid_backward(sigmoid_forward, sigmoid_backward):
    """sigmoid_backward(dout, cache) -> dx, with the cache from sigmoid_forward."""
    return _check_backward("sigmoid", sigmoid_forward, sigmoid_backward)


@checker
def check_tanh_forward(tanh_forward):
    """tanh_forward(x) -> (out, cache)."""
    return _check_forward("tanh", tanh_forward)


@checker
def check_tanh_backward(tanh_forward, tanh_backward):
    """tanh_backward(dout, cache) -> dx."""
    return _check_backward("tanh", tanh_forward, tanh_backward)


@checker
def check_relu_forward(relu_forward):
    """relu_forward(x) -> (out, cache)."""
    return _check_forward("relu", relu_forward)


@checker
def check_relu_backward(relu_forward, relu_backward):
    """relu_backward(dout, cache) -> dx, gradient 0 at exactly x = 0."""
    return _check_backward("relu", relu_forward, relu_backward)


@checker
def check_leaky_relu_forward(leaky_relu_forward):
    """leaky_relu_forward(x, alpha) -> (out, cache), checked with alpha = 0.1."""
    return _check_forward("leaky_relu", leaky_relu_forward)


@checker
def check_leaky_relu_backward(leaky_relu_forward, leaky_relu_backward):
    """leaky_relu_backward(dout, cache) -> dx."""
    return _check_backward("leaky_relu", leaky_relu_forward, leaky_relu_backward)


@checker
def check_elu_forward(elu_forward):
    """elu_forward(x, alpha) -> (out, cache), checked with alpha = 0.5."""
    return _check_forward("elu", elu_forward)


@checker
def check_elu_backward(elu_forward, elu_backward):
    """elu_backward(dout, cache) -> dx."""
    return _check_backward("elu", elu_forward, elu_backward)


_XP = _rng.normal(0, 2, size=(6, 3))
_XP[2, 1] = 0.0  # an exact zero: the convention at the kink
_ALPHA = np.array([0.1, 0.2, 0.3])
_DOUTP = _rng.normal(size=_XP.shape)


@checker
def check_prelu(prelu_forward, prelu_backward):
    """prelu_forward(x, alpha) -> (out, cache) and prelu_backward(dout, cache) -> (dx, dalpha), per-feature alpha."""
    out, cache = unpack(call(prelu_forward, _XP, _ALPHA), 2, "prelu_forward")
    neg = _XP <= 0
    expect_close(out, np.where(neg, _ALPHA * _XP, _XP), "prelu_forward output", [
        ("alpha applied on the wrong side: it multiplies the NEGATIVE inputs", np.where(neg, _XP, _ALPHA * _XP)),
    ])
    dx, dalpha = unpack(call(prelu_backward, _DOUTP, cache), 2, "prelu_backward")
    expect_close(dx, np.where(neg, _ALPHA * _DOUTP, _DOUTP), "prelu_backward dx", [
        (_at_zero("alpha * dout"), np.where(_XP < 0, _ALPHA * _DOUTP, _DOUTP)),
    ])
    expected = np.where(neg, _XP * _DOUTP, 0).sum(axis=0)
    expect_close(dalpha, expected, "prelu_backward dalpha", [
        ("dalpha summed over the positive inputs too: alpha only touches x <= 0",
         (_XP * _DOUTP).sum(axis=0)),
        ("dalpha uses dout alone: d(alpha * x)/d alpha = x, so sum x * dout where x <= 0",
         np.where(neg, _DOUTP, 0).sum(axis=0)),
    ])
    return "forward and both gradients correct with one alpha per feature"


_XM = _rng.normal(size=(5, 4))
_W1, _W2 = _rng.normal(size=(4, 3)), _rng.normal(size=(4, 3))
_B1, _B2 = _rng.normal(size=3), _rng.normal(size=3)
_DOUTM = _rng.normal(size=(5, 3))


@checker
def check_maxout(maxout_forward, maxout_backward):
    """maxout_forward(x, w1, b1, w2, b2) -> (out, cache); maxout_backward(dout, cache) -> (dx, dw1, db1, dw2, db2)."""
    args = (_XM, _W1, _B1, _W2, _B2)
    out, cache = unpack(call(maxout_forward, *args), 2, "maxout_forward")
    z1, z2 = _XM @ _W1 + _B1, _XM @ _W2 + _B2
    expect_close(out, np.maximum(z1, z2), "maxout_forward output", [
        ("took the minimum of the two pieces", np.minimum(z1, z2)),
        ("forgot the biases", np.maximum(_XM @ _W1, _XM @ _W2)),
    ])
    grads = unpack(call(maxout_backward, _DOUTM, cache), 5, "maxout_backward")
    expected = ref.maxout_backward(_DOUTM, ref.maxout_forward(*args)[1])
    first = z1 >= z2
    both = _DOUTM @ _W1.T + _DOUTM @ _W2.T
    for name, g, e in zip(("dx", "dw1", "db1", "dw2", "db2"), grads, expected):
        expect_close(g, e, f"maxout_backward {name}",
                     [("gradient sent through both pieces: only the larger one gets it", both)] if name == "dx" else [])
    return f"correct; the first piece won in {first.mean():.0%} of the units here (ties go to the first piece)"

__all__ = sorted(name for name in dir() if name.startswith("check_"))
