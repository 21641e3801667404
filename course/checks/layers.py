"""Checks for the layers labs: affine, batch normalization (plain and spatial) and inverted dropout.

Each check runs the student's functions on fixed inputs, compares with :mod:`course.layers` and, on a mismatch,
names the common mistake that the output matches.
"""
from __future__ import annotations

import numpy as np

from course import layers as ref
from course.checks._harness import Mistake, NotYet, call, checker, expect_close, expect_dtype, unpack

_rng = np.random.default_rng(2024)


def _expect_shape(actual, expected_shape, what, shape_mistakes=()):
    """Name a mistake by the wrong shape it produces (before comparing values)."""
    if actual is None:
        raise Mistake(f"{what} is None: did you forget a return statement?")
    shape = np.shape(actual)
    if shape == tuple(expected_shape):
        return
    for wrong_shape, description in shape_mistakes:
        if shape == tuple(wrong_shape):
            raise Mistake(f"likely mistake: {description}")
    raise Mistake(f"{what} has shape {shape}; expected {tuple(expected_shape)}")


def _forward_or_not_yet(forward, name, *args):
    try:
        return unpack(call(forward, *args), 2, name)
    except NotImplementedError:
        raise NotYet(f"the backward pass needs the cache of {name}: write the forward pass first") from None


# ----------------------------------------------------------------------------------------------------------------
# Affine

_XA2 = _rng.normal(size=(3, 8))
_XA = _rng.normal(size=(3, 2, 4))
_WA = _rng.normal(size=(8, 5))
_BA = _rng.normal(size=5)
_DOUTA = _rng.normal(size=(3, 5))


@checker
def check_affine_forward(affine_forward):
    """affine_forward(x, w, b) -> (out, cache), for 2-D x and for x of shape (N, d_1, d_2) that must be flattened."""
    out, _ = unpack(call(affine_forward, _XA2, _WA, _BA), 2, "affine_forward")
    expect_close(out, _XA2 @ _WA + _BA, "affine_forward output (2-D x)", [
        ("forgot the bias b", _XA2 @ _WA),
        ("subtracted the bias instead of adding it", _XA2 @ _WA - _BA),
    ])
    n = _XA.shape[0]
    try:
        out, _ = unpack(call(affine_forward, _XA, _WA, _BA), 2, "affine_forward")
    except (ValueError, IndexError) as exc:
        raise Mistake(f"works for 2-D x but fails for x of shape {_XA.shape}: flatten x to (N, D) with "
                      f"x.reshape(x.shape[0], -1) before the product (it raised {type(exc).__name__}: {exc})") from None
    expect_close(out, _XA.reshape(n, -1) @ _WA + _BA, f"affine_forward output (x of shape {_XA.shape})", [
        ("flattened x in the wrong order: use x.reshape(N, -1), one row per example",
         _XA.reshape(-1, n).T @ _WA + _BA),
    ])
    out32, _ = unpack(call(affine_forward, _XA.astype(np.float32), _WA.astype(np.float32), _BA.astype(np.float32)),
                      2, "affine_forward")
    expect_dtype(out32, np.float32, "affine_forward output")
    return "correct for 2-D and 3-D x, and float32 stays float32"


@checker
def check_affine_backward(affine_forward, affine_backward):
    """affine_backward(dout, cache) -> (dx, dw, db), with x of shape (N, d_1, d_2)."""
    _, cache = _forward_or_not_yet(affine_forward, "affine_forward", _XA, _WA, _BA)
    dx, dw, db = unpack(call(affine_backward, _DOUTA, cache), 3, "affine_backward")
    n, (d, m) = _XA.shape[0], _WA.shape
    x2 = _XA.reshape(n, -1)
    _expect_shape(dx, _XA.shape, "affine_backward dx", [
        ((n, d), f"affine backward missing the reshape to x's shape: dx = dout @ w.T has shape (N, D) = ({n}, {d}); "
                 f"return dx.reshape(x.shape), here {_XA.shape}"),
    ])
    expect_close(dx, (_DOUTA @ _WA.T).reshape(_XA.shape), "affine_backward dx", [
        ("dx divided by N: the 1/N belongs in the loss, not in each layer's backward",
         (_DOUTA @ _WA.T).reshape(_XA.shape) / n),
    ])
    _expect_shape(dw, (d, m), "affine_backward dw", [
        ((m, d), f"dw is transposed: dw = x.reshape(N, D).T @ dout has w's shape (D, M) = ({d}, {m})"),
    ])
    expect_close(dw, x2.T @ _DOUTA, "affine_backward dw", [
        ("dw divided by N: the 1/N belongs in the loss, not in each layer's backward", x2.T @ _DOUTA / n),
    ])
    _expect_shape(db, (m,), "affine_backward db", [
        ((n, m), "db not summed over the batch: b is added to every example, so db = dout.sum(axis=0), shape (M,)"),
        ((n,), "db summed over the wrong axis: sum over the examples, db = dout.sum(axis=0)"),
        ((1, m), "db kept a batch axis: use dout.sum(axis=0), shape (M,), without keepdims"),
    ])
    expect_close(db, _DOUTA.sum(axis=0), "affine_backward db", [
        ("db averaged over the batch instead of summed: db = dout.sum(axis=0)", _DOUTA.mean(axis=0)),
    ])
    return "dx (reshaped to x's shape), dw and db all correct"


