"""Convolution and max pooling as forward/backward pairs, and the shape arithmetic of a conv net.

Shapes: images x (N, C, H, W), filters w (F, C, HH, WW), biases b (F,), output (N, F, H', W') with

    H' = (H - HH + 2*pad) / stride + 1,    W' = (W - WW + 2*pad) / stride + 1.

Why minus F: zero padding makes the input W + 2P wide, and the filter must fit inside it. Its left edge can sit
at offsets 0, S, 2S, ... up to W + 2P - F (where its right edge touches the padded border): that is
(W - F + 2P)/S + 1 positions. Some lecture notes print (W1 + F + 2P)/S + 1, which is wrong: it would place the
filter F pixels beyond the padded input (for W = 32, F = 5, P = 0, S = 1 it gives 38 instead of 28). When S does
not divide W - F + 2P the filter does not fit evenly and :func:`conv_output_size` raises, showing the arithmetic.
That is a deliberate strictness of this course (the convention of the CS231n notes): libraries floor the formula,
floor((W - F + 2P)/S) + 1 (PyTorch), or pad unevenly (TensorFlow's "SAME"), and leave out the last
(W - F + 2P) mod S columns of the padded input. When those are only zero padding (no more of them than P, as in
a 3x3, stride-2, padding-1 layer on an even input) no input is lost; otherwise the last input columns are never
seen (course.experiments.cnn.layer_geometry tells which).

As in every deep-learning library, "convolution" means cross-correlation: out[n, f, i, j] =
sum over c, p, q of xpad[n, c, i*S + p, j*S + q] * w[f, c, p, q] + b[f], with the filter NOT flipped.

Each layer comes twice: a ``*_naive`` version with explicit loops over output positions (the one students write)
and a fast version with the same results: the windows of the padded input are viewed with ``sliding_window_view``,
copied once into columns, and met by one matrix product for the whole batch (im2col); the backward pass folds the column
gradients back with one strided add per kernel offset (col2im). Float dtypes are preserved (float32 stays
float32); integers become float64.

Max pooling ties: the gradient of a window goes to its FIRST maximum in row-major order (the one ``np.argmax``
picks), in both the naive and the fast version. Where windows overlap, the gradients of all windows that pick
an input add up.
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course._validate import as_float_array, check_cache, check_dout, check_ndim


def _as_int(value, name: str, low: int) -> int:
    """Return ``value`` as an int after checking it is a whole number >= low."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value).is_integer():
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__})")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}; got {int(value)}")
    return int(value)


# ---------------------------------------------------------------------------------------------- shape arithmetic

def conv_output_size(W, F, S=1, P=0) -> int:
    """Number of positions of a filter of width F sliding with stride S over an input of width W padded by P
    on each side: (W - F + 2P)/S + 1.

    Raises ValueError showing the arithmetic with the numbers when that is not a positive integer, e.g.
    "(32 - 5 + 2*0)/2 + 1 = 14.5 is not an integer": stricter than libraries, which floor it (see the module
    docstring), so that a layer that does not tile its input fails where it is written.
    """
    W, F = _as_int(W, "W (input size)", 1), _as_int(F, "F (filter size)", 1)
    S, P = _as_int(S, "S (stride)", 1), _as_int(P, "P (padding)", 0)
    span = W - F + 2 * P
    arithmetic = f"({W} - {F} + 2*{P})/{S} + 1 = {span / S + 1:.10g}"
    if span < 0:
        raise ValueError(f"{arithmetic} is not a positive integer: the filter (F = {F}) is larger than the padded "
                         f"input (W + 2P = {W + 2 * P})")
    if span % S:
        raise ValueError(f"{arithmetic} is not an integer: the stride S = {S} does not divide W - F + 2P = {span}, "
                         "so the filter does not fit evenly; change the padding or the stride")
    return span // S + 1


