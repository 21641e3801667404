"""Checks for the convolution lab: the output-size formula, the parameter count, the naive conv and max-pool
layers and their backward passes, each mismatch traced to the likely mistake by name."""
from __future__ import annotations

import numbers

import numpy as np

from course import conv as ref
from course.checks._harness import (Mistake, NotYet, _where_it_failed, call, call_float32, checker, expect_close,
                                    expect_dtype, expect_shape, unpack)

_rng = np.random.default_rng(231)

# ------------------------------------------------------------------------------------------------ output size

# The size formulas students get wrong; each returns None where it does not give a positive integer.
_SIZE_MISTAKES = [
    ("used + F instead of - F: (W + F + 2P)/S + 1 is a known erratum of the lecture notes; the filter must fit "
     "inside the padded input, so it is (W - F + 2P)/S + 1", lambda W, F, S, P: (W + F + 2 * P) / S + 1),
    ("forgot the padding: with P zeros on each side the input is W + 2P wide, so the output is (W - F + 2P)/S + 1",
     lambda W, F, S, P: (W - F) / S + 1),
    ("padding counted once: there are P zeros on EACH side, so (W - F + 2P)/S + 1",
     lambda W, F, S, P: (W - F + P) / S + 1),
    ("forgot the + 1: the first position counts too, so (W - F + 2P)/S + 1", lambda W, F, S, P: (W - F + 2 * P) / S),
    ("forgot to divide by the stride: (W - F + 2P)/S + 1", lambda W, F, S, P: W - F + 2 * P + 1),
]
# (W, F, S, P) with a valid output size: unit strides first (every wrong formula gives a whole number there),
# then larger strides (AlexNet's first layer among them).
_SIZE_CASES = [[(32, 5, 1, 2), (32, 3, 1, 1), (28, 5, 1, 0), (7, 3, 1, 0), (5, 5, 1, 0)],
               [(7, 3, 2, 0), (227, 11, 4, 0), (7, 3, 2, 1), (32, 4, 2, 1)]]
_SIZE_INVALID = [(32, 5, 2, 0), (3, 5, 1, 0)]


def _whole(value):
    return int(value) if value > 0 and float(value).is_integer() else None


_RAISED = object()  # the student's conv_output_size raised ValueError


def _size(f, case):
    """The student's size for ``case``, or _RAISED when it raised ValueError."""
    try:
        return call(f, *case)
    except ValueError:
        return _RAISED


@checker
def check_conv_output_size(conv_output_size):
    """conv_output_size(W, F, S, P) -> int, and ValueError showing the arithmetic when it is not a whole number."""
    for cases in _SIZE_CASES:
        got = [_size(conv_output_size, case) for case in cases]
        for case, g in zip(cases, got):
            if g is None:
                raise Mistake(f"returned None for W, F, S, P = {case}: did you forget a return statement?")
        expected = [ref.conv_output_size(*case) for case in cases]
        sizes = [None if g is _RAISED else g for g in got]
        if sizes != expected:
            for description, formula in _SIZE_MISTAKES:
                if sizes == [_whole(formula(*case)) for case in cases]:
                    raise Mistake(f"likely mistake: {description}")
            case, g, e = next((c, g, e) for c, g, e in zip(cases, got, expected) if g != e)
            said = "raised ValueError" if g is _RAISED else f"returned {g!r}"
            raise Mistake(f"for W, F, S, P = {case} you {said}; expected {e}")
        for case, g in zip(cases, got):
            if isinstance(g, bool) or not isinstance(g, numbers.Integral):
                raise Mistake(f"returned {g!r} ({type(g).__name__}) for W, F, S, P = {case}; return an int "
                              "(// after checking that S divides W - F + 2P)")
    for case in _SIZE_INVALID:
        W, F, S, P = case
        shown = f"{(W - F + 2 * P) / S + 1:g}"
        arithmetic = f"({W} - {F} + 2*{P})/{S} + 1 = {shown}"
        try:
            g = call(conv_output_size, *case)
        except ValueError as exc:
            if shown not in str(exc):
                raise Mistake(f"the ValueError for W, F, S, P = {case} should show the arithmetic, e.g. "
                              f"'{arithmetic} is not an integer'; it says: {exc}") from None
            continue
        raise Mistake(f"returned {g!r} for W, F, S, P = {case}, but {arithmetic}: no whole number of filter "
                      "positions fits, so raise ValueError showing that arithmetic")
    return "correct for 9 layer shapes, with a ValueError showing the arithmetic when the filter does not fit"


