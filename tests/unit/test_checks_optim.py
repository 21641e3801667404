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
