"""Update rules (course.optim), L-BFGS, and the student checks for the rules (course.checks.optim)."""
import numpy as np
import pytest

from course import OutOfRangeError, optim, surfaces
from course.checks import (check_adagrad, check_adam, check_nesterov, check_rmsprop, check_sgd,
                           check_sgd_momentum)

RULES = list(optim.UPDATE_RULES.items())
W = np.array([1.0, -2.0])
DW = np.array([0.5, 0.25])


# --- defaults and state ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, rule", RULES)
def test_defaults_filled_and_state_created(name, rule):
    _, config = rule(W, DW)
    for key, default in optim.DEFAULTS[name].items():
        assert config[key] == default
    for key in optim.STATE_KEYS[name]:
        assert key in config
    assert set(config) == set(optim.DEFAULTS[name]) | set(optim.STATE_KEYS[name])


def test_documented_defaults():
    assert optim.DEFAULTS["sgd"] == {"learning_rate": 1e-2}
    assert optim.DEFAULTS["sgd_momentum"] == optim.DEFAULTS["nesterov"] == {"learning_rate": 1e-2, "momentum": 0.9}
    assert optim.DEFAULTS["adagrad"] == {"learning_rate": 1e-2, "epsilon": 1e-8}
    assert optim.DEFAULTS["rmsprop"] == {"learning_rate": 1e-2, "decay_rate": 0.99, "epsilon": 1e-8}
    assert optim.DEFAULTS["adam"] == {"learning_rate": 1e-3, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}


@pytest.mark.parametrize("name, rule", RULES)
def test_caller_values_kept_and_same_dict_returned(name, rule):
    config = {"learning_rate": 0.123}
    _, out = rule(W, DW, config)
    assert out is config and config["learning_rate"] == 0.123


# --- hand-computed steps --------------------------------------------------------------------------------------

@pytest.mark.parametrize("rule, config, expected", [
    (optim.sgd, {"learning_rate": 0.1}, [0.95, -2.025]),
    (optim.sgd_momentum, {"learning_rate": 0.1}, [0.95, -2.025]),   # v = -0.1 dw
    (optim.nesterov, {"learning_rate": 0.1}, [0.905, -2.0475]),     # w + (1 + 0.9) v'
    (optim.adagrad, {"learning_rate": 0.1}, [0.9, -2.1]),           # lr * dw / |dw|
    (optim.rmsprop, {"learning_rate": 0.01}, [0.9, -2.1]),          # sqrt(0.01 dw^2) = 0.1 |dw|
    (optim.adam, {"learning_rate": 0.1}, [0.9, -2.1]),              # bias-corrected: lr * sign(dw)
])
def test_first_step_by_hand(rule, config, expected):
    next_w, _ = rule(W, DW, config)
    np.testing.assert_allclose(next_w, expected, rtol=1e-7)


def test_momentum_second_step_by_hand():
    w, config = optim.sgd_momentum(W, DW, {"learning_rate": 0.1})
    w, config = optim.sgd_momentum(w, DW, config)
    np.testing.assert_allclose(config["velocity"], [-0.095, -0.0475])   # 0.9 (-0.05) - 0.05
    np.testing.assert_allclose(w, [0.855, -2.0725])


def test_adagrad_accumulates_and_rmsprop_leaks():
    _, c = optim.adagrad(W, DW)
    _, c = optim.adagrad(W, DW, c)
    np.testing.assert_allclose(c["cache"], 2 * DW ** 2)
    _, c = optim.rmsprop(W, DW, {"decay_rate": 0.5})
    _, c = optim.rmsprop(W, DW, c)
    np.testing.assert_allclose(c["cache"], 0.75 * DW ** 2)   # 0.5 (0.5 dw^2) + 0.5 dw^2


def test_adam_bias_correction_first_step_has_magnitude_lr():
    dw = np.array([1e-4, -3e-2, 5.0, -2e3])
    next_w, config = optim.adam(np.zeros(4), dw, {"learning_rate": 0.01})
    assert config["t"] == 1   # incremented before use
    np.testing.assert_allclose(config["m"], 0.1 * dw)
    np.testing.assert_allclose(config["v"], 0.001 * dw ** 2)
    np.testing.assert_allclose(np.abs(next_w), 0.01, rtol=1e-3)
    np.testing.assert_array_equal(np.sign(next_w), -np.sign(dw))


