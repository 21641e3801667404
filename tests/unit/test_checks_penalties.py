"""The checks of lab 06's penalties (course.checks.losses): l2_penalty without the 1/2 (with a gradient that does
not match it, or one that does), and regularized_loss applying the penalty to biases, to batch norm's gamma and
beta, to the loss or the gradients only, or ignoring the penalty passed. Also the library's regularized_loss."""
import numpy as np
import pytest

from course import losses
from course.models import FullyConnectedNet

from test_checks_harness import assert_named, result


def l2_without_half(w, reg):
    return reg * float(np.sum(w * w)), reg * w


def l2_without_half_consistent(w, reg):
    return reg * float(np.sum(w * w)), 2 * reg * w


def l2_lab_solution(w, reg):
    return 0.5 * reg * float(np.sum(w * w)), reg * w


def stub(*args):
    raise NotImplementedError


def test_l2_penalty_correct_versions_pass_and_a_stub_is_not_implemented():
    assert result("check_l2_penalty", l2_lab_solution).passed
    assert result("check_l2_penalty", losses.l2_penalty).passed
    assert result("check_l2_penalty", stub).status == "not implemented"


def test_l2_without_the_half_and_a_gradient_that_does_not_match_is_named():
    assert_named(result("check_l2_penalty", l2_without_half), "L2 without the 1/2, and a gradient that does not match",
                 "put the 1/2 back")


def test_l2_without_the_half_but_a_matching_gradient_is_named_as_another_convention():
    assert_named(result("check_l2_penalty", l2_without_half_consistent), "L2 without the 1/2",
                 "agree with each other", "twice as strong")


# --- regularized_loss ---------------------------------------------------------------------------------------------

def weights(name):
    return name.startswith("W")


def penalize(in_loss, in_grads=None, penalty_used=None):
    """A regularized_loss that adds the penalty to the loss for the parameters whose name passes ``in_loss``, and to
    the gradients for those passing ``in_grads`` (the same test by default), with ``penalty_used`` (default: the
    penalty passed)."""
    in_grads = in_grads or in_loss

    def regularized_loss(data_loss, grads, params, reg, penalty):
        f = penalty_used or penalty
        loss, new = data_loss, dict(grads)
        for name, w in params.items():
            penalty_loss, dw = f(w, reg)
            loss += penalty_loss if in_loss(name) else 0.0
            new[name] = grads[name] + dw if in_grads(name) else grads[name]
        return loss, new
    return regularized_loss


def lab_solution(data_loss, grads, params, reg, penalty):
    loss, new_grads = float(data_loss), dict(grads)
    for name, w in params.items():
        if name.startswith("W"):
            penalty_loss, dw = penalty(w, reg)
            loss += penalty_loss
            new_grads[name] = grads[name] + dw
    return loss, new_grads


def in_place(data_loss, grads, params, reg, penalty):
    for name in params:
        if name.startswith("W"):
            penalty_loss, dw = penalty(params[name], reg)
            data_loss += penalty_loss
            grads[name] += dw
    return data_loss, grads


def test_regularized_loss_correct_versions_pass_and_a_stub_is_not_implemented():
    for correct in (lab_solution, in_place, losses.regularized_loss, penalize(weights)):
        assert result("check_regularized_loss", correct).passed
    assert result("check_regularized_loss", stub).status == "not implemented"


@pytest.mark.parametrize("wrong, phrases", [
    (penalize(lambda name: True), ["penalty applied to biases (b1, b2) in the gradients"]),
    (penalize(lambda name: name[0] in "Wb"), ["penalty applied to biases"]),
    (penalize(lambda name: name[0] in "Wb", in_grads=weights), ["penalty applied to biases (b1, b2) in the loss"]),
    (penalize(lambda name: not name.startswith("b")), ["penalty applied to batch norm's gamma and beta"]),
    (penalize(lambda name: name == "W1"), ["W2 not penalized in the gradients"]),
    (penalize(weights, in_grads=lambda name: False), ["the penalty is missing from the gradients"]),
    (penalize(lambda name: False, in_grads=weights), ["the penalty is missing from the loss"]),
    (penalize(weights, penalty_used=losses.l2_penalty),
     ["ignored the penalty passed: l1_penalty was passed, l2_penalty used"]),
], ids=["everything", "b-prefix", "biases-in-loss", "gamma-beta", "first-W-only", "no-gradient", "no-loss",
        "always-L2"])
def test_each_regularized_loss_mistake_is_named(wrong, phrases):
    assert_named(result("check_regularized_loss", wrong), *phrases)


def test_regularized_loss_changing_params_is_named():
    def shrinks_params(data_loss, grads, params, reg, penalty):
        params["W1"] *= 0.5
        return lab_solution(data_loss, grads, params, reg, penalty)

    assert_named(result("check_regularized_loss", shrinks_params), "changed params")


def test_the_library_regularized_loss_equals_the_models_built_in_l2():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 6)), rng.integers(0, 3, size=8)
    plain = FullyConnectedNet([5, 4], 6, 3, normalization="batchnorm", seed=1)
    built_in = FullyConnectedNet([5, 4], 6, 3, normalization="batchnorm", reg=0.3, seed=1)
    data_loss, grads = plain.loss(X, y)
    before = {name: g.copy() for name, g in grads.items()}
    loss, new = losses.regularized_loss(data_loss, grads, plain.params, 0.3)
    expected_loss, expected = built_in.loss(X, y)
    assert loss == pytest.approx(expected_loss)
    for name in expected:
        np.testing.assert_allclose(new[name], expected[name])
        np.testing.assert_array_equal(grads[name], before[name])  # the gradients passed in are left alone
    l1_loss, l1_grads = losses.regularized_loss(data_loss, grads, plain.params, 0.3, losses.l1_penalty)
    np.testing.assert_allclose(l1_grads["W1"], grads["W1"] + 0.3 * np.sign(plain.params["W1"]))
    np.testing.assert_array_equal(l1_grads["gamma1"], grads["gamma1"])
    with pytest.raises(ValueError, match="keyed like params"):
        losses.regularized_loss(data_loss, {"W1": grads["W1"]}, plain.params, 0.3)