# ----------------------------------------------------------------------------------------------------------------
# Batch normalization

# Features with different means and scales, one with a tiny variance (so a forgotten eps shows).
_XB = _rng.normal(size=(10, 4)) * np.array([2.0, 0.5, 0.003, 5.0]) + np.array([3.0, -1.0, 0.5, 10.0])
_GAMMA = np.array([1.5, 0.5, 2.0, -1.0])
_BETA = np.array([0.2, -0.3, 1.0, 0.0])
_DOUTB = _rng.normal(size=_XB.shape)
_RM0 = np.array([1.0, 0.5, -0.2, 4.0])
_RV0 = np.array([2.0, 0.3, 0.5, 30.0])
_EPS = 1e-5


def _bn(x, mu, var, gamma=_GAMMA, beta=_BETA, eps=_EPS):
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def _bn_forward_mistakes(x, gamma, beta):
    mu, var = x.mean(axis=0, keepdims=True), x.var(axis=0, keepdims=True)
    return [
        ("used the unbiased variance (ddof=1): batch norm divides by N (Algorithm 1 of Ioffe & Szegedy)",
         _bn(x, mu, x.var(axis=0, ddof=1, keepdims=True), gamma, beta)),
        ("forgot eps: divide by sqrt(var + eps)", gamma * (x - mu) / np.sqrt(var) + beta),
        ("divided by the variance instead of the standard deviation sqrt(var + eps)",
         gamma * (x - mu) / (var + _EPS) + beta),
        ("divided by the mean: batch norm subtracts the mean and divides by the standard deviation",
         gamma * (x - mu) / mu + beta),
        ("gamma and beta swapped: out = gamma * x_hat + beta",
         beta * (x - mu) / np.sqrt(var + _EPS) + gamma),
        ("normalized each example (row) instead of each feature (column): take the mean over axis 0",
         _bn(x, x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True), gamma, beta)),
    ]


def _running(bn_param, key, what):
    value = bn_param.get(key) if isinstance(bn_param, dict) else None
    if value is None:
        raise Mistake(f"bn_param['{key}'] is missing after a training step: {what}")
    return np.asarray(value)


