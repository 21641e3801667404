"""Loss functions and weight penalties.

Each loss returns ``(loss, dscores)``: the loss averaged over the N examples (and summed over the output units
where there are several), and its gradient with respect to the scores (logits, predictions). Each penalty
returns ``(loss, dw)``. The loss is a Python float; the gradient keeps the input's float dtype.
All are stable for scores of any magnitude: no overflow warnings, NaN or inf for finite inputs. The one
exception is a loss whose true value exceeds the float range (scores near +-1e308, a squared error beyond about
1e154), which is returned as inf, without a warning, so that a diverged model is reported as one; only the
squared-error and penalty gradients can then be inf too (softmax, SVM and BCE gradients are bounded by 1).
Sums are taken at a power-of-two scale (course._numeric), which is exact, so huge scores do not overflow them.
"""
from __future__ import annotations

import numpy as np

from course._numeric import scale_of
from course._validate import as_float_array, check_labels, check_ndim, check_scalar
from course.activations import sigmoid


def _check_batch(n, name):
    if n == 0:
        raise ValueError(f"{name} must hold at least one example; got N = 0")


def _shifted(scores):
    """scores (N, C) minus each row's maximum. A gap beyond the float range (a row spanning -1e308 to 1e308)
    becomes -inf, whose exponential, 0, is exactly right."""
    with np.errstate(over="ignore"):
        return scores - scores.max(axis=1, keepdims=True)


def softmax(scores):
    """Row-wise softmax of (N, C) scores: e^{s_ij} / sum_k e^{s_ik}, shifted by the row maximum so it never
    overflows. Returns (N, C) probabilities, each row summing to 1."""
    scores = as_float_array(scores, "scores")
    check_ndim(scores, 2, "scores", "(N, C)")
    e = np.exp(_shifted(scores))
    return e / e.sum(axis=1, keepdims=True)


def softmax_loss(scores, y):
    """Softmax cross-entropy: L = mean_i [ -log( e^{s_{i, y_i}} / sum_j e^{s_ij} ) ].

    Inputs:
    - scores: (N, C) class scores (logits)
    - y: (N,) integer labels in [0, C)

    Returns (loss, dscores) with dscores of shape (N, C): (softmax(scores) - onehot(y)) / N.
    Stable for scores of any magnitude: the row maximum is subtracted before exponentiating (which leaves the
    softmax unchanged) and the log-probabilities are computed as shifted - log(sum(exp(shifted))).
    With small random scores every class gets probability about 1/C, so the loss starts near log(C).
    The loss is mean_i [log(sum_j e^{shifted_ij}) + (max_i - s_{i, y_i})]; the gap max_i - s_{i, y_i} can exceed
    the float range (scores from -1e308 to 1e308), so it is averaged at a power-of-two scale.
    """
    scores = as_float_array(scores, "scores")
    check_ndim(scores, 2, "scores", "(N, C)")
    n, c = scores.shape
    y = check_labels(y, n, c)
    _check_batch(n, "scores")
    rows = np.arange(n)
    shifted = _shifted(scores)
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    s = scale_of(scores)
    gap = scores.max(axis=1) / s - scores[rows, y] / s  # (max_i - s_{i, y_i}) / s, exactly
    loss = float(log_sum.mean()) + float(gap.mean()) * s  # a Python float product: inf without a warning
    dscores = np.exp(shifted - log_sum[:, None])
    dscores[rows, y] -= 1
    dscores /= n
    return loss, dscores


def svm_loss(scores, y):
    """Multiclass SVM (hinge) loss with margin 1:
        L = mean_i sum_{j != y_i} max(0, s_ij - s_{i, y_i} + 1).
    The correct class is left out of the sum (counted, it would add exactly max(0, 1) = 1 per example).

    Inputs:
    - scores: (N, C) class scores
    - y: (N,) integer labels in [0, C)

    Returns (loss, dscores) with dscores of shape (N, C): for j != y_i, 1/N where the margin is violated
    (s_ij - s_{i, y_i} + 1 > 0; 0 at exactly 0); at j = y_i, minus the number of violating classes, over N.
    """
    scores = as_float_array(scores, "scores")
    check_ndim(scores, 2, "scores", "(N, C)")
    n, c = scores.shape
    y = check_labels(y, n, c)
    _check_batch(n, "scores")
    rows = np.arange(n)
    s = scale_of(scores)  # the margins are computed divided by s (exactly), so they never overflow
    margins = scores / s - scores[rows, y][:, None] / s + 1 / s
    margins[rows, y] = 0
    violated = margins > 0
    loss = float(np.where(violated, margins, 0).sum() / n) * s
    dscores = violated.astype(scores.dtype)
    dscores[rows, y] = -violated.sum(axis=1)
    dscores /= n
    return loss, dscores


