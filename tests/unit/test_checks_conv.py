"""course.checks.conv: the wrong implementations that used to pass (swapped kernel sizes, a pooling stride read
from the pool width, gradients assigned instead of added) now fail with the mistake named, and a size function
that returns None is told so; the parameter count names each way of miscounting. (The reference passing and the
first named mistakes of the other checks are in test_conv.py.)"""
import numpy as np
import pytest

import course.checks as C
from course import conv as K

from test_checks_harness import assert_named, result


# --- conv_output_size ----------------------------------------------------------------------------------------

def test_conv_output_size_returning_none_is_told_so():
    r = result("check_conv_output_size", lambda W, F, S=1, P=0: None)
    assert_named(r, "returned None for W, F, S, P = (32, 5, 1, 2): did you forget a return statement?")
    assert "raised ValueError" not in r.detail


def test_conv_output_size_returning_none_for_a_bad_size_is_told_to_raise():
    def conv_output_size(W, F, S=1, P=0):
        if (W - F + 2 * P) % S == 0 and W - F + 2 * P >= 0:
            return (W - F + 2 * P) // S + 1
    assert_named(result("check_conv_output_size", conv_output_size), "returned None for W, F, S, P = (32, 5, 2, 0)",
                 "raise ValueError showing that arithmetic")


# --- kernel height and width swapped (the test kernels are no longer all 3x3) ---------------------------------

def conv_forward_swapped(x, w, b, conv_param):
    """A naive conv that reads the kernel's height and width the wrong way round."""
    F, C, WW, HH = w.shape  # swapped
    S, P = conv_param["stride"], conv_param["pad"]
    N, _, H, W = x.shape
    out_h, out_w = 1 + (H + 2 * P - HH) // S, 1 + (W + 2 * P - WW) // S
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    out = np.zeros((N, F, out_h, out_w))
    for n, f, i, j in np.ndindex(out.shape):
        out[n, f, i, j] = np.sum(xp[n, :, i * S:i * S + HH, j * S:j * S + WW] * w[f]) + b[f]
    return out, (x, w, b, conv_param)


def conv_backward_swapped(dout, cache):
    x, w, b, conv_param = cache
    F, C, WW, HH = w.shape  # swapped
    S, P = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for n, f, i, j in np.ndindex(dout.shape):
        dw[f] += xp[n, :, i * S:i * S + HH, j * S:j * S + WW] * dout[n, f, i, j]
        dxp[n, :, i * S:i * S + HH, j * S:j * S + WW] += w[f] * dout[n, f, i, j]
    return dxp[:, :, P:P + x.shape[2], P:P + x.shape[3]], dw, dout.sum(axis=(0, 2, 3))


def conv_forward_caching(x, w, b, conv_param):
    out, _ = K.conv_forward_naive(x, w, b, conv_param)
    return out, (x, w, b, conv_param)


def conv_forward_im2col_swapped(x, w, b, conv_param):
    """A vectorized conv whose windows are WW tall and HH wide: no crash, another output shape."""
    F, C, HH, WW = w.shape
    S, P = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, (WW, HH), axis=(2, 3))[:, :, ::S, ::S]
    n, c, oh, ow = windows.shape[:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n, oh, ow, -1)
    return (cols @ w.reshape(F, -1).T).transpose(0, 3, 1, 2) + b.reshape(1, F, 1, 1), None


def test_the_swapping_templates_are_right_for_square_kernels():
    x, w, b = np.ones((1, 2, 5, 5)), np.arange(18.0).reshape(1, 2, 3, 3), np.zeros(1)
    cp = {"stride": 1, "pad": 1}
    np.testing.assert_allclose(conv_forward_swapped(x, w, b, cp)[0], K.conv_forward_naive(x, w, b, cp)[0])
    np.testing.assert_allclose(conv_forward_im2col_swapped(x, w, b, cp)[0], K.conv_forward_naive(x, w, b, cp)[0])
    dout = np.ones((1, 1, 5, 5))
    for got, expected in zip(conv_backward_swapped(dout, conv_forward_swapped(x, w, b, cp)[1]),
                             K.conv_backward_naive(dout, K.conv_forward_naive(x, w, b, cp)[1])):
        np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("check, funcs", [
    ("check_conv_forward_naive", [conv_forward_swapped]),
    ("check_conv_forward_naive", [conv_forward_im2col_swapped]),
    ("check_conv_backward_naive", [conv_forward_caching, conv_backward_swapped]),
], ids=["forward_loops", "forward_im2col", "backward_loops"])
def test_kernel_height_and_width_swapped_is_named(check, funcs):
    assert_named(result(check, *funcs), "kernel height and width swapped")


# --- max pooling: strides apart from the pool sizes, non-square windows -------------------------------------

