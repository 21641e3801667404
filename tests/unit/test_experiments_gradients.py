"""course.experiments.gradients: the computations behind lab 04 and its two explorers."""
import numpy as np
import pytest

from course import losses
from course.experiments import (best_step, difference_errors, epochs_to_reach, finite_differences,
                                gradient_descent, kinked_exp, learning_rate_sweep, linear_digits, matched_rate,
                                minibatch_descent, minibatch_gradient_noise, relative_errors, round_off_guide,
                                search_progression, softmax_losses, svm_kink_errors, svm_losses,
                                train_sigmoid_neuron, truncation_guides)
from course.experiments.gradients import _softmax_gradients
from course.gradcheck import eval_numerical_gradient, rel_error


@pytest.fixture(scope="module")
def digits():
    return linear_digits(n_train=120)


def test_linear_digits_are_centred_with_a_bias_column(digits):
    assert digits.X_train.shape == (120, 65) and digits.X_test.shape[1] == 65
    np.testing.assert_allclose(digits.X_train[:, :-1].mean(axis=0), 0, atol=1e-12)
    assert (digits.X_train[:, -1] == 1).all() and (digits.X_test[:, -1] == 1).all()
    assert len(digits.y_test) == round(0.3 * 1797) or abs(len(digits.y_test) - 0.3 * 1797) < 10


def test_stacked_softmax_losses_and_gradients_match_the_reference(digits):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(3, 65, 10)) * 0.1
    X, y = digits.X_train, digits.y_train
    expected = [losses.softmax_loss(X @ w, y) for w in W]
    np.testing.assert_allclose(softmax_losses(X, y, W), [e[0] for e in expected], rtol=1e-12)
    np.testing.assert_allclose(_softmax_gradients(X, y, W), [X.T @ e[1] for e in expected], rtol=1e-10, atol=1e-15)
    w = W[1].copy()
    numeric = eval_numerical_gradient(lambda v: float(softmax_losses(X, y, v[None])[0]), w)
    np.testing.assert_allclose(_softmax_gradients(X, y, W[1:2])[0], numeric, rtol=1e-6, atol=1e-10)  # gradient-check


def test_the_search_progression_orders_the_methods(digits):
    r = search_progression(digits, seeds=range(3), budget=60)
    assert set(r.accuracy) == {"random guess", "random search", "random local search", "gradient descent"}
    assert all(a.shape == (3,) for a in r.accuracy.values()) and r.budget == 60
    mean = {name: a.mean() for name, a in r.accuracy.items()}
    assert mean["random guess"] < 0.25 < mean["gradient descent"]
    assert r.loss["gradient descent"].max() < r.loss["random local search"].min() < r.loss["random guess"].min()
    assert (r.loss["random search"] <= r.loss["random guess"] + 0.05).all()
    again = search_progression(digits, seeds=range(3), budget=60)
    np.testing.assert_array_equal(again.accuracy["random local search"], r.accuracy["random local search"])


def test_relative_errors_entry_by_entry():
    np.testing.assert_allclose(relative_errors([1.0, 0.0, 3.0], [1.0, 0.0, 1.0]), [0.0, 0.0, 0.5])
    assert relative_errors(1e-12, 0.0) == pytest.approx(1e-4)  # the floor 1e-8


def test_finite_differences_centred_one_sided_and_float32():
    x = np.array([0.5, -1.0, 2.0])
    f = lambda v: float(np.sum(v ** 3))  # noqa: E731
    exact = 3 * x ** 2
    np.testing.assert_allclose(finite_differences(f, x, 1e-3), eval_numerical_gradient(f, x.copy(), 1e-3), rtol=1e-8)
    np.testing.assert_allclose(finite_differences(f, x, 1e-3, one_sided=True) - exact, 3 * x * 1e-3 + 1e-6,
                               rtol=1e-3)  # the O(h) error 3 x h (+ h^2)
    x32 = x.astype(np.float32)
    grad32 = finite_differences(lambda v: np.sum(v ** 3), x32, 1e-2)
    assert grad32.dtype == np.float32 and rel_error(grad32, exact) < 1e-3
    np.testing.assert_array_equal(x, [0.5, -1.0, 2.0])


def test_difference_errors_follow_the_theory_where_truncation_dominates():
    h = np.logspace(-3, -1, 5)
    e = difference_errors(h)
    guide = truncation_guides(h)
    np.testing.assert_allclose(e["centred"], guide["centred"], rtol=0.05)
    np.testing.assert_allclose(e["one-sided"], guide["one-sided"], rtol=0.1)
    np.testing.assert_allclose(round_off_guide([1e-8], np.float32), [np.finfo(np.float32).eps / 2e-8])
    np.testing.assert_allclose(round_off_guide([1e-8], np.float32, one_sided=True), [np.finfo(np.float32).eps / 1e-8])