@checker
def check_batchnorm_forward(batchnorm_forward):
    """batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache): train mode (batch statistics and the running
    averages), test mode (running averages only) and the creation of missing running averages."""
    mu, var = _XB.mean(axis=0), _XB.var(axis=0)
    # 1. Train mode, with existing running averages and a non-default momentum.
    bn_param = {"mode": "train", "momentum": 0.8, "running_mean": _RM0.copy(), "running_var": _RV0.copy()}
    out, _ = unpack(call(batchnorm_forward, _XB, _GAMMA, _BETA, bn_param), 2, "batchnorm_forward")
    expect_close(out, _bn(_XB, mu, var), "batchnorm_forward output (train mode)",
                 _bn_forward_mistakes(_XB, _GAMMA, _BETA))
    rm = _running(bn_param, "running_mean", "update it in place (or store it back)")
    rv = _running(bn_param, "running_var", "update it in place (or store it back)")
    for key, got, old, batch in (("running_mean", rm, _RM0, mu), ("running_var", rv, _RV0, var)):
        expect_close(got, 0.8 * old + 0.2 * batch, f"bn_param['{key}'] after a training step", [
            ("batch norm running averages not updated in train mode: running = momentum * running + "
             "(1 - momentum) * batch statistic", old),
            ("momentum on the wrong term: running = momentum * running + (1 - momentum) * batch statistic "
             "(momentum weights the OLD value)", 0.2 * old + 0.8 * batch),
            ("running averages replaced by the batch statistics: keep momentum * running of the old value",
             batch),
            ("ignored bn_param['momentum'] (used 0.9 instead of the 0.8 passed)", 0.9 * old + 0.1 * batch),
        ] + ([("running_var updated with the standard deviation instead of the variance",
               0.8 * old + 0.2 * np.sqrt(batch)),
              ("running_var updated with the unbiased variance (ddof=1); use the biased one, as for normalizing",
               0.8 * old + 0.2 * _XB.var(axis=0, ddof=1))] if key == "running_var" else []))
    # 2. Train mode without running averages: they start at zeros and ones and are stored in bn_param.
    bn_param = {"mode": "train"}
    unpack(call(batchnorm_forward, _XB, _GAMMA, _BETA, bn_param), 2, "batchnorm_forward")
    missing = "when bn_param has no running averages, start from zeros (mean) and ones (var) and store them"
    expect_close(_running(bn_param, "running_mean", missing), 0.1 * mu,
                 "bn_param['running_mean'] after one step from zeros (default momentum 0.9)", [
                     ("momentum on the wrong term: running = momentum * running + (1 - momentum) * batch mean",
                      0.9 * mu)])
    expect_close(_running(bn_param, "running_var", missing), 0.9 + 0.1 * var,
                 "bn_param['running_var'] after one step from ones (default momentum 0.9)", [
                     ("running_var started from zeros: start it from ones", 0.1 * var),
                     ("momentum on the wrong term", 0.1 + 0.9 * var)])
    # 3. Test mode: the running averages, unchanged.
    bn_param = {"mode": "test", "running_mean": _RM0.copy(), "running_var": _RV0.copy()}
    out, _ = unpack(call(batchnorm_forward, _XB, _GAMMA, _BETA, bn_param), 2, "batchnorm_forward")
    expect_close(out, _bn(_XB, _RM0, _RV0), "batchnorm_forward output (test mode)", [
        ("batch norm using batch statistics at test time: normalize with bn_param['running_mean'] and "
         "bn_param['running_var'] in test mode", _bn(_XB, mu, var)),
        ("test mode forgot eps: divide by sqrt(running_var + eps)", _GAMMA * (_XB - _RM0) / np.sqrt(_RV0) + _BETA),
        ("test mode divided by the running variance instead of its square root",
         _GAMMA * (_XB - _RM0) / (_RV0 + _EPS) + _BETA),
    ])
    if not (np.allclose(bn_param.get("running_mean"), _RM0) and np.allclose(bn_param.get("running_var"), _RV0)):
        raise Mistake("test mode changed the running averages: only train mode updates them")
    # 4. float32 in, float32 out.
    out32, _ = unpack(call(batchnorm_forward, _XB.astype(np.float32), _GAMMA.astype(np.float32),
                           _BETA.astype(np.float32), {"mode": "train"}), 2, "batchnorm_forward")
    expect_dtype(out32, np.float32, "batchnorm_forward output")
    return "train and test modes correct, running averages updated with momentum, float32 kept"


