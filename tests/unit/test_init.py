"""course.init and course.checks.init."""
import re

import numpy as np
import pytest

from course import OutOfRangeError
from course import init as I
from course.checks import init as CI

FAN_BASED = {
    "xavier": lambda fi, fo: np.sqrt(1 / fi),
    "he": lambda fi, fo: np.sqrt(2 / fi),
    "glorot": lambda fi, fo: np.sqrt(2 / (fi + fo)),
}


def test_fans_dense_and_conv():
    assert I.fans((784, 100)) == (784, 100)
    assert I.fans([50, 10]) == (50, 10)
    assert I.fans((32, 3, 5, 5)) == (3 * 25, 32 * 25)
    assert I.fans((np.int64(8), 4, 3, 3)) == (36, 72)


@pytest.mark.parametrize("name", FAN_BASED)
@pytest.mark.parametrize("shape", [(1000, 300), (300, 1000), (64, 32, 3, 3), (16, 3, 7, 7)])
def test_fan_based_std_and_mean(name, shape):
    w = getattr(I, name)(shape, rng=np.random.default_rng(0))
    assert w.shape == shape and w.dtype == np.float64
    target = FAN_BASED[name](*I.fans(shape))
    assert I.expected_std(name, shape) == pytest.approx(target)
    assert w.std() == pytest.approx(target, rel=0.03)
    assert abs(w.mean()) < 5 * target / np.sqrt(w.size)
    assert np.mean(w < 0) == pytest.approx(0.5, abs=0.02)  # randn, not rand: half the weights are negative


def test_fan_in_rules_in_numbers():
    rng = np.random.default_rng(1)
    # dense: fan_in = shape[0]
    assert I.xavier((400, 50), rng).std() == pytest.approx(1 / 20, rel=0.03)
    assert I.he((400, 50), rng).std() == pytest.approx(np.sqrt(2 / 400), rel=0.03)
    # conv: fan_in = C * HH * WW = 8 * 3 * 3 = 72, not F = 128
    assert I.xavier((128, 8, 3, 3), rng).std() == pytest.approx(1 / np.sqrt(72), rel=0.03)
    assert I.glorot((128, 8, 3, 3), rng).std() == pytest.approx(np.sqrt(2 / (72 + 128 * 9)), rel=0.03)


def test_small_random_zeros_constant():
    w = I.small_random((500, 400), rng=np.random.default_rng(0))
    assert w.std() == pytest.approx(0.01, rel=0.02) and w.dtype == np.float64
    assert I.small_random((300, 300), scale=0.5, rng=np.random.default_rng(0)).std() == pytest.approx(0.5, rel=0.02)
    assert I.small_random(7, rng=0).shape == (7,)  # biases and other 1-D shapes are fine here
    assert np.all(I.small_random((3, 3), scale=0) == 0)
    z = I.zeros((2, 3))
    assert z.dtype == np.float64 and z.shape == (2, 3) and not z.any()
    c = I.constant((4,), 1)
    assert c.dtype == np.float64 and np.all(c == 1.0)
    assert I.expected_std("small_random", (3, 4), scale=0.2) == 0.2 and I.expected_std("zeros", (3,)) == 0.0


def test_a_scale_whose_draws_exceed_the_float_range_is_an_error():
    with pytest.raises(OutOfRangeError, match=r"small_random: scale \* randn exceeds the float64 range.*1e\+308.*"
                                              "scale is far too large"):
        I.small_random((1000,), 1e308, rng=0)
    assert np.all(np.isfinite(I.small_random((1000,), 1e300, rng=0)))


def test_rng_handling():
    a = I.he((50, 40), rng=np.random.default_rng(3))
    b = I.he((50, 40), rng=np.random.default_rng(3))
    c = I.he((50, 40), rng=3)  # an int seed is accepted too
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    rng = np.random.default_rng(3)
    first, second = I.he((50, 40), rng), I.he((50, 40), rng)
    assert not np.array_equal(first, second)  # the generator advances
    assert not np.array_equal(I.xavier((50, 40)), I.xavier((50, 40)))  # rng=None: fresh, nondeterministic