def test_the_theorys_best_steps_are_where_truncation_and_round_off_balance():
    h = np.logspace(-12, -2, 2001)
    eps = np.finfo(np.float64).eps
    truncation = truncation_guides(h)
    centred = truncation["centred"] + round_off_guide(h)
    one_sided = truncation["one-sided"] + round_off_guide(h, one_sided=True)
    assert h[np.argmin(centred)] == pytest.approx((3 * eps) ** (1 / 3), rel=0.01)
    assert h[np.argmin(one_sided)] == pytest.approx(2 * np.sqrt(eps), rel=0.01)


def test_float32_differences_are_computed_in_float32():
    h = np.array([1e-9, 1e-5, 1e-2])
    e = difference_errors(h, np.float32)
    assert e["centred"][0] == 1.0  # 1 + 1e-9 rounds to 1 in float32: the estimate is 0
    assert 1e-4 < e["centred"][1] < 1e-1 and e["centred"][2] < 1e-4
    with pytest.raises(TypeError, match="dtype must be a float type"):
        difference_errors(h, np.int32)


def test_a_kink_spoils_the_differences_only_once_the_step_reaches_it():
    h = np.array([1e-6, 1e-5, 1e-3, 1e-2])
    smooth, kinked = difference_errors(h), difference_errors(h, kink_distance=1e-4)
    np.testing.assert_array_equal(kinked["centred"][:2], smooth["centred"][:2])
    assert (kinked["centred"][2:] > 0.05).all() and (kinked["one-sided"][2:] > 0.05).all()
    assert kinked_exp(np.array([2.0]), 1.5)[0] == pytest.approx(np.exp(2) + 1)


def test_best_step():
    assert best_step([1, 2, 3], [0.5, 0.1, 0.2]) == (2.0, 0.1)


def test_minibatch_gradient_noise_follows_sampling_without_replacement(digits):
    W = np.random.default_rng(0).normal(size=(65, 10)) * 0.01
    sizes = np.array([1, 4, 16, 60, 120])
    noise = minibatch_gradient_noise(digits, W, sizes, draws=400)
    n = len(digits.y_train)
    np.testing.assert_allclose(noise[1:-1], noise[0] * np.sqrt((n - sizes[1:-1]) / (sizes[1:-1] * (n - 1))), rtol=0.1)
    assert noise[3] < 0.9 * noise[0] / np.sqrt(60)  # half the set: well below plain 1 / sqrt(B)
    assert noise[-1] < 1e-12  # the whole training set is the full batch


def test_minibatch_descent_with_the_full_batch_is_gradient_descent(digits):
    run = minibatch_descent(digits, batch_size=120, steps=5, learning_rate=0.5, seeds=[0])
    W = np.random.default_rng(0).normal(size=(1, 65, 10)) * 0.01
    for _ in range(5):
        W = W - 0.5 * _softmax_gradients(digits.X_train, digits.y_train, W)
    assert run.train_loss[0, -1] == pytest.approx(softmax_losses(digits.X_train, digits.y_train, W)[0], rel=1e-10)
    np.testing.assert_allclose(run.batch_loss[0], run.train_loss[0, :-1], rtol=1e-10)
    np.testing.assert_array_equal(run.examples, 120 * np.arange(6))


def test_the_learning_rate_sweep_runs_minibatch_descent_at_every_rate(digits):
    losses = learning_rate_sweep(digits, 10, 24, [0.1, 0.5, 2.0], seeds=[3, 4])
    assert losses.shape == (3, 2)
    for i, rate in enumerate((0.1, 0.5, 2.0)):
        run = minibatch_descent(digits, 10, 24, learning_rate=rate, seeds=[3, 4], every=24)
        np.testing.assert_allclose(losses[i], run.train_loss[:, -1], rtol=1e-10)


def test_gradient_descent_matches_the_search_progressions_and_moves_runs_closer(digits):
    starts = np.random.default_rng(0).normal(size=(3, 65, 10))
    W = gradient_descent(digits, starts, 50)
    by_hand = starts.copy()
    for _ in range(50):
        by_hand = by_hand - _softmax_gradients(digits.X_train, digits.y_train, by_hand)
    np.testing.assert_allclose(W, by_hand, rtol=1e-12)
    # a convex loss with curvature at most L = 1/2 here and a step of 1 < 2 / L: runs never drift apart
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert np.linalg.norm(W[i] - W[j]) < np.linalg.norm(starts[i] - starts[j])
    np.testing.assert_array_equal(gradient_descent(digits, starts, 0), starts)