def test_nesterov_matches_the_textbook_look_ahead_form():
    a = np.array([1.0, 8.0])   # f = 1/2 sum a w^2, gradient a w
    lr, mu = 0.05, 0.9
    theta, v = np.array([2.0, 1.0]), np.zeros(2)
    w, config = theta.copy(), {"learning_rate": lr, "momentum": mu}
    for _ in range(20):
        v = mu * v - lr * a * (theta + mu * v)   # gradient at the look-ahead point
        theta = theta + v
        w, config = optim.nesterov(w, a * w, config)
        np.testing.assert_allclose(w, theta + mu * v, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name, rule", RULES)
def test_converges_on_a_convex_quadratic(name, rule):
    a = np.linspace(1, 10, 5)
    lr = {"sgd": 0.1, "sgd_momentum": 0.02, "nesterov": 0.02, "adagrad": 1.0, "rmsprop": 0.01, "adam": 0.05}[name]
    w, config = np.full(5, 3.0), {"learning_rate": lr}
    for _ in range(500):
        w, config = rule(w, a * w, config)
    assert np.abs(w).max() < 1e-2


# --- no sharing, no in-place changes, dtypes -------------------------------------------------------------------

@pytest.mark.parametrize("name, rule", RULES)
def test_state_not_shared_between_parameters(name, rule):
    base = {"learning_rate": 0.05}
    wa, wb = np.ones(3), np.ones((2, 2))
    config_a, config_b = dict(base), dict(base)
    for _ in range(3):
        wa, config_a = rule(wa, np.full(3, 2.0), config_a)
    wb, config_b = rule(wb, np.ones((2, 2)), config_b)
    assert base == {"learning_rate": 0.05}
    for key in optim.STATE_KEYS[name]:
        if isinstance(config_a[key], np.ndarray):
            assert config_a[key].shape == (3,) and config_b[key].shape == (2, 2)
            assert not np.shares_memory(config_a[key], config_b[key])
    # reference run for b alone: identical to the result above, so a's updates left b untouched
    np.testing.assert_array_equal(wb, rule(np.ones((2, 2)), np.ones((2, 2)), dict(base))[0])


@pytest.mark.parametrize("name, rule", [r for r in RULES if optim.STATE_KEYS[r[0]]])
def test_one_config_for_two_parameters_is_refused(name, rule):
    _, config = rule(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"has shape \(3,\) but w has shape \(2,\).*own config"):
        rule(np.ones(2), np.ones(2), config)


@pytest.mark.parametrize("name, rule", RULES)
def test_no_in_place_modification(name, rule):
    w, dw = np.arange(6.0).reshape(2, 3), np.linspace(-1, 1, 6).reshape(2, 3)
    w0, dw0 = w.copy(), dw.copy()
    config = None
    for _ in range(3):
        next_w, config = rule(w, dw, config)
        np.testing.assert_array_equal(w, w0)
        np.testing.assert_array_equal(dw, dw0)
        assert not np.shares_memory(next_w, w)
        assert all(not np.shares_memory(v, w) for v in config.values() if isinstance(v, np.ndarray))


@pytest.mark.parametrize("name, rule", RULES)
def test_float32_stays_float32_and_ints_become_float64(name, rule):
    w32, config = np.ones(4, np.float32), None
    for _ in range(2):
        w32, config = rule(w32, np.full(4, 0.5, np.float32), config)
    assert w32.dtype == np.float32
    assert all(v.dtype == np.float32 for v in config.values() if isinstance(v, np.ndarray))
    assert rule(np.array([1, 2]), np.array([1, 1]))[0].dtype == np.float64


@pytest.mark.parametrize("name, rule", [r for r in RULES if optim.STATE_KEYS[r[0]]])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_state_given_as_a_list_is_taken_as_an_array(name, rule, dtype):
    w, dw = np.array([1.0, -2.0], dtype), np.array([0.5, 0.25], dtype)
    arrays = [k for k in optim.STATE_KEYS[name] if k != "t"]
    expected, _ = rule(w, dw, {key: np.zeros(2, dtype) for key in arrays})
    config = {key: [0, 0] for key in arrays}
    next_w, config = rule(w, dw, config)
    np.testing.assert_array_equal(next_w, expected)
    assert next_w.dtype == dtype and all(isinstance(config[k], np.ndarray) and config[k].dtype == dtype
                                         for k in arrays)
    with pytest.raises(TypeError, match=rf"{name}: config\['{arrays[0]}'\] must be a real numeric array"):
        rule(w, dw, {arrays[0]: ["a", "b"]})


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name, rule, step", [
    ("adagrad", optim.adagrad, 1.0),       # dw / sqrt(dw^2): dw^2 = 1e308 still fits
    ("rmsprop", optim.rmsprop, 10.0),      # dw / sqrt(0.01 dw^2)
    ("adam", optim.adam, 1.0),             # bias-corrected: m_hat / sqrt(v_hat) = sign(dw)
])
def test_adaptive_rules_take_the_right_step_for_huge_gradients(name, rule, step):
    # 1e154 squared is 1e308: (1 - decay) * dw * dw is computed without an intermediate overflow
    for dtype, g in ((np.float64, 1e154), (np.float32, 1.8e19)):
        w, dw = np.zeros(2, dtype), np.array([g, -g], dtype)
        next_w, config = rule(w, dw, {"learning_rate": 0.1})
        np.testing.assert_allclose(next_w, [-0.1 * step, 0.1 * step], rtol=1e-5)
        assert all(np.all(np.isfinite(v)) for v in config.values() if isinstance(v, np.ndarray))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name, key", [("adagrad", "cache"), ("rmsprop", "cache"), ("adam", "v")])
