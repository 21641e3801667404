"""Checks for the losses lab: softmax, SVM, binary cross-entropy, quadratic loss, L1/L2 penalties and the
sigmoid-output gradients of the learning-slowdown experiment.

Every loss is checked on moderate scores (the values and gradients) and on scores of magnitude 1e4 (stability).
A numerical warning is named where it points at one mistake, and shown with the line that raised it.
"""
from __future__ import annotations

import numpy as np

from course import losses as ref
from course.activations import sigmoid
from course.checks._harness import (Mistake, call, call_float32, checker, expect_close, expect_dtype, naming_warnings,
                                    unpack)

_rng = np.random.default_rng(77)

_N, _C = 6, 5
_S = _rng.normal(0, 2, size=(_N, _C))
_Y = _rng.integers(0, _C, size=_N)
_BIG = 1e4


def _numerical_trouble(message):
    return f"numerical trouble: {message}"


def _loss_call(f, name, *args, stability=_numerical_trouble, caller=call):
    """Call a loss with ``caller`` (call, or call_float32 for the float32 run), turning a RuntimeWarning (overflow,
    log of 0) into the stability mistake ``stability(warning text)`` names, with the student's line."""
    with naming_warnings(stability):
        loss, grad = unpack(caller(f, *args), 2, name)
    if loss is None or np.ndim(loss) != 0:
        raise Mistake(f"{name} must return the loss as a single number first; got "
                      f"{'None' if loss is None else 'shape ' + str(np.shape(loss))}")
    return float(loss), grad


def _expect_loss(loss, expected, what, mistakes=()):
    expect_close(np.float64(loss), np.float64(expected), what, [(d, np.float64(v)) for d, v in mistakes])


def _expect_finite(loss, grad, name, stability_message):
    if not (np.isfinite(loss) and np.all(np.isfinite(np.asarray(grad)))):
        raise Mistake(stability_message)


def _onehot(y, c):
    return np.eye(c)[y]


def _softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


_NO_SHIFT = ("softmax without the max shift: exp() of a large score overflows to inf (and inf / inf is NaN). "
             "Subtract each row's maximum before exponentiating; it does not change the softmax")
_LOG_UNDERFLOW = ("log of a probability that underflowed to 0: compute the log-probabilities as "
                  "shifted - log(sum(exp(shifted))) instead of log(softmax)")


_GLOBAL_SHIFT = ("shifted by the global maximum (scores - scores.max()) instead of each row's own: the same softmax "
                 "in exact arithmetic, but a row whose scores all sit far below the global maximum underflows to "
                 "exp() = 0 everywhere (0/0 = NaN, log 0 = -inf). Subtract scores.max(axis=1, keepdims=True)")


def _softmax_stability(message):
    """An overflow means no shift; 0/0 without one means a row whose every exp() underflowed: a shift above
    that row's maximum."""
    if "overflow" in message:
        return _NO_SHIFT
    return _GLOBAL_SHIFT if "invalid" in message else _LOG_UNDERFLOW


def _right_for(softmax_loss, scores):
    """Whether softmax_loss gives the reference loss and gradient for ``scores``, without numerical warnings."""
    try:
        loss, d = _loss_call(softmax_loss, "softmax_loss", scores, _Y)
        expected, ed = ref.softmax_loss(scores, _Y)
        expect_close(loss, expected, "loss")
        expect_close(d, ed, "dscores")
    except Exception:  # a probe: any failure means no
        return False
    return True