def conv_param_count(F, C, K) -> int:
    """Learnable parameters of a conv layer with K filters of size F x F x C: (F*F*C + 1)*K (one bias each)."""
    F, C, K = _as_int(F, "F (filter size)", 1), _as_int(C, "C (input depth)", 1), _as_int(K, "K (filters)", 1)
    return (F * F * C + 1) * K


# Each layer kind of describe_stack: its required keys and its optional ones (with their defaults).
_LAYER_KEYS = {"conv": ({"K", "F"}, {"S", "P"}), "relu": (set(), set()), "pool": ({"F"}, {"S"}),
               "fc": ({"M"}, set())}
_LAYER_EXAMPLE = "('conv', {'K': 8, 'F': 3, 'S': 1, 'P': 1})"


def _layer(layer, shape):
    """One layer of :func:`describe_stack`, a (kind, params) pair: (label, output shape, parameter count,
    (window rows, window cols), stride), the window and stride being what the receptive field grows by."""
    if not isinstance(layer, (tuple, list)) or len(layer) != 2:
        raise TypeError(f"a layer must be a (kind, params) pair such as {_LAYER_EXAMPLE} or ('relu', {{}}); got "
                        f"{layer!r}")
    kind, params = layer
    if not isinstance(kind, str) or kind not in _LAYER_KEYS:
        raise ValueError(f"unknown layer kind {kind!r}; expected one of {sorted(_LAYER_KEYS)}")
    required, optional = _LAYER_KEYS[kind]
    if not isinstance(params, Mapping):
        raise TypeError(f"the params of a {kind} layer must be a dict with keys {sorted(required | optional)}; got "
                        f"{type(params).__name__} {params!r}")
    unknown = set(params) - required - optional
    if unknown:
        raise ValueError(f"{kind} layer takes keys {sorted(required | optional)}; got unknown "
                         f"{sorted(map(str, unknown))}")
    missing = required - set(params)
    if missing:
        raise ValueError(f"a {kind} layer needs keys {sorted(required)}"
                         f"{f' (optional: {sorted(optional)})' if optional else ''}; missing {sorted(missing)}")
    if kind == "fc":  # every output sees the whole input
        M = _as_int(params["M"], "fc M (outputs)", 1)
        window = shape[1:] if len(shape) == 3 else (1, 1)
        return f"fc M={M}", (M,), (int(np.prod(shape)) + 1) * M, window, 1
    if len(shape) != 3:
        raise ValueError(f"a {kind} layer needs a (C, H, W) input; got {shape} after a fully connected layer")
    if kind == "relu":
        return "relu", shape, 0, (1, 1), 1
    C, H, W = shape
    F = _as_int(params["F"], f"{kind} F (filter size)", 1)
    if kind == "conv":
        K = _as_int(params["K"], "conv K (filters)", 1)
        S, P = _as_int(params.get("S", 1), "conv S (stride)", 1), _as_int(params.get("P", 0), "conv P (padding)", 0)
        label, count = f"conv {F}x{F} K={K} S={S} P={P}", conv_param_count(F, C, K)
    else:
        S, P, K = _as_int(params.get("S", F), "pool S (stride)", 1), 0, C
        label, count = f"pool {F}x{F} S={S}", 0
    return label, (K, *_output_hw(H, W, F, F, S, P, label)), count, (F, F), S


