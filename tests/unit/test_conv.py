"""course.conv: naive and fast layers agree, gradients are right, shape arithmetic and its errors; and the
course.checks.conv checks pass the reference and name each common mistake."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import course.checks as C
from course import conv as K
from course.gradcheck import eval_numerical_gradient_array, rel_error


def conv_args(rng, N, C, F, HH, WW, out_h, out_w, stride, pad, dtype=np.float64):
    """Random x, w, b, conv_param whose output is (N, F, out_h, out_w); None when the input would be empty."""
    H, W = (out_h - 1) * stride + HH - 2 * pad, (out_w - 1) * stride + WW - 2 * pad
    if H < 1 or W < 1:
        return None
    x = rng.normal(size=(N, C, H, W)).astype(dtype)
    w = rng.normal(size=(F, C, HH, WW)).astype(dtype)
    b = rng.normal(size=F).astype(dtype)
    return x, w, b, {"stride": stride, "pad": pad}


conv_shapes = st.fixed_dictionaries(dict(
    N=st.integers(1, 3), C=st.integers(1, 3), F=st.integers(1, 3), HH=st.integers(1, 4), WW=st.integers(1, 4),
    out_h=st.integers(1, 4), out_w=st.integers(1, 4), stride=st.integers(1, 3), pad=st.integers(0, 2)))


# ------------------------------------------------------------------------------------------ naive == fast

@settings(max_examples=60, deadline=None)
@given(shape=conv_shapes, seed=st.integers(0, 2 ** 16))
def test_fast_conv_matches_naive(shape, seed):
    rng = np.random.default_rng(seed)
    args = conv_args(rng, **shape)
    if args is None:
        return
    out, cache = K.conv_forward_naive(*args)
    fast_out, fast_cache = K.conv_forward(*args)
    assert out.shape == (shape["N"], shape["F"], shape["out_h"], shape["out_w"])
    np.testing.assert_allclose(fast_out, out, rtol=1e-10, atol=1e-12)
    dout = rng.normal(size=out.shape)
    for name, slow, fast in zip(("dx", "dw", "db"), K.conv_backward_naive(dout, cache),
                                K.conv_backward(dout, fast_cache)):
        assert fast.shape == slow.shape, name
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12, err_msg=name)


pool_shapes = st.fixed_dictionaries(dict(
    N=st.integers(1, 2), C=st.integers(1, 3), pool_height=st.integers(1, 3), pool_width=st.integers(1, 3),
    stride=st.integers(1, 3), out_h=st.integers(1, 4), out_w=st.integers(1, 4)))


def pool_input(rng, N, C, pool_height, pool_width, stride, out_h, out_w, ties=True):
    """x (many ties when ``ties``) and pool_param for an output (N, C, out_h, out_w)."""
    shape = (N, C, (out_h - 1) * stride + pool_height, (out_w - 1) * stride + pool_width)
    x = rng.integers(0, 3, size=shape).astype(float) if ties else rng.normal(size=shape)
    return x, dict(pool_height=pool_height, pool_width=pool_width, stride=stride)


@settings(max_examples=60, deadline=None)
@given(shape=pool_shapes, seed=st.integers(0, 2 ** 16))
def test_fast_max_pool_matches_naive_including_ties(shape, seed):
    rng = np.random.default_rng(seed)
    x, pp = pool_input(rng, **shape)
    out, cache = K.max_pool_forward_naive(x, pp)
    fast_out, fast_cache = K.max_pool_forward(x, pp)
    np.testing.assert_array_equal(fast_out, out)
    dout = rng.normal(size=out.shape)
    np.testing.assert_allclose(K.max_pool_backward(dout, fast_cache), K.max_pool_backward_naive(dout, cache),
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("size", [1, 2, 3])
def test_fast_max_pool_tiling_matches_naive(size):
    rng = np.random.default_rng(size)
    x, pp = pool_input(rng, 2, 3, size, size, size, 4, 3)
    fast_out, fast_cache = K.max_pool_forward(x, pp)
    out, cache = K.max_pool_forward_naive(x, pp)
    assert fast_cache[4]  # the reshape path
    np.testing.assert_array_equal(fast_out, out)
    dout = rng.normal(size=out.shape)
    np.testing.assert_array_equal(K.max_pool_backward(dout, fast_cache), K.max_pool_backward_naive(dout, cache))


def test_max_pool_ties_go_to_the_first_maximum():
    x = np.array([[1.0, 3.0, 0.0, 2.0],
                  [3.0, 0.0, 2.0, 2.0]]).reshape(1, 1, 2, 4)
    pp = dict(pool_height=2, pool_width=2, stride=2)
    expected = np.array([[0.0, 5.0, 0.0, 7.0],
                         [0.0, 0.0, 0.0, 0.0]]).reshape(1, 1, 2, 4)
    for forward, backward in ((K.max_pool_forward_naive, K.max_pool_backward_naive),
                              (K.max_pool_forward, K.max_pool_backward)):
        out, cache = forward(x, pp)
        np.testing.assert_array_equal(out, [[[[3.0, 2.0]]]])
        np.testing.assert_array_equal(backward(np.array([[[[5.0, 7.0]]]]), cache), expected)


def test_overlapping_pool_windows_add_their_gradients():
    x = np.array([0.0, 1.0, 9.0, 1.0, 0.0]).reshape(1, 1, 1, 5)  # 9 is the maximum of all three windows
    pp = dict(pool_height=1, pool_width=3, stride=1)
    for forward, backward in ((K.max_pool_forward_naive, K.max_pool_backward_naive),
                              (K.max_pool_forward, K.max_pool_backward)):
        _, cache = forward(x, pp)
        np.testing.assert_array_equal(backward(np.array([[[[1.0, 2.0, 4.0]]]]), cache), [[[[0, 0, 7.0, 0, 0]]]])


def test_conv_hand_example_with_padding_and_stride():
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    w = np.zeros((1, 1, 3, 3))
    w[0, 0, 0, 0], w[0, 0, 2, 2] = 1.0, -1.0  # top-left minus bottom-right: a flipped kernel would show
    # zero-padded input is 5x5 with x[1, 1] = 4 at its centre; windows start at rows and cols 0 and 2
    expected = [[[[10 + 0 - 4, 10 + 0 - 0], [10 + 0 - 0, 10 + 4 - 0]]]]
    for forward in (K.conv_forward_naive, K.conv_forward):
        np.testing.assert_array_equal(forward(x, w, np.array([10.0]), {"stride": 2, "pad": 1})[0], expected)


@pytest.mark.parametrize("forward,backward", [(K.conv_forward_naive, K.conv_backward_naive),
                                              (K.conv_forward, K.conv_backward)])
def test_conv_preserves_float32(forward, backward):
    args = conv_args(np.random.default_rng(0), 2, 3, 4, 3, 3, 4, 4, 1, 1, dtype=np.float32)
    out, cache = forward(*args)
    assert out.dtype == np.float32
    assert [g.dtype for g in backward(np.ones_like(out), cache)] == [np.float32] * 3


@pytest.mark.parametrize("forward,backward", [(K.max_pool_forward_naive, K.max_pool_backward_naive),
                                              (K.max_pool_forward, K.max_pool_backward)])
def test_max_pool_preserves_float32_and_turns_ints_into_float64(forward, backward):
    pp = dict(pool_height=2, pool_width=2, stride=2)
    out, cache = forward(np.ones((1, 2, 4, 4), dtype=np.float32), pp)
    assert out.dtype == np.float32 and backward(np.ones_like(out), cache).dtype == np.float32
    out, _ = forward(np.ones((1, 2, 4, 4), dtype=np.int32), pp)
    assert out.dtype == np.float64


# ------------------------------------------------------------------------------------------ gradient checks

@pytest.mark.parametrize("shape", [
    dict(N=2, C=3, F=2, HH=3, WW=3, out_h=3, out_w=3, stride=1, pad=1),
    dict(N=1, C=2, F=3, HH=2, WW=3, out_h=2, out_w=3, stride=2, pad=1),
    dict(N=2, C=1, F=2, HH=3, WW=1, out_h=2, out_w=2, stride=3, pad=0),
])
def test_conv_backward_naive_matches_numerical_gradients(shape):
    rng = np.random.default_rng(sum(shape.values()))
    x, w, b, cp = conv_args(rng, **shape)
    out, cache = K.conv_forward_naive(x, w, b, cp)
    dout = rng.normal(size=out.shape)
    dx, dw, db = K.conv_backward_naive(dout, cache)
    assert rel_error(dx, eval_numerical_gradient_array(lambda v: K.conv_forward_naive(v, w, b, cp)[0], x, dout)) < 1e-7
    assert rel_error(dw, eval_numerical_gradient_array(lambda v: K.conv_forward_naive(x, v, b, cp)[0], w, dout)) < 1e-7
    assert rel_error(db, eval_numerical_gradient_array(lambda v: K.conv_forward_naive(x, w, v, cp)[0], b, dout)) < 1e-7


@pytest.mark.parametrize("pool", [(2, 2, 2), (3, 2, 1), (2, 3, 2)])
def test_max_pool_backward_naive_matches_numerical_gradient(pool):
    rng = np.random.default_rng(sum(pool))
    ph, pw, stride = pool
    x, pp = pool_input(rng, 2, 2, ph, pw, stride, 3, 2, ties=False)
    out, cache = K.max_pool_forward_naive(x, pp)
    dout = rng.normal(size=out.shape)
    dx_num = eval_numerical_gradient_array(lambda v: K.max_pool_forward_naive(v, pp)[0], x, dout)
    assert rel_error(K.max_pool_backward_naive(dout, cache), dx_num) < 1e-7


# ------------------------------------------------------------------------------------------ shape arithmetic

@pytest.mark.parametrize("args,size", [((32, 5), 28), ((32, 5, 1, 2), 32), ((227, 11, 4, 0), 55), ((7, 3, 2, 1), 4),
                                       ((5, 5), 1), ((224, 2, 2), 112)])
def test_conv_output_size(args, size):
    result = K.conv_output_size(*args)
    assert result == size and isinstance(result, int)


def test_conv_output_size_shows_the_arithmetic():
    with pytest.raises(ValueError, match=r"\(32 - 5 \+ 2\*0\)/2 \+ 1 = 14\.5 is not an integer"):
        K.conv_output_size(32, 5, 2, 0)
    with pytest.raises(ValueError, match=r"\(3 - 7 \+ 2\*1\)/1 \+ 1 = -1 is not a positive integer.*W \+ 2P = 5"):
        K.conv_output_size(3, 7, 1, 1)
    with pytest.raises(TypeError, match=r"S \(stride\) must be an integer; got 1\.5"):
        K.conv_output_size(32, 5, 1.5)
    with pytest.raises(ValueError, match=r"S \(stride\) must be an integer >= 1; got 0"):
        K.conv_output_size(32, 5, 0)


def test_conv_param_count():
    assert K.conv_param_count(5, 3, 10) == 760  # 10 filters of 5x5x3: 75 weights and a bias each
    assert K.conv_param_count(3, 64, 128) == (3 * 3 * 64 + 1) * 128


def test_describe_stack_by_hand():
    rows = K.describe_stack((3, 32, 32), [("conv", dict(K=8, F=5, S=1, P=2)), ("relu", {}), ("pool", dict(F=2)),
                                          ("conv", dict(K=16, F=3, P=1)), ("fc", dict(M=10))])
    table = [(r["layer"], r["output_shape"], r["params"], r["receptive_field"], r["floats"], r["bytes"])
             for r in rows]
    assert table == [
        ("input", (3, 32, 32), 0, (1, 1), 3072, 12288),
        ("conv 5x5 K=8 S=1 P=2", (8, 32, 32), (5 * 5 * 3 + 1) * 8, (5, 5), 8192, 32768),
        ("relu", (8, 32, 32), 0, (5, 5), 8192, 32768),
        ("pool 2x2 S=2", (8, 16, 16), 0, (6, 6), 2048, 8192),
        ("conv 3x3 K=16 S=1 P=1", (16, 16, 16), (3 * 3 * 8 + 1) * 16, (10, 10), 4096, 16384),  # 6 + 2 * 2
        ("fc M=10", (10,), (4096 + 1) * 10, (40, 40), 10, 40),  # 10 + 15 * 2: the whole (padded) input
    ]
    text = K.format_stack(rows)
    assert "conv 5x5 K=8 S=1 P=2" in text and f"{608 + 1168 + 40970:,}" in text.splitlines()[-1]


def test_describe_stack_rejects_bad_layers():
    with pytest.raises(ValueError, match=r"pool 2x2 S=2: output height: \(7 - 2 \+ 2\*0\)/2 \+ 1 = 3\.5"):
        K.describe_stack((1, 7, 8), [("pool", dict(F=2))])
    with pytest.raises(ValueError, match=r"unknown layer kind 'dense'; expected one of \['conv', 'fc', 'pool', "):
        K.describe_stack((1, 8, 8), [("dense", dict(M=3))])
    with pytest.raises(ValueError, match=r"conv layer takes keys \['F', 'K', 'P', 'S'\]; got unknown \['k'\]"):
        K.describe_stack((1, 8, 8), [("conv", dict(k=3, F=3))])
    with pytest.raises(ValueError, match=r"a conv layer needs a \(C, H, W\) input; got \(5,\)"):
        K.describe_stack((1, 8, 8), [("fc", dict(M=5)), ("conv", dict(K=2, F=1))])


@pytest.mark.parametrize("layers, error, match", [
    ([("conv", dict(K=8))], ValueError,
     r"layers\[0\]: a conv layer needs keys \['F', 'K'\] \(optional: \['P', 'S'\]\); missing \['F'\]"),
    ([("relu", {}), ("fc", {})], ValueError, r"layers\[1\]: a fc layer needs keys \['M'\]; missing \['M'\]"),
    ([("relu", {}), ("Conv", dict(K=8, F=3))], ValueError, r"layers\[1\]: unknown layer kind 'Conv'; expected one of"),
    ([(["conv"], dict(K=8, F=3))], ValueError, r"layers\[0\]: unknown layer kind \['conv'\]"),
    ([("conv", [8, 3])], TypeError, r"layers\[0\]: the params of a conv layer must be a dict with keys "
                                    r"\['F', 'K', 'P', 'S'\]; got list"),
    ([("relu",)], TypeError, r"layers\[0\]: a layer must be a \(kind, params\) pair such as \('conv', .*\('relu',\)"),
    ([("relu", {}), ("pool", dict(F=2), "extra")], TypeError, r"layers\[1\]: a layer must be a \(kind, params\) pair"),
    (["relu"], TypeError, r"layers\[0\]: a layer must be a \(kind, params\) pair"),
    ([("conv", dict(K=2.5, F=3))], TypeError, r"layers\[0\]: conv K \(filters\) must be an integer; got 2.5"),
    ([("conv", dict(K=8, F="3"))], TypeError, r"layers\[0\]: conv F \(filter size\) must be an integer; got '3'"),
    ([("pool", dict(F=0))], ValueError, r"layers\[0\]: pool F \(filter size\) must be an integer >= 1; got 0"),
    ("conv", TypeError, r"layers must be a list of \(kind, params\) pairs"),
    ({"conv": dict(K=8, F=3)}, TypeError, r"layers must be a list of \(kind, params\) pairs"),
])
def test_describe_stack_names_the_malformed_layer(layers, error, match):
    with pytest.raises(error, match=match):
        K.describe_stack((3, 8, 8), layers)


@pytest.mark.parametrize("shape", [3, (3, 8), "3x8x8"])
def test_describe_stack_input_shape_must_be_c_h_w(shape):
    with pytest.raises(ValueError, match=r"input_shape must be \(C, H, W\)"):
        K.describe_stack(shape, [])


CONVS = [(K.conv_forward_naive, K.conv_backward_naive), (K.conv_forward, K.conv_backward)]
POOLS = [(K.max_pool_forward_naive, K.max_pool_backward_naive), (K.max_pool_forward, K.max_pool_backward)]


@pytest.mark.parametrize("forward, backward", CONVS)
def test_conv_without_channels_or_filters_is_explained(forward, backward):
    cp = {"stride": 1, "pad": 1}
    with pytest.raises(ValueError, match=r"x must have at least one channel: shape \(N, C, H, W\) = \(2, 0, 5, 5\) "
                                         r"has C = 0"):
        forward(np.zeros((2, 0, 5, 5)), np.zeros((0, 3, 3, 3)), np.zeros(0), cp)
    with pytest.raises(ValueError, match=r"x must have at least one channel"):
        forward(np.zeros((2, 0, 5, 5)), np.zeros((4, 0, 3, 3)), np.zeros(4), cp)
    with pytest.raises(ValueError, match=r"w must hold at least one filter: shape \(F, C, HH, WW\) = \(0, 3, 3, 3\) "
                                         r"has F = 0"):
        forward(np.zeros((2, 3, 5, 5)), np.zeros((0, 3, 3, 3)), np.zeros(0), cp)
    out, cache = forward(np.zeros((0, 3, 5, 5)), np.zeros((4, 3, 3, 3)), np.zeros(4), cp)  # an empty batch is fine
    assert out.shape == (0, 4, 5, 5) and backward(out, cache)[0].shape == (0, 3, 5, 5)


@pytest.mark.parametrize("forward, backward", POOLS)
def test_pool_without_channels_is_explained(forward, backward):
    with pytest.raises(ValueError, match=r"x must have at least one channel: shape \(N, C, H, W\) = \(2, 0, 4, 4\)"):
        forward(np.zeros((2, 0, 4, 4)), dict(pool_height=2, pool_width=2, stride=2))


@pytest.mark.parametrize("forward, backward", CONVS + POOLS)
def test_backward_refuses_another_cache(forward, backward):
    for cache in (None, (1, 2), [np.zeros((1, 1, 2, 2))]):
        with pytest.raises(TypeError, match=rf"cache must be the tuple returned by {forward.__name__} \(\d items\)"):
            backward(np.zeros((1, 1, 1, 1)), cache)


# ------------------------------------------------------------------------------------------ bad input

def test_conv_bad_input_messages():
    x, w, b = np.zeros((2, 3, 8, 8)), np.zeros((4, 2, 3, 3)), np.zeros(4)
    cp = {"stride": 1, "pad": 1}
    for forward in (K.conv_forward_naive, K.conv_forward):
        with pytest.raises(ValueError, match=r"x of shape \(N, C, H, W\) = \(2, 3, 8, 8\) has C = 3, but w .*C = 2"):
            forward(x, w, b, cp)
        with pytest.raises(ValueError, match=r"conv: output width: \(8 - 3 \+ 2\*0\)/2 \+ 1 = 3\.5 is not an integer"):
            forward(x, np.zeros((4, 3, 2, 3)), b, {"stride": 2, "pad": 0})
        with pytest.raises(ValueError, match=r"x must have shape \(N, C, H, W\) \(4-D\); got shape \(3, 8, 8\)"):
            forward(x[0], w, b, cp)
        with pytest.raises(ValueError, match=r"w must have shape \(F, C, HH, WW\) \(4-D\); got shape \(4, 3, 3\)"):
            forward(x, w[:, 0], b, cp)
        with pytest.raises(ValueError, match=r"b must have shape \(F,\) = \(4,\)"):
            forward(x, np.zeros((4, 3, 3, 3)), np.zeros(3), cp)
        with pytest.raises(ValueError, match=r"conv_param must have keys \['stride', 'pad'\]; missing \['pad'\]"):
            forward(x, np.zeros((4, 3, 3, 3)), b, {"stride": 1})
    for forward, backward in ((K.conv_forward_naive, K.conv_backward_naive), (K.conv_forward, K.conv_backward)):
        out, cache = forward(x, np.zeros((4, 3, 3, 3)), b, cp)
        with pytest.raises(ValueError, match=r"shaped like the output of conv_forward\w*, \(2, 4, 8, 8\); got \(2,"):
            backward(out[..., 0], cache)


def test_pool_bad_input_messages():
    x = np.zeros((2, 3, 7, 7))
    for forward in (K.max_pool_forward_naive, K.max_pool_forward):
        with pytest.raises(ValueError, match=r"max pool: output height: \(7 - 2 \+ 2\*0\)/2 \+ 1 = 3\.5"):
            forward(x, dict(pool_height=2, pool_width=3, stride=2))
        with pytest.raises(ValueError, match=r"missing \['pool_width'\]"):
            forward(x, dict(pool_height=2, stride=2))
        with pytest.raises(TypeError, match=r"pool_param must be a dict"):
            forward(x, 2)
        with pytest.raises(ValueError, match=r"got shape \(7, 7\) \(2-D\)"):
            forward(x[0, 0], dict(pool_height=1, pool_width=1, stride=1))


# ------------------------------------------------------------------------------------------ the checks

def result(check, *funcs):
    return getattr(C, check).evaluate(*funcs)


REFERENCE = [
    ("check_conv_output_size", [K.conv_output_size]),
    ("check_conv_param_count", [K.conv_param_count]),
    ("check_conv_forward_naive", [K.conv_forward_naive]),
    ("check_conv_backward_naive", [K.conv_forward_naive, K.conv_backward_naive]),
    ("check_max_pool_forward_naive", [K.max_pool_forward_naive]),
    ("check_max_pool_backward_naive", [K.max_pool_forward_naive, K.max_pool_backward_naive]),
]


@pytest.mark.parametrize("check,funcs", REFERENCE, ids=[r[0] for r in REFERENCE])
def test_checks_pass_the_reference_and_the_fast_versions(check, funcs):
    r = result(check, *funcs)
    assert r.passed, r.message
    fast = [getattr(K, f.__name__.removesuffix("_naive")) for f in funcs]
    assert result(check, *fast).passed


def stub(*args, **kwargs):
    raise NotImplementedError


def test_not_implemented_is_reported_not_raised(capsys):
    C.check_conv_forward_naive(stub)
    assert capsys.readouterr().out.startswith("… conv_forward_naive: not implemented yet")
    r = result("check_conv_backward_naive", stub, stub)
    assert r.status == "not implemented" and "write the forward pass first" in r.detail
    r = result("check_max_pool_backward_naive", stub, stub)
    assert r.status == "not implemented" and "write the forward pass first" in r.detail


def size_formula(formula):
    """A conv_output_size built on a wrong formula, raising ValueError where that is not a whole number."""
    def conv_output_size(W, F, S=1, P=0):
        value = formula(W, F, S, P)
        if value <= 0 or value != int(value):
            raise ValueError(f"{value} is not an integer")
        return int(value)
    return conv_output_size


def raises_without_arithmetic(W, F, S=1, P=0):
    if (W - F + 2 * P) % S or W - F + 2 * P < 0:
        raise ValueError("bad sizes")
    return (W - F + 2 * P) // S + 1


def padded_with_edges(x, w, b, cp):
    p = cp["pad"]
    x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="edge")
    return K.conv_forward_naive(x, w, b, {"stride": cp["stride"], "pad": 0})


def sliding_windows(x, pp):
    windows = np.lib.stride_tricks.sliding_window_view(x, (pp["pool_height"], pp["pool_width"]), axis=(2, 3))
    return windows[:, :, ::pp["stride"], ::pp["stride"]]


def pool_backward_routing(weights, accumulate=True, use_dout=True):
    """A wrong max_pool_backward_naive: weights(window) says how each window's gradient is shared."""
    def max_pool_backward_naive(dout, cache):
        x, ph, pw, s = cache
        dx = np.zeros_like(x)
        for n, c, i, j in np.ndindex(dout.shape):
            target = dx[n, c, i * s:i * s + ph, j * s:j * s + pw]
            share = weights(x[n, c, i * s:i * s + ph, j * s:j * s + pw]) * (dout[n, c, i, j] if use_dout else 1)
            if accumulate:
                target += share
            else:
                np.copyto(target, share, where=share != 0)
        return dx
    return max_pool_backward_naive


