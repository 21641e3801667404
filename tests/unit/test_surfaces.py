"""2-D test surfaces and the optimizer runner (course.surfaces)."""
import warnings

import numpy as np
import pytest

from course import OutOfRangeError, optim, schedules, surfaces
from course.gradcheck import eval_numerical_gradient, rel_error

ALL = [surfaces.quadratic(), surfaces.quadratic(condition=25, angle=30), surfaces.rosenbrock(),
       surfaces.rosenbrock(a=-0.5, b=20), surfaces.saddle(), surfaces.several_minima()]
IDS = ["quadratic", "rotated", "rosenbrock", "rosenbrock2", "saddle", "himmelblau"]


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_analytic_gradient_matches_numerical(surface):
    rng = np.random.default_rng(7)
    (x0, x1), (y0, y1) = surface.bounds
    for p in rng.uniform([x0, y0], [x1, y1], size=(8, 2)):
        numerical = eval_numerical_gradient(surface.value, p.copy())
        assert rel_error(surface.grad(p), numerical) < 1e-7


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_f_and_df_are_vectorized_over_grids(surface):
    X, Y = np.meshgrid(np.linspace(*surface.bounds[0], 7), np.linspace(*surface.bounds[1], 5))
    Z = surface.f(X, Y)
    GX, GY = surface.df(X, Y)
    assert Z.shape == GX.shape == GY.shape == (5, 7)
    i, j = 3, 2
    assert Z[i, j] == pytest.approx(surface.value([X[i, j], Y[i, j]]))
    np.testing.assert_allclose([GX[i, j], GY[i, j]], surface.grad([X[i, j], Y[i, j]]))


@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_known_minima_have_zero_gradient_and_lie_in_the_window(surface):
    assert surface.minima.ndim == 2 and surface.minima.shape[1] == 2
    for m in surface.minima:
        np.testing.assert_allclose(surface.grad(m), 0.0, atol=1e-10)
        assert surface.value(m) <= min(surface.value(m + d) for d in 1e-3 * np.eye(2)) + 1e-15
        (x0, x1), (y0, y1) = surface.bounds
        assert x0 < m[0] < x1 and y0 < m[1] < y1
    (x0, x1), (y0, y1) = surface.bounds
    assert x0 < surface.start[0] < x1 and y0 < surface.start[1] < y1


def test_specific_minima_and_shapes():
    np.testing.assert_array_equal(surfaces.rosenbrock(a=2.0).minima, [[2.0, 4.0]])
    assert surfaces.several_minima().minima.shape == (4, 2)
    assert np.allclose([surfaces.several_minima().value(m) for m in surfaces.several_minima().minima], 0, atol=1e-20)
    saddle = surfaces.saddle()
    assert saddle.minima.shape == (0, 2)   # no minimum, only the stationary point (0, 0)
    np.testing.assert_array_equal(saddle.grad([0.0, 0.0]), [0.0, 0.0])


def test_quadratic_condition_number_and_orientation():
    for angle in (0, 30):
        s = surfaces.quadratic(condition=12, angle=angle)
        hessian = np.column_stack([s.grad([1.0, 0.0]), s.grad([0.0, 1.0])])   # f is quadratic: grad = A p
        eig = np.linalg.eigvalsh(hessian)
        assert eig[-1] / eig[0] == pytest.approx(12)
    assert "axis-aligned" in surfaces.quadratic().description
    assert "rotated by 30 degrees" in surfaces.quadratic(angle=30).description
    assert surfaces.quadratic(condition=5).grad([1.0, 1.0]) == pytest.approx([1.0, 5.0])


def test_surfaces_registry():
    assert set(surfaces.SURFACES) == {"quadratic", "rosenbrock", "saddle", "several_minima"}
    assert all(isinstance(make(), surfaces.Surface) for make in surfaces.SURFACES.values())


# --- run_optimizer --------------------------------------------------------------------------------------------

def test_run_optimizer_path_matches_manual_steps():
    surface = surfaces.rosenbrock()
    result = surfaces.run_optimizer(optim.adam, surface, [-1.0, 1.5], 50, {"learning_rate": 0.05})
    assert result.path.shape == (51, 2) and result.status == "ran 50 steps" and not result.diverged
    w, config = np.array([-1.0, 1.5]), {"learning_rate": 0.05}
    for k in range(50):
        w, config = optim.adam(w, surface.grad(w), config)
        np.testing.assert_allclose(result.path[k + 1], w, rtol=1e-12)


@pytest.mark.parametrize("name, rule", list(optim.UPDATE_RULES.items()))
def test_divergence_is_reported_without_warnings(name, rule):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path, status = surfaces.run_optimizer(rule, surfaces.rosenbrock(), None, 100, {"learning_rate": 10.0})
    if name == "sgd":
        assert status == "diverged at step 2"
    assert np.all(np.isfinite(path))
    if status.startswith("diverged"):
        k = int(status.rsplit(" ", 1)[1])
        assert path.shape == (k, 2)