@checker
def check_softmax_loss(softmax_loss):
    """softmax_loss(scores, y) -> (loss, dscores): values, gradient, scores of 1e4 and float32."""
    loss, d = _loss_call(softmax_loss, "softmax_loss", _S, _Y)
    p = _softmax(_S)
    rows = np.arange(_N)
    expected = -np.log(p[rows, _Y]).mean()
    _expect_loss(loss, expected, "softmax_loss loss", [
        ("loss summed over the examples instead of averaged: divide by N", expected * _N),
        ("sign flipped: the loss is -log(probability of the correct class), which is >= 0", -expected),
        ("used log base 10 or 2: use the natural log np.log", expected / np.log(10)),
    ])
    onehot = _onehot(_Y, _C)
    expect_close(d, (p - onehot) / _N, "softmax_loss dscores", [
        ("dscores not divided by N: the loss is an average, so is its gradient", p - onehot),
        ("forgot to subtract 1 at the correct class: dscores = (softmax - onehot(y)) / N", p / _N),
        ("sign flipped: dscores = (softmax - onehot(y)) / N", (onehot - p) / _N),
    ])
    big = _S * _BIG
    try:
        loss, d = _loss_call(softmax_loss, "softmax_loss", big, _Y, stability=_softmax_stability)
        _expect_finite(loss, d, "softmax_loss", _NO_SHIFT + f" (scores of magnitude {_BIG:g} gave NaN or inf)")
    except Mistake as mistake:  # a log of 0, but right once every row's maximum is 0: one shift for the whole batch
        if _LOG_UNDERFLOW in str(mistake) and _right_for(softmax_loss, big - big.max(axis=1, keepdims=True)):
            raise Mistake(_GLOBAL_SHIFT) from None
        raise
    expected, ed = ref.softmax_loss(big, _Y)
    if loss < expected * (1 - 1e-6):  # capped by a clip or an epsilon: the log of a probability that underflowed
        raise Mistake(f"log of a probability, clipped or with an epsilon added: finite, but wrong once the "
                      f"probability underflows to 0 (scores of magnitude {_BIG:g} gave a loss of {loss:.4g} instead "
                      f"of {expected:.4g}); compute the log-probabilities as shifted - log(sum(exp(shifted)))")
    _expect_loss(loss, expected, f"softmax_loss loss for scores of magnitude {_BIG:g}")
    expect_close(d, ed, f"softmax_loss dscores for scores of magnitude {_BIG:g}")
    _, d32 = _loss_call(softmax_loss, "softmax_loss", big, _Y, caller=call_float32)
    expect_dtype(d32, np.float32, "softmax_loss dscores")
    return f"loss and dscores correct, stable for scores of {_BIG:g}, float32 kept"


@checker
def check_svm_loss(svm_loss):
    """svm_loss(scores, y) -> (loss, dscores): multiclass hinge loss with margin 1."""
    loss, d = _loss_call(svm_loss, "svm_loss", _S, _Y)
    rows = np.arange(_N)
    correct = _S[rows, _Y][:, None]
    margins = np.maximum(0, _S - correct + 1)
    margins[rows, _Y] = 0
    expected = margins.sum() / _N
    no_margin = np.maximum(0, _S - correct)
    _expect_loss(loss, expected, "svm_loss loss", [
        ("SVM counting the correct class: the loss is too high by exactly the margin 1 (max(0, s_y - s_y + 1) = 1 "
         "per example); leave j = y_i out of the sum", expected + 1),
        ("loss summed over the examples instead of averaged: divide by N", expected * _N),
        ("forgot the margin: max(0, s_j - s_y + 1), with + 1", no_margin.sum() / _N),
    ])
    violated = (margins > 0).astype(float)
    ed = violated.copy()
    ed[rows, _Y] = -violated.sum(axis=1)
    ed /= _N
    counted = ed.copy()
    counted[rows, _Y] -= 1 / _N
    expect_close(d, ed, "svm_loss dscores", [
        ("dscores not divided by N", ed * _N),
        ("the correct class's gradient is missing: at j = y_i it is minus the number of violated margins, over N",
         violated / _N),
        ("SVM counting the correct class in the gradient: its own margin (always 1 > 0) must not count", counted),
        ("sign flipped", -ed),
    ])
    big = _S * _BIG
    loss, d = _loss_call(svm_loss, "svm_loss", big, _Y)
    expected, ed = ref.svm_loss(big, _Y)
    _expect_loss(loss, expected, f"svm_loss loss for scores of magnitude {_BIG:g}", [
        ("SVM counting the correct class: the loss is too high by exactly the margin 1", expected + 1),
    ])
    expect_close(d, ed, f"svm_loss dscores for scores of magnitude {_BIG:g}")
    return f"loss and dscores correct (the correct class left out), also for scores of {_BIG:g}"