def _bn_backward_expected(x_hat, gamma, inv_std, dout):
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma * inv_std / n * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def _bn_backward_compare(grads, x, gamma, dout, rows=None):
    """Compare (dx, dgamma, dbeta) with the reference, naming the usual mistakes. x and dout are 2-D (N, D);
    ``rows`` maps the student's dx, already checked to be shaped like the layer's input, to that layout (for the
    spatial version)."""
    to2 = rows or (lambda a: a)
    dx, dgamma, dbeta = grads
    n, d = x.shape
    mu, var = x.mean(axis=0), x.var(axis=0)
    inv_std = 1 / np.sqrt(var + _EPS)
    x_hat = (x - mu) * inv_std
    edx, edgamma, edbeta = _bn_backward_expected(x_hat, gamma, inv_std, dout)
    summed = "summed over the batch: gamma and beta act on every example, so their gradients add up"
    _expect_shape(dbeta, edbeta.shape, "dbeta", [((n, d), f"dbeta not {summed}")] if rows is None else [])
    _expect_shape(dgamma, edgamma.shape, "dgamma", [((n, d), f"dgamma not {summed}")] if rows is None else [])
    expect_close(dbeta, edbeta, "dbeta", [("dgamma and dbeta swapped: dbeta = sum(dout)", edgamma)])
    expect_close(dgamma, edgamma, "dgamma", [
        ("dgamma uses the raw x: dgamma = sum(dout * x_hat), with the NORMALIZED x", (dout * x).sum(axis=0)),
        ("dgamma and dbeta swapped: dgamma = sum(dout * x_hat)", edbeta),
    ])
    expect_close(to2(np.asarray(dx)), edx, "dx", [
        ("treated the batch mean and variance as constants (dx = dout * gamma / sqrt(var + eps)): in train mode "
         "they depend on every x, which adds the terms - sum(dout) - x_hat * sum(dout * x_hat)",
         dout * gamma * inv_std),
        ("dropped the gradient through the variance: dx = gamma / sqrt(var + eps) / N * "
         "(N * dout - sum(dout) - x_hat * sum(dout * x_hat))", gamma * inv_std * (dout - dout.mean(axis=0))),
        ("forgot gamma in dx", inv_std / n * (n * dout - edbeta - x_hat * edgamma)),
        ("used the unbiased variance (N - 1) somewhere; batch norm divides by N",
         gamma / np.sqrt(x.var(axis=0, ddof=1) + _EPS) / n * (n * dout - edbeta - x_hat * edgamma)),
    ])


@checker
def check_batchnorm_backward(batchnorm_forward, batchnorm_backward):
    """batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta), in train mode, with the cache of your forward."""
    out, cache = _forward_or_not_yet(batchnorm_forward, "batchnorm_forward", _XB, _GAMMA, _BETA, {"mode": "train"})
    if not np.allclose(out, _bn(_XB, _XB.mean(axis=0), _XB.var(axis=0))):
        raise Mistake("batchnorm_forward's train-mode output is not right yet: fix it first "
                      "(check_batchnorm_forward says how)")
    grads = unpack(call(batchnorm_backward, _DOUTB, cache), 3, "batchnorm_backward")
    _expect_shape(grads[0], _XB.shape, "dx")
    _bn_backward_compare(grads, _XB, _GAMMA, _DOUTB)
    return "dx, dgamma and dbeta correct, including the gradient through the batch mean and variance"


_XS = _rng.normal(size=(3, 4, 5, 2)) * np.array([1.0, 3.0, 0.5, 2.0]).reshape(1, 4, 1, 1) \
    + np.array([0.0, 5.0, -2.0, 1.0]).reshape(1, 4, 1, 1)
_DOUTS = _rng.normal(size=_XS.shape)


def _rows(x):
    n, c, h, w = x.shape
    return x.transpose(0, 2, 3, 1).reshape(-1, c)


def _unrows(r, shape):
    n, c, h, w = shape
    return r.reshape(n, h, w, c).transpose(0, 3, 1, 2)


@checker
def check_spatial_batchnorm_forward(spatial_batchnorm_forward):
    """spatial_batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache) for x of shape (N, C, H, W): one mean
    and variance per channel, over N, H and W."""
    c = _XS.shape[1]
    g, b = _GAMMA[:c], _BETA[:c]
    gb = dict(gamma=g.reshape(1, c, 1, 1), beta=b.reshape(1, c, 1, 1))
    bn_param = {"mode": "train"}
    out, _ = unpack(call(spatial_batchnorm_forward, _XS, g, b, bn_param), 2, "spatial_batchnorm_forward")
    axes = (0, 2, 3)
    mu, var = _XS.mean(axis=axes, keepdims=True), _XS.var(axis=axes, keepdims=True)
    flat = _XS.reshape(-1, c)  # the reshape without the transpose: rows mix channels
    expect_close(out, _bn(_XS, mu, var, **gb), "spatial_batchnorm_forward output (train mode)", [
        ("normalized each (channel, position) separately over N only: use one mean and variance per channel, "
         "over N, H and W (axes 0, 2, 3)",
         _bn(_XS, _XS.mean(axis=0, keepdims=True), _XS.var(axis=0, keepdims=True), **gb)),
        ("reshaped (N, C, H, W) straight to (N*H*W, C) without moving C last: transpose to (N, H, W, C) first",
         (g * (flat - flat.mean(0)) / np.sqrt(flat.var(0) + _EPS) + b).reshape(_XS.shape)),
        ("normalized over the channels of each position (axis 1) instead of over N, H and W",
         _bn(_XS, _XS.mean(axis=1, keepdims=True), _XS.var(axis=1, keepdims=True), **gb)),
    ])
    rm = _running(bn_param, "running_mean", "store the running averages, shape (C,), in bn_param")
    expect_close(rm, 0.1 * mu.ravel(), "bn_param['running_mean'] (one per channel)")
    bn_param = {"mode": "test", "running_mean": 0.5 * mu.ravel(), "running_var": 2 * var.ravel()}
    out, _ = unpack(call(spatial_batchnorm_forward, _XS, g, b, bn_param), 2, "spatial_batchnorm_forward")
    expect_close(out, _bn(_XS, 0.5 * mu, 2 * var, **gb), "spatial_batchnorm_forward output (test mode)", [
        ("batch norm using batch statistics at test time: use the running averages in test mode",
         _bn(_XS, mu, var, **gb)),
    ])
    return "one mean and variance per channel over N, H, W; train and test modes correct"


