"""Checks for the layers labs: affine, batch normalization (plain and spatial) and inverted dropout.

Each check runs the student's functions on fixed inputs, compares with :mod:`course.layers` and, on a mismatch,
names the common mistake that the output matches.
"""
from __future__ import annotations

import numpy as np

from course.checks._harness import (Mistake, NotYet, call, call_float32, checker, expect_close, expect_dtype,
                                    expect_shape, unpack)

_rng = np.random.default_rng(2024)


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
_WRONG_ORDER = "flattened x in the wrong order: {} mixes the examples; x.reshape(N, -1) keeps one example per row"


def _affine_mistakes(x):
    """What the common affine_forward mistakes give for x, 2-D or (N, d_1, d_2)."""
    n = x.shape[0]
    flat = x.reshape(n, -1)
    return [
        ("forgot the bias b", flat @ _WA),
        ("subtracted the bias instead of adding it", flat @ _WA - _BA),
        (_WRONG_ORDER.format("x.reshape(D, N).T"), x.reshape(-1, n).T @ _WA + _BA),
        (_WRONG_ORDER.format("x.T.reshape(N, -1)"), x.T.reshape(n, -1) @ _WA + _BA),
    ]


@checker
def check_affine_forward(affine_forward):
    """affine_forward(x, w, b) -> (out, cache), for 2-D x and for x of shape (N, d_1, d_2) that must be flattened."""
    out, _ = unpack(call(affine_forward, _XA2, _WA, _BA), 2, "affine_forward")
    expect_close(out, _XA2 @ _WA + _BA, "affine_forward output (2-D x)", _affine_mistakes(_XA2))
    n = _XA.shape[0]
    try:
        out, _ = unpack(call(affine_forward, _XA, _WA, _BA), 2, "affine_forward")
    except (ValueError, IndexError) as exc:
        raise Mistake(f"works for 2-D x but fails for x of shape {_XA.shape}: flatten x to (N, D) with "
                      f"x.reshape(x.shape[0], -1) before the product (it raised {type(exc).__name__}: {exc})") from None
    expect_close(out, _XA.reshape(n, -1) @ _WA + _BA, f"affine_forward output (x of shape {_XA.shape})",
                 _affine_mistakes(_XA))
    out32, _ = unpack(call_float32(affine_forward, _XA, _WA, _BA), 2, "affine_forward")
    expect_dtype(out32, np.float32, "affine_forward output")
    return "correct for 2-D and 3-D x, and float32 stays float32"


@checker
def check_affine_backward(affine_forward, affine_backward):
    """affine_backward(dout, cache) -> (dx, dw, db), with x of shape (N, d_1, d_2)."""
    _, cache = _forward_or_not_yet(affine_forward, "affine_forward", _XA, _WA, _BA)
    dx, dw, db = unpack(call(affine_backward, _DOUTA, cache), 3, "affine_backward")
    n, (d, m) = _XA.shape[0], _WA.shape
    x2 = _XA.reshape(n, -1)
    dx = expect_shape(dx, _XA.shape, "affine_backward dx", [
        (f"affine backward missing the reshape to x's shape: dx = dout @ w.T has shape (N, D) = ({n}, {d}); "
         f"return dx.reshape(x.shape), here {_XA.shape}", (n, d)),
    ])
    expect_close(dx, (_DOUTA @ _WA.T).reshape(_XA.shape), "affine_backward dx", [
        ("dx divided by N: the 1/N belongs in the loss, not in each layer's backward",
         (_DOUTA @ _WA.T).reshape(_XA.shape) / n),
        ("dx computed as w @ dout.T, which is (D, N): reshaping it to x's shape scrambles the examples; "
         "dx = (dout @ w.T).reshape(x.shape)", (_WA @ _DOUTA.T).reshape(_XA.shape)),
    ])
    dw = expect_shape(dw, (d, m), "affine_backward dw", [
        (f"dw is transposed: dw = x.reshape(N, D).T @ dout has w's shape (D, M) = ({d}, {m})", (m, d)),
    ])
    expect_close(dw, x2.T @ _DOUTA, "affine_backward dw", [
        ("dw divided by N: the 1/N belongs in the loss, not in each layer's backward", x2.T @ _DOUTA / n),
        ("flattened x in the wrong order: x.reshape(D, N) has the shape of the transpose but not its values; "
         "dw = x.reshape(N, -1).T @ dout", _XA.reshape(d, n) @ _DOUTA),
        ("flattened x in the wrong order: x.T.reshape(D, N) reads each example's axes backwards; "
         "dw = x.reshape(N, -1).T @ dout", _XA.T.reshape(d, n) @ _DOUTA),
    ])
    db = expect_shape(db, (m,), "affine_backward db", [
        ("db not summed over the batch: b is added to every example, so db = dout.sum(axis=0), shape (M,)", (n, m)),
        ("db summed over the wrong axis: sum over the examples, db = dout.sum(axis=0)", (n,)),
        ("db kept a batch axis: use dout.sum(axis=0), shape (M,), without keepdims", (1, m)),
    ])
    expect_close(db, _DOUTA.sum(axis=0), "affine_backward db", [
        ("db averaged over the batch instead of summed: db = dout.sum(axis=0)", _DOUTA.mean(axis=0)),
    ])
    return "dx (reshaped to x's shape), dw and db all correct"