def _check_targets(y, logits, what):
    """y shaped like logits, finite, converted to the logits' dtype."""
    y = as_float_array(y, "y")
    if y.shape != logits.shape:
        raise ValueError(f"y must have the same shape as the {what} {logits.shape}; got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must hold finite values; got NaN or inf")
    return y.astype(logits.dtype, copy=False)


def _check_n_or_nk(x, name):
    x = as_float_array(x, name)
    if x.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (N,) or (N, K); got shape {x.shape} ({x.ndim}-D)")
    _check_batch(x.shape[0], name)
    return x


def binary_cross_entropy(logits, y):
    """Binary cross-entropy computed from logits z (before the sigmoid), for one or K independent outputs:
        L = -1/N sum_i sum_k [ y log sigmoid(z) + (1 - y) log(1 - sigmoid(z)) ]
          =  1/N sum_i sum_k [ max(z, 0) - y z + log(1 + e^{-|z|}) ]
    The second form never takes the log of 0 or exponentiates a large positive number, so it is finite for
    logits of any magnitude (log(sigmoid(1000)) written directly is log(1) = 0, but log(1 - sigmoid(1000)) is
    log(0) = -inf).

    Inputs:
    - logits: (N,) or (N, K)
    - y: targets of the same shape, in [0, 1] (labels 0/1 or soft targets)

    Returns (loss, dlogits): loss averaged over N and summed over K; dlogits = (sigmoid(logits) - y) / N.
    """
    logits = _check_n_or_nk(logits, "logits")
    y = _check_targets(y, logits, "logits")
    if np.any((y < 0) | (y > 1)):
        raise ValueError(f"y must hold targets in [0, 1]; got values from {y.min()} to {y.max()}")
    n = logits.shape[0]
    per_unit = np.maximum(logits, 0) - y * logits + np.log1p(np.exp(-np.abs(logits)))  # each at most |z| + 0.7
    s = scale_of(per_unit)  # summed divided by s (exactly): the sum of huge terms does not overflow
    loss = float((per_unit / s).sum() / n) * s
    dlogits = (sigmoid(logits) - y) / logits.dtype.type(n)
    return loss, dlogits


def quadratic_loss(pred, y):
    """Quadratic (squared-error) cost: L = 1/2 * mean over the N examples of sum_k (pred_ik - y_ik)^2.

    Inputs:
    - pred: (N,) or (N, K) predictions
    - y: targets of the same shape

    Returns (loss, dpred) with dpred = (pred - y) / N (the 1/2 cancels the 2 of the square).
    The loss is inf, without a warning, only if it exceeds the float range (|pred - y| beyond about 1e154 in
    float64): a diverged model, which the trainer reports. dpred is inf only where |pred - y| / N exceeds it.
    """
    pred = _check_n_or_nk(pred, "pred")
    y = _check_targets(y, pred, "predictions")
    n = pred.shape[0]
    s = scale_of(pred, y)  # the differences and squares are taken divided by s (exactly): no overflow
    diff = pred / s - y / s
    loss = 0.5 * float(np.sum(np.square(diff, dtype=np.float64))) / n * s * s
    with np.errstate(over="ignore"):
        return loss, diff / pred.dtype.type(n) * pred.dtype.type(s)


def _check_reg(reg):
    return check_scalar(reg, "reg", low=0)


def l2_penalty(w, reg):
    """L2 regularization (weight decay): loss = 1/2 * reg * sum(w^2), dw = reg * w.

    Inputs:
    - w: weights of any shape (usually not the biases)
    - reg: regularization strength, >= 0

    Returns (loss, dw) with dw shaped like w. The 1/2 makes the gradient reg * w rather than 2 reg w.
    The loss (and then dw) is inf, without a warning, only where the true value exceeds the float range.
    """
    w = as_float_array(w, "w")
    reg = _check_reg(reg)
    s = scale_of(w)  # squares taken of w / s (exactly): the sum overflows only if the loss does
    loss = 0.5 * reg * float(np.sum(np.square(w / s, dtype=np.float64))) * s * s
    with np.errstate(over="ignore"):
        return loss, (reg * w).astype(w.dtype, copy=False)


