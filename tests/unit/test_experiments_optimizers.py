"""course.experiments.optimizers: the quadratic's theory against measurement, races, noisy gradient descent under
schedules, and the digits networks trained many seeds at once."""
import warnings

import numpy as np
import pytest

from course import models, optim, schedules, surfaces
from course.experiments import optimizers as E
from course.gradcheck import eval_numerical_gradient, rel_error


# --- the quadratic --------------------------------------------------------------------------------------------

def test_goh_formulas():
    t = E.quadratic_theory(np.diag([1.0, 100.0]))
    assert (t.lambda_min, t.lambda_max, t.condition) == (1.0, 100.0, 100.0)
    assert t.gd_learning_rate == pytest.approx(2 / 101) and t.gd_rate == pytest.approx(99 / 101)
    assert t.momentum_learning_rate == pytest.approx((2 / 11) ** 2)
    assert t.momentum == pytest.approx((9 / 11) ** 2) and t.momentum_rate == pytest.approx(9 / 11)
    with pytest.raises(ValueError, match="positive definite"):
        E.quadratic_theory(np.diag([-1.0, 1.0]))


def test_the_rates_at_the_optimal_settings_are_the_best_ones():
    eigenvalues = [1.0, 30.0]
    t = E.quadratic_theory(np.diag(eigenvalues))
    assert E.gd_rate(t.gd_learning_rate, eigenvalues) == pytest.approx(t.gd_rate)
    assert E.momentum_rate(t.momentum_learning_rate, t.momentum, eigenvalues) == pytest.approx(t.momentum_rate)
    grid = [(lr, mu) for lr in np.linspace(0.01, 0.2, 40) for mu in np.linspace(0, 0.95, 40)]
    assert min(E.momentum_rate(lr, mu, eigenvalues) for lr, mu in grid) >= t.momentum_rate - 1e-9
    assert min(E.gd_rate(lr, eigenvalues) for lr in np.linspace(0.001, 0.1, 500)) >= t.gd_rate - 1e-9
    assert E.momentum_rate(0.05, 0.0, eigenvalues) == pytest.approx(E.gd_rate(0.05, eigenvalues))  # mu = 0 is GD


def test_course_momentum_is_the_heavy_ball_exactly():
    surface = surfaces.quadratic(40, 20)
    lr, mu = 0.03, 0.7
    path = surfaces.run_optimizer(optim.sgd_momentum, surface, [-3.0, 1.0], 60,
                                  {"learning_rate": lr, "momentum": mu}).path
    ball = [np.array([-3.0, 1.0])] * 2
    for _ in range(60):
        ball.append(ball[-1] - lr * surface.grad(ball[-1]) + mu * (ball[-1] - ball[-2]))
    np.testing.assert_allclose(path, ball[1:], rtol=0, atol=1e-12)


@pytest.mark.parametrize("condition", [3.0, 10.0, 100.0, 1000.0])
@pytest.mark.parametrize("angle", [0.0, 35.0])
def test_the_optimal_settings_achieve_the_predicted_rates(condition, angle):
    surface = surfaces.quadratic(condition, angle)
    t = E.quadratic_theory(surface.hessian(np.zeros(2)))
    gd = surfaces.run_optimizer(optim.sgd, surface, [-3.5, 2.0], 400, {"learning_rate": t.gd_learning_rate})
    hb = surfaces.run_optimizer(optim.sgd_momentum, surface, [-3.5, 2.0], 400,
                                {"learning_rate": t.momentum_learning_rate, "momentum": t.momentum})
    assert E.measured_rate(gd.path, np.zeros(2)) == pytest.approx(t.gd_rate, rel=1e-6)
    assert E.measured_rate(hb.path, np.zeros(2)) == pytest.approx(t.momentum_rate, rel=0.02)


@pytest.mark.parametrize("lr, mu", [(0.01, 0.5), (0.05, 0.9), (0.001, 0.99), (0.1, 0.3)])
def test_predicted_rates_match_measured_ones_at_other_settings(lr, mu):
    surface, eigenvalues = surfaces.quadratic(10, 60), [1.0, 10.0]
    gd = surfaces.run_optimizer(optim.sgd, surface, [-3.5, 2.0], 300, {"learning_rate": lr})
    hb = surfaces.run_optimizer(optim.sgd_momentum, surface, [-3.5, 2.0], 300, {"learning_rate": lr, "momentum": mu})
    assert E.measured_rate(gd.path, np.zeros(2)) == pytest.approx(E.gd_rate(lr, eigenvalues), rel=0.01)
    assert E.measured_rate(hb.path, np.zeros(2)) == pytest.approx(E.momentum_rate(lr, mu, eigenvalues), rel=0.03)