def test_nan_from_a_finite_point_is_a_broken_rule_not_a_divergence():
    def broken(w, dw, config=None):
        return w + np.log(w - 10.0), config   # log of a negative number: NaN and a would-be warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(optim.NonFiniteStep, match=r"^broken returned NaN or inf for finite input \(step 1\)$"):
            surfaces.run_optimizer(broken, surfaces.quadratic(), None, 10)
        with pytest.raises(surfaces.RuleFailed) as failure:
            surfaces.race([(optim.sgd, None), (broken, None)], surfaces.quadratic(), None, 10)
    assert failure.value.index == 1 and isinstance(failure.value.__cause__, optim.NonFiniteStep)


def test_zero_over_zero_where_a_gradient_component_is_exactly_zero_is_named_at_its_step():
    def adagrad(w, dw, config=None):  # the sign of dw as np.abs(dw) / dw: 0/0 where dw == 0
        config = config if config is not None else {}
        cache = config["cache"] = config.get("cache", 0.0) + dw * dw
        return w - 0.1 * (np.abs(dw) / dw) * np.abs(dw) / (np.sqrt(cache) + 1e-8), config
    fine = surfaces.run_optimizer(adagrad, surfaces.saddle(), [-1.5, 0.5], 20)  # no zero component: no NaN
    assert fine.status == "ran 20 steps"
    with pytest.raises(optim.NonFiniteStep, match=r"adagrad returned NaN or inf for finite input \(step 1\)"):
        surfaces.run_optimizer(adagrad, surfaces.saddle(), [-1.5, 0.0], 20)  # on the ridge: dw = (-3, 0)
    ridge = surfaces.run_optimizer(optim.adagrad, surfaces.saddle(), [-1.5, 0.0], 20)  # the reference: no NaN
    assert ridge.status == "ran 20 steps" and (ridge.path[:, 1] == 0).all()


def test_config_is_copied_and_schedule_applied():
    config = {"learning_rate": 0.1}
    surface = surfaces.quadratic()
    first = surfaces.run_optimizer(optim.sgd_momentum, surface, None, 20, config)
    second = surfaces.run_optimizer(optim.sgd_momentum, surface, None, 20, config)
    assert config == {"learning_rate": 0.1}
    np.testing.assert_array_equal(first.path, second.path)

    schedule = schedules.step_decay(0.2, drop=0.5, every=3)
    scheduled = surfaces.run_optimizer(optim.sgd, surface, None, 10, lr_schedule=schedule)
    w = surface.start.copy()
    for t in range(10):
        w = w - schedule(t) * surface.grad(w)
    np.testing.assert_allclose(scheduled.path[-1], w, rtol=1e-12)


def test_saddle_escape_leaves_the_window_and_is_reported():
    result = surfaces.run_optimizer(optim.adam, surfaces.saddle(), None, 5000, {"learning_rate": 0.5})
    assert result.diverged


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(steps=-1), ValueError, "steps must be an integer >= 0; got -1"),
    (dict(steps=2.5), ValueError, "steps must be an integer >= 0"),
    (dict(x0=[1.0, 2.0, 3.0]), ValueError, r"x0 must be a point \(x, y\) of shape \(2,\); got shape \(3,\)"),
    (dict(config=[0.1]), TypeError, "config must be a dict or None"),
    (dict(surface="rosenbrock"), TypeError, "surface must be a Surface"),
])
def test_run_optimizer_bad_input(kwargs, error, message):
    args = dict(rule=optim.sgd, surface=surfaces.rosenbrock(), x0=None, steps=5) | kwargs
    with pytest.raises(error, match=message):
        surfaces.run_optimizer(**args)