def describe_stack(input_shape, layers) -> list[dict]:
    """Tabulate a stack of layers: one row per layer, starting with the input.

    Inputs:
    - input_shape: (C, H, W)
    - layers: list of (kind, params), kind one of
      "conv" (K filters of size F x F, stride S=1, zero padding P=0), "relu", "pool" (max pool F x F, stride S=F),
      "fc" (M outputs, from the flattened input)

    Returns a list of dicts with keys
    - "layer": a label such as "conv 3x3 K=64 S=1 P=1"
    - "output_shape": (C, H, W), or (M,) after a fully connected layer
    - "params": learnable parameters, (F*F*C + 1)*K for conv, (D + 1)*M for fc
    - "receptive_field": (rows, cols) of input pixels (padding included) that one output unit sees; a window F
      after layers whose strides multiply to J grows it by (F - 1)*J
    - "floats", "bytes": activation memory of the output for one example (bytes in float32, 4 per float)
    """
    if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W); got {input_shape!r}")
    shape = tuple(_as_int(n, "input_shape entry", 1) for n in input_shape)
    if isinstance(layers, (str, bytes, Mapping)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a list of (kind, params) pairs such as [{_LAYER_EXAMPLE}, ('relu', {{}})]; "
                        f"got {type(layers).__name__}")
    rows = [_row("input", shape, 0, (1, 1))]
    field, jump = (1, 1), 1  # receptive field (rows, cols); input pixels between neighbouring units
    for i, layer in enumerate(layers):
        try:
            label, shape, count, window, stride = _layer(layer, shape)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"layers[{i}]: {exc}") from None
        field = tuple(r + (f - 1) * jump for r, f in zip(field, window))
        jump *= stride
        rows.append(_row(label, shape, count, field))
    return rows


def _row(label, shape, count, field):
    floats = int(np.prod(shape))
    return dict(layer=label, output_shape=shape, params=count, receptive_field=field, floats=floats, bytes=4 * floats)


def format_stack(rows) -> str:
    """The rows of :func:`describe_stack` as a text table, with the totals of parameters and activation memory."""
    header = f"{'layer':<26}{'output':>16}{'params':>14}{'receptive field':>17}{'activations':>13}{'bytes':>13}"
    lines = [header, "-" * len(header)]
    for r in rows:
        shape = "x".join(map(str, r["output_shape"]))
        field = "x".join(map(str, r["receptive_field"]))
        lines.append(f"{r['layer']:<26}{shape:>16}{r['params']:>14,}{field:>17}{r['floats']:>13,}{r['bytes']:>13,}")
    floats = sum(r["floats"] for r in rows)
    lines += ["-" * len(header),
              f"{'total':<26}{'':>16}{sum(r['params'] for r in rows):>14,}{'':>17}{floats:>13,}{4 * floats:>13,}"]
    return "\n".join(lines)


def _output_hw(H, W, HH, WW, stride, pad, what: str) -> tuple[int, int]:
    """(H', W') by :func:`conv_output_size`, saying which layer and axis failed."""
    sizes = []
    for axis, n, f in (("height", H, HH), ("width", W, WW)):
        try:
            sizes.append(conv_output_size(n, f, stride, pad))
        except ValueError as exc:
            raise ValueError(f"{what}: output {axis}: {exc}") from None
    return sizes[0], sizes[1]


# ------------------------------------------------------------------------------------------------ shared pieces

def _read_params(param, name: str, lows: dict) -> list[int]:
    """The integer values of the keys of ``lows`` in the dict ``param``, each checked to be >= its low."""
    if not isinstance(param, Mapping):
        raise TypeError(f"{name} must be a dict with keys {list(lows)}; got {type(param).__name__}")
    missing = [k for k in lows if k not in param]
    if missing:
        raise ValueError(f"{name} must have keys {list(lows)}; missing {missing} (got keys {list(param)})")
    return [_as_int(param[k], f"{name}['{k}']", low) for k, low in lows.items()]


def _image(x, name="x"):
    x = as_float_array(x, name)
    check_ndim(x, 4, name, "(N, C, H, W)")
    if x.shape[1] == 0:
        raise ValueError(f"{name} must have at least one channel: shape (N, C, H, W) = {x.shape} has C = 0")
    return x


def _windows(out_h, out_w, stride, hh, ww):
    """For the naive loops: yield (i, j, rows, cols), an output position and the slices of its input window."""
    for i in range(out_h):
        for j in range(out_w):
            yield i, j, slice(i * stride, i * stride + hh), slice(j * stride, j * stride + ww)


def _window_view(x, hh, ww, stride):
    """View (N, C, H', W', HH, WW) of the windows of x (N, C, H, W); no copy."""
    return sliding_window_view(x, (hh, ww), axis=(2, 3))[:, :, ::stride, ::stride]