@checker
def check_spatial_batchnorm_backward(spatial_batchnorm_forward, spatial_batchnorm_backward):
    """spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta) for (N, C, H, W)."""
    c = _XS.shape[1]
    g, b = _GAMMA[:c], _BETA[:c]
    out, cache = _forward_or_not_yet(spatial_batchnorm_forward, "spatial_batchnorm_forward", _XS, g, b,
                                     {"mode": "train"})
    expected_out, _ = ref.spatial_batchnorm_forward(_XS, g, b, {"mode": "train"})
    if np.shape(out) != _XS.shape or not np.allclose(out, expected_out):
        raise Mistake("spatial_batchnorm_forward's train-mode output is not right yet: fix it first "
                      "(check_spatial_batchnorm_forward says how)")
    grads = unpack(call(spatial_batchnorm_backward, _DOUTS, cache), 3, "spatial_batchnorm_backward")
    n, _, h, w = _XS.shape
    _expect_shape(grads[0], _XS.shape, "dx", [((n * h * w, c), "dx left as (N*H*W, C): transpose it back to "
                                                               "(N, C, H, W)")])
    _expect_shape(grads[1], (c,), "dgamma", [((1, c, 1, 1), "dgamma kept the summed axes: return shape (C,)"),
                                             ((c, h, w), "dgamma summed over N only: sum over N, H and W")])
    _expect_shape(grads[2], (c,), "dbeta", [((1, c, 1, 1), "dbeta kept the summed axes: return shape (C,)"),
                                            ((c, h, w), "dbeta summed over N only: sum over N, H and W")])
    _bn_backward_compare(grads, _rows(_XS), g, _rows(_DOUTS), rows=_rows)
    return "dx, dgamma and dbeta correct for (N, C, H, W)"


# ----------------------------------------------------------------------------------------------------------------
# Dropout

_P = 0.3  # keep probability: far from 0.5 so that p and 1 - p are told apart
_XD = 1.0 + np.abs(_rng.normal(size=(400, 500)))  # positive, never zero: out / x recovers the mask
_XDS = 1.0 + np.abs(_rng.normal(size=(20, 30)))
_DOUTD = _rng.normal(size=_XDS.shape)


def _kept_fraction_and_scale(out, x, p, what):
    out = np.asarray(out)
    if out.shape != x.shape:
        raise Mistake(f"{what} has shape {out.shape}; expected x's shape {x.shape}")
    if not np.all(np.isfinite(out)):
        raise Mistake(f"{what} holds NaN or inf")
    kept = out != 0
    frac = kept.mean()
    if frac == 0:
        raise Mistake(f"{what} is all zeros: every unit was dropped (with p = {p}, about {p:.0%} should be kept)")
    ratio = out[kept] / x[kept]
    return frac, ratio