# ------------------------------------------------------------------------------------------------ parameter count

# The counts students get wrong, as functions of (F, C, K).
_COUNT_MISTAKES = [
    ("forgot the input depth C: each filter is F x F x C, so (F*F*C + 1)*K", lambda F, C, K: (F * F + 1) * K),
    ("forgot the biases: each of the K filters has one, so (F*F*C + 1)*K", lambda F, C, K: F * F * C * K),
    ("one bias per depth slice: a filter has ONE bias for its whole F x F x C volume, so (F*F*C + 1)*K",
     lambda F, C, K: (F * F + 1) * C * K),
    ("one bias for the whole layer: every filter has its own, so (F*F*C + 1)*K", lambda F, C, K: F * F * C * K + 1),
    ("F counted once: a filter is F wide AND F high, so (F*F*C + 1)*K", lambda F, C, K: (F * C + 1) * K),
]
# (F, C, K): a CIFAR-10 layer, AlexNet's first layer, a VGG layer, a 1x1 convolution
_COUNT_CASES = [(5, 3, 10), (11, 3, 96), (3, 64, 128), (1, 256, 64)]


@checker
def check_conv_param_count(conv_param_count):
    """conv_param_count(F, C, K) -> int: the weights and biases of K filters of size F x F x C."""
    got = [call(conv_param_count, *case) for case in _COUNT_CASES]
    expected = [ref.conv_param_count(*case) for case in _COUNT_CASES]
    for case, g in zip(_COUNT_CASES, got):
        if g is None:
            raise Mistake(f"returned None for F, C, K = {case}: did you forget a return statement?")
    if got != expected:
        for description, count in _COUNT_MISTAKES:
            if got == [count(*case) for case in _COUNT_CASES]:
                raise Mistake(f"likely mistake: {description}")
        case, g, e = next((c, g, e) for c, g, e in zip(_COUNT_CASES, got, expected) if g != e)
        raise Mistake(f"for F, C, K = {case} you returned {g!r}; expected {e:,}")
    for case, g in zip(_COUNT_CASES, got):
        if isinstance(g, bool) or not isinstance(g, numbers.Integral):
            raise Mistake(f"returned {g!r} ({type(g).__name__}) for F, C, K = {case}; return an int")
    return "correct for 4 layers, from a 1x1 convolution to an 11x11 one"


# ------------------------------------------------------------------------------------------------ convolution

def _conv_case(x_shape, w_shape, stride, pad):
    """x, w, b, conv_param and an upstream gradient shaped like the output."""
    x = _rng.normal(size=x_shape)
    w = _rng.normal(size=w_shape)
    b = _rng.normal(2.0, 1.0, size=w_shape[0])  # clearly non-zero: a forgotten bias shows
    cp = {"stride": stride, "pad": pad}
    return x, w, b, cp, _rng.normal(size=ref.conv_forward(x, w, b, cp)[0].shape)


# Non-square inputs. A square kernel with unit stride and pad 2 first (every wrong output size differs from the
# right one), then non-square kernels (2x3 with pad 1; 3x2 with stride 2 and pad 1), where swapping the kernel's
# height and width shows.
_CONV_CASES = [_conv_case((2, 3, 6, 5), (4, 3, 3, 3), 1, 2), _conv_case((2, 3, 7, 6), (4, 3, 2, 3), 1, 1),
               _conv_case((2, 2, 9, 8), (3, 2, 3, 2), 2, 1)]
_SWAPPED_KERNEL = ("kernel height and width swapped: w has shape (F, C, HH, WW), HH = w.shape[2] rows and "
                   "WW = w.shape[3] columns")


