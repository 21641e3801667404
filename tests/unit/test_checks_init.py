"""course.checks.init as lab 02 uses it: the lab's own implementations pass, stubs are "not implemented yet", and
the mistakes the lab warns about (rand for randn, the variance as the std, fan_out for fan_in, the global
np.random) are each named. (tests/unit/test_init.py covers more of the same checks.)"""
import numpy as np
import pytest

from course.checks import init as CI


# --- the implementations a student writes in lab 02 --------------------------------------------------------------

def fans(shape):
    if len(shape) == 2:
        return shape[0], shape[1]
    f, c, hh, ww = shape
    return c * hh * ww, f * hh * ww


def small_random(shape, scale=0.01, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    return scale * rng.standard_normal(shape)


def xavier(shape, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    return rng.standard_normal(shape) / np.sqrt(fans(shape)[0])


def he(shape, rng=None):
    rng = np.random.default_rng() if rng is None else rng
    return rng.standard_normal(shape) * np.sqrt(2 / fans(shape)[0])


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("name, func", [("fans", fans), ("small_random", small_random), ("xavier", xavier),
                                        ("he", he)])
def test_the_labs_implementations_pass(name, func):
    result = getattr(CI, f"check_{name}").evaluate(func)
    assert result.passed, result.message


@pytest.mark.parametrize("name", ["fans", "small_random", "xavier", "he", "glorot"])
def test_stubs_are_not_implemented_yet(name, capsys):
    getattr(CI, f"check_{name}")(stub)
    assert "not implemented yet" in capsys.readouterr().out


# --- the mistakes ----------------------------------------------------------------------------------------------

def _gen(rng):
    return np.random.default_rng() if rng is None else rng


def small_random_rand(shape, scale=0.01, rng=None):
    return scale * _gen(rng).random(shape)  # the lecture notes' 0.01 * np.random.rand(D, H)


def small_random_variance(shape, scale=0.01, rng=None):
    return scale ** 2 * _gen(rng).standard_normal(shape)


def small_random_sqrt_scale(shape, scale=0.01, rng=None):
    return np.sqrt(scale) * _gen(rng).standard_normal(shape)


def xavier_rand(shape, rng=None):
    return _gen(rng).random(shape) / np.sqrt(fans(shape)[0])  # np.random.rand(fan_in, fan_out) / sqrt(fan_in)


def xavier_variance(shape, rng=None):
    return _gen(rng).standard_normal(shape) / fans(shape)[0]


def xavier_variance_as_normal_scale(shape, rng=None):
    return _gen(rng).normal(0.0, 1 / fans(shape)[0], size=shape)  # rng.normal's scale is the std, not Var


def xavier_fan_out(shape, rng=None):
    return _gen(rng).standard_normal(shape) / np.sqrt(fans(shape)[1])


def xavier_global(shape, rng=None):
    return np.random.standard_normal(shape) / np.sqrt(fans(shape)[0])


def he_rand(shape, rng=None):
    return _gen(rng).random(shape) / np.sqrt(fans(shape)[0] / 2)


def he_variance(shape, rng=None):
    return _gen(rng).standard_normal(shape) * 2 / fans(shape)[0]


def he_fan_out(shape, rng=None):
    return _gen(rng).standard_normal(shape) * np.sqrt(2 / fans(shape)[1])


def he_centred_uniform(shape, rng=None):
    return (_gen(rng).random(shape) - 0.5) * np.sqrt(2 / fans(shape)[0])


MISTAKES = [
    ("check_small_random", small_random_rand, "used np.random.rand (uniform on [0, 1)) instead of randn"),
    ("check_small_random", small_random_variance, "used the variance as the std"),
    ("check_small_random", small_random_sqrt_scale, "multiplied by sqrt(scale)"),
    ("check_xavier", xavier_rand, "used np.random.rand (uniform on [0, 1)) instead of randn"),
    ("check_xavier", xavier_variance, "used the variance as the std"),
    ("check_xavier", xavier_variance_as_normal_scale, "used the variance as the std"),
    ("check_xavier", xavier_fan_out, "used fan_out = shape[1] = 100 where fan_in = shape[0] = 400 belongs"),
    ("check_xavier", xavier_global, "not from the global np.random"),
    ("check_he", he_rand, "used np.random.rand (uniform on [0, 1)) instead of randn"),
    ("check_he", he_variance, "used the variance as the std"),
    ("check_he", he_fan_out, "used fan_out = shape[1] = 100 where fan_in = shape[0] = 400 belongs"),
]


@pytest.mark.parametrize("check, func, phrase", MISTAKES, ids=[f"{m[0]}-{m[1].__name__}" for m in MISTAKES])
def test_each_mistake_is_named(check, func, phrase):
    result = getattr(CI, check).evaluate(func)
    assert result.status == "failed", result.message
    assert phrase in result.detail, result.message


def test_a_centred_uniform_draw_fails():
    """(rand - 0.5) has mean 0 but std 1/sqrt(12) of the scale: caught by its std (a uniform draw of the right std
    is named "uniform, not normal", tests/unit/test_init.py)."""
    result = CI.check_he.evaluate(he_centred_uniform)
    assert result.status == "failed" and "expected 0.0707" in result.detail, result.message


def test_fan_out_of_a_conv_weight_is_named():
    def xavier_conv_fan_out(shape, rng=None):
        fan_in, fan_out = fans(shape)
        return _gen(rng).standard_normal(shape) / np.sqrt(fan_in if len(shape) == 2 else fan_out)

    result = CI.check_xavier.evaluate(xavier_conv_fan_out)
    assert result.status == "failed" and "used fan_out = F*HH*WW = 144 where fan_in = C*HH*WW = 576" in result.detail