@pytest.mark.parametrize("make, message", [
    (lambda: surfaces.quadratic(condition=0.5), "condition must be >= 1"),
    (lambda: surfaces.rosenbrock(b=0), "b must be > 0"),
    (lambda: surfaces.rosenbrock().grad([1.0]), r"p must be a point \(x, y\) of shape \(2,\)"),
])
def test_surface_bad_input(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.filterwarnings("error")
def test_far_points_give_inf_without_warnings():
    rosenbrock = surfaces.rosenbrock()
    assert rosenbrock.value([1e300, 1e300]) == np.inf and rosenbrock.value([-1e154, 0.0]) == np.inf
    assert np.all(np.isinf(rosenbrock.grad([1e300, 1e300])))
    assert surfaces.quadratic().value([1e200, -1e200]) == np.inf
    assert surfaces.saddle().value([1e200, 1e200]) == 0.0      # x^2 - y^2 as (x - y)(x + y): no inf - inf
    assert surfaces.saddle().value([1e200, 0.0]) == np.inf
    assert rosenbrock.value([1.0, 1.0]) == 0.0


@pytest.mark.filterwarnings("error")
def test_a_value_with_no_float_at_all_is_an_error():
    with pytest.raises(OutOfRangeError, match=r"saddle: f at \(1e\+308, -1e\+308\) exceeds the float64 range with "
                                              r"terms of opposite signs"):
        surfaces.saddle().value([1e308, -1e308])


@pytest.mark.filterwarnings("error")
def test_run_optimizer_reports_an_out_of_range_step_as_divergence():
    def exploding(w, dw, config=None):
        return optim.sgd(w, dw * 1e306, config)   # the first step overflows float64: OutOfRangeError

    result = surfaces.run_optimizer(exploding, surfaces.rosenbrock(), None, 10, {"learning_rate": 1e3})
    assert result.status == "diverged at step 1" and result.path.shape == (1, 2)
    far = surfaces.run_optimizer(optim.adam, surfaces.rosenbrock(), [1e300, 1e300], 5)
    assert far.diverged


# --- Hessians, gradient noise, races ------------------------------------------------------------------------------

@pytest.mark.parametrize("surface", ALL, ids=IDS)
def test_hessian_matches_the_numerical_derivative_of_the_gradient(surface):
    rng = np.random.default_rng(3)
    (x0, x1), (y0, y1) = surface.bounds
    for p in rng.uniform([x0, y0], [x1, y1], size=(5, 2)):
        numerical = np.column_stack([eval_numerical_gradient(lambda q: surface.grad(q)[i], p.copy())
                                     for i in range(2)])
        assert rel_error(surface.hessian(p), numerical) < 1e-6
        np.testing.assert_array_equal(surface.hessian(p), surface.hessian(p).T)


def test_the_quadratics_hessian_has_eigenvalues_1_and_the_condition_number():
    np.testing.assert_allclose(np.linalg.eigvalsh(surfaces.quadratic(40, 33).hessian([5.0, -1.0])), [1, 40])


def test_gradient_noise_is_added_to_each_steps_gradient():
    surface, noise = surfaces.quadratic(5), np.random.default_rng(0).normal(size=(8, 2))
    noisy = surfaces.run_optimizer(optim.sgd, surface, None, 8, {"learning_rate": 0.1}, gradient_noise=noise).path
    w = surface.start.copy()
    for t in range(8):
        w = w - 0.1 * (surface.grad(w) + noise[t])
    np.testing.assert_allclose(noisy[-1], w, rtol=1e-12)
    with pytest.raises(ValueError, match=r"gradient_noise must have shape \(steps, 2\) = \(8, 2\); got \(7, 2\)"):
        surfaces.run_optimizer(optim.sgd, surface, None, 8, gradient_noise=noise[:7])


def test_a_race_gives_each_rule_its_own_run():
    surface = surfaces.rosenbrock()
    rules = [(optim.sgd, {"learning_rate": 1e-3}), (optim.adam, {"learning_rate": 0.05}),
             (optim.nesterov, None)]
    noise = np.random.default_rng(1).normal(size=(150, 2))
    raced = surfaces.race(rules, surface, [-1.0, 2.0], 150, gradient_noise=noise)
    for (rule, config), run in zip(rules, raced):
        alone = surfaces.run_optimizer(rule, surface, [-1.0, 2.0], 150, config, gradient_noise=noise)
        assert run.status == alone.status
        np.testing.assert_array_equal(run.path, alone.path)


@pytest.mark.filterwarnings("error")
def test_a_diverging_rule_stops_alone_and_the_others_go_on():
    surface = surfaces.quadratic(10)
    raced = surfaces.race([(optim.sgd, {"learning_rate": 0.3}), (optim.sgd, {"learning_rate": 0.1}),
                           (optim.sgd_momentum, {"learning_rate": 5.0})], surface, None, 100)
    assert raced[0].status.startswith("diverged at step") and raced[2].diverged
    assert raced[1].status == "ran 100 steps" and raced[1].path.shape == (101, 2)
    for run in raced:
        assert np.all(np.abs(run.path) <= surface.escape_radius)


def test_a_rule_that_raises_is_named_by_its_place():
    def broken(w, dw, config=None):
        raise KeyError("velocity")
    with pytest.raises(surfaces.RuleFailed) as failure:
        surfaces.race([(optim.sgd, None), (broken, None)], surfaces.quadratic(), None, 5)
    assert failure.value.index == 1 and isinstance(failure.value.__cause__, KeyError)
    with pytest.raises(KeyError, match="velocity"):  # a single run re-raises the rule's own error
        surfaces.run_optimizer(broken, surfaces.quadratic(), None, 5)


def test_a_rule_never_gets_the_race_arrays_to_change():
    def vandal(w, dw, config=None):
        next_w = w - 0.1 * dw
        w *= 0
        dw *= 0
        return next_w, config
    run, = surfaces.race([(vandal, None)], surfaces.quadratic(), None, 3)
    path = [surfaces.quadratic().start.copy()]
    for _ in range(3):
        path.append(path[-1] - 0.1 * surfaces.quadratic().grad(path[-1]))
    np.testing.assert_allclose(run.path, path)
