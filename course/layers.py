"""Layers as forward/backward pairs: affine (fully connected), batch normalization (plain and spatial) and
inverted dropout.

Every forward returns ``(out, cache)``; every backward takes the upstream gradient ``dout`` (shaped like
``out``) and that cache. Float dtypes are preserved (float32 in, float32 out); integers become float64.

Batch normalization (Ioffe & Szegedy, 2015) normalizes each feature by the mean and the standard deviation
(the square root of the variance plus eps) of the mini-batch: it does not "divide by the mean", as some notes
say. At test time it uses running averages gathered during training instead of the batch's statistics, so a
prediction does not depend on the other examples in its batch.

Dropout here is *inverted* dropout, as in the lecture notes: ``p`` is the probability of KEEPING a unit, the
kept units are divided by ``p`` at training time, and the layer is the identity at test time.
"""
from __future__ import annotations

import numbers
from collections.abc import MutableMapping

import numpy as np

from course._numeric import moments
from course._validate import as_float_array, check_cache, check_dout, check_in_range, check_ndim, check_scalar

_MODES = ("train", "test")


def _check_param_dict(param, name):
    if not isinstance(param, MutableMapping):
        raise TypeError(f"{name} must be a dict; got {type(param).__name__}")


def _check_mode(param, name):
    if "mode" not in param:
        raise ValueError(f"{name} must have a 'mode' key, 'train' or 'test'; got keys {sorted(param)}")
    mode = param["mode"]
    if mode not in _MODES:
        raise ValueError(f"{name}['mode'] must be 'train' or 'test'; got {mode!r}")
    return mode


# ----------------------------------------------------------------------------------------------------------------
# Affine


def affine_forward(x, w, b):
    """Affine (fully connected) layer: out = x.reshape(N, D) @ w + b.

    Inputs:
    - x: (N, d_1, ..., d_k), flattened to (N, D) with D = d_1 * ... * d_k (k >= 1)
    - w: (D, M)
    - b: (M,)

    Returns (out, cache): out of shape (N, M), cache = (x, w, b).
    """
    x, w, b = as_float_array(x, "x"), as_float_array(w, "w"), as_float_array(b, "b")
    if x.ndim < 2:
        raise ValueError(f"x must have shape (N, d_1, ..., d_k), at least 2-D with one row per example; got shape "
                         f"{x.shape}" + (" (for a single example use x[None])" if x.ndim == 1 else ""))
    n = x.shape[0]
    d = int(np.prod(x.shape[1:], dtype=np.int64))
    if w.ndim != 2 or w.shape[0] != d:
        raise ValueError(f"w must have shape (D, M) with D = {d} (x of shape {x.shape} flattens to ({n}, {d})); "
                         f"got w of shape {w.shape}")
    if b.shape != (w.shape[1],):
        raise ValueError(f"b must have shape (M,) = ({w.shape[1]},); got {b.shape}")
    out = x.reshape(n, d) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    """Backward pass of :func:`affine_forward`.

    Inputs:
    - dout: (N, M) upstream gradient
    - cache: (x, w, b) from the forward pass

    Returns (dx, dw, db):
    - dx = dout @ w.T, reshaped back to x's shape (N, d_1, ..., d_k)
    - dw = x.reshape(N, D).T @ dout, shape (D, M)
    - db = dout summed over the batch, shape (M,): b is added to every example, so every example's gradient counts
    """
    x, w, b = check_cache(cache, 3, "affine_forward")
    dout = as_float_array(dout, "dout")
    if dout.shape != (x.shape[0], w.shape[1]):
        raise ValueError(f"dout must have shape (N, M) = ({x.shape[0]}, {w.shape[1]}); got {dout.shape}")
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x2.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


# ----------------------------------------------------------------------------------------------------------------
# Batch normalization


def _running_stat(bn_param, key, d, fill, dtype):
    """bn_param[key] as a float array of shape (D,), created (filled with ``fill``) and stored when absent."""
    value = bn_param.get(key)
    if value is None:
        value = np.full(d, fill, dtype=dtype)
        bn_param[key] = value
        return value
    if not (isinstance(value, np.ndarray) and value.dtype.kind == "f"):
        value = as_float_array(value, f"bn_param['{key}']")  # a list or an int array: a new float array
        if value.shape == (d,):
            bn_param[key] = value  # store the array we will update in place
    if value.shape != (d,):
        raise ValueError(f"bn_param['{key}'] must have shape (D,) = ({d},), one value per feature; got {value.shape}")
    return value


def _bn_settings(bn_param, d, dtype):
    _check_param_dict(bn_param, "bn_param")
    mode = _check_mode(bn_param, "bn_param")
    eps = check_scalar(bn_param.get("eps", 1e-5), "bn_param['eps']", low=0, low_open=True)
    momentum = check_scalar(bn_param.get("momentum", 0.9), "bn_param['momentum']", low=0, high=1)
    running_mean = _running_stat(bn_param, "running_mean", d, 0.0, dtype)
    running_var = _running_stat(bn_param, "running_var", d, 1.0, dtype)
    if np.any(running_var < 0):  # (NaN from a diverged run is let through: the trainer reports divergence)
        raise ValueError(f"bn_param['running_var'] must be >= 0 (a variance); got {running_var}")
    return mode, eps, momentum, running_mean, running_var