# ----------------------------------------------------------------------------------------------------------------
# Batch normalization, plain (x of shape (N, D), statistics over axis 0) and spatial (x of shape (N, C, H, W),
# statistics per channel over axes 0, 2, 3): one set of helpers serves both, told apart by x.ndim.

# Features with different means and scales, one with a tiny variance, so that a forgotten or ignored eps shows.
_XB = _rng.normal(size=(10, 4)) * np.array([2.0, 0.5, 0.003, 5.0]) + np.array([3.0, -1.0, 0.5, 10.0])
_GAMMA = np.array([1.5, 0.5, 2.0, -1.0])
_BETA = np.array([0.2, -0.3, 1.0, 0.0])
_DOUTB = _rng.normal(size=_XB.shape)
_XS = _rng.normal(size=(3, 4, 5, 2)) * np.array([1.0, 3.0, 0.5, 2.0]).reshape(1, 4, 1, 1) \
    + np.array([0.0, 5.0, -2.0, 1.0]).reshape(1, 4, 1, 1)
_DOUTS = _rng.normal(size=_XS.shape)
_RM0 = np.array([1.0, 0.5, -0.2, 4.0])
_RV0 = np.array([2.0, 0.3, 0.5, 30.0])
_EPS, _OTHER_EPS = 1e-5, 1e-3  # the default, and the eps passed once in each mode (an ignored eps shows)
_MOMENTUM, _DEFAULT_MOMENTUM = 0.8, 0.9


def _b(v, x):
    """A per-feature vector, (D,) or (C,), shaped to broadcast over x; other arrays as they are."""
    return v.reshape(1, -1, 1, 1) if x.ndim == 4 and np.ndim(v) == 1 else v


def _stats(x, ddof=0):
    """Batch mean and variance per feature (2-D x) or per channel (4-D x)."""
    axes = (0,) if x.ndim == 2 else (0, 2, 3)
    return x.mean(axis=axes), x.var(axis=axes, ddof=ddof)


def _bn(x, mu, var, gamma=_GAMMA, beta=_BETA, eps=_EPS):
    return _b(gamma, x) * (x - _b(mu, x)) / np.sqrt(_b(var, x) + eps) + _b(beta, x)


def _rows(x):
    """(N, C, H, W) -> (N*H*W, C): one row per (example, position); 2-D x as it is."""
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1]) if x.ndim == 4 else x


_EPS_OUTSIDE = ("eps outside the square root: divide by sqrt({0} + eps), not sqrt({0}) + eps (eps belongs under the "
                "root, where it keeps a feature of variance 0 finite)")


def _eps_outside(x, mu, var, eps=_EPS):
    """The output when eps is added to the standard deviation instead of the variance."""
    return _b(_GAMMA, x) * (x - _b(mu, x)) / (np.sqrt(_b(var, x)) + eps) + _b(_BETA, x)


def _train_mistakes(x):
    mu, var = _stats(x)
    scale, shift, centred = _b(_GAMMA, x), _b(_BETA, x), x - _b(mu, x)
    return [
        ("used the unbiased variance (ddof=1): batch norm divides by N (Algorithm 1 of Ioffe & Szegedy)",
         _bn(x, mu, _stats(x, ddof=1)[1])),
        ("forgot eps: divide by sqrt(var + eps)", _bn(x, mu, var, eps=0)),
        (_EPS_OUTSIDE.format("var"), _eps_outside(x, mu, var)),
        ("divided by the variance instead of the standard deviation sqrt(var + eps)",
         scale * centred / (_b(var, x) + _EPS) + shift),
        ("divided by the mean: batch norm subtracts the mean and divides by the standard deviation",
         scale * centred / _b(mu, x) + shift),
        ("gamma and beta swapped: out = gamma * x_hat + beta", _bn(x, mu, var, _BETA, _GAMMA)),
    ]