_Z = _rng.normal(0, 3, size=(_N, 3))
_T = (_rng.random(size=_Z.shape) < 0.5).astype(float)
_Z1 = _rng.normal(0, 3, size=_N)
_T1 = (_rng.random(size=_N) < 0.5).astype(float)


def _bce(z, t):
    s = sigmoid(z)
    return -(t * np.log(s) + (1 - t) * np.log(1 - s))


def _bce_stability(message):
    if "overflow" in message:
        return ("exp() overflowed: for large negative logits exp(-z) is huge. Compute the loss from the logits as "
                "max(z, 0) - y * z + log(1 + exp(-|z|)), which never exponentiates a positive number")
    return ("log of 0: sigmoid(z) rounds to 0 or 1 for large |z|, so log(sigmoid(z)) or log(1 - sigmoid(z)) is "
            "-inf. Compute the loss from the logits: max(z, 0) - y * z + log(1 + exp(-|z|))")


@checker
def check_binary_cross_entropy(binary_cross_entropy):
    """binary_cross_entropy(logits, y) -> (loss, dlogits): (N, K) and (N,) logits, logits of 1e4, float32."""
    for z, t in ((_Z, _T), (_Z1, _T1)):
        n = z.shape[0]
        loss, d = _loss_call(binary_cross_entropy, "binary_cross_entropy", z, t, stability=_bce_stability)
        per = _bce(z, t)
        expected = per.sum() / n
        _expect_loss(loss, expected, f"binary_cross_entropy loss for logits of shape {z.shape}", [
            ("averaged over the K outputs too: average over the N examples, sum over the outputs", per.mean()),
            ("loss summed over the examples instead of averaged: divide by N", per.sum()),
            ("y and 1 - y swapped: the loss is -[y log(sigmoid(z)) + (1 - y) log(1 - sigmoid(z))]",
             _bce(z, 1 - t).sum() / n),
            ("sign flipped: the loss is -[y log a + (1 - y) log(1 - a)], which is >= 0", -expected),
        ])
        s = sigmoid(z)
        expect_close(d, (s - t) / n, f"binary_cross_entropy dlogits for logits of shape {z.shape}", [
            ("dlogits not divided by N", s - t),
            ("sign flipped: dlogits = (sigmoid(z) - y) / N", (t - s) / n),
            ("dlogits divided by N * K: average over N only", (s - t) / z.size),
            ("multiplied by sigmoid'(z): with the log-loss that factor cancels, dlogits = (sigmoid(z) - y) / N",
             (s - t) * s * (1 - s) / n),
        ])
    big = _Z * _BIG
    loss, d = _loss_call(binary_cross_entropy, "binary_cross_entropy", big, _T, stability=_bce_stability)
    _expect_finite(loss, d, "binary_cross_entropy",
                   f"logits of magnitude {_BIG:g} gave NaN or inf: compute log-sigmoid stably from the logits")
    expected, ed = ref.binary_cross_entropy(big, _T)
    if loss < expected * (1 - 1e-6):  # capped by a clip or an epsilon: the log of a probability that underflowed
        raise Mistake(f"probabilities clipped before the log (or an epsilon added): finite but wrong for large "
                      f"logits (a logit of -1e4 with y = 1 costs 1e4, not -log(1e-12) = 27.6; logits of magnitude "
                      f"{_BIG:g} gave {loss:.4g} instead of {expected:.4g}); compute from the logits: "
                      "max(z, 0) - y * z + log(1 + exp(-|z|))")
    _expect_loss(loss, expected, f"binary_cross_entropy loss for logits of magnitude {_BIG:g}")
    expect_close(d, ed, f"binary_cross_entropy dlogits for logits of magnitude {_BIG:g}")
    _, d32 = _loss_call(binary_cross_entropy, "binary_cross_entropy", big, _T, caller=call_float32)
    expect_dtype(d32, np.float32, "binary_cross_entropy dlogits")
    return f"loss and dlogits correct for (N, K) and (N,), stable for logits of {_BIG:g}, float32 kept"