def _col2im(dwindows, shape, stride):
    """Fold window gradients dwindows (A, B, HH, WW, H', W') into an image of ``shape`` (A, B, H, W), where A, B
    are the batch and channel axes in either order: for each of the HH*WW kernel offsets (p, q), one strided add
    of dwindows[:, :, p, q] at rows p, p+S, ... and cols q, q+S, ..."""
    _, _, hh, ww, out_h, out_w = dwindows.shape
    dx = np.zeros(shape, dtype=dwindows.dtype)
    for p in range(hh):
        for q in range(ww):
            rows = slice(p, p + stride * (out_h - 1) + 1, stride)
            cols = slice(q, q + stride * (out_w - 1) + 1, stride)
            dx[:, :, rows, cols] += dwindows[:, :, p, q]
    return dx


# ---------------------------------------------------------------------------------------------------- convolution

def _conv_inputs(x, w, b, conv_param):
    """Validate the conv arguments; return x, w, b, stride, pad, (H', W')."""
    x = _image(x)
    w = as_float_array(w, "w")
    b = as_float_array(b, "b")
    check_ndim(w, 4, "w", "(F, C, HH, WW)")
    if w.shape[0] == 0:
        raise ValueError(f"w must hold at least one filter: shape (F, C, HH, WW) = {w.shape} has F = 0")
    if w.shape[1] != x.shape[1]:
        raise ValueError(f"the filters' depth must equal the input channels: x of shape (N, C, H, W) = {x.shape} "
                         f"has C = {x.shape[1]}, but w of shape (F, C, HH, WW) = {w.shape} has C = {w.shape[1]}")
    if b.shape != (w.shape[0],):
        raise ValueError(f"b must have shape (F,) = ({w.shape[0]},), one bias per filter; got {b.shape}")
    stride, pad = _read_params(conv_param, "conv_param", {"stride": 1, "pad": 0})
    out_hw = _output_hw(x.shape[2], x.shape[3], w.shape[2], w.shape[3], stride, pad, "conv")
    return x, w, b, stride, pad, out_hw


def _pad(x, pad):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))


def conv_forward_naive(x, w, b, conv_param):
    """Convolution (cross-correlation) with explicit loops over output positions.

    Inputs:
    - x: (N, C, H, W) images
    - w: (F, C, HH, WW) filters
    - b: (F,) biases
    - conv_param: dict with 'stride' (>= 1) and 'pad' (zero padding on every side, >= 0)

    Returns (out, cache): out (N, F, H', W') with H' = (H - HH + 2*pad)/stride + 1 and
    W' = (W - WW + 2*pad)/stride + 1; out[n, f, i, j] = sum(xpad[n, :, window(i, j)] * w[f]) + b[f].
    """
    x, w, b, stride, pad, (out_h, out_w) = _conv_inputs(x, w, b, conv_param)
    N, F, HH, WW = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    xpad = _pad(x, pad)
    out = np.empty((N, F, out_h, out_w), dtype=np.result_type(x, w, b))
    for n in range(N):
        for f in range(F):
            for i, j, rows, cols in _windows(out_h, out_w, stride, HH, WW):
                out[n, f, i, j] = np.sum(xpad[n, :, rows, cols] * w[f]) + b[f]
    return out, (x, w, stride, pad)


