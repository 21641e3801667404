import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import activations as A
from gradient_assertions import assert_gradient
from course.gradcheck import eval_numerical_gradient_array, rel_error

ELEMENTWISE = {
    "sigmoid": ({}, lambda x: 1 / (1 + np.exp(-x))),
    "tanh": ({}, np.tanh),
    "relu": ({}, lambda x: np.maximum(x, 0)),
    "leaky_relu": ({"alpha": 0.1}, lambda x: np.where(x > 0, x, 0.1 * x)),
    "elu": ({"alpha": 0.7}, lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1))),
}

shapes = st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple)


def away_from_kinks(x):
    """Move entries within 1e-3 of 0 away, so centred differences do not straddle a kink."""
    return np.where(np.abs(x) < 1e-3, 0.5, x)


@pytest.mark.parametrize("name", ELEMENTWISE)
@settings(max_examples=15, deadline=None)
@given(shape=shapes, seed=st.integers(0, 2 ** 16))
def test_elementwise_backward_matches_numerical_gradient(name, shape, seed):
    kw, _ = ELEMENTWISE[name]
    forward, backward = getattr(A, f"{name}_forward"), getattr(A, f"{name}_backward")
    rng = np.random.default_rng(seed)
    x = away_from_kinks(rng.normal(0, 2, size=shape))
    dout = rng.normal(size=shape)
    _, cache = forward(x, **kw)
    dx = backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: forward(v, **kw)[0], x, dout)
    assert_gradient(dx, dx_num)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_forward_matches_the_formula(name):
    kw, formula = ELEMENTWISE[name]
    x = np.linspace(-5, 5, 41)
    out, _ = getattr(A, f"{name}_forward")(x, **kw)
    np.testing.assert_allclose(out, formula(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_stable_for_huge_inputs_and_dtype_preserved(name):
    kw, _ = ELEMENTWISE[name]
    forward, backward = getattr(A, f"{name}_forward"), getattr(A, f"{name}_backward")
    for dtype in (np.float64, np.float32):
        x = np.array([-1e308 if dtype == np.float64 else -3e38, -1000.0, 0.0, 1000.0, 1e30], dtype=dtype)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out, cache = forward(x, **kw)
            dx = backward(np.ones_like(x), cache)
        assert out.dtype == dtype and dx.dtype == dtype
        assert np.all(np.isfinite(dx))
        assert np.all(np.isfinite(out[1:4]))


def test_sigmoid_limits_without_overflow():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, _ = A.sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


def test_integers_become_float64():
    out, _ = A.relu_forward(np.array([-2, 3]))
    assert out.dtype == np.float64


def test_kink_conventions():
    x = np.zeros(3)
    d = np.ones(3)
    assert np.all(A.relu_backward(d, A.relu_forward(x)[1]) == 0)  # ReLU gradient at 0 is 0
    assert np.all(A.leaky_relu_backward(d, A.leaky_relu_forward(x, 0.2)[1]) == 0.2)
    assert np.all(A.elu_backward(d, A.elu_forward(x, 0.5)[1]) == 0.5)


def test_sigmoid_gradient_peaks_at_a_quarter():
    x = np.linspace(-10, 10, 2001)
    out, cache = A.sigmoid_forward(x)
    g = A.sigmoid_backward(np.ones_like(x), cache)
    assert g.max() == pytest.approx(0.25)
    assert x[np.argmax(g)] == pytest.approx(0.0)


@pytest.mark.parametrize("alpha_shape", [(), (3,)])
def test_prelu_gradients(alpha_shape):
    rng = np.random.default_rng(3)
    x = away_from_kinks(rng.normal(size=(4, 3)))
    alpha = rng.uniform(0.05, 0.3, size=alpha_shape)
    dout = rng.normal(size=x.shape)
    out, cache = A.prelu_forward(x, alpha)
    dx, dalpha = A.prelu_backward(dout, cache)
    assert dalpha.shape == np.shape(alpha)
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: A.prelu_forward(v, alpha)[0], x, dout)) < 1e-7
    dalpha_num = eval_numerical_gradient_array(lambda a: A.prelu_forward(x, a)[0], np.array(alpha, dtype=float), dout)
    assert rel_error(dalpha, dalpha_num) < 1e-7


