"""course.checks.optim: momentum and Nesterov are judged by the path of w, so the other valid conventions for the
velocity pass; state kept outside config fails; a cache of dw instead of dw**2 is named. (The reference passing
and the first named mistakes are in test_optim.py.)"""
import numpy as np
import pytest

from course import optim as O
from course.checks import (check_adagrad, check_adam, check_nesterov, check_rmsprop, check_sgd,
                           check_sgd_momentum)


def with_defaults(name, step):
    """An update rule that fills ``name``'s defaults with setdefault and then runs ``step(w, dw, config)``."""
    def rule(w, dw, config=None):
        config = config if config is not None else {}
        for key, value in O.DEFAULTS[name].items():
            config.setdefault(key, value)
        return step(w, dw, config), config
    return rule


def momentum_pytorch(w, dw, config):
    v = config["velocity"] = config["momentum"] * config.get("velocity", 0.0) + dw
    return w - config["learning_rate"] * v


def momentum_opposite_sign(w, dw, config):
    v = config["velocity"] = config["momentum"] * config.get("velocity", 0.0) + config["learning_rate"] * dw
    return w - v


def nesterov_pytorch(w, dw, config):
    mu = config["momentum"]
    buf = config["velocity"] = mu * config.get("velocity", 0.0) + dw
    return w - config["learning_rate"] * (dw + mu * buf)


@pytest.mark.parametrize("check, name, step", [
    (check_sgd_momentum, "sgd_momentum", momentum_pytorch),
    (check_sgd_momentum, "sgd_momentum", momentum_opposite_sign),
    (check_nesterov, "nesterov", nesterov_pytorch),
], ids=["momentum_pytorch", "momentum_opposite_sign", "nesterov_pytorch"])
def test_the_other_velocity_conventions_pass(check, name, step):
    r = check.evaluate(with_defaults(name, step))
    assert r.passed, r.message
    assert "state kept in config" in r.detail


def test_the_course_forms_pass_and_velocity_is_not_compared():
    assert check_sgd_momentum.evaluate(O.sgd_momentum).passed
    r = check_nesterov.evaluate(O.nesterov)
    assert r.passed and "config['velocity']" not in r.detail, r.message


def test_a_missing_velocity_key_still_fails():
    def momentum_under_another_key(w, dw, config):
        v = config["v"] = config["momentum"] * config.get("v", 0.0) - config["learning_rate"] * dw
        return w + v
    r = check_sgd_momentum.evaluate(with_defaults("sgd_momentum", momentum_under_another_key))
    assert r.status == "failed" and "config['velocity'] is missing" in r.detail, r.message


def test_the_wrong_momentum_sign_is_still_named():
    def momentum_uphill(w, dw, config):
        v = config["velocity"] = config["momentum"] * config.get("velocity", 0.0) + config["learning_rate"] * dw
        return w + v
    r = check_sgd_momentum.evaluate(with_defaults("sgd_momentum", momentum_uphill))
    assert r.status == "failed" and "momentum sign" in r.detail, r.message


_GLOBAL = {}


def momentum_in_a_global(w, dw, config):
    v = _GLOBAL["v"] = config["momentum"] * _GLOBAL.get("v", 0.0) - config["learning_rate"] * dw
    config["velocity"] = v
    return w + v


def momentum_reset_with_each_new_config(w, dw, config):
    if "velocity" not in config:  # a fresh config: start again, but keep the state outside it
        _GLOBAL["v"] = 0.0
    return momentum_in_a_global(w, dw, config)


@pytest.mark.parametrize("step", [momentum_in_a_global, momentum_reset_with_each_new_config],
                         ids=["global", "global_reset_per_config"])
def test_state_kept_outside_config_is_named(step):
    _GLOBAL.clear()
    r = check_sgd_momentum.evaluate(with_defaults("sgd_momentum", step))
    assert r.status == "failed" and "state kept outside config" in r.detail, r.message