def test_initializers_registry():
    assert set(I.INITIALIZERS) == {"zeros", "small_random", "xavier", "glorot", "he"}
    rng = np.random.default_rng(0)
    for name, f in I.INITIALIZERS.items():
        for call in (lambda: f((30, 20), rng), lambda: f((30, 20), rng=rng), lambda: f((30, 20))):
            w = call()  # positional rng, keyword rng and no rng all work
            assert w.shape == (30, 20) and w.dtype == np.float64
    assert not I.INITIALIZERS["zeros"]((3, 3), rng).any()
    assert I.INITIALIZERS["small_random"]((400, 300), rng).std() == pytest.approx(0.01, rel=0.03)
    assert I.INITIALIZERS["he"] is I.he


def test_rand_instead_of_randn_is_explained_in_the_docstring():
    doc = I.__doc__
    assert "np.random.rand" in doc and "randn" in doc and "[0, 1)" in doc and "mean 0.5" in doc.replace("\n", " ")


@pytest.mark.parametrize("shape, exc, match", [
    ((), ValueError, r"at least one dimension.*got \(\)"),
    ((3, 0), ValueError, r"positive ints; got \(3, 0\)"),
    ((3, -2), ValueError, r"positive ints; got \(3, -2\)"),
    ((3.0, 2), TypeError, r"positive ints; got \(3.0, 2\) \(float 3.0\)"),
    ((True, 2), TypeError, r"positive ints"),
    ("3x2", TypeError, r"shape must be a tuple of positive ints such as \(D, M\); got str '3x2'"),
    (None, TypeError, r"shape must be a tuple of positive ints"),
])
@pytest.mark.parametrize("name", ["zeros", "small_random", "xavier", "he", "glorot"])
def test_bad_shapes(name, shape, exc, match):
    with pytest.raises(exc, match=match):
        getattr(I, name)(shape)


@pytest.mark.parametrize("name", ["xavier", "he", "glorot"])
@pytest.mark.parametrize("shape", [(10,), (2, 3, 4), (1, 2, 3, 4, 5)])
def test_fan_based_need_dense_or_conv_shapes(name, shape):
    expected = f"(D, M) for a dense layer or (F, C, HH, WW) for a conv layer; got {shape!r} ({len(shape)}-D)"
    with pytest.raises(ValueError, match=re.escape(expected)):
        getattr(I, name)(shape)


def test_other_bad_input():
    with pytest.raises(ValueError, match=r"Initialize biases \(M,\) with zeros"):
        I.fans((5,))
    with pytest.raises(TypeError, match=r"rng must be a numpy.random.Generator .*; got RandomState"):
        I.he((3, 3), rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match=r"rng must be .*; got float"):
        I.xavier((3, 3), rng=0.5)
    with pytest.raises(TypeError, match=r"pass the generator by keyword, small_random\(shape, rng=rng\)"):
        I.small_random((3, 3), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"scale must be >= 0; got -0.1"):
        I.small_random((3, 3), scale=-0.1)
    with pytest.raises(TypeError, match=r"value must be a real number; got 'one'"):
        I.constant((2,), "one")
    with pytest.raises(ValueError, match=r"unknown initializer 'lecun'; expected one of"):
        I.expected_std("lecun", (3, 3))


# ----------------------------------------------------------------------------------------------------------------
# Checks


def test_reference_passes_every_init_check(capsys):
    for name in ("xavier", "he", "glorot", "small_random", "fans"):
        r = getattr(CI, f"check_{name}").evaluate(getattr(I, name))
        assert r.passed, r.message
    CI.check_he(I.he)
    assert capsys.readouterr().out.startswith("✓ he: zero mean, std sqrt(2/fan_in)")


def test_not_implemented_is_reported():
    def stub(shape, rng=None):
        raise NotImplementedError

    assert CI.check_xavier.evaluate(stub).status == "not implemented"


def _gen(rng):
    return rng if rng is not None else np.random.default_rng()


def xavier_rand(shape, rng=None):
    fan_in, _ = I.fans(shape)
    return _gen(rng).random(shape) / np.sqrt(fan_in)  # the lecture notes' np.random.rand