_PRED = _rng.normal(size=(_N, 3))
_YQ = _rng.normal(size=(_N, 3))


@checker
def check_quadratic_loss(quadratic_loss):
    """quadratic_loss(pred, y) -> (loss, dpred) = 1/2 mean over N of sum_k (pred - y)^2, for (N, K) and (N,)."""
    for pred, y in ((_PRED, _YQ), (_PRED[:, 0], _YQ[:, 0])):
        n = pred.shape[0]
        loss, d = _loss_call(quadratic_loss, "quadratic_loss", pred, y)
        diff = pred - y
        expected = 0.5 * np.sum(diff ** 2) / n
        k = diff.size // n
        mistakes = [
            ("forgot the 1/2: the course's quadratic cost is 1/2 * mean over N of sum (pred - y)^2", 2 * expected),
            ("loss summed over the examples instead of averaged: divide by N", expected * n),
        ] + ([("averaged over the K outputs too: average over N, sum over the outputs", expected / k)] if k > 1 else [])
        _expect_loss(loss, expected, f"quadratic_loss loss for shape {pred.shape}", mistakes)
        expect_close(d, diff / n, f"quadratic_loss dpred for shape {pred.shape}", [
            ("dpred not divided by N", diff),
            ("sign flipped: dpred = (pred - y) / N", -diff / n),
            ("extra factor 2: the 1/2 in the loss cancels the 2 of the square, so dpred = (pred - y) / N",
             2 * diff / n),
        ] + ([("dpred divided by N * K: average over N only", diff / diff.size)] if k > 1 else []))
    _, d32 = _loss_call(quadratic_loss, "quadratic_loss", _PRED, _YQ, caller=call_float32)
    expect_dtype(d32, np.float32, "quadratic_loss dpred")
    return "loss and dpred correct for (N, K) and (N,), float32 kept"


_W = _rng.normal(size=(4, 3))
_W[0, 1] = _W[2, 2] = 0.0  # exact zeros: the L1 subgradient convention
_REG = 0.3


@checker
def check_l2_penalty(l2_penalty):
    """l2_penalty(w, reg) -> (loss, dw) = (1/2 reg sum w^2, reg w)."""
    loss, dw = _loss_call(l2_penalty, "l2_penalty", _W, _REG)
    expected = 0.5 * _REG * np.sum(_W ** 2)
    if np.isclose(loss, 2 * expected) and np.shape(dw) == _W.shape:
        if np.allclose(dw, _REG * _W):
            raise Mistake("L2 without the 1/2, and a gradient that does not match: your loss reg * sum(w^2) has the "
                          "gradient 2 reg w, but your dw is reg w (a gradient check would fail). The course's penalty "
                          "is 1/2 reg sum(w^2), whose gradient is reg w: put the 1/2 back in the loss")
        if np.allclose(dw, 2 * _REG * _W):
            raise Mistake("L2 without the 1/2: your loss reg * sum(w^2) and dw = 2 reg w agree with each other, but "
                          "not with the course's convention 1/2 reg sum(w^2), dw = reg w (course.models uses it): "
                          "with yours every reg means a penalty twice as strong")
    _expect_loss(loss, expected, "l2_penalty loss", [
        ("forgot the 1/2: the course's L2 penalty is 1/2 * reg * sum(w^2)", 2 * expected),
        ("forgot reg", expected / _REG),
        ("squared the sum instead of summing the squares", 0.5 * _REG * np.sum(_W) ** 2),
    ])
    expect_close(dw, _REG * _W, "l2_penalty dw", [
        ("dw = 2 reg w: with the 1/2 in the loss the gradient is reg * w", 2 * _REG * _W),
        ("dw = reg w / 2: the derivative of 1/2 reg w^2 is reg * w", 0.5 * _REG * _W),
        ("forgot reg in dw", _W),
        ("used sign(w): that is L1's gradient; L2's is reg * w", _REG * np.sign(_W)),
    ])
    _, d32 = _loss_call(l2_penalty, "l2_penalty", _W, _REG, caller=call_float32)
    expect_dtype(d32, np.float32, "l2_penalty dw")
    return "loss and dw correct"