def _test_mistakes(x):
    mu, var = _stats(x)
    return [
        ("batch norm using batch statistics at test time: normalize with bn_param['running_mean'] and "
         "bn_param['running_var'] in test mode", _bn(x, mu, var)),
        ("test mode forgot eps: divide by sqrt(running_var + eps)", _bn(x, _RM0, _RV0, eps=0)),
        ("test mode " + _EPS_OUTSIDE.format("running_var"), _eps_outside(x, _RM0, _RV0)),
        ("test mode divided by the running variance instead of its square root",
         _b(_GAMMA, x) * (x - _b(_RM0, x)) / _b(_RV0 + _EPS, x) + _b(_BETA, x)),
    ]


def _running(bn_param, key, when):
    value = bn_param.get(key) if isinstance(bn_param, dict) else None
    if value is None:
        raise Mistake(f"bn_param['{key}'] is missing {when}: store the running averages in bn_param (and update "
                      "them in place)")
    return value


def _expect_running(bn_param, batches, start, momentum, when):
    """bn_param's running averages after train steps on ``batches`` from ``start`` = (mean, var) with ``momentum``,
    naming the usual mistakes."""
    stats = [_stats(batch) for batch in batches]
    for i, key in enumerate(("running_mean", "running_var")):
        series, begin = [s[i] for s in stats], np.broadcast_to(start[i], stats[0][i].shape)

        def averaged(values=series, first=begin, m=momentum):
            running = first
            for value in values:
                running = m * running + (1 - m) * value
            return running

        mistakes = [
            ("batch norm running averages not updated in train mode: running = momentum * running + "
             "(1 - momentum) * batch statistic", begin),
            ("momentum on the wrong term: running = momentum * running + (1 - momentum) * batch statistic "
             "(momentum weights the OLD value)", averaged(m=1 - momentum)),
            ("running averages replaced by the batch statistics: keep momentum * running of the old value",
             series[-1]),
            (f"ignored bn_param['momentum'] (used the default {_DEFAULT_MOMENTUM} instead of the {momentum} passed)",
             averaged(m=_DEFAULT_MOMENTUM)),
            ("running averages not carried from one step to the next: each step started again from the first "
             "values; update bn_param's arrays in place (or store the new ones back in bn_param)",
             averaged(values=series[-1:])),
        ]
        if key == "running_var":
            mistakes += [
                ("running_var updated with the standard deviation instead of the variance",
                 averaged(values=np.sqrt(series))),
                ("running_var updated with the unbiased variance (ddof=1); use the biased one, as for normalizing",
                 averaged(values=[_stats(batch, ddof=1)[1] for batch in batches])),
                ("running_var started from zeros: when bn_param has none, start it from ones",
                 averaged(first=np.zeros_like(begin))),
            ]
        expect_close(_running(bn_param, key, when), averaged(), f"bn_param['{key}'] {when}",
                     [(f"bn_param['{key}'] {when}: {description}", wrong) for description, wrong in mistakes])