@pytest.mark.parametrize("dtype, g", [(np.float64, 1e200), (np.float64, 1e308), (np.float64, -1e308),
                                      (np.float32, 1e30), (np.float32, -3e38)])
def test_squared_gradients_beyond_the_float_range_are_a_clear_error(name, key, dtype, g):
    rule = optim.UPDATE_RULES[name]
    _, config = rule(np.zeros(2, dtype), np.ones(2, dtype))
    before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in config.items()}
    with pytest.raises(OutOfRangeError, match=rf"{name}: config\['{key}'\] exceeds the {np.dtype(dtype)} range.*"
                                              "lower the learning rate"):
        rule(np.zeros(2, dtype), np.array([g, 1.0], dtype), config)
    assert config.keys() == before.keys()
    for k, v in before.items():
        np.testing.assert_array_equal(config[k], v)  # left as it was


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("name, rule", RULES)
def test_an_update_beyond_the_float_range_is_a_clear_error(name, rule):
    with pytest.raises(OutOfRangeError, match=rf"{name}: (the updated w|config\['\w+'\]) exceeds the float64"):
        rule(np.array([-1.7e308, 0.0]), np.array([1e308, 1.0]), {"learning_rate": 1e10})
    assert issubclass(OutOfRangeError, ValueError)


def test_nan_in_the_gradient_is_passed_on_not_called_too_large():
    next_w, _ = optim.adam(np.zeros(2), np.array([np.nan, 1.0]))
    assert np.isnan(next_w[0]) and np.isfinite(next_w[1])


# --- bad input ------------------------------------------------------------------------------------------------

def test_unknown_key_names_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown config key 'learning_rte' \(did you mean 'learning_rate'\?\); "
                                         r"known keys: learning_rate, momentum, velocity"):
        optim.sgd_momentum(W, DW, {"learning_rte": 0.1})
    with pytest.raises(ValueError, match="unknown config key 'cache'"):   # an adagrad config given to adam
        optim.adam(W, DW, {"cache": np.zeros(2)})


@pytest.mark.parametrize("rule, key, value, message", [
    (optim.sgd, "learning_rate", 0.0, r"learning_rate'\] must be finite and > 0; got 0.0"),
    (optim.sgd, "learning_rate", -1e-3, r"must be finite and > 0"),
    (optim.sgd, "learning_rate", float("nan"), r"must be finite and > 0; got nan"),
    (optim.sgd, "learning_rate", float("inf"), r"must be finite and > 0; got inf"),
    (optim.sgd_momentum, "momentum", 1.0, r"momentum'\] must be in \[0, 1\); got 1.0"),
    (optim.nesterov, "momentum", -0.1, r"must be in \[0, 1\)"),
    (optim.rmsprop, "decay_rate", 0.0, r"decay_rate'\] must be in \(0, 1\); got 0.0"),
    (optim.rmsprop, "decay_rate", 1.0, r"must be in \(0, 1\)"),
    (optim.adam, "beta1", 1.0, r"beta1'\] must be in \[0, 1\)"),
    (optim.adam, "beta2", 1.5, r"beta2'\] must be in \[0, 1\)"),
    (optim.adagrad, "epsilon", 0.0, r"epsilon'\] must be finite and > 0"),
])
def test_invalid_hyperparameters_explained(rule, key, value, message):
    with pytest.raises(ValueError, match=message):
        rule(W, DW, {key: value})