@checker
def check_dropout_forward(dropout_forward):
    """dropout_forward(x, dropout_param) -> (out, cache): inverted dropout with p = probability of KEEPING a unit;
    the kept fraction, the 1/p scaling, the seed, and the identity at test time."""
    param = {"p": _P, "mode": "train", "seed": 123}
    out, _ = unpack(call(dropout_forward, _XD, dict(param)), 2, "dropout_forward")
    frac, ratio = _kept_fraction_and_scale(out, _XD, _P, "dropout_forward output (train mode)")
    tol = 0.01  # the kept fraction of 200 000 units has a standard deviation of 0.001
    if frac > 1 - 1e-9:
        raise Mistake("dropout_forward kept every unit in train mode: drop each unit with probability 1 - p")
    if abs(frac - (1 - _P)) < tol:
        raise Mistake(f"dropout using p as the drop probability: kept {frac:.1%} of the units with p = {_P}. In this "
                      "course p is the probability of KEEPING a unit: mask = rng.random(x.shape) < p")
    if abs(frac - _P) >= tol:
        raise Mistake(f"kept {frac:.1%} of the units with p = {_P}; expected about {_P:.0%} "
                      "(keep where rng.random(x.shape) < p)")
    for scale, description in (
            (1.0, "dropout not rescaled by 1/p: inverted dropout divides the kept units by p at training time, "
                  "so that the expected output equals the input"),
            (_P, "kept units multiplied by p instead of divided by p"),
            (1 / (1 - _P), "kept units divided by 1 - p: p is the KEEP probability, divide by p"),
    ):
        if np.allclose(ratio, scale) and not np.allclose(ratio, 1 / _P):
            raise Mistake(f"likely mistake: {description}")
    if not np.allclose(ratio, 1 / _P):
        raise Mistake(f"the kept units should be x / p = x / {_P}; got out / x between {ratio.min():.4g} and "
                      f"{ratio.max():.4g}")
    again, _ = unpack(call(dropout_forward, _XD, dict(param)), 2, "dropout_forward")
    if not np.array_equal(np.asarray(again), np.asarray(out)):
        raise Mistake("two calls with the same dropout_param['seed'] dropped different units: draw the mask with "
                      "rng = np.random.default_rng(dropout_param.get('seed')), not the global np.random")
    test, _ = unpack(call(dropout_forward, _XD, {"p": _P, "mode": "test"}), 2, "dropout_forward")
    if np.shape(test) == _XD.shape and np.any(np.asarray(test) == 0):
        raise Mistake("dropout applied at test time: units were dropped in test mode; with inverted dropout test "
                      "time is the identity, out = x")
    expect_close(test, _XD, "dropout_forward output (test mode)", [
        ("dropout rescaled at test time: with inverted dropout the 1/p scaling is done in training, and test "
         "time is the identity", _XD * _P),
        ("dropout rescaled at test time: with inverted dropout test time is the identity", _XD / _P),
    ])
    full, _ = unpack(call(dropout_forward, _XDS, {"p": 1.0, "mode": "train", "seed": 0}), 2, "dropout_forward")
    expect_close(full, _XDS, "dropout_forward output with p = 1 (keep everything)")
    out32, _ = unpack(call(dropout_forward, _XDS.astype(np.float32), {"p": 0.5, "mode": "train", "seed": 0}),
                      2, "dropout_forward")
    expect_dtype(out32, np.float32, "dropout_forward output")
    return (f"kept {frac:.1%} with p = {_P}, scaled by 1/p, reproducible with a seed, identity at test time")


@checker
def check_dropout_backward(dropout_forward, dropout_backward):
    """dropout_backward(dout, cache) -> dx: the forward's mask (including 1/p) in train mode, dout at test time."""
    out, cache = _forward_or_not_yet(dropout_forward, "dropout_forward", _XDS, {"p": 0.5, "mode": "train", "seed": 1})
    mask = np.asarray(out) / _XDS  # the mask the forward applied, 1/p included
    dx = call(dropout_backward, _DOUTD, cache)
    if isinstance(dx, tuple):
        raise Mistake("dropout_backward must return dx alone, not a tuple")
    expect_close(dx, _DOUTD * mask, "dropout_backward dx (train mode)", [
        ("dx not rescaled by 1/p: the backward multiplies by the same mask as the forward, 1/p included",
         _DOUTD * (mask != 0)),
        ("dx = dout: the mask was ignored; dropped units get no gradient", _DOUTD),
        ("forgot to multiply by dout: dx = dout * mask", mask),
    ])
    _, cache = _forward_or_not_yet(dropout_forward, "dropout_forward", _XDS, {"p": 0.5, "mode": "test"})
    dx = call(dropout_backward, _DOUTD, cache)
    expect_close(dx, _DOUTD, "dropout_backward dx (test mode)", [
        ("dropout rescaled at test time: in test mode the layer is the identity, so dx = dout", _DOUTD * 0.5),
        ("dropout rescaled at test time: in test mode the layer is the identity, so dx = dout", _DOUTD / 0.5),
    ])
    return "train-mode mask (with 1/p) and test-mode identity both correct"


__all__ = sorted(name for name in dir() if name.startswith("check_"))
