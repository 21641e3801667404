"""course.layers (affine, batch norm, spatial batch norm, dropout) and course.checks.layers."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import OutOfRangeError
from course import layers as L
from course.checks import layers as CL
from gradient_assertions import assert_gradient
from course.gradcheck import eval_numerical_gradient_array, rel_error

seeds = st.integers(0, 2 ** 16)


# ----------------------------------------------------------------------------------------------------------------
# Affine


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 4), inner=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       m=st.integers(1, 5), seed=seeds)
def test_affine_backward_matches_numerical_gradient(n, inner, m, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n,) + inner)
    d = int(np.prod(inner))
    w, b = rng.normal(size=(d, m)), rng.normal(size=m)
    dout = rng.normal(size=(n, m))
    out, cache = L.affine_forward(x, w, b)
    assert out.shape == (n, m)
    np.testing.assert_allclose(out, x.reshape(n, d) @ w + b)
    dx, dw, db = L.affine_backward(dout, cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    assert_gradient(dx, eval_numerical_gradient_array(lambda v: L.affine_forward(v, w, b)[0], x, dout))
    assert_gradient(dw, eval_numerical_gradient_array(lambda v: L.affine_forward(x, v, b)[0], w, dout))
    assert_gradient(db, eval_numerical_gradient_array(lambda v: L.affine_forward(x, w, v)[0], b, dout))


def test_affine_hand_computed_and_dtypes():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([[1.0, 0.0, -1.0], [0.5, 1.0, 2.0]])
    b = np.array([0.0, 1.0, -1.0])
    out, cache = L.affine_forward(x, w, b)
    np.testing.assert_allclose(out, [[2.0, 3.0, 2.0], [5.0, 5.0, 4.0]])
    dx, dw, db = L.affine_backward(np.ones((2, 3)), cache)
    np.testing.assert_allclose(db, [2.0, 2.0, 2.0])
    np.testing.assert_allclose(dw, [[4.0, 4.0, 4.0], [6.0, 6.0, 6.0]])
    f32 = [a.astype(np.float32) for a in (x, w, b)]
    out32, cache32 = L.affine_forward(*f32)
    assert out32.dtype == np.float32
    assert all(g.dtype == np.float32 for g in L.affine_backward(np.ones((2, 3), np.float32), cache32))
    out_int, _ = L.affine_forward([[1, 2]], [[1], [1]], [0])
    assert out_int.dtype == np.float64 and out_int[0, 0] == 3


@pytest.mark.parametrize("args, exc, match", [
    ((np.ones(4), np.ones((4, 2)), np.ones(2)), ValueError, r"at least 2-D.*got shape \(4,\).*x\[None\]"),
    ((np.ones((3, 2, 2)), np.ones((3, 2)), np.ones(2)), ValueError, r"w must have shape \(D, M\) with D = 4.*\(3, 4\)"),
    ((np.ones((3, 4)), np.ones((4, 2)), np.ones(3)), ValueError, r"b must have shape \(M,\) = \(2,\); got \(3,\)"),
    ((np.ones((3, 4)), np.ones(4), np.ones(1)), ValueError, r"w must have shape \(D, M\)"),
    (("abc", np.ones((1, 2)), np.ones(2)), TypeError, r"x must be a real numeric array"),
    ((np.ones((2, 2), complex), np.ones((2, 2)), np.ones(2)), TypeError, r"dtype complex"),
])
def test_affine_forward_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        L.affine_forward(*args)


def test_affine_backward_bad_input():
    _, cache = L.affine_forward(np.ones((3, 4)), np.ones((4, 2)), np.ones(2))
    with pytest.raises(ValueError, match=r"dout must have shape \(N, M\) = \(3, 2\); got \(2, 3\)"):
        L.affine_backward(np.ones((2, 3)), cache)
    with pytest.raises(TypeError, match="cache must be the tuple returned by affine_forward"):
        L.affine_backward(np.ones((3, 2)), None)


# ----------------------------------------------------------------------------------------------------------------
# Batch normalization


@settings(max_examples=15, deadline=None)
@given(n=st.integers(3, 8), d=st.integers(1, 5), seed=seeds)  # N = 2: out is ±1 whatever x, dx ~ 0
def test_batchnorm_backward_matches_numerical_gradient(n, d, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(2, 3, size=(n, d))
    gamma, beta = rng.normal(size=d), rng.normal(size=d)
    dout = rng.normal(size=(n, d))

    def fwd(x_, g_, b_):
        return L.batchnorm_forward(x_, g_, b_, {"mode": "train"})[0]

    _, cache = L.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = L.batchnorm_backward(dout, cache)
    assert_gradient(dx, eval_numerical_gradient_array(lambda v: fwd(v, gamma, beta), x, dout))
    assert_gradient(dgamma, eval_numerical_gradient_array(lambda v: fwd(x, v, beta), gamma, dout))
    assert_gradient(dbeta, eval_numerical_gradient_array(lambda v: fwd(x, gamma, v), beta, dout))


def test_batchnorm_test_mode_backward_matches_numerical_gradient():
    rng = np.random.default_rng(3)
    x, gamma, beta, dout = rng.normal(size=(5, 3)), rng.normal(size=3), rng.normal(size=3), rng.normal(size=(5, 3))
    param = {"mode": "test", "running_mean": rng.normal(size=3), "running_var": rng.random(3) + 0.5}
    _, cache = L.batchnorm_forward(x, gamma, beta, param)
    dx, dgamma, dbeta = L.batchnorm_backward(dout, cache)
    fwd = lambda v: L.batchnorm_forward(v, gamma, beta, param)[0]  # noqa: E731
    assert_gradient(dx, eval_numerical_gradient_array(fwd, x, dout))
    fwd_g = lambda v: L.batchnorm_forward(x, v, beta, param)[0]  # noqa: E731
    assert_gradient(dgamma, eval_numerical_gradient_array(fwd_g, gamma, dout))


def test_batchnorm_train_normalizes_each_feature():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3)) * [1.0, 10.0, 0.5] + [5.0, -3.0, 100.0]
    out, _ = L.batchnorm_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1, atol=1e-3)  # the biased variance, up to eps
    gamma, beta = np.array([2.0, 0.5, -1.0]), np.array([1.0, 0.0, 3.0])
    out, _ = L.batchnorm_forward(x, gamma, beta, {"mode": "train", "eps": 1e-12})
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-9)
    np.testing.assert_allclose(out.std(axis=0), np.abs(gamma), rtol=1e-9)


def test_batchnorm_hand_computed():
    x = np.array([[1.0], [3.0]])  # mean 2, biased variance 1
    out, _ = L.batchnorm_forward(x, np.array([2.0]), np.array([0.5]), {"mode": "train", "eps": 1e-300})
    np.testing.assert_allclose(out, [[-1.5], [2.5]])


def test_batchnorm_running_averages_created_and_updated_in_place():
    rng = np.random.default_rng(1)
    x = rng.normal(3, 2, size=(50, 4))
    param = {"mode": "train"}
    L.batchnorm_forward(x, np.ones(4), np.zeros(4), param)
    np.testing.assert_allclose(param["running_mean"], 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(param["running_var"], 0.9 + 0.1 * x.var(axis=0))
    rm, rv = param["running_mean"], param["running_var"]
    before = rm.copy(), rv.copy()
    param["momentum"] = 0.5
    L.batchnorm_forward(x + 1, np.ones(4), np.zeros(4), param)
    assert param["running_mean"] is rm and param["running_var"] is rv  # the same arrays, modified in place
    np.testing.assert_allclose(rm, 0.5 * before[0] + 0.5 * (x + 1).mean(axis=0))
    np.testing.assert_allclose(rv, 0.5 * before[1] + 0.5 * x.var(axis=0))
    # Many steps on the same distribution: the running averages converge to the population statistics.
    param = {"mode": "train"}
    for _ in range(200):
        L.batchnorm_forward(rng.normal(3, 2, size=(64, 4)), np.ones(4), np.zeros(4), param)
    np.testing.assert_allclose(param["running_mean"], 3, atol=0.15)
    np.testing.assert_allclose(param["running_var"], 4, rtol=0.1)


def test_batchnorm_running_stats_from_a_list_are_stored_as_arrays():
    param = {"mode": "train", "running_mean": [0, 0], "running_var": [1, 1]}
    L.batchnorm_forward(np.array([[1.0, 2.0], [3.0, 6.0]]), np.ones(2), np.zeros(2), param)
    assert isinstance(param["running_mean"], np.ndarray)
    np.testing.assert_allclose(param["running_mean"], [0.2, 0.4])


def test_batchnorm_test_mode_uses_running_averages_and_leaves_them():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 3))
    rm, rv = np.array([1.0, -1.0, 0.5]), np.array([4.0, 0.25, 1.0])
    param = {"mode": "test", "running_mean": rm.copy(), "running_var": rv.copy()}
    gamma, beta = np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.1, 0.2])
    out, _ = L.batchnorm_forward(x, gamma, beta, param)
    np.testing.assert_allclose(out, gamma * (x - rm) / np.sqrt(rv + 1e-5) + beta)
    np.testing.assert_array_equal(param["running_mean"], rm)
    np.testing.assert_array_equal(param["running_var"], rv)
    # A single example is fine at test time (its prediction does not depend on the rest of the batch).
    one, _ = L.batchnorm_forward(x[:1], gamma, beta, param)
    np.testing.assert_allclose(one, out[:1])


def test_batchnorm_float32_preserved():
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    g, b = np.ones(3, np.float32), np.zeros(3, np.float32)
    param = {"mode": "train"}
    out, cache = L.batchnorm_forward(x, g, b, param)
    assert out.dtype == np.float32 and param["running_mean"].dtype == np.float32
    assert all(a.dtype == np.float32 for a in L.batchnorm_backward(np.ones_like(x), cache))
    param["mode"] = "test"
    param["running_var"] = np.ones(3)  # float64 running stats do not upcast the output
    out, _ = L.batchnorm_forward(x, g, b, param)
    assert out.dtype == np.float32


def test_batchnorm_constant_feature_is_finite():
    x = np.ones((4, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out, cache = L.batchnorm_forward(x, np.ones(2), np.zeros(2), {"mode": "train"})
        dx, _, _ = L.batchnorm_backward(np.ones((4, 2)), cache)
    assert np.all(out == 0) and np.all(np.isfinite(dx))


def test_batchnorm_train_mode_refuses_a_single_example():
    # One example has batch variance 0: the output would be beta whatever x is. PyTorch refuses it too.
    param = {"mode": "train"}
    with pytest.raises(ValueError, match=r"Expected more than 1 value per feature when training, got x of shape "
                                         r"\(N, D\) = \(1, 3\).*mode'\] = 'test'.*at least 2 examples"):
        L.batchnorm_forward(np.ones((1, 3)), np.ones(3), np.full(3, 0.5), param)
    assert "running_mean" not in param or np.all(param["running_mean"] == 0)
    out, _ = L.batchnorm_forward(np.ones((1, 3)), np.ones(3), np.zeros(3), {"mode": "test"})  # test mode is fine
    np.testing.assert_allclose(out, 1 / np.sqrt(1 + 1e-5))


def test_spatial_batchnorm_train_mode_needs_two_values_per_channel():
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training, got x of shape "
                                         r"\(N, C, H, W\) = \(1, 2, 1, 1\) \(1 value per channel\)"):
        L.spatial_batchnorm_forward(np.ones((1, 2, 1, 1)), np.ones(2), np.zeros(2), {"mode": "train"})
    out, _ = L.spatial_batchnorm_forward(np.array([[[[1.0, 3.0]]]]), np.ones(1), np.zeros(1), {"mode": "train"})
    np.testing.assert_allclose(out.ravel(), [-1, 1], rtol=1e-5)  # N = 1 with H * W = 2 values is enough


BASE = np.random.default_rng(5).normal(size=(6, 3)) + np.array([0.0, 5.0, -2.0])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e150), (np.float64, -1e100), (np.float32, 1e18)])
def test_batchnorm_of_huge_values_is_scale_invariant(dtype, scale):
    # mean and variance are computed at a power-of-two scale: the squares of 1e150 do not overflow
    x = (BASE * scale).astype(dtype)
    param, ref_param = {"mode": "train", "eps": 1e-30}, {"mode": "train", "eps": 1e-30}
    out, _ = L.batchnorm_forward(x, np.ones(3, dtype), np.zeros(3, dtype), param)
    ref, _ = L.batchnorm_forward(BASE.astype(dtype), np.ones(3, dtype), np.zeros(3, dtype), ref_param)
    np.testing.assert_allclose(out, np.sign(scale) * ref, rtol=1e-4 if dtype == np.float32 else 1e-10)
    assert out.dtype == dtype
    np.testing.assert_allclose(param["running_mean"], 0.1 * x.astype(np.float64).mean(axis=0), rtol=1e-5)
    assert np.all(np.isfinite(param["running_var"])) and np.all(param["running_var"] > 0)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("x", [
    np.array([[2e154, 1.0], [-2e154, 1.0]]),
    np.array([[1e200, 1.0], [-1e200, 2.0]]),
    np.array([[1e308, 1.0], [-1e308, 2.0]]),
    np.array([[1e308, 1.0], [1.7e308, 2.0], [-1.7e308, 3.0]]),
    np.array([[3e38, 1.0], [-3e38, 2.0]], dtype=np.float32),
    np.array([[1e20, 1.0], [-1e20, 2.0]], dtype=np.float32),
])
def test_batchnorm_variance_beyond_the_float_range_is_a_clear_error(x):
    param = {"mode": "train", "running_mean": np.zeros(2, x.dtype), "running_var": np.ones(2, x.dtype)}
    with pytest.raises(OutOfRangeError, match=rf"the batch variance exceeds the {x.dtype} range.*rescale x"):
        L.batchnorm_forward(x, np.ones(2, x.dtype), np.zeros(2, x.dtype), param)
    assert np.all(param["running_mean"] == 0) and np.all(param["running_var"] == 1)  # left as they were


@pytest.mark.filterwarnings("error")
def test_batchnorm_test_mode_with_huge_values():
    x = np.array([[1e300, -1e308], [-1.7e308, 2.0]])
    param = {"mode": "test"}
    out, _ = L.batchnorm_forward(x, np.ones(2), np.zeros(2), param)
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-5))
    with pytest.raises(OutOfRangeError, match=r"output gamma \* x_hat \+ beta exceeds the float64 range"):
        L.batchnorm_forward(x, np.full(2, 10.0), np.zeros(2), param)


X2, G2, B2 = np.ones((4, 3)), np.ones(3), np.zeros(3)


@pytest.mark.parametrize("x, gamma, beta, param, exc, match", [
    (np.ones(4), G2, B2, {"mode": "train"}, ValueError, r"x must have shape \(N, D\) \(2-D\); got shape \(4,\)"),
    (np.ones((2, 3, 4)), G2, B2, {"mode": "train"}, ValueError, r"x must have shape \(N, D\)"),
    (X2, np.ones(2), B2, {"mode": "train"}, ValueError, r"gamma must have shape \(D,\) = \(3,\).*got \(2,\)"),
    (X2, G2, np.ones((1, 3)), {"mode": "train"}, ValueError, r"beta must have shape \(D,\) = \(3,\).*\(1, 3\)"),
    (X2, G2, B2, "train", TypeError, r"bn_param must be a dict; got str"),
    (X2, G2, B2, {}, ValueError, r"must have a 'mode' key, 'train' or 'test'"),
    (X2, G2, B2, {"mode": "eval"}, ValueError, r"bn_param\['mode'\] must be 'train' or 'test'; got 'eval'"),
    (X2, G2, B2, {"mode": "train", "eps": 0}, ValueError, r"bn_param\['eps'\] must be > 0"),
    (X2, G2, B2, {"mode": "train", "momentum": 1.5}, ValueError, r"bn_param\['momentum'\] must be <= 1"),
    (X2, G2, B2, {"mode": "train", "momentum": "high"}, TypeError, r"bn_param\['momentum'\] must be a real number"),
    (X2, G2, B2, {"mode": "test", "running_mean": np.zeros(2)}, ValueError,
     r"bn_param\['running_mean'\] must have shape \(D,\) = \(3,\).*got \(2,\)"),
    (np.ones((0, 3)), G2, B2, {"mode": "train"}, ValueError, r"more than 1 value per feature when training.*\(0, 3\)"),
    (X2, G2, B2, {"mode": "test", "running_var": np.array([1.0, -1.0, 1.0])}, ValueError,
     r"bn_param\['running_var'\] must be >= 0 \(a variance\); got \[ 1. -1.  1.\]"),
])
def test_batchnorm_forward_bad_input(x, gamma, beta, param, exc, match):
    with pytest.raises(exc, match=match):
        L.batchnorm_forward(x, gamma, beta, param)


def test_batchnorm_backward_bad_input():
    _, cache = L.batchnorm_forward(X2, G2, B2, {"mode": "train"})
    with pytest.raises(ValueError, match=r"dout must be shaped like the output of batchnorm_forward, \(4, 3\); "
                                         r"got \(3, 4\)"):
        L.batchnorm_backward(np.ones((3, 4)), cache)
    with pytest.raises(TypeError, match="cache must be the tuple returned by batchnorm_forward"):
        L.batchnorm_backward(np.ones((4, 3)), (1, 2))


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(1, 3), w=st.integers(1, 3), seed=seeds)
def test_spatial_batchnorm_backward_matches_numerical_gradient(n, c, h, w, seed):
    if n * h * w < 3:  # two values per channel normalize to ±1 whatever x: dx ~ 0, a meaningless check
        n = 3
    rng = np.random.default_rng(seed)
    x = rng.normal(1, 2, size=(n, c, h, w))
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    dout = rng.normal(size=x.shape)

    def fwd(x_, g_, b_):
        return L.spatial_batchnorm_forward(x_, g_, b_, {"mode": "train"})[0]

    _, cache = L.spatial_batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = L.spatial_batchnorm_backward(dout, cache)
    assert dx.shape == x.shape and dgamma.shape == (c,) and dbeta.shape == (c,)
    assert_gradient(dx, eval_numerical_gradient_array(lambda v: fwd(v, gamma, beta), x, dout))
    assert_gradient(dgamma, eval_numerical_gradient_array(lambda v: fwd(x, v, beta), gamma, dout))
    assert_gradient(dbeta, eval_numerical_gradient_array(lambda v: fwd(x, gamma, v), beta, dout))


def test_spatial_batchnorm_one_mean_and_variance_per_channel():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 3, 5, 6)) * np.array([1.0, 5.0, 0.2]).reshape(1, 3, 1, 1) + 7
    param = {"mode": "train"}
    out, _ = L.spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), param)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), 1, atol=1e-3)
    assert param["running_mean"].shape == (3,)
    np.testing.assert_allclose(param["running_mean"], 0.1 * x.mean(axis=(0, 2, 3)))
    # Same as plain batch norm on the (N*H*W, C) matrix.
    rows = x.transpose(0, 2, 3, 1).reshape(-1, 3)
    ref, _ = L.batchnorm_forward(rows, np.ones(3), np.zeros(3), {"mode": "train"})
    np.testing.assert_allclose(out, ref.reshape(4, 5, 6, 3).transpose(0, 3, 1, 2))
    param["mode"] = "test"
    out_t, _ = L.spatial_batchnorm_forward(x, np.ones(3), np.zeros(3), param)
    rm, rv = param["running_mean"].reshape(1, 3, 1, 1), param["running_var"].reshape(1, 3, 1, 1)
    np.testing.assert_allclose(out_t, (x - rm) / np.sqrt(rv + 1e-5))


def test_spatial_batchnorm_bad_input():
    with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\) \(4-D\); got shape \(2, 3\)"):
        L.spatial_batchnorm_forward(np.ones((2, 3)), np.ones(3), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"gamma must have shape \(C,\) = \(3,\), one value per channel; got \(2,\)"):
        L.spatial_batchnorm_forward(np.ones((2, 3, 2, 2)), np.ones(2), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"more than 1 value per channel when training"):
        L.spatial_batchnorm_forward(np.ones((0, 3, 2, 2)), np.ones(3), np.zeros(3), {"mode": "train"})
    _, cache = L.spatial_batchnorm_forward(np.ones((2, 3, 2, 2)), np.ones(3), np.zeros(3), {"mode": "train"})
    with pytest.raises(ValueError, match=r"spatial_batchnorm_forward, \(2, 3, 2, 2\); got \(2, 3, 2\)"):
        L.spatial_batchnorm_backward(np.ones((2, 3, 2)), cache)


# ----------------------------------------------------------------------------------------------------------------
# Dropout


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple), p=st.sampled_from([0.2, 0.5, 0.9, 1.0]),
       seed=seeds)
def test_dropout_backward_matches_numerical_gradient(shape, p, seed):
    rng = np.random.default_rng(seed)
    x, dout = rng.normal(size=shape), rng.normal(size=shape)
    param = {"p": p, "mode": "train", "seed": seed}
    _, cache = L.dropout_forward(x, param)
    dx = L.dropout_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda v: L.dropout_forward(v, param)[0], x, dout)
    assert_gradient(dx, dx_num)


@pytest.mark.parametrize("p", [0.1, 0.3, 0.5, 0.8])
def test_dropout_keeps_a_fraction_p_and_preserves_the_expectation(p):
    x = np.random.default_rng(0).random((500, 400)) + 0.5
    out, _ = L.dropout_forward(x, {"p": p, "mode": "train", "seed": 1})
    kept = out != 0
    assert abs(kept.mean() - p) < 0.01
    np.testing.assert_allclose(out[kept], x[kept] / p)
    assert abs(out.mean() / x.mean() - 1) < 0.02


def test_dropout_seed_rng_and_test_mode():
    x = np.arange(1.0, 101.0).reshape(10, 10)
    a, _ = L.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 3})
    b, _ = L.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 3})
    c, _ = L.dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 4})
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rng = np.random.default_rng(9)
    d, _ = L.dropout_forward(x, {"p": 0.5, "mode": "train", "rng": rng})
    e, _ = L.dropout_forward(x, {"p": 0.5, "mode": "train", "rng": rng})
    assert not np.array_equal(d, e)  # the generator advances: fresh masks
    d2, _ = L.dropout_forward(x, {"p": 0.5, "mode": "train", "rng": np.random.default_rng(9)})
    np.testing.assert_array_equal(d, d2)
    out, cache = L.dropout_forward(x, {"p": 0.5, "mode": "test", "seed": 3})
    np.testing.assert_array_equal(out, x)
    assert out is not x
    dout = np.ones_like(x)
    np.testing.assert_array_equal(L.dropout_backward(dout, cache), dout)
    full, _ = L.dropout_forward(x, {"p": 1.0, "mode": "train"})
    np.testing.assert_array_equal(full, x)


def test_dropout_float32_and_backward_uses_the_forward_mask():
    x = np.random.default_rng(0).normal(size=(30, 20)).astype(np.float32)
    out, cache = L.dropout_forward(x, {"p": 0.25, "mode": "train", "seed": 0})
    assert out.dtype == np.float32
    dx = L.dropout_backward(np.ones_like(x), cache)
    assert dx.dtype == np.float32
    np.testing.assert_allclose(dx, np.where(out != 0, 4.0, 0.0))


@pytest.mark.parametrize("param, exc, match", [
    ({"p": 0.0, "mode": "train"}, ValueError, r"dropout_param\['p'\] must be > 0.*probability of KEEPING"),
    ({"p": 1.5, "mode": "train"}, ValueError, r"must be <= 1.*probability of KEEPING a unit, in \(0, 1\]"),
    ({"p": -0.2, "mode": "test"}, ValueError, r"dropout_param\['p'\] must be > 0"),
    ({"p": "half", "mode": "train"}, TypeError, r"dropout_param\['p'\] must be a real number; got 'half'"),
    ({"mode": "train"}, ValueError, r"must have a 'p' key: the probability of KEEPING a unit"),
    ({"p": 0.5}, ValueError, r"dropout_param must have a 'mode' key, 'train' or 'test'"),
    ({"p": 0.5, "mode": "training"}, ValueError, r"dropout_param\['mode'\] must be 'train' or 'test'; got 'training'"),
    ({"p": 0.5, "mode": "train", "seed": 1.5}, TypeError, r"seed'\] must be a non-negative integer or None; got 1.5"),
    ({"p": 0.5, "mode": "train", "seed": -1}, TypeError, r"non-negative integer"),
    ({"p": 0.5, "mode": "train", "rng": 42}, TypeError, r"dropout_param\['rng'\] must be a numpy.random.Generator"),
    ([("p", 0.5)], TypeError, r"dropout_param must be a dict; got list"),
])
def test_dropout_forward_bad_input(param, exc, match):
    with pytest.raises(exc, match=match):
        L.dropout_forward(np.ones((2, 3)), param)


def test_dropout_backward_bad_input():
    _, cache = L.dropout_forward(np.ones((2, 3)), {"p": 0.5, "mode": "train", "seed": 0})
    with pytest.raises(ValueError, match=r"dout must be shaped like the output of dropout_forward, \(2, 3\); "
                                         r"got \(3, 2\)"):
        L.dropout_backward(np.ones((3, 2)), cache)
    with pytest.raises(TypeError, match="cache must be the tuple returned by dropout_forward"):
        L.dropout_backward(np.ones((2, 3)), np.ones((2, 3)))


# ----------------------------------------------------------------------------------------------------------------
# Checks: the reference passes; each common mistake is named.


def test_reference_passes_every_layer_check(capsys):
    assert CL.check_affine_forward.evaluate(L.affine_forward).passed
    assert CL.check_affine_backward.evaluate(L.affine_forward, L.affine_backward).passed
    assert CL.check_batchnorm_forward.evaluate(L.batchnorm_forward).passed
    assert CL.check_batchnorm_backward.evaluate(L.batchnorm_forward, L.batchnorm_backward).passed
    assert CL.check_spatial_batchnorm_forward.evaluate(L.spatial_batchnorm_forward).passed
    assert CL.check_spatial_batchnorm_backward.evaluate(L.spatial_batchnorm_forward,
                                                        L.spatial_batchnorm_backward).passed
    assert CL.check_dropout_forward.evaluate(L.dropout_forward).passed
    assert CL.check_dropout_backward.evaluate(L.dropout_forward, L.dropout_backward).passed
    CL.check_dropout_forward(L.dropout_forward)
    assert capsys.readouterr().out.startswith("✓ dropout_forward: kept")


def stub(*args, **kwargs):
    raise NotImplementedError


def test_not_implemented_is_reported():
    assert CL.check_batchnorm_forward.evaluate(stub).status == "not implemented"
    r = CL.check_batchnorm_backward.evaluate(stub, stub)
    assert r.status == "not implemented" and "write the forward pass first" in r.detail
    assert CL.check_dropout_backward.evaluate(L.dropout_forward, stub).status == "not implemented"
    assert CL.check_affine_backward.evaluate(stub, stub).status == "not implemented"


def test_a_crash_is_reported_not_raised():
    def broken(x, w, b):
        return x @ w[:, :1] + b[5]

    r = CL.check_affine_forward.evaluate(broken)
    assert r.status in ("error", "failed")
    assert "IndexError" in r.detail or "fails for x" in r.detail


# --- wrong implementations, one per named mistake ---

def affine_forward_no_bias(x, w, b):
    return x.reshape(x.shape[0], -1) @ w, (x, w, b)


def affine_forward_no_flatten(x, w, b):
    return x @ w + b, (x, w, b)


def affine_backward_no_reshape(dout, cache):
    x, w, b = cache
    return dout @ w.T, x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)


def affine_backward_db_not_summed(dout, cache):
    dx, dw, _ = L.affine_backward(dout, cache)
    return dx, dw, dout.copy()


def affine_backward_db_mean(dout, cache):
    dx, dw, _ = L.affine_backward(dout, cache)
    return dx, dw, dout.mean(axis=0)


def affine_backward_dw_transposed(dout, cache):
    dx, dw, db = L.affine_backward(dout, cache)
    return dx, dw.T, db


def _bn_train(x, gamma, beta, eps):
    mu, var = x.mean(axis=0), x.var(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, mu, var


def bn_batch_stats_at_test(x, gamma, beta, bn_param):
    """Normalizes with the batch statistics in both modes (and updates the running averages only in training)."""
    if bn_param["mode"] == "train":
        return L.batchnorm_forward(x, gamma, beta, bn_param)
    out, _, _ = _bn_train(x, gamma, beta, bn_param.get("eps", 1e-5))
    return out, None


def bn_running_not_updated(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    d = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(d))
    rv = bn_param.get("running_var", np.ones(d))
    bn_param["running_mean"], bn_param["running_var"] = rm, rv
    if bn_param["mode"] == "train":
        out, _, _ = _bn_train(x, gamma, beta, eps)
    else:
        out = gamma * (x - rm) / np.sqrt(rv + eps) + beta
    return out, None


def bn_momentum_wrong_term(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    d = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(d))
    rv = bn_param.get("running_var", np.ones(d))
    if bn_param["mode"] == "train":
        out, mu, var = _bn_train(x, gamma, beta, eps)
        rm = (1 - momentum) * rm + momentum * mu
        rv = (1 - momentum) * rv + momentum * var
    else:
        out = gamma * (x - rm) / np.sqrt(rv + eps) + beta
    bn_param["running_mean"], bn_param["running_var"] = rm, rv
    return out, None


def bn_unbiased(x, gamma, beta, bn_param):
    out, cache = L.batchnorm_forward(x, gamma, beta, bn_param)
    if bn_param["mode"] == "train":
        mu, var = x.mean(axis=0), x.var(axis=0, ddof=1)
        out = gamma * (x - mu) / np.sqrt(var + bn_param.get("eps", 1e-5)) + beta
    return out, cache


def bn_divides_by_mean(x, gamma, beta, bn_param):
    out, cache = L.batchnorm_forward(x, gamma, beta, bn_param)
    mu = x.mean(axis=0)
    return gamma * (x - mu) / mu + beta, cache


def bn_backward_constant_stats(dout, cache):
    mode, x_hat, gamma, inv_std = cache
    return dout * gamma * inv_std, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


def bn_backward_dgamma_not_summed(dout, cache):
    dx, _, dbeta = L.batchnorm_backward(dout, cache)
    return dx, dout * cache[1], dbeta


def bn_backward_swapped(dout, cache):
    dx, dgamma, dbeta = L.batchnorm_backward(dout, cache)
    return dx, dbeta, dgamma


def spatial_bn_per_position(x, gamma, beta, bn_param):
    n, c, h, w = x.shape
    mu, var = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
    out = gamma.reshape(1, c, 1, 1) * (x - mu) / np.sqrt(var + 1e-5) + beta.reshape(1, c, 1, 1)
    return out, None


def spatial_bn_straight_reshape(x, gamma, beta, bn_param):
    out, cache = L.batchnorm_forward(x.reshape(-1, x.shape[1]), gamma, beta, bn_param)
    return out.reshape(x.shape), cache


def spatial_bn_backward_rows(dout, cache):
    inner, shape = cache
    n, c, h, w = shape
    dx, dgamma, dbeta = L.batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, c), inner)
    return dx, dgamma, dbeta


def dropout_not_rescaled(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "train":
        rng = np.random.default_rng(dropout_param.get("seed"))
        mask = rng.random(x.shape) < p
        return x * mask, mask
    return x, None


def dropout_p_is_drop(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "train":
        rng = np.random.default_rng(dropout_param.get("seed"))
        mask = (rng.random(x.shape) < 1 - p) / (1 - p)
        return x * mask, mask
    return x, None


def dropout_p_is_drop_scaled_by_p(x, dropout_param):
    p = dropout_param["p"]
    if dropout_param["mode"] == "train":
        rng = np.random.default_rng(dropout_param.get("seed"))
        mask = (rng.random(x.shape) > p) / p
        return x * mask, mask
    return x, None


def dropout_rescaled_at_test(x, dropout_param):
    if dropout_param["mode"] == "test":
        return x * dropout_param["p"], None
    return L.dropout_forward(x, dropout_param)


def dropout_applied_at_test(x, dropout_param):
    return L.dropout_forward(x, {**dropout_param, "mode": "train"})


def dropout_ignores_seed(x, dropout_param):
    param = {k: v for k, v in dropout_param.items() if k != "seed"}
    return L.dropout_forward(x, param)


def dropout_backward_not_rescaled(dout, cache):
    mode, p, mask, shape = cache
    return dout * (mask != 0) if mode == "train" else dout


def dropout_backward_scaled_at_test(dout, cache):
    mode, p, mask, shape = cache
    return dout * mask if mode == "train" else dout * p


MISTAKES = [
    ("check_affine_forward", [affine_forward_no_bias], "forgot the bias"),
    ("check_affine_forward", [affine_forward_no_flatten], "flatten x to (N, D)"),
    ("check_affine_backward", [L.affine_forward, affine_backward_no_reshape],
     "affine backward missing the reshape to x's shape"),
    ("check_affine_backward", [L.affine_forward, affine_backward_db_not_summed], "db not summed over the batch"),
    ("check_affine_backward", [L.affine_forward, affine_backward_db_mean], "db averaged over the batch"),
    ("check_affine_backward", [L.affine_forward, affine_backward_dw_transposed], "dw is transposed"),
    ("check_batchnorm_forward", [bn_batch_stats_at_test], "batch norm using batch statistics at test time"),
    ("check_batchnorm_forward", [bn_running_not_updated], "running averages not updated"),
    ("check_batchnorm_forward", [bn_momentum_wrong_term], "momentum on the wrong term"),
    ("check_batchnorm_forward", [bn_unbiased], "unbiased variance"),
    ("check_batchnorm_forward", [bn_divides_by_mean], "divided by the mean"),
    ("check_batchnorm_backward", [L.batchnorm_forward, bn_backward_constant_stats],
     "treated the batch mean and variance as constants"),
    ("check_batchnorm_backward", [L.batchnorm_forward, bn_backward_dgamma_not_summed],
     "dgamma not summed over the batch"),
    ("check_batchnorm_backward", [L.batchnorm_forward, bn_backward_swapped], "dgamma and dbeta swapped"),
    ("check_batchnorm_backward", [bn_divides_by_mean, L.batchnorm_backward], "fix it first"),
    ("check_spatial_batchnorm_forward", [spatial_bn_per_position], "over N only"),
    ("check_spatial_batchnorm_forward", [spatial_bn_straight_reshape], "without moving C last"),
    ("check_spatial_batchnorm_backward", [L.spatial_batchnorm_forward, spatial_bn_backward_rows],
     "dx left as (N*H*W, C)"),
    ("check_dropout_forward", [dropout_not_rescaled], "dropout not rescaled by 1/p"),
    ("check_dropout_forward", [dropout_p_is_drop], "dropout using p as the drop probability"),
    ("check_dropout_forward", [dropout_p_is_drop_scaled_by_p], "dropout using p as the drop probability"),
    ("check_dropout_forward", [dropout_rescaled_at_test], "dropout rescaled at test time"),
    ("check_dropout_forward", [dropout_applied_at_test], "dropout applied at test time"),
    ("check_dropout_forward", [dropout_ignores_seed], "same dropout_param['seed']"),
    ("check_dropout_backward", [L.dropout_forward, dropout_backward_not_rescaled], "dx not rescaled by 1/p"),
    ("check_dropout_backward", [L.dropout_forward, dropout_backward_scaled_at_test], "dropout rescaled at test time"),
]


@pytest.mark.parametrize("check, funcs, phrase", MISTAKES, ids=[f"{m[0]}-{m[2][:30]}" for m in MISTAKES])
def test_each_mistake_is_named(check, funcs, phrase):
    r = getattr(CL, check).evaluate(*funcs)
    assert r.status == "failed", r.message
    assert phrase in r.detail, r.message


def test_checks_never_mutate_and_flag_in_place_changes():
    def in_place(x, w, b):
        x *= 2
        return L.affine_forward(x, w, b)

    r = CL.check_affine_forward.evaluate(in_place)
    assert r.status == "failed" and "modified its argument #1 in place" in r.detail
    snapshot = CL._XB.copy()
    CL.check_batchnorm_forward.evaluate(L.batchnorm_forward)
    np.testing.assert_array_equal(CL._XB, snapshot)
