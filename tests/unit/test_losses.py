"""course.losses and course.checks.losses."""
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import losses as Lo
from course.activations import sigmoid
from course.checks import losses as CLo
from gradient_assertions import assert_gradient
from course.gradcheck import eval_numerical_gradient, rel_error

seeds = st.integers(0, 2 ** 16)
LABEL_LOSSES = ["softmax_loss", "svm_loss"]


def numerical(loss_fn, x, *args):
    return eval_numerical_gradient(lambda v: loss_fn(v, *args)[0], x)


# ----------------------------------------------------------------------------------------------------------------
# Gradients


@pytest.mark.parametrize("name", LABEL_LOSSES)
@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 6), c=st.integers(2, 6), seed=seeds)
def test_label_loss_gradients(name, n, c, seed):
    rng = np.random.default_rng(seed)
    # Moderate scores: a probability of 1e-5 would leave a gradient entry below the centred differences' roundoff.
    scores = rng.normal(0, 1, size=(n, c))
    y = rng.integers(0, c, size=n)
    f = getattr(Lo, name)
    if name == "svm_loss":  # keep every margin away from its kink at 0
        margins = scores - scores[np.arange(n), y][:, None] + 1
        scores = scores + np.where(np.abs(margins) < 1e-3, 0.01, 0)
    loss, dscores = f(scores, y)
    assert isinstance(loss, float) and dscores.shape == scores.shape
    assert_gradient(dscores, numerical(f, scores, y))


@settings(max_examples=15, deadline=None)
@given(shape=st.sampled_from([(1,), (5,), (4, 1), (3, 4), (6, 2)]), seed=seeds, soft=st.booleans())
def test_bce_and_quadratic_gradients(shape, seed, soft):
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, size=shape)
    y = rng.random(shape) if soft else (rng.random(shape) < 0.5).astype(float)
    for f in (Lo.binary_cross_entropy, Lo.quadratic_loss):
        loss, d = f(z, y)
        assert d.shape == z.shape
        assert_gradient(d, numerical(f, z, y))


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple), seed=seeds,
       reg=st.floats(0.01, 10))
def test_penalty_gradients(shape, seed, reg):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=shape)
    w = np.where(np.abs(w) < 1e-3, 0.1, w)  # away from L1's kink
    for f in (Lo.l2_penalty, Lo.l1_penalty):
        loss, dw = f(w, reg)
        assert dw.shape == w.shape
        assert_gradient(dw, numerical(f, w, reg))


# ----------------------------------------------------------------------------------------------------------------
# Values on small cases


def test_softmax_hand_computed_and_init_value():
    loss, d = Lo.softmax_loss(np.zeros((2, 4)), [0, 3])
    assert loss == pytest.approx(np.log(4))
    np.testing.assert_allclose(d, (np.full((2, 4), 0.25) - np.eye(4)[[0, 3]]) / 2)
    s = np.array([[1.0, 2.0, 3.0]])
    p = np.exp(s) / np.exp(s).sum()
    assert Lo.softmax_loss(s, [1])[0] == pytest.approx(-np.log(p[0, 1]))
    # With small random scores the loss at initialization is about log(C).
    rng = np.random.default_rng(0)
    for c in (3, 10, 100):
        loss, _ = Lo.softmax_loss(0.001 * rng.normal(size=(500, c)), rng.integers(0, c, 500))
        assert loss == pytest.approx(np.log(c), rel=1e-3)


