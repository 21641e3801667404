"""The dropout checks (course.checks.layers) name every mistake lab 06 lists: dropout not rescaled, rescaled at
test time, p used as the drop probability, the mask not reused in the backward pass, and vanilla dropout (the
notes' first version) told apart from inverted dropout. The lab's own solution passes."""
import numpy as np
import pytest

from test_checks_harness import assert_named, result


def mask_rng(param):
    rng = param.get("rng")
    return rng if rng is not None else np.random.default_rng(param.get("seed"))


def inverted(x, param):
    """The lab's solution: keep where rng.random < p, divide the kept units by p; identity at test time."""
    p = param["p"]
    if param["mode"] == "test":
        return x.copy(), ("test", None, p)
    keep = mask_rng(param).random(x.shape) < p
    return np.where(keep, x / p, 0), ("train", keep, p)


def inverted_backward(dout, cache):
    mode, keep, p = cache
    return dout.copy() if mode == "test" else np.where(keep, dout / p, 0)


def variant(train_scale=lambda p: 1 / p, test_scale=lambda p: 1.0, keep_probability=lambda p: p):
    """A dropout_forward right except for the scale of the kept units, the test-time scale and the keep rate."""
    def dropout_forward(x, param):
        p = param["p"]
        if param["mode"] == "test":
            return x * test_scale(p), ("test", None, p)
        keep = mask_rng(param).random(x.shape) < keep_probability(p)
        return np.where(keep, x * train_scale(p), 0), ("train", keep, p)
    return dropout_forward


def redrawing_backward(dout, cache):
    """Draws the mask again from the seed instead of using the forward's."""
    mode, keep, p = cache
    if mode == "test":
        return dout.copy()
    return np.where(np.random.default_rng(1).random(dout.shape) < p, dout / p, 0)


def test_the_lab_solution_passes_and_a_stub_is_not_implemented():
    assert result("check_dropout_forward", inverted).passed
    assert result("check_dropout_backward", inverted, inverted_backward).passed

    def stub(*args):
        raise NotImplementedError

    assert result("check_dropout_forward", stub).status == "not implemented"
    assert result("check_dropout_backward", inverted, stub).status == "not implemented"


@pytest.mark.parametrize("forward, phrase", [
    (variant(train_scale=lambda p: 1.0), "dropout not rescaled by 1/p"),
    (variant(test_scale=lambda p: p), "dropout rescaled at test time"),
    (variant(test_scale=lambda p: 1 / p), "dropout rescaled at test time"),
    (variant(keep_probability=lambda p: 1 - p, train_scale=lambda p: 1 / (1 - p)),
     "dropout using p as the drop probability"),
    (variant(train_scale=lambda p: 1.0, test_scale=lambda p: p), "vanilla dropout"),
], ids=["not-rescaled", "times-p-at-test", "over-p-at-test", "p-is-drop", "vanilla"])
def test_each_forward_mistake_is_named(forward, phrase):
    assert_named(result("check_dropout_forward", forward), phrase)


def test_a_backward_that_does_not_reuse_the_forward_mask_is_named():
    assert_named(result("check_dropout_backward", inverted, redrawing_backward),
                 "dropout_backward used another mask than the forward")


def test_a_backward_without_the_rescaling_is_named():
    def not_rescaled(dout, cache):
        mode, keep, p = cache
        return dout.copy() if mode == "test" else np.where(keep, dout, 0)

    assert_named(result("check_dropout_backward", inverted, not_rescaled), "dx not rescaled by 1/p")