def test_other_bad_inputs():
    with pytest.raises(TypeError, match="learning_rate'\\] must be a real number; got '0.1'"):
        optim.sgd(W, DW, {"learning_rate": "0.1"})
    with pytest.raises(ValueError, match=r"dw must have the shape of w \(2,\); got \(3,\)"):
        optim.sgd(W, np.ones(3))
    with pytest.raises(TypeError, match="config must be a dict or None; got list"):
        optim.adam(W, DW, [0.1])
    with pytest.raises(ValueError, match="config\\['t'\\] must be an integer >= 0"):
        optim.adam(W, DW, {"t": -1})
    with pytest.raises(TypeError, match="w must be a real numeric array"):
        optim.sgd("w", DW)


# --- unchecked: the formulas without the checks ----------------------------------------------------------------

@pytest.mark.parametrize("name, rule", RULES)
def test_unchecked_takes_exactly_the_rules_steps(name, rule):
    rng = np.random.default_rng(5)
    w_checked = w_fast = rng.normal(size=(3, 4))
    checked_config = {"learning_rate": 0.05}
    fast_config = {**optim.DEFAULTS[name], "learning_rate": 0.05}
    fast = optim.unchecked(name)
    assert fast.__name__ == name
    for _ in range(6):
        dw = rng.normal(size=(3, 4))
        w_checked, checked_config = rule(w_checked, dw, checked_config)
        w_fast, fast_config = fast(w_fast, dw, fast_config)
        np.testing.assert_array_equal(w_fast, w_checked)
    for key in optim.STATE_KEYS[name]:
        np.testing.assert_array_equal(fast_config[key], checked_config[key])


def test_unchecked_knows_only_the_six_rules():
    with pytest.raises(ValueError, match="unknown update rule 'lion'; expected one of"):
        optim.unchecked("lion")


# --- L-BFGS ---------------------------------------------------------------------------------------------------

def test_lbfgs_reaches_the_rosenbrock_minimum_and_records_its_path():
    surface = surfaces.rosenbrock()
    x, path = optim.lbfgs(surface.value_and_grad, surface.start, max_iter=200)
    np.testing.assert_allclose(x, [1.0, 1.0], atol=1e-5)
    assert path.ndim == 2 and path.shape[1] == 2 and 5 < len(path) <= 201
    np.testing.assert_array_equal(path[0], surface.start)
    np.testing.assert_allclose(path[-1], x)
    values = [surface.value(p) for p in path]
    assert values[-1] < 1e-10 < values[0]


def test_lbfgs_keeps_the_shape_of_x0_and_respects_max_iter():
    target = np.arange(6.0).reshape(2, 3)
    x, path = optim.lbfgs(lambda x: (np.sum((x - target) ** 2), 2 * (x - target)), np.zeros((2, 3)))
    np.testing.assert_allclose(x, target, atol=1e-6)
    assert path.shape[1:] == (2, 3)
    _, path = optim.lbfgs(surfaces.rosenbrock().value_and_grad, [-1.5, 2.5], max_iter=3)
    assert len(path) <= 4
    with pytest.raises(ValueError, match="max_iter must be an integer >= 1; got 0"):
        optim.lbfgs(surfaces.rosenbrock().value_and_grad, [0.0, 0.0], max_iter=0)
    with pytest.raises(ValueError, match=r"gradient shaped like x0 \(2,\); got \(3,\)"):
        optim.lbfgs(lambda x: (0.0, np.zeros(3)), [0.0, 0.0])


# --- checks ---------------------------------------------------------------------------------------------------

CHECKS = {"sgd": check_sgd, "sgd_momentum": check_sgd_momentum, "nesterov": check_nesterov,
          "adagrad": check_adagrad, "rmsprop": check_rmsprop, "adam": check_adam}


@pytest.mark.parametrize("name, rule", RULES)
def test_check_passes_the_reference(name, rule):
    result = CHECKS[name].evaluate(rule)
    assert result.passed, result.message


def test_check_prints_one_line(capsys):
    check_sgd(optim.sgd)
    assert capsys.readouterr().out.startswith("✓ sgd: correct")