def he_rand(shape, rng=None):
    fan_in, _ = I.fans(shape)
    return _gen(rng).random(shape) / np.sqrt(fan_in / 2)


def xavier_fan_in_not_sqrt(shape, rng=None):
    fan_in, _ = I.fans(shape)
    return _gen(rng).standard_normal(shape) / fan_in


def xavier_conv_fan_in_first_axis(shape, rng=None):
    return _gen(rng).standard_normal(shape) / np.sqrt(shape[0])


def xavier_fan_out(shape, rng=None):
    return _gen(rng).standard_normal(shape) / np.sqrt(shape[1] if len(shape) == 2 else shape[0] * 9)


def xavier_global_random(shape, rng=None):
    fan_in, _ = I.fans(shape)
    return np.random.standard_normal(shape) / np.sqrt(fan_in)


def xavier_uniform_right_std(shape, rng=None):
    fan_in, _ = I.fans(shape)
    a = np.sqrt(3 / fan_in)
    return _gen(rng).uniform(-a, a, size=shape)


def he_like_xavier(shape, rng=None):
    return I.xavier(shape, rng)


def he_divided_by_half_fan_in(shape, rng=None):
    fan_in, _ = I.fans(shape)
    return _gen(rng).standard_normal(shape) / (fan_in / 2)


def he_times_two(shape, rng=None):
    fan_in, _ = I.fans(shape)
    return 2 * _gen(rng).standard_normal(shape) / np.sqrt(fan_in)


def glorot_without_two(shape, rng=None):
    fan_in, fan_out = I.fans(shape)
    return _gen(rng).standard_normal(shape) / np.sqrt(fan_in + fan_out)


def glorot_conv_fans_as_dense(shape, rng=None):
    return _gen(rng).standard_normal(shape) * np.sqrt(2 / (shape[0] + shape[1]))


def small_random_ignores_scale(shape, scale=0.01, rng=None):
    return 0.01 * _gen(rng).standard_normal(shape)


def fans_conv_as_dense(shape):
    return shape[0], shape[1]


def fans_swapped(shape):
    a, b = I.fans(shape)
    return b, a


MISTAKES = [
    ("check_xavier", xavier_rand, "used np.random.rand (uniform on [0, 1)) instead of randn"),
    ("check_he", he_rand, "used np.random.rand (uniform on [0, 1)) instead of randn"),
    ("check_xavier", xavier_fan_in_not_sqrt, "divided by fan_in instead of sqrt(fan_in)"),
    ("check_xavier", xavier_conv_fan_in_first_axis, "you used shape[0] = F = 16"),
    ("check_xavier", xavier_fan_out, "used fan_out = shape[1] = 100 where fan_in = shape[0] = 400 belongs"),
    ("check_xavier", xavier_global_random, "not from the global np.random"),
    ("check_xavier", xavier_uniform_right_std, "look uniform, not normal"),
    ("check_he", he_like_xavier, "used Xavier's std 1/sqrt(fan_in)"),
    ("check_he", he_divided_by_half_fan_in, "divided by fan_in / 2 instead of sqrt(fan_in / 2)"),
    ("check_he", he_times_two, "multiplied by 2 instead of sqrt(2)"),
    ("check_glorot", glorot_without_two, "forgot the 2"),
    ("check_glorot", glorot_conv_fans_as_dense, "used F = 16 and C = 64 as the fans, as for a dense weight"),
    ("check_small_random", small_random_ignores_scale, "ignored the scale argument"),
    ("check_fans", fans_conv_as_dense, "used shape[0] and shape[1] as for a dense weight"),
    ("check_fans", fans_swapped, "fan_in and fan_out swapped"),
]


@pytest.mark.parametrize("check, func, phrase", MISTAKES, ids=[f"{m[0]}-{m[1].__name__}" for m in MISTAKES])
def test_each_mistake_is_named(check, func, phrase):
    r = getattr(CI, check).evaluate(func)
    assert r.status == "failed", r.message
    assert phrase in r.detail, r.message