def test_svm_hand_computed():
    scores = np.array([[3.0, 1.0, 2.5], [0.0, 0.5, 2.0]])
    y = np.array([0, 2])
    # Row 0: margins 1 - 3 + 1 = -1 -> 0, 2.5 - 3 + 1 = 0.5. Row 1: 0 - 2 + 1 = -1 -> 0, 0.5 - 2 + 1 = -0.5 -> 0.
    loss, d = Lo.svm_loss(scores, y)
    assert loss == pytest.approx(0.25)  # (0.5 + 0) / 2; with the correct class counted it would be 1.25
    np.testing.assert_allclose(d, [[-0.5, 0, 0.5], [0, 0, 0]])
    loss, d = Lo.svm_loss(np.zeros((1, 4)), [2])  # every wrong class violates by exactly 1
    assert loss == pytest.approx(3.0)
    np.testing.assert_allclose(d, [[1, 1, -3, 1]])
    # At exactly zero margin (a kink), the gradient convention is 0.
    loss, d = Lo.svm_loss(np.array([[1.0, 0.0]]), [0])
    assert loss == 0.0 and np.all(d == 0)


def test_bce_hand_computed():
    loss, d = Lo.binary_cross_entropy(np.array([0.0, 0.0]), np.array([1.0, 0.0]))
    assert loss == pytest.approx(np.log(2))  # (log 2 + log 2) / 2
    np.testing.assert_allclose(d, [-0.25, 0.25])
    z = np.array([[2.0, -1.0], [0.5, 3.0]])
    y = np.array([[1.0, 0.0], [0.0, 1.0]])
    a = 1 / (1 + np.exp(-z))
    expected = -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum() / 2  # mean over N, sum over K
    loss, d = Lo.binary_cross_entropy(z, y)
    assert loss == pytest.approx(expected)
    np.testing.assert_allclose(d, (a - y) / 2)
    loss, _ = Lo.binary_cross_entropy([1.0], [0.3])  # soft target
    assert loss == pytest.approx(-(0.3 * np.log(sigmoid(1.0)) + 0.7 * np.log(1 - sigmoid(1.0))))
    assert Lo.binary_cross_entropy([1.0, -1.0], [True, False])[0] == pytest.approx(np.log1p(np.exp(-1.0)))


def test_quadratic_and_penalties_hand_computed():
    loss, d = Lo.quadratic_loss(np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[0.0, 0.0], [1.0, 1.0]]))
    assert loss == pytest.approx(0.5 * (1 + 4 + 1 + 1) / 2)
    np.testing.assert_allclose(d, [[0.5, 1.0], [-0.5, -0.5]])
    loss, d = Lo.quadratic_loss([3.0], [1.0])
    assert loss == pytest.approx(2.0) and d[0] == pytest.approx(2.0)
    w = np.array([[1.0, -2.0], [0.0, 3.0]])
    loss, dw = Lo.l2_penalty(w, 0.1)
    assert loss == pytest.approx(0.5 * 0.1 * 14) and np.allclose(dw, 0.1 * w)
    loss, dw = Lo.l1_penalty(w, 0.1)
    assert loss == pytest.approx(0.6) and np.allclose(dw, [[0.1, -0.1], [0.0, 0.1]])  # 0 where w == 0
    assert Lo.l2_penalty(w, 0) == (0.0, pytest.approx(np.zeros_like(w)))