def adaptive(name, accumulate):
    """AdaGrad (name 'adagrad') or RMSProp with the cache accumulated by accumulate(cache, dw, config)."""
    def step(w, dw, config):
        cache = config["cache"] = accumulate(config.get("cache", 0.0), dw, config)
        return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])
    return with_defaults(name, step)


@pytest.mark.parametrize("check, rule", [
    (check_adagrad, adaptive("adagrad", lambda c, dw, h: c + dw)),
    (check_rmsprop, adaptive("rmsprop", lambda c, dw, h: h["decay_rate"] * c + (1 - h["decay_rate"]) * dw)),
], ids=["adagrad", "rmsprop"])
def test_a_cache_of_dw_instead_of_dw_squared_is_named(check, rule):
    r = check.evaluate(rule)
    assert r.status == "failed", r.message
    assert "cache must accumulate dw**2, not dw: a negative cache has no square root" in r.detail, r.message
    assert "exp() of a large number" not in r.detail and "(in step, line" in r.detail, r.message


def adam_v_of_dw(w, dw, config):
    b1, b2 = config["beta1"], config["beta2"]
    t = config["t"] = config.get("t", 0) + 1
    m = config["m"] = b1 * config.get("m", 0.0) + (1 - b1) * dw
    v = config["v"] = b2 * config.get("v", 0.0) + (1 - b2) * dw
    return w - config["learning_rate"] * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + config["epsilon"])


def test_adam_with_v_of_dw_is_named_not_taken_for_t_after_use():
    r = check_adam.evaluate(with_defaults("adam", adam_v_of_dw))
    assert r.status == "failed", r.message
    assert "v must average dw**2, not dw" in r.detail and "t incremented after use" not in r.detail, r.message


def test_sgd_is_checked_for_state_too_and_passes():
    assert check_sgd.evaluate(O.sgd).passed


# --- the mistakes lab 05 names ------------------------------------------------------------------------------------

def adam_variant(correct=True, t_before_use=True, eps_inside=False):
    def step(w, dw, config):
        b1, b2, eps = config["beta1"], config["beta2"], config["epsilon"]
        t = config.get("t", 0) + (1 if t_before_use else 0)
        m = config["m"] = b1 * config.get("m", 0.0) + (1 - b1) * dw
        v = config["v"] = b2 * config.get("v", 0.0) + (1 - b2) * dw * dw
        config["t"] = t if t_before_use else t + 1
        if correct:
            m, v = m / (1 - b1 ** t), v / (1 - b2 ** t)
        denominator = np.sqrt(v + eps) if eps_inside else np.sqrt(v) + eps
        return w - config["learning_rate"] * m / denominator
    return with_defaults("adam", step)


def momentum_decaying_its_rate(w, dw, config):
    config["learning_rate"] *= 0.9  # a schedule hidden in the rule: the caller's config changes between calls
    v = config["velocity"] = config["momentum"] * config.get("velocity", 0.0) - config["learning_rate"] * dw
    return w + v


def nesterov_uphill(w, dw, config):
    mu, v = config["momentum"], config.get("velocity", 0.0)
    v_next = config["velocity"] = mu * v + config["learning_rate"] * dw
    return w - mu * v + (1 + mu) * v_next


def sgd_with_a_shared_default(w, dw, config={}):  # noqa: B006 (the mistake under test)
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


_SHARED = {}


def adagrad_state_outside(w, dw, config):
    cache = _SHARED["cache"] = _SHARED.get("cache", 0.0) + dw * dw
    return w - config["learning_rate"] * dw / (np.sqrt(cache) + config["epsilon"])


