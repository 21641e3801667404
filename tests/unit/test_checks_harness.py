"""The comparison helpers every check shares (course.checks._harness): a float64 -> float32 downcast fails
whichever check it is in, a returned list or tuple is reported as such, and a numerical warning in a helper names
the mistake with the student's line."""
import numpy as np
import pytest

import course.checks as C
from course import activations as A
from course import conv as K
from course import init as I
from course import layers as L
from course import losses as Lo
from course import optim as O
from course.checks._harness import Mistake, call_float32, expect_close, expect_dtype, naming_warnings


def result(check, *funcs):
    """The CheckResult of ``check`` (a name in course.checks) for ``funcs``."""
    return getattr(C, check).evaluate(*funcs)


def assert_named(r, *phrases):
    """``r`` failed, and its detail says every one of ``phrases``."""
    assert r.status == "failed", r.message
    for phrase in phrases:
        assert phrase in r.detail, r.message


def convert(f, change, at=None):
    """f with ``change`` applied to the float64 arrays it returns: all of them, or only items ``at`` of a tuple."""
    def changed(*args, **kwargs):
        out = f(*args, **kwargs)
        if not isinstance(out, tuple):
            return change(out)
        return tuple(change(v) if at is None or i in at else v for i, v in enumerate(out))
    changed.__name__ = f.__name__
    return changed


def to_float32(v):
    return v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype == np.float64 else v


def to_list(v):
    return v.tolist() if isinstance(v, np.ndarray) and v.dtype == np.float64 else v


def first(f, change):
    return convert(f, change, at={0})


def second(f, change):
    return convert(f, change, at={1})


# (check, functions given the change of what the function under test returns): the function under test is the
# last one; the earlier ones (a forward whose cache a backward needs) are the references.
def cases(change):
    return [
        ("check_relu_forward", [first(A.relu_forward, change)]),
        ("check_relu_backward", [A.relu_forward, convert(A.relu_backward, change)]),
        ("check_sigmoid_forward", [first(A.sigmoid_forward, change)]),
        ("check_tanh_backward", [A.tanh_forward, convert(A.tanh_backward, change)]),
        ("check_leaky_relu_forward", [first(A.leaky_relu_forward, change)]),
        ("check_elu_backward", [A.elu_forward, convert(A.elu_backward, change)]),
        ("check_prelu", [A.prelu_forward, convert(A.prelu_backward, change)]),
        ("check_maxout", [first(A.maxout_forward, change), A.maxout_backward]),
        ("check_affine_forward", [first(L.affine_forward, change)]),
        ("check_affine_backward", [L.affine_forward, convert(L.affine_backward, change)]),
        ("check_batchnorm_forward", [first(L.batchnorm_forward, change)]),
        ("check_batchnorm_backward", [L.batchnorm_forward, convert(L.batchnorm_backward, change)]),
        ("check_spatial_batchnorm_forward", [first(L.spatial_batchnorm_forward, change)]),
        ("check_spatial_batchnorm_backward", [L.spatial_batchnorm_forward,
                                              convert(L.spatial_batchnorm_backward, change)]),
        ("check_dropout_forward", [first(L.dropout_forward, change)]),
        ("check_dropout_backward", [L.dropout_forward, convert(L.dropout_backward, change)]),
        ("check_conv_forward_naive", [first(K.conv_forward_naive, change)]),
        ("check_conv_backward_naive", [K.conv_forward_naive, convert(K.conv_backward_naive, change)]),
        ("check_max_pool_forward_naive", [first(K.max_pool_forward_naive, change)]),
        ("check_max_pool_backward_naive", [K.max_pool_forward_naive, convert(K.max_pool_backward_naive, change)]),
        ("check_softmax_loss", [second(Lo.softmax_loss, change)]),
        ("check_svm_loss", [second(Lo.svm_loss, change)]),
        ("check_binary_cross_entropy", [second(Lo.binary_cross_entropy, change)]),
        ("check_quadratic_loss", [second(Lo.quadratic_loss, change)]),
        ("check_l2_penalty", [second(Lo.l2_penalty, change)]),
        ("check_l1_penalty", [second(Lo.l1_penalty, change)]),
    ] + [(f"check_{name}", [first(rule, change)]) for name, rule in O.UPDATE_RULES.items()]


@pytest.mark.parametrize("check, funcs", cases(to_float32), ids=[c[0] for c in cases(to_float32)])
def test_a_float64_to_float32_downcast_fails_every_check(check, funcs):
    r = result(check, *funcs)
    assert r.status == "failed", r.message
    assert "float32 for float64 input: a downcast that loses precision" in r.detail, r.message


@pytest.mark.parametrize("name", ["xavier", "he", "glorot", "small_random"])
def test_an_initializer_returning_float32_fails(name):
    r = result(f"check_{name}", convert(getattr(I, name), to_float32))
    assert r.status == "failed" and "returned dtype float32; expected float64" in r.detail, r.message


@pytest.mark.parametrize("check, funcs", cases(to_list), ids=[c[0] for c in cases(to_list)])
def test_a_returned_list_is_reported_as_a_list(check, funcs):
    r = result(check, *funcs)
    assert r.status == "failed", r.message
    assert "returned a list; expected a NumPy array (use np.array / NumPy operations)" in r.detail, r.message


def test_a_returned_tuple_where_an_array_belongs_is_reported_as_a_tuple():
    r = result("check_affine_forward", first(L.affine_forward, lambda out: tuple(map(tuple, out))))
    assert r.status == "failed" and "returned a tuple; expected a NumPy array" in r.detail, r.message
    r = result("check_xavier", convert(I.xavier, to_list))
    assert r.status == "failed" and "the weights: returned a list" in r.detail, r.message


def test_the_float32_upcast_message_is_kept_apart_from_the_downcast():
    with pytest.raises(Mistake, match="has dtype float64 for float32 input; keep the input's dtype"):
        expect_dtype(np.zeros(2), np.float32, "out")
    with pytest.raises(Mistake, match=r"has dtype float32 for float64 input: a downcast .*\.astype\(np\.float32\)"):
        expect_dtype(np.zeros(2, np.float32), np.float64, "out")


def test_expect_close_accepts_float64_and_names_integers_only_when_the_values_match():
    expect_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]), "out")
    with pytest.raises(Mistake, match="has dtype int64; expected float64: compute in floats"):
        expect_close(np.array([1, 2]), np.array([1.0, 2.0]), "out")
    with pytest.raises(Mistake, match="likely mistake: forgot dout"):  # a boolean mask: the mistake comes first
        expect_close(np.array([True, False]), np.array([0.5, 0.0]), "dx", [("forgot dout", np.array([1.0, 0.0]))])


def clipped_exp(x):
    return np.exp(np.clip(x, -500, 500))


def test_call_float32_names_a_clip_that_breaks_only_float32_with_the_line():
    x = np.array([-1000.0, 0.0, 1000.0])
    assert call_float32(np.negative, x).dtype == np.float32
    clipped_exp(x)  # fine in float64
    with pytest.raises(Mistake, match=r"a clip that breaks only float32: .*overflow.*\(in clipped_exp, line \d+"):
        call_float32(clipped_exp, x)


def test_naming_warnings_names_the_warning_or_leaves_it_alone():
    with pytest.raises(Mistake, match=r"negative cache \(in test_naming_warnings"):
        with naming_warnings(lambda message: "negative cache" if "sqrt" in message else None):
            np.sqrt(np.array([-1.0]))
    with pytest.raises(RuntimeWarning, match="divide by zero"):
        with naming_warnings(lambda message: "negative cache" if "sqrt" in message else None):
            np.log(np.array([0.0]))