def test_sigmoid_output_gradients_show_the_slowdown():
    z = np.array([-10.0, -2.0, 0.0, 2.0, 10.0])
    g = Lo.sigmoid_output_gradients(z, 0.0)  # target 0: the neuron at z = 10 is confidently wrong
    a = sigmoid(z)
    np.testing.assert_allclose(g["cross_entropy"], a)
    np.testing.assert_allclose(g["quadratic"], a * a * (1 - a))
    assert g["quadratic"][-1] < 1e-4 < 0.99 < g["cross_entropy"][-1]  # saturated: quadratic learns ~nothing
    assert np.all(np.abs(g["quadratic"]) <= 0.25 * np.abs(g["cross_entropy"]) + 1e-15)  # sigma' <= 1/4
    g = Lo.sigmoid_output_gradients(z.reshape(5, 1), np.ones((5, 1)))
    assert g["quadratic"].shape == (5, 1) and g["cross_entropy"].shape == (5, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = Lo.sigmoid_output_gradients(np.array([-1e4, 1e4]), 1)
    assert np.all(np.isfinite(g["quadratic"])) and np.all(np.isfinite(g["cross_entropy"]))


# ----------------------------------------------------------------------------------------------------------------
# Stability and dtypes


@pytest.mark.parametrize("scale", [1e4, 1e8, 1e300])
def test_huge_scores_are_finite_without_warnings(scale):
    rng = np.random.default_rng(1)
    s = rng.normal(size=(5, 4)) * scale / 4
    y = rng.integers(0, 4, 5)
    t = (rng.random((5, 4)) < 0.5).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        results = [Lo.softmax_loss(s, y), Lo.svm_loss(s, y), Lo.binary_cross_entropy(s, t),
                   Lo.binary_cross_entropy(s[:, 0], t[:, 0])]
    for loss, d in results:
        assert np.isfinite(loss) and np.all(np.isfinite(d))
    # Logits of magnitude 1e4 on the wrong side cost about their magnitude, not a clipped constant.
    loss, _ = Lo.binary_cross_entropy(np.array([-1e4]), np.array([1.0]))
    assert loss == pytest.approx(1e4)
    loss, _ = Lo.softmax_loss(np.array([[1e4, 0.0]]), [1])
    assert loss == pytest.approx(1e4)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, log_scale=st.floats(-3, 300))