def conv_backward_naive(dout, cache):
    """Backward pass of :func:`conv_forward_naive`.

    Inputs:
    - dout: (N, F, H', W') upstream gradient
    - cache: (x, w, stride, pad) from the forward pass

    Returns (dx, dw, db): dx (N, C, H, W), dw (F, C, HH, WW), db (F,). Each output position adds
    dout * window to dw[f] and dout * w[f] to the window of dx; db sums dout over N, H', W'.
    """
    x, w, stride, pad = check_cache(cache, 4, "conv_forward_naive")
    N, F, HH, WW = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    H, W = x.shape[2:]
    out_h, out_w = _output_hw(H, W, HH, WW, stride, pad, "conv")
    dout = check_dout(dout, (N, F, out_h, out_w), "conv_forward_naive")
    dtype = np.result_type(dout, x, w)
    xpad = _pad(x, pad)
    dxpad = np.zeros(xpad.shape, dtype=dtype)
    dw = np.zeros(w.shape, dtype=dtype)
    for n in range(N):
        for f in range(F):
            for i, j, rows, cols in _windows(out_h, out_w, stride, HH, WW):
                g = dout[n, f, i, j]
                dw[f] += g * xpad[n, :, rows, cols]
                dxpad[n, :, rows, cols] += g * w[f]
    db = dout.sum(axis=(0, 2, 3))
    return dxpad[:, :, pad:pad + H, pad:pad + W], dw, db


def conv_forward(x, w, b, conv_param):
    """Fast convolution with the same inputs, outputs and formula as :func:`conv_forward_naive` (im2col).

    The windows of the padded input, a strided view (N, C, H', W', HH, WW), are copied once into columns
    cols (C*HH*WW, N*H'*W'), one column per output position; then out = w.reshape(F, C*HH*WW) @ cols + b is a
    single matrix product, reshaped from (F, N, H', W') to (N, F, H', W').

    Returns (out, cache): out (N, F, H', W'); the cache holds the columns for the backward pass.
    """
    x, w, b, stride, pad, (out_h, out_w) = _conv_inputs(x, w, b, conv_param)
    N, F = x.shape[0], w.shape[0]
    windows = _window_view(_pad(x, pad), w.shape[2], w.shape[3], stride)
    cols = np.ascontiguousarray(windows.transpose(1, 4, 5, 0, 2, 3)).reshape(w[0].size, -1)
    out = w.reshape(F, -1) @ cols + b.reshape(F, 1)
    out = np.ascontiguousarray(out.reshape(F, N, out_h, out_w).transpose(1, 0, 2, 3))
    return out, (x, w, stride, pad, cols)


def conv_backward(dout, cache):
    """Backward pass of :func:`conv_forward`: returns (dx, dw, db) as :func:`conv_backward_naive` does.

    With dout as a matrix (F, N*H'*W'): dw = (cols @ dout.T).T and dcols = w.T @ dout (two matrix products); dx folds
    dcols back into the padded image with one strided add per kernel offset (col2im), then drops the padding.
    """
    x, w, stride, pad, cols = check_cache(cache, 5, "conv_forward")
    (N, C, H, W), (F, _, HH, WW) = x.shape, w.shape
    out_h, out_w = _output_hw(H, W, HH, WW, stride, pad, "conv")
    dout = check_dout(dout, (N, F, out_h, out_w), "conv_forward")
    dout2 = dout.transpose(1, 0, 2, 3).reshape(F, -1)
    db = dout.sum(axis=(0, 2, 3))
    dw = (cols @ dout2.T).T.reshape(w.shape)  # this order: threaded OpenBLAS is slow for (F, P) @ (P, K) with P large
    dcols = (w.reshape(F, -1).T @ dout2).reshape(C, HH, WW, N, out_h, out_w)
    dxpad = _col2im(dcols.transpose(0, 3, 1, 2, 4, 5), (C, N, H + 2 * pad, W + 2 * pad), stride)  # channels first
    return np.ascontiguousarray(dxpad[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3)), dw, db


# ---------------------------------------------------------------------------------------------------- max pooling

def _pool_inputs(x, pool_param):
    """Validate the pooling arguments; return x, pool_height, pool_width, stride, (H', W')."""
    x = _image(x)
    ph, pw, stride = _read_params(pool_param, "pool_param", {"pool_height": 1, "pool_width": 1, "stride": 1})
    out_hw = _output_hw(x.shape[2], x.shape[3], ph, pw, stride, 0, "max pool")
    return x, ph, pw, stride, out_hw


