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