def test_measured_rate_edge_cases():
    assert np.isnan(E.measured_rate(np.zeros((2, 2)), np.zeros(2)))
    assert np.isnan(E.measured_rate(np.array([[1.0, 0], [0.5, 0], [0, 0], [0, 0], [0, 0]]), np.zeros(2)))
    path = np.array([[2.0 ** -k, 0] for k in range(11)])
    assert E.measured_rate(path, np.zeros(2)) == pytest.approx(0.5)
    underflowing = np.array([[0.1 ** k, 0] for k in range(400)])  # 1e-324 and below are exactly 0
    assert E.measured_rate(underflowing, np.zeros(2)) == pytest.approx(0.1, rel=1e-3)


# --- races on a surface -----------------------------------------------------------------------------------------

def test_gradient_noise_and_scale():
    noise = E.gradient_noise(500, 2.0, seed=3)
    assert noise.shape == (500, 2) and noise.std() == pytest.approx(2.0, rel=0.1)
    np.testing.assert_array_equal(noise, E.gradient_noise(500, 2.0, seed=3))
    assert E.gradient_noise(10, 0.0).sum() == 0
    assert E.gradient_scale(surfaces.quadratic(100)) == pytest.approx(10 * E.gradient_scale(surfaces.quadratic(10)),
                                                                      rel=0.2)


def test_lbfgs_trajectory_statuses():
    converged = E.lbfgs_trajectory(surfaces.rosenbrock(), None, 200)
    assert converged.status.startswith("converged after") and np.allclose(converged.path[-1], [1, 1], atol=1e-4)
    assert converged.status == f"converged after {len(converged.path) - 1} steps"
    short = E.lbfgs_trajectory(surfaces.rosenbrock(), None, 5)
    assert short.status == "ran 5 steps" and len(short.path) == 6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        escaped = E.lbfgs_trajectory(surfaces.saddle(), None, 100)
    assert escaped.diverged and np.all(np.abs(escaped.path) <= surfaces.saddle().escape_radius)


def test_newton_solves_a_quadratic_in_one_step_and_heads_for_any_stationary_point():
    for surface in (surfaces.quadratic(1000, 30), surfaces.quadratic(3)):
        path = E.newton_path(surface, [3.0, -2.0], 5)
        assert len(path) == 2 and np.allclose(path[1], 0, atol=1e-12)
    np.testing.assert_allclose(E.newton_path(surfaces.saddle(), None, 5)[-1], [0, 0], atol=1e-15)
    rosenbrock = E.newton_path(surfaces.rosenbrock(), None, 20)
    assert np.allclose(rosenbrock[-1], [1, 1]) and len(rosenbrock) < 12
    top = E.newton_path(surfaces.several_minima(), [-0.5, -0.5], 20)[-1]
    assert surfaces.several_minima().value(top) == pytest.approx(181.6, abs=0.1)  # the local maximum


# --- schedules on noisy gradient descent ----------------------------------------------------------------------------

def test_a_constant_rate_settles_at_the_noise_floor():
    runs = E.annealing_runs({"0.5": lambda t: 0.5, "0.1": lambda t: 0.1}, epochs=60, steps_per_epoch=20, seeds=200)
    for final, lr in zip(runs.final.mean(axis=1), (0.5, 0.1)):
        assert final == pytest.approx(E.noise_floor(lr, 1.0), rel=0.05)
    assert E.noise_floor(2.5, 1.0) == np.inf and E.noise_floor(0.5, 0.0) == 0


def test_annealing_runs_match_a_plain_loop_and_share_the_noise():
    schedule = schedules.step_decay(0.4, 0.5, 2)
    runs = E.annealing_runs({"step": schedule, "same": schedule}, epochs=6, steps_per_epoch=5, noise=0.7, seeds=3,
                            seed=4)
    np.testing.assert_array_equal(runs.loss[0], runs.loss[1])
    draws = np.random.default_rng(4).standard_normal((30, 3, 10))
    w = np.full((3, 10), 3.0)
    losses = [0.5 * (E.NOISY_QUADRATIC_CURVATURES * w * w).sum(-1)]
    for t in range(30):
        w = w - schedule(t // 5) * (E.NOISY_QUADRATIC_CURVATURES * w + 0.7 * draws[t])
        losses.append(0.5 * (E.NOISY_QUADRATIC_CURVATURES * w * w).sum(-1))
    np.testing.assert_allclose(runs.loss[0], np.mean(losses, axis=1), rtol=1e-12)
    np.testing.assert_allclose(runs.learning_rates[0], schedule(np.arange(6)))


def test_plateau_schedules_are_copied_per_seed_and_cut_the_rate():
    plateau = schedules.ReduceLROnPlateau(0.5, factor=0.5, patience=1, mode="min")
    runs = E.annealing_runs({"plateau": plateau, "constant": lambda t: 0.5}, epochs=20, seeds=20)
    assert plateau.lr == 0.5 and plateau.best is None  # the template is never stepped
    assert runs.learning_rates[0, 0] == 0.5 and runs.learning_rates[0, -1] < 0.05
    assert runs.final[0].mean() < runs.final[1].mean() / 4


# --- the digits ---------------------------------------------------------------------------------------------------

def test_digits_split_is_fixed_and_scaled():
    split = E.digits_split()
    assert split["X_train"].shape == (1438, 64) and split["X_val"].shape == (359, 64)
    assert 0 <= split["X_train"].min() and split["X_train"].max() <= 1
    split["X_train"][:] = 7
    assert E.digits_split()["X_train"].max() <= 1


def test_stacked_loss_and_gradients_are_each_networks_own():
    X, y = E.digits_split()["X_train"][:40], E.digits_split()["y_train"][:40]
    params = E._stacked_params([3, 4], (12, 9), "he", None)
    loss, grads = E.digits_loss_and_grad(params, X, y)
    for row, seed in enumerate((3, 4)):
        net = models.FullyConnectedNet((12, 9), 64, 10, seed=seed)
        expected_loss, expected = net.loss(X, y)
        assert loss[row] == pytest.approx(expected_loss, rel=1e-12)
        for name, g in expected.items():
            np.testing.assert_allclose(grads[name][row], g, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b3"])
def test_stacked_gradients_pass_a_gradient_check(name):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(2, 6, 64)), rng.integers(0, 10, size=(2, 6))
    params = E._stacked_params([0, 1], (5, 4), "he", None)
    params = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in params.items()}  # biases away from 0: no kinks

    def total(value):
        return E.digits_loss_and_grad({**params, name: value}, X, y)[0].sum()
    numeric = eval_numerical_gradient(total, params[name].copy())
    # 1e-6, not 1e-7: ReLU kinks, and the centred difference's rounding error on entries as small as 1e-4
    assert rel_error(E.digits_loss_and_grad(params, X, y)[1][name], numeric) < 1e-6