def _check_bn_forward(forward, name, x, layout_mistakes):
    """Train mode (output, running averages after one and after three steps, and from an empty bn_param), test
    mode (running averages used and left unchanged), float32 kept."""
    mu, var = _stats(x)
    bn_param = {"mode": "train", "momentum": _MOMENTUM,
                "running_mean": _RM0.copy(), "running_var": _RV0.copy()}
    out, _ = unpack(call(forward, x, _GAMMA, _BETA, bn_param), 2, name)
    expect_close(out, _bn(x, mu, var), f"{name} output (train mode)", _train_mistakes(x) + layout_mistakes)
    _expect_running(bn_param, [x], (_RM0, _RV0), _MOMENTUM, "after a training step")
    batches = [x, 0.5 * x[::-1] + 1.0, 2.0 * x - 3.0]  # three batches with different statistics
    for batch in batches[1:]:
        unpack(call(forward, batch, _GAMMA, _BETA, bn_param), 2, name)
    _expect_running(bn_param, batches, (_RM0, _RV0), _MOMENTUM, "after three training steps")
    bn_param = {"mode": "train"}
    unpack(call(forward, x, _GAMMA, _BETA, bn_param), 2, name)
    _expect_running(bn_param, [x], (0.0, 1.0), _DEFAULT_MOMENTUM,
                    "after one step from an empty bn_param (start from zeros and ones; default momentum 0.9)")
    bn_param = {"mode": "test", "running_mean": _RM0.copy(), "running_var": _RV0.copy()}
    out, _ = unpack(call(forward, x, _GAMMA, _BETA, bn_param), 2, name)
    expect_close(out, _bn(x, _RM0, _RV0), f"{name} output (test mode)", _test_mistakes(x))
    if not (np.allclose(bn_param.get("running_mean"), _RM0) and np.allclose(bn_param.get("running_var"), _RV0)):
        raise Mistake("test mode changed the running averages: only train mode updates them")
    for mode, running, (m, v) in (("train", {}, (mu, var)),
                                  ("test", {"running_mean": _RM0.copy(), "running_var": _RV0.copy()}, (_RM0, _RV0))):
        out, _ = unpack(call(forward, x, _GAMMA, _BETA, {"mode": mode, "eps": _OTHER_EPS, **running}), 2, name)
        expect_close(out, _bn(x, m, v, eps=_OTHER_EPS), f"{name} output ({mode} mode, eps = {_OTHER_EPS:g})", [
            (f"ignored bn_param['eps'] (used the default {_EPS:g} instead of the {_OTHER_EPS:g} passed): read eps "
             "from bn_param", _bn(x, m, v)),
            (_EPS_OUTSIDE.format("var" if mode == "train" else "running_var"), _eps_outside(x, m, v, _OTHER_EPS))])
    out32, _ = unpack(call_float32(forward, x, _GAMMA, _BETA, {"mode": "train"}), 2, name)
    expect_dtype(out32, np.float32, f"{name} output")


@checker
def check_batchnorm_forward(batchnorm_forward):
    """batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache): train mode (batch statistics, bn_param's eps
    and momentum, the running averages), test mode (running averages only) and the creation of missing running
    averages."""
    _check_bn_forward(batchnorm_forward, "batchnorm_forward", _XB, [
        ("normalized each example (row) instead of each feature (column): take the mean over axis 0",
         _bn(_XB, _XB.mean(axis=1, keepdims=True), _XB.var(axis=1, keepdims=True))),
    ])
    return "train and test modes correct, running averages updated with momentum, float32 kept"


@checker
def check_spatial_batchnorm_forward(spatial_batchnorm_forward):
    """spatial_batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache) for x of shape (N, C, H, W): one mean
    and variance per channel, over N, H and W; running averages of shape (C,)."""
    flat = _XS.reshape(-1, _XS.shape[1])  # the reshape without the transpose: rows mix channels
    _check_bn_forward(spatial_batchnorm_forward, "spatial_batchnorm_forward", _XS, [
        ("normalized each (channel, position) separately over N only: use one mean and variance per channel, "
         "over N, H and W (axes 0, 2, 3)", _bn(_XS, _XS.mean(axis=0, keepdims=True), _XS.var(axis=0, keepdims=True))),
        ("reshaped (N, C, H, W) straight to (N*H*W, C) without moving C last: transpose to (N, H, W, C) first",
         _bn(flat, flat.mean(axis=0), flat.var(axis=0)).reshape(_XS.shape)),
        ("normalized over the channels of each position (axis 1) instead of over N, H and W",
         _bn(_XS, _XS.mean(axis=1, keepdims=True), _XS.var(axis=1, keepdims=True))),
    ])
    return "one mean and variance per channel over N, H, W; train and test modes and running averages correct"