def _check_batch_statistics(count, x, dims, unit):
    """Train mode needs at least two values per feature (channel): the variance of one value is 0, so the output
    would be beta whatever x is. PyTorch refuses it with the same words."""
    if count < 2:
        raise ValueError(f"Expected more than 1 value per {unit} when training, got x of shape {dims} = {x.shape} "
                         f"({count} value{'' if count == 1 else 's'} per {unit}): with a single value the batch "
                         "variance is 0 and every output would be beta. Use bn_param['mode'] = 'test' (the running "
                         "averages) or a batch of at least 2 examples")


def _check_gamma_beta(gamma, beta, d, dims):
    gamma, beta = as_float_array(gamma, "gamma"), as_float_array(beta, "beta")
    unit = "feature" if dims == "D" else "channel"
    for name, v in (("gamma", gamma), ("beta", beta)):
        if v.shape != (d,):
            raise ValueError(f"{name} must have shape ({dims},) = ({d},), one value per {unit}; got {v.shape}")
    return gamma, beta


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization of each feature (column) of x, then a learned scale and shift.

    Train mode (Ioffe & Szegedy, Algorithm 1), per feature j over the N examples of the batch:
        mu_j = mean_i x_ij,   var_j = mean_i (x_ij - mu_j)^2   (the biased variance: divide by N, not N - 1)
        x_hat_ij = (x_ij - mu_j) / sqrt(var_j + eps),   out_ij = gamma_j * x_hat_ij + beta_j
    and the running averages are updated IN PLACE (the arrays in bn_param are modified, not replaced):
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var  = momentum * running_var  + (1 - momentum) * var
    (the biased batch variance, as in the CS231n assignments; PyTorch stores the unbiased one, a factor
    N / (N - 1) apart). Test mode normalizes with running_mean and running_var instead of the batch statistics
    and leaves them unchanged.

    Inputs:
    - x: (N, D)
    - gamma, beta: (D,) scale and shift
    - bn_param: dict with keys
      - 'mode': 'train' or 'test' (required)
      - 'eps': > 0, default 1e-5, added to the variance so a constant feature does not divide by zero
      - 'momentum': in [0, 1], default 0.9
      - 'running_mean', 'running_var': (D,); created as zeros and ones (and stored in bn_param) when absent

    Returns (out, cache) with out of shape (N, D).

    Train mode needs N >= 2 (one example has variance 0: the output would be beta whatever x is), as in PyTorch.
    Huge values are fine (the statistics are computed without overflow); only a result beyond the float range,
    a batch variance above 1.8e308 (values spread beyond about 1e154) or an output gamma * x_hat + beta beyond
    it, raises course.OutOfRangeError, a ValueError.
    """
    x = as_float_array(x, "x")
    check_ndim(x, 2, "x", "(N, D)")
    n, d = x.shape
    gamma, beta = _check_gamma_beta(gamma, beta, d, "D")
    mode, eps, momentum, running_mean, running_var = _bn_settings(bn_param, d, x.dtype)
    dtype = np.result_type(x, gamma, beta)
    if mode == "train":
        _check_batch_statistics(n, x, "(N, D)", "feature")
        mu, var, _ = moments(x)  # the sums and squares of huge values do not overflow
        check_in_range(var, "the batch variance", x, advice="values spread this far cannot be batch-normalized "
                       "(the running variance could not hold it); rescale x")
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = (x - mu) * inv_std  # no overflow: |x - mu| <= sqrt(N * var)
    else:
        inv_std = (1.0 / np.sqrt(running_var + eps)).astype(dtype, copy=False)
        with np.errstate(over="ignore", invalid="ignore"):
            x_hat = (x - running_mean.astype(dtype, copy=False)) * inv_std
    with np.errstate(over="ignore", invalid="ignore"):
        out = (gamma * x_hat + beta).astype(dtype, copy=False)
    check_in_range(out, "batchnorm_forward's output gamma * x_hat + beta", x, gamma, beta, running_mean, running_var)
    if mode == "train":
        running_mean *= momentum
        running_mean += (1 - momentum) * mu
        running_var *= momentum
        running_var += (1 - momentum) * var
    return out, (mode, x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """Backward pass of :func:`batchnorm_forward`, in the compact simplified form.

    With x_hat, gamma and inv_std = 1 / sqrt(var + eps) from the cache, per feature over the N examples:
        dbeta  = sum_i dout_i
        dgamma = sum_i dout_i * x_hat_i
        dx     = gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma)     (train mode)
    The last two terms are the gradient flowing through the batch mean and variance, which depend on every
    example. In test mode the statistics are constants, so dx = dout * gamma * inv_std.

    Inputs:
    - dout: (N, D)
    - cache: from batchnorm_forward

    Returns (dx, dgamma, dbeta): dx of shape (N, D); dgamma, dbeta of shape (D,).
    """
    mode, x_hat, gamma, inv_std = check_cache(cache, 4, "batchnorm_forward")
    dout = check_dout(dout, x_hat.shape, "batchnorm_forward")
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    if mode == "train":
        n = dout.shape[0]
        dx = (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma)
    else:
        dx = dout * (gamma * inv_std)
    return dx, dgamma, dbeta


def _to_rows(x):
    """(N, C, H, W) -> (N*H*W, C): one row per (example, position), one column per channel."""
    n, c, h, w = x.shape
    return x.transpose(0, 2, 3, 1).reshape(n * h * w, c)


def _from_rows(rows, shape):
    n, c, h, w = shape
    return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization for convolutional feature maps: one mean and one variance per CHANNEL, computed over
    the N examples and all H x W positions (N*H*W values each), so every position of a feature map is normalized
    alike.

    Inputs:
    - x: (N, C, H, W)
    - gamma, beta: (C,)
    - bn_param: as for :func:`batchnorm_forward`; running_mean and running_var have shape (C,)

    Returns (out, cache) with out of shape (N, C, H, W).
    """
    x = as_float_array(x, "x")
    check_ndim(x, 4, "x", "(N, C, H, W)")
    _check_gamma_beta(gamma, beta, x.shape[1], "C")
    if isinstance(bn_param, MutableMapping) and bn_param.get("mode") == "train":
        n, _, h, w = x.shape
        _check_batch_statistics(n * h * w, x, "(N, C, H, W)", "channel")
    out, cache = batchnorm_forward(_to_rows(x), gamma, beta, bn_param)
    return _from_rows(out, x.shape), (cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    """Backward pass of :func:`spatial_batchnorm_forward`.

    Inputs:
    - dout: (N, C, H, W)
    - cache: from spatial_batchnorm_forward

    Returns (dx, dgamma, dbeta): dx of shape (N, C, H, W); dgamma, dbeta of shape (C,).
    """
    inner, shape = check_cache(cache, 2, "spatial_batchnorm_forward")
    dout = check_dout(dout, shape, "spatial_batchnorm_forward")
    dx, dgamma, dbeta = batchnorm_backward(_to_rows(dout), inner)
    return _from_rows(dx, shape), dgamma, dbeta


# ----------------------------------------------------------------------------------------------------------------
# Dropout


def _dropout_settings(dropout_param):
    _check_param_dict(dropout_param, "dropout_param")
    if "p" not in dropout_param:
        raise ValueError("dropout_param must have a 'p' key: the probability of KEEPING a unit, in (0, 1]; got keys "
                         f"{sorted(dropout_param)}")
    p = dropout_param["p"]
    try:
        p = check_scalar(p, "dropout_param['p']", low=0, high=1, low_open=True)
    except ValueError as exc:
        raise ValueError(f"{exc}. p is the probability of KEEPING a unit, in (0, 1]: p = 1 keeps everything "
                         "(no dropout), p = 0.5 keeps half") from None
    mode = _check_mode(dropout_param, "dropout_param")
    return p, mode


def _dropout_rng(dropout_param):
    rng = dropout_param.get("rng")
    if rng is not None:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"dropout_param['rng'] must be a numpy.random.Generator (np.random.default_rng(seed)); "
                            f"got {type(rng).__name__}")
        return rng
    seed = dropout_param.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise TypeError(f"dropout_param['seed'] must be a non-negative integer or None; got {seed!r}")
    return np.random.default_rng(seed)