def test_training_many_seeds_at_once_equals_training_each_alone():
    together = E.train_digits(optim.adam, {"learning_rate": 1e-2}, seeds=[0, 5], epochs=2, hidden=(20,))
    for row, seed in enumerate((0, 5)):
        alone = E.train_digits(optim.adam, {"learning_rate": 1e-2}, seeds=[seed], epochs=2, hidden=(20,))
        np.testing.assert_allclose(together.loss_history[row], alone.loss_history[0], rtol=1e-9)
        assert together.val_accuracy[row] == alone.val_accuracy[0]
    assert together.loss_history.shape == (2, 2 * 29) and (together.diverged_at == -1).all()
    assert together.final_loss.max() < 0.5 and together.val_accuracy.min() > 0.85


def test_a_schedule_sets_the_rate_of_each_epoch():
    constant = E.train_digits(optim.sgd, {"learning_rate": 0.3}, seeds=[1], epochs=2)
    scheduled = E.train_digits(optim.sgd, {"learning_rate": 123.0}, seeds=[1], epochs=2,
                               lr_schedule=lambda epoch: 0.3)
    np.testing.assert_array_equal(constant.loss_history, scheduled.loss_history)


def test_diverging_seeds_are_frozen_and_reported_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = E.train_digits(optim.sgd, {"learning_rate": 30.0}, seeds=range(3), epochs=2)
    assert (r.diverged_at >= 0).all() and np.isinf(r.final_loss).all()
    for row, k in enumerate(r.diverged_at):
        assert np.isnan(r.loss_history[row, k:]).all() and np.isfinite(r.loss_history[row, :k]).all()


def test_a_rule_returning_nan_for_finite_input_is_named_not_taken_for_a_diverging_loss():
    def adagrad(w, dw, config=None):  # the sign of dw as np.abs(dw) / dw: 0/0 where dw == 0
        config = config if config is not None else {}
        cache = config["cache"] = config.get("cache", 0.0) + dw * dw
        with np.errstate(invalid="ignore"):
            return w - 0.1 * (np.abs(dw) / dw) * np.abs(dw) / (np.sqrt(cache) + 1e-8), config
    split = E.digits_split()
    params = {name: value[None] for name, value in models.FullyConnectedNet([50], 64, 10, seed=0).params.items()}
    blank = (split["X_train"] == 0).all(axis=0)  # pixels blank in every training image: their weights get 0
    assert blank.any() and (E.digits_loss_and_grad(params, split["X_train"][:50], split["y_train"][:50])[1]["W1"][
        0, blank] == 0).all()
    with pytest.raises(optim.NonFiniteStep, match=r"^adagrad returned NaN or inf for finite input \(iteration 1, "
                                                  r"parameter W1\)$"):
        E.train_digits(adagrad, None, seeds=range(2), epochs=1)
    assert (E.train_digits(optim.adagrad, {"learning_rate": 0.1}, seeds=range(2), epochs=1).diverged_at == -1).all()


def test_lbfgs_on_the_full_batch_beats_lbfgs_on_minibatches():
    full = E.lbfgs_digits([0], max_iter=30)
    noisy = E.lbfgs_digits([0], max_iter=30, batch_size=50)
    assert full.final_loss[0] < 0.05 < 0.3 < noisy.final_loss[0]
    iterations = np.isfinite(noisy.loss_history).sum()
    assert iterations < 30 and noisy.final_loss[0] == pytest.approx(noisy.loss_history[0, iterations - 1])