def pool_forward_with_stride(stride_of):
    """A loop max_pool_forward_naive whose stride is ``stride_of(pool_param)``."""
    def max_pool_forward_naive(x, pool_param):
        ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], stride_of(pool_param)
        N, C, H, W = x.shape
        out = np.zeros((N, C, 1 + (H - ph) // s, 1 + (W - pw) // s), dtype=x.dtype)
        for n, c, i, j in np.ndindex(out.shape):
            out[n, c, i, j] = x[n, c, i * s:i * s + ph, j * s:j * s + pw].max()
        return out, (x, pool_param)
    return max_pool_forward_naive


def test_the_pool_forward_template_is_right_with_the_right_stride():
    assert result("check_max_pool_forward_naive", pool_forward_with_stride(lambda pp: pp["stride"])).passed


@pytest.mark.parametrize("key", ["pool_width", "pool_height"])
def test_max_pool_stride_taken_from_a_pool_size_is_named(key):
    assert_named(result("check_max_pool_forward_naive", pool_forward_with_stride(lambda pp: pp[key])),
                 f"took the stride from {key}")


def pool_backward(write, route):
    """A loop max_pool_backward_naive: ``route(window)`` says where each window's gradient goes and
    ``write(dx, n, c, rows, cols, share)`` puts it into dx."""
    def max_pool_backward_naive(dout, cache):
        x, ph, pw, s = cache
        dx = np.zeros_like(x)
        for n, c, i, j in np.ndindex(dout.shape):
            rows, cols = slice(i * s, i * s + ph), slice(j * s, j * s + pw)
            write(dx, n, c, rows, cols, route(x[n, c, rows, cols]) * dout[n, c, i, j])
        return dx
    return max_pool_backward_naive


def first_max(window):
    mask = np.zeros_like(window)
    mask[np.unravel_index(np.argmax(window), window.shape)] = 1
    return mask


def every_max(window):
    return (window == window.max()).astype(float)


def add(dx, n, c, rows, cols, share):
    dx[n, c, rows, cols] += share


def assign_window(dx, n, c, rows, cols, share):
    dx[n, c, rows, cols] = share


def assign_at_the_max(dx, n, c, rows, cols, share):
    a, b = np.unravel_index(np.argmax(np.abs(share)), share.shape)
    dx[n, c, rows.start + a, cols.start + b] = share[a, b]


def test_the_pool_backward_template_adds_up_right():
    assert result("check_max_pool_backward_naive", K.max_pool_forward_naive, pool_backward(add, first_max)).passed


@pytest.mark.parametrize("write, route, also", [
    (assign_window, first_max, None),
    (assign_at_the_max, first_max, None),
    (assign_window, every_max, "on ties the gradient went to every maximum"),
], ids=["window_assigned", "max_position_assigned", "window_assigned_every_max"])
def test_max_pool_backward_overwriting_overlapping_windows_is_named(write, route, also):
    r = result("check_max_pool_backward_naive", K.max_pool_forward_naive, pool_backward(write, route))
    assert_named(r, "overlapping windows overwrote each other's gradient", "accumulate with +=", *filter(None, [also]))


def test_max_pool_backward_adding_to_every_maximum_is_named_as_ties():
    r = result("check_max_pool_backward_naive", K.max_pool_forward_naive, pool_backward(add, every_max))
    assert_named(r, "on ties the gradient went to every maximum")
    assert "overwrote" not in r.detail


# --- the parameter count --------------------------------------------------------------------------------------

def test_the_parameter_count_check_passes_the_reference_and_an_integer_of_numpy():
    assert result("check_conv_param_count", K.conv_param_count).passed
    assert result("check_conv_param_count", lambda F, C, K: np.int64((F * F * C + 1) * K)).passed


@pytest.mark.parametrize("count, named", [
    (lambda F, C, K: (F * F + 1) * K, "forgot the input depth C"),
    (lambda F, C, K: F * F * C * K, "forgot the biases"),
    (lambda F, C, K: (F * F + 1) * C * K, "one bias per depth slice"),
    (lambda F, C, K: F * F * C * K + 1, "one bias for the whole layer"),
    (lambda F, C, K: (F * C + 1) * K, "F counted once"),
    (lambda F, C, K: float((F * F * C + 1) * K), "returned 760.0 (float) for F, C, K = (5, 3, 10); return an int"),
    (lambda F, C, K: None, "returned None for F, C, K = (5, 3, 10): did you forget a return statement?"),
    (lambda F, C, K: 7, "for F, C, K = (5, 3, 10) you returned 7; expected 760"),
], ids=["no_depth", "no_bias", "bias_per_slice", "one_bias", "F_once", "float", "none", "other"])
def test_parameter_count_mistakes_are_named(count, named):
    assert_named(result("check_conv_param_count", count), named)


def test_an_unwritten_parameter_count_is_not_implemented_yet(capsys):
    def conv_param_count(F, C, K):
        raise NotImplementedError
    C.check_conv_param_count(conv_param_count)
    assert capsys.readouterr().out.startswith("… conv_param_count: not implemented yet")