def _bn_backward_compare(grads, x, dout, running=None):
    """Compare (dx, dgamma, dbeta), already checked for shape, with the reference in train mode (``running``
    None) or test mode (``running`` = (mean, var)), naming the usual mistakes."""
    dx, dgamma, dbeta = grads
    x, dout, dx = _rows(x), _rows(dout), _rows(dx)
    n = x.shape[0]
    mu, var = running or _stats(x)
    inv_std = 1 / np.sqrt(var + _EPS)
    x_hat = (x - mu) * inv_std
    edbeta, edgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    through_stats = _GAMMA * inv_std / n * (n * dout - edbeta - x_hat * edgamma)  # train mode
    constant_stats = dout * _GAMMA * inv_std  # test mode
    expect_close(dbeta, edbeta, "dbeta", [("dgamma and dbeta swapped: dbeta = sum(dout)", edgamma)])
    expect_close(dgamma, edgamma, "dgamma", [
        ("dgamma uses the raw x: dgamma = sum(dout * x_hat), with the NORMALIZED x", (dout * x).sum(axis=0)),
        ("dgamma and dbeta swapped: dgamma = sum(dout * x_hat)", edbeta),
    ])
    if running is None:
        expect_close(dx, through_stats, "dx", [
            ("treated the batch mean and variance as constants (dx = dout * gamma / sqrt(var + eps)): in train "
             "mode they depend on every x, which adds the terms - sum(dout) - x_hat * sum(dout * x_hat)",
             constant_stats),
            ("dropped the gradient through the variance: dx = gamma / sqrt(var + eps) / N * "
             "(N * dout - sum(dout) - x_hat * sum(dout * x_hat))", _GAMMA * inv_std * (dout - dout.mean(axis=0))),
            ("dropped the gradient through the mean: the batch mean depends on every x too, which adds the term "
             "- sum(dout) / N (times gamma / sqrt(var + eps))", _GAMMA * inv_std * (dout - x_hat * edgamma / n)),
            ("the mean's term misses its 1/N: mu = sum(x) / N, so d mu / d x_i = 1/N",
             _GAMMA * inv_std * (dout - edbeta - x_hat * edgamma / n)),
            ("the variance's term misses its 1/N: var = sum((x - mu)^2) / N, so each x_i gets 1/N of it",
             _GAMMA * inv_std * (dout - edbeta / n - x_hat * edgamma)),
            ("forgot gamma in dx", inv_std / n * (n * dout - edbeta - x_hat * edgamma)),
            ("used the unbiased variance (N - 1) somewhere; batch norm divides by N",
             _GAMMA / np.sqrt(x.var(axis=0, ddof=1) + _EPS) / n * (n * dout - edbeta - x_hat * edgamma)),
        ])
        return
    batch_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + _EPS)
    expect_close(dx, constant_stats, "dx (test mode)", [
        ("used the train-mode formula in test mode: there the running averages are constants, so "
         "dx = dout * gamma / sqrt(running_var + eps)", through_stats),
        ("used the batch statistics in the test-mode backward: the forward normalized with the running "
         "averages, constants, so dx = dout * gamma / sqrt(running_var + eps)",
         _GAMMA / np.sqrt(x.var(axis=0) + _EPS) / n * (n * dout - edbeta - batch_hat * (dout * batch_hat).sum(0))),
    ])


def _check_bn_backward(forward, backward, name, x, dout, shape_mistakes):
    """Train mode, then test mode: the output of ``forward`` (the student's ``name``) must be right first, then
    (dx, dgamma, dbeta)."""
    for mode, extra, (mu, var) in (("train", {}, _stats(x)),
                                   ("test", {"running_mean": _RM0.copy(), "running_var": _RV0.copy()}, (_RM0, _RV0))):
        out, cache = _forward_or_not_yet(forward, name, x, _GAMMA, _BETA, {"mode": mode, **extra})
        if np.shape(out) != x.shape or not np.allclose(out, _bn(x, mu, var)):
            raise Mistake(f"{name}'s {mode}-mode output is not right yet: fix it first (check_{name} says how)")
        grads = unpack(call(backward, dout, cache), 3, name.replace("forward", "backward"))
        grads = [expect_shape(g, shape, f"{what} ({mode} mode)", shape_mistakes.get(what, ()))
                 for g, what, shape in zip(grads, ("dx", "dgamma", "dbeta"), (x.shape, _GAMMA.shape, _GAMMA.shape))]
        _bn_backward_compare(grads, x, dout, None if mode == "train" else (_RM0, _RV0))


_SUMMED = "summed over the batch: gamma and beta act on every example, so their gradients add up"