def test_prelu_per_channel_on_images():
    rng = np.random.default_rng(4)
    x = away_from_kinks(rng.normal(size=(2, 3, 2, 2)))
    alpha = np.array([0.1, 0.2, 0.3])
    out, cache = A.prelu_forward(x, alpha)
    np.testing.assert_allclose(out[:, 1][x[:, 1] < 0], 0.2 * x[:, 1][x[:, 1] < 0])
    dout = rng.normal(size=x.shape)
    _, dalpha = A.prelu_backward(dout, cache)
    dalpha_num = eval_numerical_gradient_array(lambda a: A.prelu_forward(x, a)[0], alpha.copy(), dout)
    assert rel_error(dalpha, dalpha_num) < 1e-7


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 5), d=st.integers(1, 4), m=st.integers(1, 4), seed=st.integers(0, 2 ** 16))
def test_maxout_gradients(n, d, m, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    w1, w2 = rng.normal(size=(d, m)), rng.normal(size=(d, m))
    b1, b2 = rng.normal(size=m), rng.normal(size=m)
    z1, z2 = x @ w1 + b1, x @ w2 + b2
    if np.min(np.abs(z1 - z2)) < 1e-3:  # too close to the kink for finite differences
        return
    dout = rng.normal(size=(n, m))
    _, cache = A.maxout_forward(x, w1, b1, w2, b2)
    grads = A.maxout_backward(dout, cache)
    params = [x, w1, b1, w2, b2]
    for i, g in enumerate(grads):
        def f(v, i=i):
            args = list(params)
            args[i] = v
            return A.maxout_forward(*args)[0]
        assert rel_error(g, eval_numerical_gradient_array(f, params[i].copy(), dout)) < 1e-7


def test_maxout_generalizes_relu():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 3))
    w = rng.normal(size=(3, 2))
    b = rng.normal(size=2)
    out, _ = A.maxout_forward(x, np.zeros((3, 2)), np.zeros(2), w, b)
    np.testing.assert_allclose(out, np.maximum(0, x @ w + b))


def test_bad_inputs_are_explained():
    with pytest.raises(TypeError, match="real numeric array"):
        A.relu_forward(np.array(["a", "b"]))
    with pytest.raises(TypeError, match="alpha must be a real number"):
        A.leaky_relu_forward(np.ones(2), alpha="0.1")
    with pytest.raises(ValueError, match=r"dout must be shaped like the output of relu_forward, \(2,\); got \(3,\)"):
        A.relu_backward(np.ones(3), A.relu_forward(np.ones(2))[1])
    with pytest.raises(ValueError, match=r"alpha must be a scalar or have shape \(D,\) with D = x.shape\[1\] = 3"):
        A.prelu_forward(np.ones((2, 3)), np.ones(2))
    with pytest.raises(ValueError, match=r"w1 must have shape \(D, M\) with D = x.shape\[1\] = 3"):
        A.maxout_forward(np.ones((2, 3)), np.ones((4, 2)), np.ones(2), np.ones((4, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"x must have shape \(N, D\)"):
        A.maxout_forward(np.ones(3), np.ones((3, 2)), np.ones(2), np.ones((3, 2)), np.ones(2))


BACKWARDS = [*ELEMENTWISE, "prelu", "maxout"]


def _forward(name, x):
    if name == "prelu":
        return A.prelu_forward(x, 0.1)
    if name == "maxout":
        return A.maxout_forward(x, np.ones((3, 2)), np.zeros(2), -np.ones((3, 2)), np.zeros(2))
    return getattr(A, f"{name}_forward")(x)


@pytest.mark.parametrize("name", BACKWARDS)
@pytest.mark.parametrize("cache", [None, [0.5, 0.5], (), "x"])
def test_backward_refuses_what_is_not_its_forwards_cache(name, cache):
    with pytest.raises(TypeError, match=rf"cache must be .*{name}_forward"):
        getattr(A, f"{name}_backward")(np.ones((2, 3)), cache)


@pytest.mark.parametrize("name", BACKWARDS)
def test_backward_checks_dout_against_the_cache(name):
    out, cache = _forward(name, np.full((2, 3), 0.5))
    expected = f"dout must be shaped like the output of {name}_forward, {out.shape}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        getattr(A, f"{name}_backward")(np.ones((4, 3)), cache)


@pytest.mark.parametrize("name, low, high", [("sigmoid", 0, 1), ("tanh", -1, 1)])
def test_backward_given_x_instead_of_the_output_says_so(name, low, high):
    x = np.array([[-2.0, 0.3, 3.0]])
    backward = getattr(A, f"{name}_backward")
    with pytest.raises(ValueError, match=rf"cache must be the output of {name}_forward, {name}\(x\), which lies in "
                                         rf"\[{low}, {high}\]; got values from -2 to 3.*not its input x"):
        backward(np.ones_like(x), x)
    # Inside the range nothing can tell x from the output; the ends of the range are legal outputs.
    edge = np.array([float(low), float(high)])
    assert np.all(np.isfinite(backward(np.ones(2), edge)))


@pytest.mark.parametrize("name, alpha, match", [
    ("elu", -1.0, r"alpha must be >= 0.*ELU saturates at -alpha"),
    ("leaky_relu", -0.1, r"alpha must be >= 0.*slope for x <= 0, in \[0, 1\)"),
    ("leaky_relu", 1.0, r"alpha must be < 1.*1 the identity"),
    ("leaky_relu", 2.0, r"alpha must be < 1"),
])
def test_alpha_out_of_range_is_explained(name, alpha, match):
    with pytest.raises(ValueError, match=match):
        getattr(A, f"{name}_forward")(np.ones(3), alpha=alpha)


def test_alpha_zero_is_allowed_and_gives_relu():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(A.leaky_relu_forward(x, alpha=0.0)[0], [0.0, 0.0, 3.0])
    np.testing.assert_array_equal(A.elu_forward(x, alpha=0.0)[0], [0.0, 0.0, 3.0])
