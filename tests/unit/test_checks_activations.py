"""The activation checks pass the reference, name each common mistake, and never raise for a student's error."""
import numpy as np
import pytest

import course.checks as C
from course import activations as A


def result(check, *funcs):
    return getattr(C, check).evaluate(*funcs)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu", "elu"])
def test_reference_passes(name, capsys):
    fwd, bwd = getattr(A, f"{name}_forward"), getattr(A, f"{name}_backward")
    assert result(f"check_{name}_forward", fwd).passed
    assert result(f"check_{name}_backward", fwd, bwd).passed
    getattr(C, f"check_{name}_forward")(fwd)
    assert capsys.readouterr().out.startswith(f"✓ {name}_forward:")


def test_prelu_and_maxout_reference_pass():
    assert result("check_prelu", A.prelu_forward, A.prelu_backward).passed
    assert result("check_maxout", A.maxout_forward, A.maxout_backward).passed


def stub(*args, **kwargs):
    raise NotImplementedError


def test_not_implemented_is_reported_not_raised(capsys):
    C.check_relu_forward(stub)
    assert capsys.readouterr().out.startswith("… relu_forward: not implemented yet")
    r = result("check_relu_backward", stub, stub)
    assert r.status == "not implemented" and "write the forward pass first" in r.detail
    assert result("check_relu_backward", A.relu_forward, stub).status == "not implemented"


def fwd_caching_x(f):
    return lambda x, **kw: (f(x, **kw)[0], x)


MISTAKES = [
    ("check_sigmoid_forward", [lambda x: (1 / (1 + np.exp(np.clip(x, -500, 500))), x)], "exp(x) instead of exp(-x)"),
    ("check_sigmoid_forward", [lambda x: (1 / (1 + np.exp(-x)), x)], "numerical trouble: overflow"),
    ("check_sigmoid_backward", [A.sigmoid_forward, lambda d, s: d * s], "instead of its derivative"),
    ("check_sigmoid_backward", [fwd_caching_x(A.sigmoid_forward), lambda d, x: d * x * (1 - x)],
     "sigmoid_backward uses x instead of sigmoid(x)"),
    ("check_sigmoid_backward", [A.sigmoid_forward, lambda d, s: s * (1 - s)], "forgot to multiply by dout"),
    ("check_tanh_backward", [fwd_caching_x(A.tanh_forward), lambda d, x: d * (1 - x ** 2)], "uses x instead of tanh(x)"),
    ("check_tanh_backward", [A.tanh_forward, lambda d, t: d * (1 - t)], "forgot to square"),
    ("check_relu_forward", [lambda x: (np.minimum(x, 0), x)], "kept the negative side"),
    ("check_relu_backward", [A.relu_forward, lambda d, x: d.copy()], "gradient passed where x < 0"),
    ("check_relu_backward", [A.relu_forward, lambda d, x: np.where(x >= 0, d, 0)], "at exactly 0 is 0"),
    ("check_leaky_relu_forward", [lambda x, alpha=0.01: (np.where(x > 0, alpha * x, x), x)], "wrong side"),
    ("check_leaky_relu_forward", [lambda x, alpha=0.01: (np.where(x > 0, x, 0.01 * x), x)], "ignored the alpha"),
    ("check_leaky_relu_forward", [lambda x, alpha=0.01: (np.maximum(x, 0), x)], "that is plain ReLU"),
    ("check_leaky_relu_backward", [A.leaky_relu_forward, lambda d, c: np.where(c[0] > 0, c[1] * d, d)], "wrong side"),
    ("check_elu_forward", [lambda x, alpha=1.0: (np.where(x > 0, x, np.expm1(np.minimum(x, 0))), x)], "ELU alpha missing"),
    ("check_elu_forward", [lambda x, alpha=1.0: (np.where(x > 0, x, alpha * np.exp(np.minimum(x, 0))), x)],
     "continuous at 0"),
    ("check_elu_backward", [A.elu_forward, lambda d, c: np.where(c[0] > 0, d, d * np.exp(np.minimum(c[0], 0)))],
     "alpha missing in the gradient"),
    ("check_elu_backward", [A.elu_forward, lambda d, c: np.where(c[0] > 0, d, d * c[1])], "instead of out + alpha"),
    ("check_prelu", [lambda x, a: (np.where(x > 0, a * x, x), (x, a)), A.prelu_backward], "wrong side"),
    ("check_prelu", [A.prelu_forward,
                     lambda d, c: (np.where(c[0] > 0, d, c[1] * d), (c[0] * d).sum(axis=0))], "positive inputs too"),
    ("check_maxout", [lambda x, w1, b1, w2, b2: (np.minimum(x @ w1 + b1, x @ w2 + b2), None), A.maxout_backward],
     "minimum"),
]


@pytest.mark.parametrize("check,funcs,expected", MISTAKES, ids=[f"{m[0]}:{m[2][:25]}" for m in MISTAKES])
def test_common_mistakes_are_named(check, funcs, expected):
    r = result(check, *funcs)
    assert not r.passed
    assert expected in r.detail, r.message


def test_in_place_modification_is_caught():
    def relu_in_place(x):
        x[x < 0] = 0
        return x, x
    assert "modified its argument #1 in place" in result("check_relu_forward", relu_in_place).detail