@pytest.mark.parametrize("check, rule, phrase", [
    (check_adam, adam_variant(correct=False), "Adam without bias correction"),
    (check_adam, adam_variant(t_before_use=False), "t incremented after use"),
    (check_adam, adam_variant(eps_inside=True), "epsilon inside the square root"),
    (check_nesterov, with_defaults("nesterov", nesterov_uphill), "velocity sign: the velocity must move against"),
    (check_sgd_momentum, with_defaults("sgd_momentum", momentum_decaying_its_rate),
     "config['learning_rate'] changed from 0.123 to"),
    (check_sgd, sgd_with_a_shared_default, "config={} as the default value"),
    (check_adagrad, with_defaults("adagrad", adagrad_state_outside), "state kept outside config"),
], ids=["no_bias_correction", "t_after_use", "eps_inside_sqrt", "velocity_sign", "config_mutated",
        "mutable_default", "state_outside_config"])
def test_the_mistakes_the_lab_names(check, rule, phrase):
    _SHARED.clear()
    r = check.evaluate(rule)
    assert r.status == "failed" and phrase in r.detail, r.message


@pytest.mark.parametrize("check", [check_sgd, check_sgd_momentum, check_nesterov, check_adagrad, check_rmsprop,
                                   check_adam])
def test_a_stub_is_not_implemented_yet(check):
    def stub(w, dw, config=None):
        raise NotImplementedError
    assert check.evaluate(stub).status == "not implemented"


# --- exact zeros in the gradient: 0/0 -------------------------------------------------------------------------

def adagrad_sign_as_a_division(w, dw, config):
    """Right wherever dw != 0; the sign of dw written as np.abs(dw) / dw is 0/0 = NaN where dw == 0."""
    cache = config["cache"] = config.get("cache", 0.0) + dw * dw
    return w - config["learning_rate"] * (np.abs(dw) / dw) * np.abs(dw) / (np.sqrt(cache) + config["epsilon"])


def adagrad_without_epsilon(w, dw, config):
    cache = config["cache"] = config.get("cache", 0.0) + dw * dw
    return w - config["learning_rate"] * dw / np.sqrt(cache)


def rmsprop_without_epsilon(w, dw, config):
    rho = config["decay_rate"]
    cache = config["cache"] = rho * config.get("cache", 0.0) + (1 - rho) * dw * dw
    return w - config["learning_rate"] * dw / np.sqrt(cache)


def adam_without_epsilon(w, dw, config):
    b1, b2 = config["beta1"], config["beta2"]
    t = config["t"] = config.get("t", 0) + 1
    m = config["m"] = b1 * config.get("m", 0.0) + (1 - b1) * dw
    v = config["v"] = b2 * config.get("v", 0.0) + (1 - b2) * dw * dw
    return w - config["learning_rate"] * (m / (1 - b1 ** t)) / np.sqrt(v / (1 - b2 ** t))


@pytest.mark.parametrize("check, name, step, denominator", [
    (check_adagrad, "adagrad", adagrad_sign_as_a_division, "sqrt(cache) + epsilon"),
    (check_adagrad, "adagrad", adagrad_without_epsilon, "sqrt(cache) + epsilon"),
    (check_rmsprop, "rmsprop", rmsprop_without_epsilon, "sqrt(cache) + epsilon"),
    (check_adam, "adam", adam_without_epsilon, "sqrt(v_hat) + epsilon"),
], ids=["adagrad_sign_by_division", "adagrad_no_eps", "rmsprop_no_eps", "adam_no_eps"])
def test_zero_over_zero_where_a_gradient_entry_is_exactly_zero_is_named(check, name, step, denominator):
    r = check.evaluate(with_defaults(name, step))
    assert r.status == "failed" and "0/0 = NaN where a gradient entry is exactly 0" in r.detail, r.message
    assert denominator in r.detail and "t incremented after use" not in r.detail, r.message


def test_the_checks_gradients_hold_exact_zeros_and_the_references_pass_them():
    from course.checks.optim import _DWS
    assert all(dw[0, 1] == 0 for dw in _DWS) and sum((dw == 0).sum() for dw in _DWS) == 5
    for check, name in ((check_adagrad, "adagrad"), (check_rmsprop, "rmsprop"), (check_adam, "adam")):
        assert check.evaluate(getattr(O, name)).passed