@checker
def check_l1_penalty(l1_penalty):
    """l1_penalty(w, reg) -> (loss, dw) = (reg sum |w|, reg sign(w)), with dw = 0 where w == 0."""
    loss, dw = _loss_call(l1_penalty, "l1_penalty", _W, _REG)
    expected = _REG * np.sum(np.abs(_W))
    _expect_loss(loss, expected, "l1_penalty loss", [
        ("forgot the absolute value: reg * sum(|w|)", _REG * np.sum(_W)),
        ("forgot reg", expected / _REG),
        ("added a 1/2: the L1 penalty is reg * sum(|w|)", expected / 2),
    ])
    expect_close(dw, _REG * np.sign(_W), "l1_penalty dw", [
        ("used reg * w: that is L2's gradient; L1's is reg * sign(w)", _REG * _W),
        ("forgot the sign: dw = reg * sign(w)", _REG * np.ones_like(_W)),
        ("the subgradient at w == 0 must be 0, as np.sign(0) = 0 (w >= 0 gave +reg there)",
         np.where(_W >= 0, _REG, -_REG)),
        ("the subgradient at w == 0 must be 0, as np.sign(0) = 0 (w > 0 gave -reg there)",
         np.where(_W > 0, _REG, -_REG)),
        ("forgot reg in dw", np.sign(_W)),
    ])
    return "loss and dw correct, with dw = 0 at w == 0"


_PARAMS = {name: _rng.normal(size=shape) for name, shape in
           (("W1", (4, 3)), ("b1", (3,)), ("gamma1", (3,)), ("beta1", (3,)), ("W2", (3, 2)), ("b2", (2,)))}
_GRADS = {name: _rng.normal(size=p.shape) for name, p in _PARAMS.items()}
_DATA_LOSS = 1.25
_WEIGHTS = {"W1", "W2"}


def _penalized_wrongly(names, where: str) -> None:
    """Name the mistake when the penalty went to the parameters ``names`` (a set) instead of the weights."""
    biases, normalization = sorted(names & {"b1", "b2"}), sorted(names & {"gamma1", "beta1"})
    if biases:
        raise Mistake(f"penalty applied to biases ({', '.join(biases)}) in the {where}: only the weights, the "
                      "parameters whose name starts with 'W', are penalized; a bias shifts a unit, it does not make "
                      "it more sensitive to its inputs")
    if normalization:
        raise Mistake(f"penalty applied to batch norm's gamma and beta in the {where}: only the weights, the "
                      "parameters whose name starts with 'W', are penalized")
    if not names:
        raise Mistake(f"the penalty is missing from the {where}: add penalty(params[name], reg) for every weight "
                      "matrix")
    if names != _WEIGHTS:
        missing = ", ".join(sorted(_WEIGHTS - names))
        raise Mistake(f"{missing} not penalized in the {where}: add the penalty of every weight matrix (every name "
                      "starting with 'W')")


def _penalty_subset(loss, penalty):
    """The set of parameter names whose penalties, added to the data loss, give ``loss`` (None if none does)."""
    names = sorted(_PARAMS)
    values = {name: penalty(_PARAMS[name], _REG)[0] for name in names}
    for mask in range(2 ** len(names)):
        subset = {name for i, name in enumerate(names) if mask >> i & 1}
        if np.isclose(loss, _DATA_LOSS + sum(values[name] for name in subset)):
            return subset
    return None