def test_stacked_svm_losses_match_the_reference(digits):
    W = np.random.default_rng(1).normal(size=(3, 65, 10))
    expected = [losses.svm_loss(digits.X_train @ w, digits.y_train)[0] for w in W]
    np.testing.assert_allclose(svm_losses(digits.X_train, digits.y_train, W), expected, rtol=1e-12)


def test_svm_kink_errors_agree_with_eval_numerical_gradient():
    errors = svm_kink_errors([5, 6], [1e-2, 1e-5], n=50)
    assert errors.shape == (2, 2, 50)
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(50, 10)), rng.integers(0, 5, size=50)
    W = 0.1 * rng.normal(size=(10, 5))
    analytic = X.T @ losses.svm_loss(X @ W, y)[1]
    numeric = eval_numerical_gradient(lambda w: losses.svm_loss(X @ w, y)[0], W.copy(), 1e-2)
    failing = relative_errors(analytic, numeric).ravel() > 1e-7
    np.testing.assert_array_equal(errors[0, 1] > 1e-7, failing)
    assert (errors[1] < 1e-7).all()  # h = 1e-5: no margin within reach


def test_minibatch_descent_records_every_few_steps_and_is_noisy_for_small_batches(digits):
    run = minibatch_descent(digits, batch_size=4, steps=60, seeds=range(3), every=10)
    assert run.batch_loss.shape == (3, 60) and run.train_loss.shape == (3, 7)
    np.testing.assert_array_equal(run.examples, 40 * np.arange(7))
    assert run.train_loss[:, -1].max() < run.train_loss[:, 0].min()
    assert np.abs(np.diff(run.batch_loss, axis=1)).mean() > 5 * np.abs(np.diff(run.train_loss, axis=1)).mean() / 10


def test_nielsens_neuron_reproduces_his_figures():
    good = train_sigmoid_neuron(0.6, 0.9, 0.15, "quadratic")
    bad = train_sigmoid_neuron(2.0, 2.0, 0.15, "quadratic")
    assert good.output[0] == pytest.approx(0.82, abs=0.005) and good.output[-1] == pytest.approx(0.09, abs=0.01)
    assert bad.output[0] == pytest.approx(0.98, abs=0.005) and bad.output[150] > 0.9 and bad.output[-1] < 0.25
    np.testing.assert_allclose(good.weight - good.bias, 0.6 - 0.9)  # x = 1: w and b take the same steps
    assert epochs_to_reach(good.output, 0.5) == 36 and epochs_to_reach(bad.output, 0.5) == 232
    assert epochs_to_reach(bad.output, 0.01) is None


@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
def test_the_output_error_is_the_derivative_of_the_cost(cost):
    for z in (-3.0, 0.4, 2.5):
        run = train_sigmoid_neuron(z, 0.0, 1e-9, cost, epochs=1, y=0.3)
        numeric = eval_numerical_gradient(lambda v: float(train_sigmoid_neuron(v[0], 0.0, 1e-9, cost, epochs=1,
                                                                               y=0.3).cost[0]), np.array([z]))
        assert rel_error(run.gradient[:1], numeric) < 1e-7


@pytest.mark.parametrize("cost, loss", [("quadratic", losses.quadratic_loss),
                                        ("cross-entropy", losses.binary_cross_entropy)])
def test_a_loss_function_gives_the_built_in_formulas_results(cost, loss):
    built_in = train_sigmoid_neuron(2.0, 2.0, 0.1, cost, epochs=50)
    through = train_sigmoid_neuron(2.0, 2.0, 0.1, cost, epochs=50, loss=loss)
    for field in ("output", "cost", "gradient", "weight"):
        np.testing.assert_allclose(getattr(through, field), getattr(built_in, field), rtol=1e-12, atol=1e-15)


def test_the_neuron_is_stable_far_from_zero():
    for cost in ("quadratic", "cross-entropy"):
        run = train_sigmoid_neuron(400.0, 400.0, 1.0, cost, epochs=3)
        assert np.all(np.isfinite(run.cost)) and run.cost[0] > (0.49 if cost == "quadratic" else 799)


def test_matched_rate_and_bad_input():
    assert matched_rate(0.15, 0.6, 0.9) == pytest.approx(0.02237, abs=1e-5)
    with pytest.raises(ValueError, match="cost must be one of"):
        train_sigmoid_neuron(0, 0, 0.1, "hinge")
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        train_sigmoid_neuron(0, 0, 0.0)