def test_float32_upcast_is_caught():
    r = result("check_relu_forward", lambda x: (np.maximum(x, 0).astype(np.float64), x))
    assert "float32" in r.detail and not r.passed


def test_crash_is_reported_with_the_line():
    def broken(x):
        return x.nope, x
    r = result("check_tanh_forward", broken)
    assert r.status == "error" and "AttributeError" in r.detail and "in broken" in r.detail


def test_wrong_return_type_and_missing_return():
    assert "tuple of 2" in result("check_relu_forward", lambda x: np.maximum(x, 0)).detail
    assert "forget a return" in result("check_relu_forward", lambda x: (None, x)).detail
    assert "returned None" in result("check_relu_forward", lambda x: None).detail
    assert "expected the function" in result("check_relu_forward", None).detail


# --- named mistakes: the backward of tanh, the convention at x = 0, float32's range, the cache ---

def test_tanh_applied_twice_in_the_backward_is_named():
    r = result("check_tanh_backward", A.tanh_forward, lambda dout, cache: dout * (1 - np.tanh(cache) ** 2))
    assert r.status == "failed" and "tanh applied twice: the cache already holds tanh(x)" in r.detail, r.message


def leaky_relu_backward_linear_at_zero(dout, cache):
    x, alpha = cache
    return np.where(x >= 0, dout, alpha * dout)


def elu_backward_linear_at_zero(dout, cache):
    x, out, alpha = cache
    return np.where(x >= 0, dout, dout * (out + alpha))


def prelu_backward_linear_at_zero(dout, cache):
    x, alpha = cache
    return np.where(x >= 0, dout, alpha * dout), np.where(x >= 0, 0, x * dout).sum(axis=0)


@pytest.mark.parametrize("check, funcs", [
    ("check_leaky_relu_backward", [A.leaky_relu_forward, leaky_relu_backward_linear_at_zero]),
    ("check_elu_backward", [A.elu_forward, elu_backward_linear_at_zero]),
    ("check_prelu", [A.prelu_forward, prelu_backward_linear_at_zero]),
], ids=["leaky_relu", "elu", "prelu"])
def test_the_linear_piece_at_x_equal_0_is_named_with_the_course_convention(check, funcs):
    r = result(check, *funcs)
    assert r.status == "failed", r.message
    for words in ("at x = 0 you used the linear piece (x >= 0), as one set of lecture notes does",
                  "this course's convention puts x = 0 on the alpha side (x <= 0)", "test x > 0"):
        assert words in r.detail, r.message


def sigmoid_forward_clipped(x):
    out = 1 / (1 + np.exp(-np.clip(x, -500, 500)))
    return out, out


def test_a_clip_that_breaks_only_float32_is_named_with_the_line():
    r = result("check_sigmoid_forward", sigmoid_forward_clipped)
    assert r.status == "failed", r.message
    assert "a clip that breaks only float32" in r.detail and "exp(500)" in r.detail, r.message
    assert "(in sigmoid_forward_clipped, line" in r.detail, r.message


def leaky_relu_forward_caching_x(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x), x


def leaky_relu_backward_default_alpha(dout, cache, alpha=0.01):
    return np.where(cache > 0, dout, alpha * dout)


def elu_forward_caching_x_and_out(x, alpha=1.0):
    out = np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))
    return out, (x, out)


def elu_backward_default_alpha(dout, cache, alpha=1.0):
    x, out = cache
    return np.where(x > 0, dout, dout * (out + alpha))


@pytest.mark.parametrize("check, funcs", [
    ("check_leaky_relu_backward", [leaky_relu_forward_caching_x, leaky_relu_backward_default_alpha]),
    ("check_elu_backward", [elu_forward_caching_x_and_out, elu_backward_default_alpha]),
    ("check_elu_backward", [elu_forward_caching_x_and_out,
                            lambda dout, cache: np.where(cache[0] > 0, dout, dout * np.exp(np.minimum(cache[0], 0)))]),
], ids=["leaky_relu", "elu_out_plus_alpha", "elu_alpha_exp"])
def test_alpha_missing_from_the_cache_is_named(check, funcs):
    r = result(check, *funcs)
    assert r.status == "failed", r.message
    assert "the cache must carry alpha (return it from forward in the cache" in r.detail, r.message


def test_alpha_in_the_cache_but_ignored_is_named_apart():
    r = result("check_leaky_relu_backward", A.leaky_relu_forward,
               lambda dout, cache: np.where(cache[0] > 0, dout, 0.01 * dout))
    assert r.status == "failed" and "ignored the alpha stored in the cache" in r.detail, r.message


def leaky_relu_forward_caching_x_and_out(x, alpha=0.01):
    out = np.where(x > 0, x, alpha * x)
    return out, (x, out)


def leaky_relu_backward_alpha_from_out(dout, cache):
    x, out = cache
    negative = x < 0
    alpha = (out[negative] / x[negative]).mean()
    return np.where(x > 0, dout, alpha * dout)


def test_a_backward_that_recovers_alpha_from_the_output_passes():
    r = result("check_leaky_relu_backward", leaky_relu_forward_caching_x_and_out, leaky_relu_backward_alpha_from_out)
    assert r.passed, r.message