@checker
def check_regularized_loss(regularized_loss):
    """regularized_loss(data_loss, grads, params, reg, penalty) -> (loss, grads): the penalty of every weight matrix
    (W...) and of nothing else (biases, gamma, beta) in the loss and in the gradients, with the penalty passed
    (checked with L2 and with L1)."""
    for penalty, other in ((ref.l2_penalty, ref.l1_penalty), (ref.l1_penalty, ref.l2_penalty)):
        params = {name: p.copy() for name, p in _PARAMS.items()}
        grads_in = {name: g.copy() for name, g in _GRADS.items()}
        loss, grads = unpack(call(regularized_loss, _DATA_LOSS, grads_in, params, _REG, penalty), 2,
                             "regularized_loss")
        if any(not np.array_equal(params[name], p) for name, p in _PARAMS.items()):
            raise Mistake("regularized_loss changed params: it must only compute the loss and the gradients")
        if not isinstance(grads, dict) or set(grads) != set(_PARAMS):
            got = sorted(grads) if isinstance(grads, dict) else type(grads).__name__
            raise Mistake(f"the gradients must be a dict keyed like params {sorted(_PARAMS)}; got {got}")
        if loss is None or np.ndim(loss) != 0:
            raise Mistake("regularized_loss must return the loss as a single number first")
        used = {}
        for f in (penalty, other):
            used[f] = {name for name in _PARAMS if np.shape(grads[name]) == _PARAMS[name].shape
                       and np.allclose(grads[name], _GRADS[name] + f(_PARAMS[name], _REG)[1])}
        if used[other] == _WEIGHTS and not used[penalty]:
            raise Mistake(f"ignored the penalty passed: {penalty.__name__} was passed, {other.__name__} used; call "
                          "penalty(params[name], reg)")
        untouched = {name for name in _PARAMS if np.shape(grads[name]) == _PARAMS[name].shape
                     and np.allclose(grads[name], _GRADS[name])}
        if used[penalty] | untouched == set(_PARAMS):
            _penalized_wrongly(used[penalty], "gradients")
        for name in _PARAMS:
            expect_close(grads[name], _GRADS[name] + (penalty(_PARAMS[name], _REG)[1] if name in _WEIGHTS else 0),
                         f"regularized_loss grads['{name}'] with {penalty.__name__}")
        subset = _penalty_subset(float(loss), penalty)
        if subset is not None:
            _penalized_wrongly(subset, "loss")
        expected = _DATA_LOSS + sum(penalty(_PARAMS[name], _REG)[0] for name in sorted(_WEIGHTS))
        _expect_loss(loss, expected, f"regularized_loss loss with {penalty.__name__}")
    return "the penalty of every weight matrix, and of nothing else, in the loss and its gradients (L2 and L1)"


_ZS = np.array([-8.0, -2.0, -0.5, 0.0, 0.5, 2.0, 8.0, 1000.0, -1000.0])
_YS = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0])


@checker
def check_sigmoid_output_gradients(sigmoid_output_gradients):
    """sigmoid_output_gradients(z, y) -> {"quadratic": (a - y) sigma'(z), "cross_entropy": a - y}."""
    with naming_warnings(lambda message: f"numerical trouble for z = ±1000 ({message}): use a stable sigmoid"):
        result = call(sigmoid_output_gradients, _ZS, _YS)
    if not isinstance(result, dict) or set(result) != {"quadratic", "cross_entropy"}:
        got = sorted(result) if isinstance(result, dict) else type(result).__name__
        raise Mistake(f"return a dict with keys 'quadratic' and 'cross_entropy'; got {got}")
    a = sigmoid(_ZS)
    prime = a * (1 - a)
    expect_close(result["quadratic"], (a - _YS) * prime, "quadratic", [
        ("quadratic cost missing sigma'(z) (or the two gradients swapped): under the quadratic cost "
         "dC/dz = (a - y) * sigma'(z), with sigma'(z) = a (1 - a); only cross-entropy's is a - y", a - _YS),
        ("used sigma(z) instead of sigma'(z) = a (1 - a)", (a - _YS) * a),
        ("sign flipped: (a - y) * sigma'(z)", (_YS - a) * prime),
    ])
    expect_close(result["cross_entropy"], a - _YS, "cross_entropy", [
        ("cross-entropy's sigma'(z) cancels: dC/dz = a - y, without sigma'(z)", (a - _YS) * prime),
        ("sign flipped: a - y", _YS - a),
        ("used z instead of a = sigmoid(z)", _ZS - _YS),
    ])
    return "both gradients correct: only the quadratic cost carries sigma'(z), which vanishes when saturated"


__all__ = sorted(name for name in dir() if name.startswith("check_"))