def test_losses_finite_for_any_magnitude(seed, log_scale):
    rng = np.random.default_rng(seed)
    s = rng.uniform(-1, 1, size=(4, 3)) * 10.0 ** log_scale
    y = rng.integers(0, 3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for loss, d in (Lo.softmax_loss(s, y), Lo.svm_loss(s, y), Lo.binary_cross_entropy(s, (s > 0) * 1.0)):
            assert np.isfinite(loss) and loss >= 0 and np.all(np.isfinite(d))


def test_quadratic_loss_beyond_the_float_range_is_inf_without_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss, d = Lo.quadratic_loss(np.array([1e200]), np.array([0.0]))
        l2, _ = Lo.l2_penalty(np.array([1e200]), 1.0)
    assert loss == np.inf and np.isfinite(d[0]) and l2 == np.inf


ENDS = [(np.float64, 1e154), (np.float64, 1e200), (np.float64, 1e308), (np.float64, 1.7e308),
        (np.float32, 1e19), (np.float32, 3e38)]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype, v", ENDS)
def test_label_losses_at_the_ends_of_the_float_range(dtype, v):
    # Row 0 spans -v..v (its score gap 2v overflows float64 at v = 1e308), row 1 is ordinary.
    scores = np.array([[v, -v, 0.0], [0.0, 1.0, 2.0]], dtype=dtype)
    y = np.array([1, 2])
    v = float(v)
    loss, d = Lo.softmax_loss(scores, y)  # (2v + log(1 + e^-1 + e^-2)) / 2: the gap 2v overflows, the mean does not
    assert loss == pytest.approx(v + np.log1p(np.exp(-1.0) + np.exp(-2.0)) / 2, rel=1e-6)
    np.testing.assert_allclose(d, [[0.5, -0.5, 0.0], list((Lo.softmax([[0.0, 1.0, 2.0]])[0] - [0, 0, 1]) / 2)],
                               atol=1e-7)
    loss, d = Lo.svm_loss(scores, y)  # margins v + v + 1 and 1 + v (row 0), and 0, -1 + 1 = 0 (row 1)
    assert loss == (pytest.approx(1.5 * v + 1, rel=1e-6) if v < 1.1e308 else np.inf)  # 1.5v: inf when beyond
    np.testing.assert_array_equal(d, np.array([[0.5, -1.0, 0.5], [0.0, 0.0, 0.0]], dtype=dtype))
    assert d.dtype == dtype


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype, v", ENDS)
def test_bce_and_quadratic_at_the_ends_of_the_float_range(dtype, v):
    logits = np.array([[v, -v], [-v, v]], dtype=dtype)  # every unit wrong by v: the sum over N is 4v
    targets = np.array([[0.0, 1.0], [1.0, 0.0]])
    loss, d = Lo.binary_cross_entropy(logits, targets)
    assert loss == pytest.approx(2 * float(v), rel=1e-6) and np.all(np.isfinite(d))
    pred = np.array([[v], [0.0]], dtype=dtype)
    loss, d = Lo.quadratic_loss(pred, -pred)  # (2v)^2 / 4 overflows float64 from v = 1.3e154: honestly inf
    assert loss == (pytest.approx(float(v) * float(v)) if float(v) < 1.3e154 else np.inf)
    np.testing.assert_allclose(d, np.array([[v], [0.0]], dtype=dtype), rtol=1e-6)  # (pred - y) / N = v: finite


@pytest.mark.filterwarnings("error")
def test_penalties_of_huge_weights_are_right_or_honestly_inf():
    w = np.array([1e200, -1e200])
    assert Lo.l2_penalty(w, 1e-300)[0] == pytest.approx(1e100)  # the squares overflow, the loss does not
    assert Lo.l1_penalty(np.array([1.5e308, -1.5e308]), 0.1)[0] == pytest.approx(3e307)  # so does the sum
    loss, dw = Lo.l2_penalty(np.array([1e308]), 10.0)
    assert loss == np.inf and dw[0] == np.inf  # both beyond the float range: inf, without a warning
    assert Lo.l1_penalty(np.array([1e308, 1e308]), 1.0)[0] == np.inf


@pytest.mark.filterwarnings("error")
def test_softmax_rows_sum_to_one_at_any_magnitude():
    p = Lo.softmax(np.array([[1e308, -1e308, 0.0], [1.0, 1.0, 1.0]]))
    np.testing.assert_allclose(p, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_float32_preserved():
    rng = np.random.default_rng(0)
    s = rng.normal(size=(4, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 0])
    t = (s > 0).astype(np.float64)  # float64 targets do not upcast the gradient
    for loss, d in (Lo.softmax_loss(s, y), Lo.svm_loss(s, y), Lo.binary_cross_entropy(s, t), Lo.quadratic_loss(s, t),
                    Lo.l2_penalty(s, 0.1), Lo.l1_penalty(s, 0.1)):
        assert isinstance(loss, float) and d.dtype == np.float32
    g = Lo.sigmoid_output_gradients(s, 1.0)
    assert g["quadratic"].dtype == np.float32 and g["cross_entropy"].dtype == np.float32


# ----------------------------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("name", LABEL_LOSSES)
@pytest.mark.parametrize("scores, y, exc, match", [
    (np.ones(3), [0, 1, 2], ValueError, r"scores must have shape \(N, C\) \(2-D\); got shape \(3,\)"),
    (np.ones((3, 4)), [0, 1], ValueError,
     r"y must have shape \(N,\) = \(3,\), one label per example; got shape \(2,\)"),
    (np.ones((3, 4)), [0, 1, 4], ValueError, r"labels in \[0, 4\); got values from 0 to 4"),
    (np.ones((3, 4)), [0, -1, 2], ValueError, r"labels in \[0, 4\); got values from -1 to 2"),
    (np.ones((3, 4)), [0.5, 1, 2], TypeError, r"y must hold integer class labels; got dtype float64"),
    (np.ones((0, 4)), np.zeros(0, int), ValueError, r"at least one example; got N = 0"),
    ([["a", "b"]], [0], TypeError, r"scores must be a real numeric array"),
])
def test_label_losses_bad_input(name, scores, y, exc, match):
    with pytest.raises(exc, match=match):
        getattr(Lo, name)(scores, y)


@pytest.mark.parametrize("name", ["binary_cross_entropy", "quadratic_loss"])
@pytest.mark.parametrize("x, y, exc, match", [
    (np.ones((2, 3, 4)), np.ones((2, 3, 4)), ValueError, r"must have shape \(N,\) or \(N, K\); got shape \(2, 3, 4\)"),
    (np.ones((3, 2)), np.ones((3,)), ValueError, r"y must have the same shape as the .* \(3, 2\); got \(3,\)"),
    (np.ones(0), np.ones(0), ValueError, r"at least one example; got N = 0"),
    (np.ones(2), np.array([0.0, np.nan]), ValueError, r"y must hold finite values"),
    (np.ones(2), ["a", "b"], TypeError, r"y must be a real numeric array"),
])
def test_n_or_nk_losses_bad_input(name, x, y, exc, match):
    with pytest.raises(exc, match=match):
        getattr(Lo, name)(x, y)


def test_bce_targets_out_of_range():
    with pytest.raises(ValueError, match=r"y must hold targets in \[0, 1\]; got values from -1.0 to 2.0"):
        Lo.binary_cross_entropy(np.zeros(3), np.array([-1.0, 0.5, 2.0]))


@pytest.mark.parametrize("name", ["l2_penalty", "l1_penalty"])
def test_penalties_bad_input(name):
    f = getattr(Lo, name)
    with pytest.raises(ValueError, match=r"reg must be >= 0; got -0.1"):
        f(np.ones(3), -0.1)
    with pytest.raises(TypeError, match=r"reg must be a real number; got '0.1' \(str\)"):
        f(np.ones(3), "0.1")
    with pytest.raises(ValueError, match=r"reg must be finite"):
        f(np.ones(3), np.inf)
    with pytest.raises(TypeError, match=r"w must be a real numeric array"):
        f("weights", 0.1)


def test_sigmoid_output_gradients_bad_input():
    with pytest.raises(ValueError, match=r"y must be a scalar or broadcastable to z's shape \(3,\); got shape \(2,\)"):
        Lo.sigmoid_output_gradients(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"y must hold targets in \[0, 1\]; got values from 2.0 to 2.0"):
        Lo.sigmoid_output_gradients(np.zeros(3), 2.0)


# ----------------------------------------------------------------------------------------------------------------
# Checks


def test_reference_passes_every_loss_check(capsys):
    for name in ("softmax_loss", "svm_loss", "binary_cross_entropy", "quadratic_loss", "l2_penalty", "l1_penalty",
                 "sigmoid_output_gradients"):
        r = getattr(CLo, f"check_{name}").evaluate(getattr(Lo, name))
        assert r.passed, r.message
    CLo.check_softmax_loss(Lo.softmax_loss)
    assert capsys.readouterr().out.startswith("✓ softmax_loss:")


def test_not_implemented_is_reported():
    def stub(*args):
        raise NotImplementedError

    assert CLo.check_svm_loss.evaluate(stub).status == "not implemented"


def softmax_no_shift(scores, y):
    e = np.exp(scores)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n


def softmax_log_of_probs(scores, y):
    shifted = scores - scores.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    p = e / e.sum(axis=1, keepdims=True)
    n = len(y)
    loss = -np.log(p[np.arange(n), y]).mean()
    d = p.copy()
    d[np.arange(n), y] -= 1
    return loss, d / n


def softmax_summed(scores, y):
    loss, d = Lo.softmax_loss(scores, y)
    return loss * len(y), d


def softmax_no_minus_one(scores, y):
    loss, d = Lo.softmax_loss(scores, y)
    d = d.copy()
    d[np.arange(len(y)), y] += 1 / len(y)
    return loss, d


def svm_counting_correct_class(scores, y):
    n = len(y)
    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None] + 1)  # correct class not zeroed
    loss = margins.sum() / n
    binary = (margins > 0).astype(float)
    binary[np.arange(n), y] -= binary.sum(axis=1)
    return loss, binary / n