def dropout_forward(x, dropout_param):
    """Inverted dropout.

    Train mode: keep each unit independently with probability p and divide the kept ones by p,
        mask = (rng.random(x.shape) < p) / p,   out = x * mask,
    so the expected value of every output equals its input and nothing needs rescaling at test time.
    Test mode: the identity, out = x.

    Inputs:
    - x: any shape
    - dropout_param: dict with keys
      - 'p': probability of KEEPING a unit, in (0, 1] (p = 1: no dropout). Not the drop probability!
      - 'mode': 'train' or 'test'
      - 'seed' (optional): an int; the same seed gives the same mask on every call (for gradient checking)
      - 'rng' (optional): a numpy.random.Generator, used instead of 'seed' and advanced by each call, so
        successive calls draw fresh masks reproducibly. With neither, a fresh unseeded generator is used.

    Returns (out, cache) with out shaped like x.
    """
    x = as_float_array(x, "x")
    p, mode = _dropout_settings(dropout_param)
    if mode == "train":
        rng = _dropout_rng(dropout_param)
        mask = (rng.random(x.shape) < p).astype(x.dtype) / x.dtype.type(p)
        out = x * mask
    else:
        mask = None
        out = x.copy()
    return out, (mode, p, mask, x.shape)


def dropout_backward(dout, cache):
    """Backward pass of :func:`dropout_forward`: dx = dout * mask in train mode (the same mask, including the
    1/p), dx = dout in test mode.

    Inputs:
    - dout: shaped like x
    - cache: from dropout_forward

    Returns dx, shaped like x.
    """
    mode, _, mask, shape = check_cache(cache, 4, "dropout_forward")
    dout = check_dout(dout, shape, "dropout_forward")
    if mode == "train":
        return dout * mask
    return dout.copy()