def _momentum_plus(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * config.get("velocity", np.zeros_like(w)) + config["learning_rate"] * dw
    config["velocity"] = v
    return w + v, config


def _momentum_forgets(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    v = config["momentum"] * np.zeros_like(w) - config["learning_rate"] * dw   # velocity never read back
    return w + v, config


def _nesterov_as_momentum(w, dw, config=None):
    return optim.sgd_momentum(w, dw, config)


def _adagrad_overwrites(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("epsilon", 1e-8)
    config["cache"] = dw ** 2
    return w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"]), config


def _rmsprop_without_one_minus_decay(w, dw, config=None):
    config = config if config is not None else {}
    for key, value in optim.DEFAULTS["rmsprop"].items():
        config.setdefault(key, value)
    config["cache"] = config["decay_rate"] * config.get("cache", np.zeros_like(w)) + dw ** 2
    return w - config["learning_rate"] * dw / (np.sqrt(config["cache"]) + config["epsilon"]), config


def _adam_variant(bias_correction=True, increment_first=True, eps_inside=False, keep_state=True):
    def adam(w, dw, config=None):
        config = config if config is not None else {}
        for key, value in optim.DEFAULTS["adam"].items():
            config.setdefault(key, value)
        state = config if keep_state else {}
        b1, b2, eps = config["beta1"], config["beta2"], config["epsilon"]
        t = state.get("t", 0) + (1 if increment_first else 0)
        m = b1 * state.get("m", np.zeros_like(w)) + (1 - b1) * dw
        v = b2 * state.get("v", np.zeros_like(w)) + (1 - b2) * dw ** 2
        state.update(m=m, v=v, t=t if increment_first else t + 1)
        if bias_correction:
            m, v = m / (1 - b1 ** t), v / (1 - b2 ** t)
        denom = np.sqrt(v + eps) if eps_inside else np.sqrt(v) + eps
        return w - config["learning_rate"] * m / denom, config
    return adam


def _sgd_without_setdefault(w, dw, config=None):
    config = config if config is not None else {}
    return w - config.get("learning_rate", 1e-2) * dw, config


def _sgd_overwriting_defaults(w, dw, config=None):
    config = {**(config or {}), "learning_rate": 1e-2}
    return w - config["learning_rate"] * dw, config


def _sgd_in_place(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config


def _sgd_uphill(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    return w + config["learning_rate"] * dw, config


def _sgd_hard_coded_lr(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    return w - 1e-2 * dw, config


def _sgd_float64(w, dw, config=None):
    config = config if config is not None else {}
    config.setdefault("learning_rate", 1e-2)
    return w - np.float64(config["learning_rate"]) * dw.astype(np.float64), config


def _not_written(w, dw, config=None):
    raise NotImplementedError


@pytest.mark.parametrize("check, wrong, phrase", [
    (check_sgd_momentum, _momentum_plus, "momentum sign"),
    (check_sgd_momentum, _momentum_forgets, "velocity not kept between calls"),
    (check_nesterov, _nesterov_as_momentum, "Nesterov written as plain momentum"),
    (check_adagrad, _adagrad_overwrites, "cache not accumulated"),
    (check_rmsprop, _rmsprop_without_one_minus_decay, "RMSProp without the (1 - decay_rate) factor"),
    (check_adam, _adam_variant(bias_correction=False), "Adam without bias correction"),
    (check_adam, _adam_variant(increment_first=False), "t incremented after use"),
    (check_adam, _adam_variant(eps_inside=True), "epsilon inside the square root"),
    (check_adam, _adam_variant(keep_state=False), "m, v and t not kept between calls"),
    (check_sgd, _sgd_without_setdefault, "defaults not filled"),
    (check_sgd, _sgd_overwriting_defaults, "config.setdefault keeps"),
    (check_sgd, _sgd_in_place, "modified its argument #1 in place"),
    (check_sgd, _sgd_uphill, "climbs uphill"),
    (check_sgd, _sgd_hard_coded_lr, "instead of config['learning_rate']"),
])
def test_check_names_the_mistake(check, wrong, phrase):
    result = check.evaluate(wrong)
    assert result.status == "failed", result.message
    assert phrase in result.message


def test_check_mentions_that_epsilon_inside_is_mild():
    assert "A mild difference" in check_adam.evaluate(_adam_variant(eps_inside=True)).message


def test_check_reports_dtype_and_not_implemented():
    assert "float32" in check_sgd.evaluate(_sgd_float64).message
    assert check_adam.evaluate(_not_written).status == "not implemented"


def test_lbfgs_stops_where_asked():
    surface = surfaces.saddle()  # unbounded below: L-BFGS heads for infinity
    evaluations = []

    def counted(x):
        evaluations.append(x)
        return surface.value_and_grad(x)
    _, path = optim.lbfgs(counted, [-1.5, 0.05], max_iter=200, stop=lambda x: abs(x[1]) > 10)
    assert abs(path[-1][1]) > 10 and all(abs(p[1]) <= 10 for p in path[:-1]) and len(evaluations) < 60