def one_hot_at(index_of):
    def weights(window):
        hot = np.zeros(window.size)
        hot[index_of(window.ravel())] = 1
        return hot.reshape(window.shape)
    return weights


first_max = one_hot_at(np.argmax)
last_max = one_hot_at(lambda v: v.size - 1 - np.argmax(v[::-1]))


def conv_backward_then(change):
    return lambda dout, cache: change(*K.conv_backward_naive(dout, cache))


MISTAKES = [
    ("check_conv_output_size", [size_formula(lambda W, F, S, P: (W + F + 2 * P) / S + 1)], "used + F instead of - F"),
    ("check_conv_output_size", [size_formula(lambda W, F, S, P: (W - F) / S + 1)], "forgot the padding"),
    ("check_conv_output_size", [size_formula(lambda W, F, S, P: (W - F + P) / S + 1)], "padding counted once"),
    ("check_conv_output_size", [size_formula(lambda W, F, S, P: (W - F + 2 * P) / S)], "forgot the + 1"),
    ("check_conv_output_size", [size_formula(lambda W, F, S, P: W - F + 2 * P + 1)], "forgot to divide by the stride"),
    ("check_conv_output_size", [lambda W, F, S=1, P=0: (W - F + 2 * P) // S + 1], "no whole number of filter"),
    ("check_conv_output_size", [lambda W, F, S=1, P=0: (W - F + 2 * P) / S + 1], "return an int"),
    ("check_conv_output_size", [raises_without_arithmetic], "should show the arithmetic"),
    ("check_conv_forward_naive", [lambda x, w, b, cp: K.conv_forward_naive(x, w, 0 * b, cp)], "forgot the bias"),
    ("check_conv_forward_naive", [lambda x, w, b, cp: K.conv_forward_naive(x, w, b, {**cp, "pad": 0})],
     "forgot the padding"),
    ("check_conv_forward_naive", [padded_with_edges], "padded with something other than zeros"),
    ("check_conv_forward_naive", [lambda x, w, b, cp: K.conv_forward_naive(x, w[:, :, ::-1, ::-1], b, cp)],
     "flipped the kernel"),
    ("check_conv_forward_naive", [lambda x, w, b, cp: K.conv_forward_naive(x, w, b, {**cp, "stride": 1})],
     "forgot to divide by the stride"),
    ("check_conv_forward_naive", [lambda *a: (K.conv_forward_naive(*a)[0].astype(np.float64), None)],
     "keep the input's dtype"),
    ("check_conv_backward_naive", [K.conv_forward_naive, conv_backward_then(
        lambda dx, dw, db: (np.pad(dx, ((0, 0), (0, 0), (2, 2), (2, 2))), dw, db))], "dx still includes the padding"),
    ("check_conv_backward_naive", [K.conv_forward_naive,
                                   lambda dout, cache: K.conv_backward_naive(np.ones_like(dout), cache)],
     "forgot to multiply by dout"),
    ("check_conv_backward_naive", [K.conv_forward_naive,
                                   lambda dout, c: K.conv_backward_naive(dout, (c[0], c[1][:, :, ::-1, ::-1], *c[2:]))],
     "flipped the kernel"),
    ("check_conv_backward_naive", [K.conv_forward_naive, conv_backward_then(
        lambda dx, dw, db: (dx, dw[:, :, ::-1, ::-1], db))], "flipped the kernel"),
    ("check_conv_backward_naive", [K.conv_forward_naive, lambda dout, cache: (
        *K.conv_backward_naive(dout, cache)[:2], dout.mean(axis=(0, 2, 3)))], "averaged dout"),
    ("check_max_pool_forward_naive", [lambda x, pp: (sliding_windows(x, pp).mean(axis=(4, 5)), None)],
     "average pooling"),
    ("check_max_pool_forward_naive", [lambda x, pp: (sliding_windows(x, pp).min(axis=(4, 5)), None)], "minimum"),
    ("check_max_pool_forward_naive", [lambda x, pp: K.max_pool_forward_naive(
        x, {**pp, "pool_height": pp["pool_width"], "pool_width": pp["pool_height"]})], "swapped pool_height"),
    ("check_max_pool_forward_naive", [lambda x, pp: K.max_pool_forward_naive(x, {**pp, "stride": 1})],
     "ignored the stride"),
    ("check_max_pool_backward_naive", [K.max_pool_forward_naive, pool_backward_routing(np.ones_like)],
     "gradient spread over the whole window"),
    ("check_max_pool_backward_naive", [K.max_pool_forward_naive,
                                       pool_backward_routing(lambda v: np.ones_like(v) / v.size)],
     "average pooling's gradient"),
    ("check_max_pool_backward_naive", [K.max_pool_forward_naive,
                                       pool_backward_routing(lambda v: (v == v.max()).astype(float))],
     "went to every maximum"),
    ("check_max_pool_backward_naive", [K.max_pool_forward_naive, pool_backward_routing(last_max)],
     "went to the last maximum"),
    ("check_max_pool_backward_naive", [K.max_pool_forward_naive, pool_backward_routing(first_max, accumulate=False)],
     "accumulate with +="),
    ("check_max_pool_backward_naive", [K.max_pool_forward_naive, pool_backward_routing(first_max, use_dout=False)],
     "forgot to multiply by dout"),
]


@pytest.mark.parametrize("check,funcs,expected", MISTAKES, ids=[f"{m[0]}:{m[2][:25]}" for m in MISTAKES])
def test_common_mistakes_are_named(check, funcs, expected):
    r = result(check, *funcs)
    assert not r.passed
    assert expected in r.detail, r.message


def test_checks_do_not_modify_the_caller_arrays_and_catch_in_place_changes():
    def pads_in_place(x, w, b, cp):
        x -= 1
        return K.conv_forward_naive(x, w, b, cp)
    r = result("check_conv_forward_naive", pads_in_place)
    assert not r.passed and "modified its argument #1 in place" in r.detail