def svm_no_correct_class_gradient(scores, y):
    loss, d = Lo.svm_loss(scores, y)
    d = d.copy()
    d[np.arange(len(y)), y] = 0
    return loss, d


def bce_naive(logits, y):
    a = 1 / (1 + np.exp(-logits))
    n = logits.shape[0]
    return -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum() / n, (a - y) / n


def bce_log_of_stable_sigmoid(logits, y):
    a = sigmoid(logits)
    n = logits.shape[0]
    return -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum() / n, (a - y) / n


def bce_clipped(logits, y):
    a = sigmoid(logits)
    c = np.clip(a, 1e-12, 1 - 1e-12)
    n = logits.shape[0]
    return -(y * np.log(c) + (1 - y) * np.log(1 - c)).sum() / n, (a - y) / n


def bce_mean_over_k(logits, y):
    loss, d = Lo.binary_cross_entropy(logits, y)
    return loss / (logits.size // logits.shape[0]), d


def quadratic_no_half(pred, y):
    loss, d = Lo.quadratic_loss(pred, y)
    return 2 * loss, d


def quadratic_grad_times_two(pred, y):
    loss, d = Lo.quadratic_loss(pred, y)
    return loss, 2 * d


def l2_grad_2reg(w, reg):
    loss, dw = Lo.l2_penalty(w, reg)
    return loss, 2 * dw


def l1_sign_at_zero(w, reg):
    return reg * np.abs(w).sum(), np.where(w >= 0, reg, -reg)


def l1_like_l2(w, reg):
    return reg * np.abs(w).sum(), reg * w


def slowdown_without_sigma_prime(z, y):
    a = sigmoid(z)
    return {"quadratic": a - y, "cross_entropy": a - y}


def slowdown_ce_with_sigma_prime(z, y):
    a = sigmoid(z)
    return {"quadratic": (a - y) * a * (1 - a), "cross_entropy": (a - y) * a * (1 - a)}


MISTAKES = [
    ("check_softmax_loss", softmax_no_shift, "softmax without the max shift"),
    ("check_softmax_loss", softmax_log_of_probs, "log of a probability that underflowed to 0"),
    ("check_softmax_loss", softmax_summed, "summed over the examples instead of averaged"),
    ("check_softmax_loss", softmax_no_minus_one, "forgot to subtract 1 at the correct class"),
    ("check_svm_loss", svm_counting_correct_class, "SVM counting the correct class"),
    ("check_svm_loss", svm_no_correct_class_gradient, "the correct class's gradient is missing"),
    ("check_binary_cross_entropy", bce_naive, "exp() overflowed"),
    ("check_binary_cross_entropy", bce_log_of_stable_sigmoid, "log of 0"),
    ("check_binary_cross_entropy", bce_clipped, "probabilities clipped before the log"),
    ("check_binary_cross_entropy", bce_mean_over_k, "averaged over the K outputs too"),
    ("check_quadratic_loss", quadratic_no_half, "forgot the 1/2"),
    ("check_quadratic_loss", quadratic_grad_times_two, "extra factor 2"),
    ("check_l2_penalty", l2_grad_2reg, "dw = 2 reg w"),
    ("check_l1_penalty", l1_sign_at_zero, "subgradient at w == 0 must be 0"),
    ("check_l1_penalty", l1_like_l2, "that is L2's gradient"),
    ("check_sigmoid_output_gradients", slowdown_without_sigma_prime, "quadratic cost missing sigma'(z)"),
    ("check_sigmoid_output_gradients", slowdown_ce_with_sigma_prime, "cross-entropy's sigma'(z) cancels"),
]


@pytest.mark.parametrize("check, func, phrase", MISTAKES, ids=[f"{m[0]}-{m[2][:30]}" for m in MISTAKES])
def test_each_mistake_is_named(check, func, phrase):
    r = getattr(CLo, check).evaluate(func)
    assert r.status == "failed", r.message
    assert phrase in r.detail, r.message


def test_the_svm_correct_class_mistake_costs_exactly_the_margin():
    rng = np.random.default_rng(5)
    s, y = rng.normal(size=(7, 4)), rng.integers(0, 4, 7)
    assert svm_counting_correct_class(s, y)[0] == pytest.approx(Lo.svm_loss(s, y)[0] + 1)