@checker
def check_batchnorm_backward(batchnorm_forward, batchnorm_backward):
    """batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta) with the cache of your forward, in train mode (the
    gradient through the batch statistics) and in test mode (running averages: constants)."""
    _check_bn_backward(batchnorm_forward, batchnorm_backward, "batchnorm_forward", _XB, _DOUTB, {
        "dgamma": [(f"dgamma not {_SUMMED}", _XB.shape)], "dbeta": [(f"dbeta not {_SUMMED}", _XB.shape)]})
    return "dx, dgamma and dbeta correct, including the gradient through the batch mean and variance, and test mode"


@checker
def check_spatial_batchnorm_backward(spatial_batchnorm_forward, spatial_batchnorm_backward):
    """spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta) for (N, C, H, W), train and test mode."""
    n, c, h, w = _XS.shape
    per_channel = [("{} kept the summed axes: return shape (C,)", (1, c, 1, 1)),
                   ("{} summed over N only: sum over N, H and W", (c, h, w))]
    _check_bn_backward(spatial_batchnorm_forward, spatial_batchnorm_backward, "spatial_batchnorm_forward", _XS,
                       _DOUTS, {
        "dx": [("dx left as (N*H*W, C): transpose it back to (N, C, H, W)", (n * h * w, c))],
        "dgamma": [(d.format("dgamma"), shape) for d, shape in per_channel],
        "dbeta": [(d.format("dbeta"), shape) for d, shape in per_channel]})
    return "dx, dgamma and dbeta correct for (N, C, H, W), in train and test mode"


# ----------------------------------------------------------------------------------------------------------------
# Dropout

_P = 0.3  # keep probability: far from 0.5 so that p and 1 - p are told apart
_XD = 1.0 + np.abs(_rng.normal(size=(400, 500)))  # positive, never zero: out / x recovers the mask
_XDS = 1.0 + np.abs(_rng.normal(size=(20, 30)))
_DOUTD = _rng.normal(size=_XDS.shape)
_FROM_RNG = ("when dropout_param has an 'rng' (a numpy Generator, as the models pass), draw the mask from it: "
             "mask = rng.random(x.shape) < p")


def _dropout_out(dropout_forward, x, param, what):
    """The student's output for ``param``: an array shaped like x, of x's dtype, finite."""
    out, _ = unpack(call(dropout_forward, x, param), 2, "dropout_forward")
    out = expect_shape(out, x.shape, what)
    expect_dtype(out, x.dtype, what)
    if not np.all(np.isfinite(out)):
        raise Mistake(f"{what} holds NaN or inf")
    return out


def _expect_inverted_mask(out, x, p, what):
    """out = x * mask / p with an independent keep/drop draw per unit and a kept fraction about p; returns the
    kept fraction."""
    kept = out != 0
    frac = kept.mean()
    if frac == 0:
        raise Mistake(f"{what} is all zeros: every unit was dropped (with p = {p}, about {p:.0%} should be kept)")
    if frac == 1:
        raise Mistake("dropout_forward kept every unit in train mode: drop each unit with probability 1 - p")
    if np.all(kept == kept[0]):
        raise Mistake("one mask shared by every example of the batch (each feature kept or dropped for all rows "
                      "at once): draw a mask of x's full shape, rng.random(x.shape) < p, so each example drops its "
                      "own units")
    if np.all(kept == kept[:, :1]):
        raise Mistake("one keep/drop decision per example (whole rows kept or dropped): draw one per unit, "
                      "rng.random(x.shape) < p")
    tol = 0.01  # the kept fraction of 200 000 units has a standard deviation of 0.001
    if abs(frac - (1 - p)) < tol:
        raise Mistake(f"dropout using p as the drop probability: kept {frac:.1%} of the units with p = {p}. In this "
                      "course p is the probability of KEEPING a unit: mask = rng.random(x.shape) < p")
    if abs(frac - p) >= tol:
        raise Mistake(f"kept {frac:.1%} of the units with p = {p}; expected about {p:.0%} "
                      "(keep where rng.random(x.shape) < p)")
    ratio = out[kept] / x[kept]
    for scale, description in (
            (1.0, "dropout not rescaled by 1/p: inverted dropout divides the kept units by p at training time, "
                  "so that the expected output equals the input"),
            (p, "kept units multiplied by p instead of divided by p"),
            (1 / (1 - p), "kept units divided by 1 - p: p is the KEEP probability, divide by p"),
    ):
        if np.allclose(ratio, scale) and not np.allclose(ratio, 1 / p):
            raise Mistake(f"likely mistake: {description}")
    if not np.allclose(ratio, 1 / p):
        raise Mistake(f"the kept units should be x / p = x / {p}; got out / x between {ratio.min():.4g} and "
                      f"{ratio.max():.4g}")
    return frac