def max_pool_forward_naive(x, pool_param):
    """Max pooling with explicit loops over output positions.

    Inputs:
    - x: (N, C, H, W)
    - pool_param: dict with 'pool_height', 'pool_width' and 'stride'

    Returns (out, cache): out (N, C, H', W') with H' = (H - pool_height)/stride + 1,
    W' = (W - pool_width)/stride + 1, each entry the maximum of its window; no padding.
    """
    x, ph, pw, stride, (out_h, out_w) = _pool_inputs(x, pool_param)
    N, C = x.shape[:2]
    out = np.empty((N, C, out_h, out_w), dtype=x.dtype)
    for i, j, rows, cols in _windows(out_h, out_w, stride, ph, pw):
        for n in range(N):
            for c in range(C):
                out[n, c, i, j] = x[n, c, rows, cols].max()
    return out, (x, ph, pw, stride)


def max_pool_backward_naive(dout, cache):
    """Backward pass of :func:`max_pool_forward_naive`: dout (N, C, H', W') -> dx (N, C, H, W).

    Each window routes its gradient to its maximum only (the first one in row-major order when there are ties);
    overlapping windows add up.
    """
    x, ph, pw, stride = check_cache(cache, 4, "max_pool_forward_naive")
    N, C, H, W = x.shape
    out_h, out_w = _output_hw(H, W, ph, pw, stride, 0, "max pool")
    dout = check_dout(dout, (N, C, out_h, out_w), "max_pool_forward_naive")
    dx = np.zeros(x.shape, dtype=np.result_type(dout, x))
    for i, j, rows, cols in _windows(out_h, out_w, stride, ph, pw):
        for n in range(N):
            for c in range(C):
                window = x[n, c, rows, cols]
                dx[n, c, rows, cols][np.unravel_index(np.argmax(window), window.shape)] += dout[n, c, i, j]
    return dx


def max_pool_forward(x, pool_param):
    """Fast max pooling with the same results as :func:`max_pool_forward_naive`.

    When the windows tile the input exactly (pool_height == pool_width == stride) they are a reshape of x,
    (N, C, H'*ph, W'*pw) -> (N, C, H', ph, W', pw); otherwise a strided view. Each window is flattened
    row-major and its argmax (the first maximum) kept for the backward pass.

    Returns (out, cache): out (N, C, H', W').
    """
    x, ph, pw, stride, (out_h, out_w) = _pool_inputs(x, pool_param)
    N, C = x.shape[:2]
    tiles = ph == pw == stride
    if tiles:
        windows = x.reshape(N, C, out_h, ph, out_w, pw).transpose(0, 1, 2, 4, 3, 5)
    else:
        windows = _window_view(x, ph, pw, stride)
    flat = windows.reshape(N, C, out_h, out_w, ph * pw)
    first_max = flat.argmax(axis=-1)[..., None]
    out = np.take_along_axis(flat, first_max, axis=-1)[..., 0]
    return out, (x, ph, pw, stride, tiles, first_max)


def max_pool_backward(dout, cache):
    """Backward pass of :func:`max_pool_forward`: dout (N, C, H', W') -> dx (N, C, H, W), each window's gradient
    routed to its first maximum. Exact tiles are undone by the inverse reshape; overlapping or gapped windows
    are folded back with one strided add per window offset."""
    x, ph, pw, stride, tiles, first_max = check_cache(cache, 6, "max_pool_forward")
    N, C, out_h, out_w = first_max.shape[:4]
    dout = check_dout(dout, (N, C, out_h, out_w), "max_pool_forward")
    dflat = np.zeros((N, C, out_h, out_w, ph * pw), dtype=np.result_type(dout, x))
    np.put_along_axis(dflat, first_max, dout[..., None], axis=-1)
    dwindows = dflat.reshape(N, C, out_h, out_w, ph, pw)
    if tiles:
        return dwindows.transpose(0, 1, 2, 4, 3, 5).reshape(x.shape)
    return _col2im(dwindows.transpose(0, 1, 4, 5, 2, 3), x.shape, stride)