def l1_penalty(w, reg):
    """L1 regularization: loss = reg * sum(|w|), dw = reg * sign(w), the subgradient that is 0 at w == 0.

    Inputs:
    - w: weights of any shape
    - reg: regularization strength, >= 0

    Returns (loss, dw) with dw shaped like w. Unlike L2, whose pull reg * w fades as w shrinks, the pull of
    L1 has the same size reg for every nonzero weight, which drives small weights to exactly zero (sparsity).
    """
    w = as_float_array(w, "w")
    reg = _check_reg(reg)
    s = scale_of(w)  # summed divided by s (exactly): the sum overflows only if the loss does
    loss = reg * float(np.sum(np.abs(w / s), dtype=np.float64)) * s
    return loss, (reg * np.sign(w)).astype(w.dtype, copy=False)


def regularized_loss(data_loss, grads, params, reg, penalty=l2_penalty):
    """Add a weight penalty to a model's data loss and gradients, for the weights only.

    Inputs:
    - data_loss: the data loss (a number), e.g. the softmax loss from ``model.loss(X, y)`` with reg = 0
    - grads: dict name -> gradient of the data loss, keyed like params
    - params: dict name -> array, as ``model.params`` (W1, b1, ..., and gamma, beta with batch norm)
    - reg: regularization strength, >= 0
    - penalty: ``penalty(w, reg) -> (loss, dw)``, e.g. l2_penalty or l1_penalty

    Only the weight matrices, the parameters whose name starts with "W", are penalized: biases (b), and batch
    norm's gamma and beta, are not (a bias shifts a unit; it does not make it more sensitive to its inputs).
    Returns (loss, new_grads): data_loss plus the penalty of every weight matrix, and a new dict with the
    penalty's gradient added to each weight's gradient (the other gradients unchanged; ``grads`` is not modified).
    """
    if set(grads) != set(params):
        raise ValueError(f"grads must be keyed like params {sorted(params)}; got {sorted(grads)}")
    reg = _check_reg(reg)
    loss, new_grads = float(data_loss), dict(grads)
    for name in (n for n in params if n.startswith("W")):
        penalty_loss, dw = penalty(params[name], reg)
        loss += penalty_loss
        new_grads[name] = grads[name] + dw
    return loss, new_grads


def sigmoid_output_gradients(z, y):
    """dC/dz for one sigmoid output neuron a = sigmoid(z) with target y, under two costs:
    - quadratic cost C = (a - y)^2 / 2:      dC/dz = (a - y) * sigma'(z), with sigma'(z) = a (1 - a)
    - cross-entropy C = -[y ln a + (1 - y) ln(1 - a)]:   dC/dz = a - y

    The learning slowdown: sigma'(z) is at most 1/4 (at z = 0) and nearly 0 once the neuron saturates (|z|
    large, a near 0 or 1). Under the quadratic cost a neuron that is confidently WRONG (a near 1 when y = 0)
    therefore gets an almost zero gradient and learns slowly, just when it should learn fastest. Cross-entropy's
    sigma'(z) cancels: its gradient a - y is proportional to the error, so a wrong saturated neuron learns fast.

    Inputs:
    - z: weighted input(s), any shape
    - y: target(s) in [0, 1]: a scalar, or an array broadcastable to z's shape

    Returns {"quadratic": array, "cross_entropy": array}, both shaped like z.
    """
    z = as_float_array(z, "z")
    y = as_float_array(y, "y")
    try:
        y = np.broadcast_to(y, z.shape).astype(z.dtype, copy=False)
    except ValueError:
        raise ValueError(f"y must be a scalar or broadcastable to z's shape {z.shape}; got shape {y.shape}") from None
    if not np.all(np.isfinite(y)) or np.any((y < 0) | (y > 1)):
        raise ValueError("y must hold targets in [0, 1]"
                         + (f"; got values from {y.min()} to {y.max()}" if y.size else ""))
    a = sigmoid(z)
    return {"quadratic": (a - y) * a * (1 - a), "cross_entropy": a - y}