@checker
def check_dropout_forward(dropout_forward):
    """dropout_forward(x, dropout_param) -> (out, cache): inverted dropout with p = probability of KEEPING a unit;
    an independent draw per unit, the kept fraction, the 1/p scaling, the seed (same seed, same mask; another seed,
    another mask), the rng (a fresh mask on every call, reproducible), and the identity at test time."""
    def train(param, x=_XD):
        return _dropout_out(dropout_forward, x, {"p": _P, "mode": "train", **param}, "dropout_forward output "
                            "(train mode)")

    out = train({"seed": 123})
    try:
        frac = _expect_inverted_mask(out, _XD, _P, "dropout_forward output (train mode)")
    except Mistake as mistake:
        test, _ = unpack(call(dropout_forward, _XD, {"p": _P, "mode": "test"}), 2, "dropout_forward")
        if "not rescaled by 1/p" in str(mistake) and np.shape(test) == _XD.shape and np.allclose(test, _XD * _P):
            raise Mistake("vanilla dropout: no scaling in training and the outputs multiplied by p at test time. It "
                          "agrees in expectation, but this course uses inverted dropout: divide the kept units by p "
                          "at training time and leave test time alone (out = x), so that the test-time network "
                          "needs no change") from None
        raise
    if not np.array_equal(train({"seed": 123}), out):
        raise Mistake("two calls with the same dropout_param['seed'] dropped different units: draw the mask with "
                      "rng = np.random.default_rng(dropout_param.get('seed')), not the global np.random")
    if np.array_equal(train({"seed": 124}) != 0, out != 0):
        raise Mistake("dropout_param['seed'] ignored: seeds 123 and 124 dropped the same units; draw the mask with "
                      "rng = np.random.default_rng(dropout_param['seed'])")
    param = {"rng": np.random.default_rng(7)}
    first, second = train(param), train(param)
    _expect_inverted_mask(second, _XD, _P, "dropout_forward output (train mode, drawn from dropout_param['rng'])")
    if np.array_equal(first != 0, second != 0):
        raise Mistake("two successive calls with the same dropout_param['rng'] dropped the same units, so every "
                      f"training step would drop the same ones: {_FROM_RNG} (it advances with each call)")
    if not np.array_equal(train({"rng": np.random.default_rng(7)}), first):
        raise Mistake(f"dropout_param['rng'] ignored: two Generators seeded alike gave different masks; {_FROM_RNG}")
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
    out32, _ = unpack(call_float32(dropout_forward, _XDS, {"p": 0.5, "mode": "train", "seed": 0}), 2,
                      "dropout_forward")
    expect_dtype(out32, np.float32, "dropout_forward output")
    return (f"kept {frac:.1%} with p = {_P}, one draw per unit, scaled by 1/p, reproducible with a seed, a fresh "
            "mask per call with an rng, identity at test time")


@checker
def check_dropout_backward(dropout_forward, dropout_backward):
    """dropout_backward(dout, cache) -> dx: the forward's own mask (including 1/p) in train mode, whether the mask
    came from a seed or an rng, and dout at test time."""
    for source in ({"seed": 1}, {"rng": np.random.default_rng(5)}):
        out, cache = _forward_or_not_yet(dropout_forward, "dropout_forward", _XDS,
                                         {"p": 0.5, "mode": "train", **source})
        mask = np.asarray(out) / _XDS  # the mask the forward applied, 1/p included
        dx = call(dropout_backward, _DOUTD, cache)
        if isinstance(dx, tuple):
            raise Mistake("dropout_backward must return dx alone, not a tuple")
        dx = expect_shape(dx, _XDS.shape, "dropout_backward dx")
        redrawn = np.isclose(dx, 0) | np.isclose(dx, 2 * _DOUTD)
        if np.all(redrawn) and np.any(dx != 0) and not np.array_equal(dx != 0, mask != 0):
            raise Mistake("dropout_backward used another mask than the forward: keep the forward's mask in the "
                          "cache and multiply dout by it (a mask drawn again, even from the same seed, is not the "
                          "one a forward given an rng used)")
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
    return "train-mode mask (the forward's own, with 1/p) and test-mode identity both correct"


__all__ = sorted(name for name in dir() if name.startswith("check_"))
