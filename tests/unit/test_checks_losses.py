"""course.checks.losses: a softmax shifted by the global maximum is named for what it is, and a numerical warning
carries the student's line. (The reference passing and the first named mistakes are in test_losses.py.)"""
import numpy as np
import pytest

from course import losses as Lo
from course.checks import losses as CLo


def softmax_shifted_by(shift, log_sum_exp=True):
    """A softmax loss that subtracts shift(scores) before exp, then takes the log of the probabilities either as
    shifted - log(sum(exp(shifted))) (right) or as log(p)."""
    def softmax_loss(scores, y):
        n, rows = len(y), np.arange(len(y))
        shifted = scores - shift(scores)
        if log_sum_exp:
            log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
            p = np.exp(log_p)
        else:
            p = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
            log_p = np.log(p)
        d = p.copy()
        d[rows, y] -= 1
        return -log_p[rows, y].mean(), d / n
    return softmax_loss


def test_the_row_shift_template_passes():
    assert CLo.check_softmax_loss.evaluate(softmax_shifted_by(lambda s: s.max(axis=1, keepdims=True))).passed


@pytest.mark.parametrize("softmax_loss", [softmax_shifted_by(lambda s: s.max()),
                                          softmax_shifted_by(lambda s: s.max(), log_sum_exp=False)],
                         ids=["log_sum_exp", "log_of_probabilities"])
def test_a_softmax_shifted_by_the_global_max_is_named_as_such(softmax_loss):
    r = CLo.check_softmax_loss.evaluate(softmax_loss)
    assert r.status == "failed", r.message
    assert "shifted by the global maximum (scores - scores.max()) instead of each row's own" in r.detail, r.message
    assert "Subtract scores.max(axis=1, keepdims=True)" in r.detail


softmax_no_shift = softmax_shifted_by(lambda s: 0.0)


def test_a_softmax_without_shift_is_still_told_to_shift_with_its_line():
    r = CLo.check_softmax_loss.evaluate(softmax_no_shift)
    assert r.status == "failed" and "softmax without the max shift" in r.detail, r.message
    assert "(in softmax_loss, line" in r.detail and "np.exp(shifted)" in r.detail, r.message


def test_the_log_of_probabilities_is_still_named_with_a_row_shift():
    r = CLo.check_softmax_loss.evaluate(softmax_shifted_by(lambda s: s.max(axis=1, keepdims=True), log_sum_exp=False))
    assert r.status == "failed" and "log of a probability that underflowed to 0" in r.detail, r.message


def bce_naive(logits, y):
    a = 1 / (1 + np.exp(-logits))
    return -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum() / logits.shape[0], (a - y) / logits.shape[0]


def test_a_numerical_warning_in_a_loss_check_names_the_line():
    r = CLo.check_binary_cross_entropy.evaluate(bce_naive)
    assert r.status == "failed" and "exp() overflowed" in r.detail, r.message
    assert "(in bce_naive, line" in r.detail and "np.exp(-logits)" in r.detail, r.message


def quadratic_dividing_by_zero(pred, y):
    loss, d = Lo.quadratic_loss(pred, y)
    return loss, d * (np.zeros(1) / np.zeros(1))


def test_an_unnamed_warning_says_numerical_trouble_with_the_line():
    r = CLo.check_quadratic_loss.evaluate(quadratic_dividing_by_zero)
    assert r.status == "failed" and r.detail.startswith("numerical trouble: invalid value"), r.message
    assert "(in quadratic_dividing_by_zero, line" in r.detail, r.message


# --- the mistakes lab 04 names ------------------------------------------------------------------------------------

def softmax_log_of_probability_plus_epsilon(scores, y):
    n, rows = len(y), np.arange(len(y))
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    d = p.copy()
    d[rows, y] -= 1
    return -np.log(p[rows, y] + 1e-15).mean(), d / n


def bce_clipped_at_1e_7(logits, y):
    a = np.clip(Lo.binary_cross_entropy(logits, y)[1] * logits.shape[0] + y, 1e-7, 1 - 1e-7)  # sigmoid(z), clipped
    n = logits.shape[0]
    return -(y * np.log(a) + (1 - y) * np.log(1 - a)).sum() / n, Lo.binary_cross_entropy(logits, y)[1]


def svm_loss_summed_over_n(scores, y):
    loss, d = Lo.svm_loss(scores, y)
    return loss * len(y), d


def svm_without_the_margin(scores, y):
    n, rows = len(y), np.arange(len(y))
    margins = np.maximum(0, scores - scores[rows, y][:, None])
    margins[rows, y] = 0
    return margins.sum() / n, Lo.svm_loss(scores, y)[1]


def quadratic_summed_over_n(pred, y):
    loss, d = Lo.quadratic_loss(pred, y)
    return loss * pred.shape[0], d


@pytest.mark.parametrize("check, func, phrase", [
    (CLo.check_softmax_loss, softmax_log_of_probability_plus_epsilon, "log of a probability, clipped or with an "
                                                                      "epsilon added"),
    (CLo.check_binary_cross_entropy, bce_clipped_at_1e_7, "probabilities clipped before the log"),
    (CLo.check_svm_loss, svm_loss_summed_over_n, "loss summed over the examples instead of averaged"),
    (CLo.check_svm_loss, svm_without_the_margin, "forgot the margin"),
    (CLo.check_quadratic_loss, quadratic_summed_over_n, "loss summed over the examples instead of averaged"),
], ids=["softmax epsilon", "bce clip 1e-7", "svm summed", "svm no margin", "quadratic summed"])
def test_lab_04_mistakes_are_named(check, func, phrase):
    r = check.evaluate(func)
    assert r.status == "failed" and phrase in r.detail, r.message


@pytest.mark.parametrize("name", ["softmax_loss", "svm_loss", "binary_cross_entropy", "quadratic_loss",
                                  "sigmoid_output_gradients"])
def test_lab_04_stubs_are_not_implemented_yet(name):
    def stub(*args):
        raise NotImplementedError
    r = getattr(CLo, f"check_{name}").evaluate(stub)
    assert r.status == "not implemented" and "not implemented yet" in r.detail