def _shape_mistakes(x_shape, k_shape, stride, pad, channels):
    """(description, output shape) of the common output-size mistakes that give a whole-number size, and of
    swapped kernel sizes (with floor division, as code computes it)."""
    found = []
    for description, formula in _SIZE_MISTAKES:
        sizes = [_whole(formula(n, k, stride, pad)) for n, k in zip(x_shape[2:], k_shape)]
        if None not in sizes:
            found.append((description, (x_shape[0], channels, *sizes)))
    swapped = [(n - k + 2 * pad) // stride + 1 for n, k in zip(x_shape[2:], k_shape[::-1])]
    return found + [(_SWAPPED_KERNEL, (x_shape[0], channels, *swapped))]


def _call_case(f, name, args, kernel):
    """``call(f, *args)``; a ValueError or IndexError with a non-square ``kernel`` (HH, WW) (the square one ran
    first) names the swapped height and width."""
    try:
        return call(f, *args)
    except (ValueError, IndexError) as exc:
        if kernel[0] == kernel[1]:
            raise
        raise Mistake(f"{name} ran with a square kernel but raised {type(exc).__name__} with a {kernel[0]}x{kernel[1]} "
                      f"(HH x WW) one ({exc}){_where_it_failed(exc)}; likely mistake: {_SWAPPED_KERNEL}") from None


def _touches_padding(n, k, stride, pad, out_size):
    """Mask over output positions along one axis: True where the window reaches into the zero padding."""
    start = np.arange(out_size) * stride
    return (start < pad) | (start + k > pad + n)


@checker
def check_conv_forward_naive(conv_forward_naive):
    """conv_forward_naive(x, w, b, conv_param) -> (out, cache): output size, values, padding, bias, dtype."""
    for x, w, b, cp, _ in _CONV_CASES:
        out, _ = unpack(_call_case(conv_forward_naive, "conv_forward_naive", (x, w, b, cp), w.shape[2:]), 2,
                        "conv_forward_naive")
        expected, _ = ref.conv_forward(x, w, b, cp)
        out = expect_shape(out, expected.shape, "conv_forward_naive output",
                           _shape_mistakes(x.shape, w.shape[2:], cp["stride"], cp["pad"], w.shape[0]))
        border = (_touches_padding(x.shape[2], w.shape[2], cp["stride"], cp["pad"], out.shape[2])[:, None]
                  | _touches_padding(x.shape[3], w.shape[3], cp["stride"], cp["pad"], out.shape[3])[None, :])
        if (not np.allclose(out, expected) and np.allclose(out[..., ~border], expected[..., ~border])
                and np.all(np.isfinite(out))):
            raise Mistake("likely mistake: padded with something other than zeros: the outputs whose window stays "
                          "inside the image are right, those reaching into the padding are not (np.pad pads with "
                          "zeros by default)")
        expect_close(out, expected, "conv_forward_naive output", [
            ("forgot the bias: add b[f] to every output of filter f", ref.conv_forward(x, w, 0 * b, cp)[0]),
            ("flipped the kernel: that is true convolution; CNN layers compute the cross-correlation "
             "sum(window * w[f]) with w as it is", ref.conv_forward(x, w[:, :, ::-1, ::-1], b, cp)[0]),
        ])
    out32, _ = unpack(call_float32(conv_forward_naive, *_CONV_CASES[0][:4]), 2, "conv_forward_naive")
    expect_dtype(out32, np.float32, "conv_forward_naive output")
    return "correct with square and non-square kernels, stride 1 and 2, zero padding 2 and 1, and float32 kept"


@checker
def check_conv_backward_naive(conv_forward_naive, conv_backward_naive):
    """conv_backward_naive(dout, cache) -> (dx, dw, db), with the cache from conv_forward_naive."""
    for x, w, b, cp, dout in _CONV_CASES:
        try:
            _, cache = unpack(_call_case(conv_forward_naive, "conv_forward_naive", (x, w, b, cp), w.shape[2:]), 2,
                              "conv_forward_naive")
        except NotImplementedError:
            raise NotYet("conv_backward_naive needs the cache of conv_forward_naive: write the forward pass first") \
                from None
        _, ref_cache = ref.conv_forward(x, w, b, cp)
        dx, dw, db = unpack(_call_case(conv_backward_naive, "conv_backward_naive", (dout, cache), w.shape[2:]), 3,
                            "conv_backward_naive")
        edx, edw, edb = ref.conv_backward(dout, ref_cache)
        pad, (N, C, H, W) = cp["pad"], x.shape
        dx = expect_shape(dx, x.shape, "dx", [("dx still includes the padding: return dx_pad[:, :, P:P+H, P:P+W]",
                                               (N, C, H + 2 * pad, W + 2 * pad))])
        dw = expect_shape(dw, w.shape, "dw", [(_SWAPPED_KERNEL, w.shape[:2] + w.shape[:1:-1])])
        ones_dx, ones_dw, _ = ref.conv_backward(np.ones_like(dout), ref_cache)
        flipped = ref.conv_backward(dout, ref.conv_forward(x, w[:, :, ::-1, ::-1], b, cp)[1])
        forgot_dout = "forgot to multiply by dout[n, f, i, j] (the chain rule)"
        flip = "flipped the kernel: the forward pass is a cross-correlation, so use w as it is"
        expect_close(dx, edx, "dx", [(forgot_dout, ones_dx), (flip, flipped[0])])
        expect_close(dw, edw, "dw", [(forgot_dout, ones_dw), (flip, edw[:, :, ::-1, ::-1])])
        expect_close(db, edb, "db", [("averaged dout instead of summing it over N, H' and W'",
                                      dout.mean(axis=(0, 2, 3)))])
    return "dx, dw and db correct with square and non-square kernels, stride 1 and 2 and zero padding"


# ------------------------------------------------------------------------------------------------ max pooling

# Overlapping windows along the height (4x2, stride 2 = pool_width), in both directions (3x2, stride 1), a 2x3
# window with stride 2 = pool_height, and an exact 2x2 tiling: a stride read from the pool sizes, or swapped
# pool sizes, give another output shape. Small integers make ties inside windows common.
def _pool_case(pp, shape):
    """pool_param, x without ties, x with many ties, and an upstream gradient shaped like the output."""
    x_ties = _rng.integers(0, 4, size=shape).astype(float)
    return pp, _rng.normal(size=shape), x_ties, _rng.normal(size=ref.max_pool_forward(x_ties, pp)[0].shape)


_POOL_CASES = [_pool_case(dict(pool_height=4, pool_width=2, stride=2), (2, 3, 10, 8)),
               _pool_case(dict(pool_height=3, pool_width=2, stride=1), (2, 3, 7, 6)),
               _pool_case(dict(pool_height=2, pool_width=3, stride=2), (2, 2, 6, 9)),
               _pool_case(dict(pool_height=2, pool_width=2, stride=2), (2, 2, 6, 4))]


def _pool_shape_mistakes(x_shape, pp):
    """(description, output shape) of the pooling mistakes that change the output shape (floor division, as code
    computes it)."""
    ph, pw, s = pp["pool_height"], pp["pool_width"], pp["stride"]
    return [(description, (*x_shape[:2], *[(n - k) // stride + 1 for n, k in zip(x_shape[2:], (kh, kw))]))
            for description, (kh, kw, stride) in [
                ("swapped pool_height and pool_width", (pw, ph, s)),
                ("ignored the stride", (ph, pw, 1)),
                ("took the stride from pool_width: it is pool_param['stride']", (ph, pw, pw)),
                ("took the stride from pool_height: it is pool_param['stride']", (ph, pw, ph))]]


def _pool_windows(out_shape, pp):
    """(n, c, i, j) and the index of that output's window in x, for every output position."""
    ph, pw, s = pp["pool_height"], pp["pool_width"], pp["stride"]
    for n, c, i, j in np.ndindex(out_shape):
        yield (n, c, i, j), (n, c, slice(i * s, i * s + ph), slice(j * s, j * s + pw))


def _pool_by_loops(x, dout, pp, route):
    """dx of max pooling with ``route(window)`` choosing the weights of a window's gradient."""
    dx = np.zeros_like(x)
    for out, window in _pool_windows(dout.shape, pp):
        dx[window] += route(x[window]) * dout[out]
    return dx


def _first_max(window):
    weights = np.zeros(window.shape)
    weights.flat[np.argmax(window)] = 1
    return weights


def _every_max(window):
    return (window == window.max()).astype(float)


def _last_max(window):
    weights = np.zeros(window.shape)
    weights.flat[window.size - 1 - np.argmax(window.ravel()[::-1])] = 1
    return weights


def _overwritten(dx, routed, x_shape, dout_shape, pp):
    """Whether dx differs from ``routed`` only where windows overlap: what assigning (=) instead of adding (+=)
    into dx gives, whether it assigns the whole window or just the maximum's position."""
    coverage = np.zeros(x_shape)
    for _, window in _pool_windows(dout_shape, pp):
        coverage[window] += 1
    single = coverage == 1
    return (np.count_nonzero(routed[single]) >= 4 and np.allclose(dx[single], routed[single])
            and not np.allclose(dx, routed))


@checker
def check_max_pool_forward_naive(max_pool_forward_naive):
    """max_pool_forward_naive(x, pool_param) -> (out, cache): output size and the maximum of every window."""
    for pp, x, _, _ in _POOL_CASES:
        out, _ = unpack(call(max_pool_forward_naive, x, pp), 2, "max_pool_forward_naive")
        expected, _ = ref.max_pool_forward(x, pp)
        out = expect_shape(out, expected.shape, "max_pool_forward_naive output", _pool_shape_mistakes(x.shape, pp))
        window = (pp["pool_height"], pp["pool_width"])
        windows = np.lib.stride_tricks.sliding_window_view(x, window, axis=(2, 3))[:, :, ::pp["stride"], ::pp["stride"]]
        expect_close(out, expected, "max_pool_forward_naive output", [
            ("took the mean of each window: that is average pooling", windows.mean(axis=(4, 5))),
            ("took the minimum of each window instead of the maximum", windows.min(axis=(4, 5))),
        ])
    out32, _ = unpack(call_float32(max_pool_forward_naive, x, pp), 2, "max_pool_forward_naive")
    expect_dtype(out32, np.float32, "max_pool_forward_naive output")
    return ("correct with overlapping, non-square and tiling windows, strides apart from the pool sizes, and "
            "float32 kept")


@checker
def check_max_pool_backward_naive(max_pool_forward_naive, max_pool_backward_naive):
    """max_pool_backward_naive(dout, cache) -> dx: each window's gradient goes to its first maximum, and
    overlapping windows add up."""
    for pp, _, x, dout in _POOL_CASES:
        try:
            _, cache = unpack(call(max_pool_forward_naive, x, pp), 2, "max_pool_forward_naive")
        except NotImplementedError:
            raise NotYet("max_pool_backward_naive needs the cache of max_pool_forward_naive: write the forward "
                         "pass first") from None
        dx = call(max_pool_backward_naive, dout, cache)
        if isinstance(dx, tuple):
            raise Mistake("max_pool_backward_naive must return dx alone, not a tuple")
        dx = expect_shape(dx, x.shape, "dx")
        expected = ref.max_pool_backward(dout, ref.max_pool_forward(x, pp)[1])
        for routed, ties in ((expected, ""), (_pool_by_loops(x, dout, pp, _every_max),
                                              "; and on ties the gradient went to every maximum: send it to the "
                                              "first one only (np.argmax)")):
            if _overwritten(dx, routed, x.shape, dout.shape, pp):
                raise Mistake("likely mistake: overlapping windows overwrote each other's gradient (dx[...] = "
                              f"instead of +=): a position in several windows gets the sum, so accumulate with += "
                              f"into dx{ties}")
        expect_close(dx, expected, "dx", [
            ("gradient spread over the whole window: route dout only to the position of the maximum",
             _pool_by_loops(x, dout, pp, np.ones_like)),
            ("gradient divided evenly over the window: that is average pooling's gradient; max pooling routes "
             "all of it to the maximum", _pool_by_loops(x, dout, pp, lambda v: np.full(v.shape, 1 / v.size))),
            ("on ties the gradient went to every maximum: send it to the first one only (np.argmax)",
             _pool_by_loops(x, dout, pp, _every_max)),
            ("on ties the gradient went to the last maximum: send it to the first one (np.argmax)",
             _pool_by_loops(x, dout, pp, _last_max)),
            ("forgot to multiply by dout (the chain rule)", _pool_by_loops(x, np.ones_like(dout), pp, _first_max)),
        ])
    return "correct with ties (first maximum), overlapping windows, non-square windows and exact tiling"


__all__ = sorted(name for name in dir() if name.startswith("check_"))
