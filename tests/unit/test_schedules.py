"""Learning-rate schedules (course.schedules) and their student checks (course.checks.schedules)."""
import math

import numpy as np
import pytest

from course import schedules
from course.checks import check_exponential_decay, check_inverse_time_decay, check_step_decay


@pytest.mark.parametrize("t, expected", [(0, 0.1), (4, 0.1), (5, 0.05), (9, 0.05), (10, 0.025), (23, 0.00625)])
def test_step_decay_by_hand(t, expected):
    assert schedules.step_decay(0.1)(t) == pytest.approx(expected, rel=1e-12)


def test_step_decay_other_arguments_and_fractional_epochs():
    schedule = schedules.step_decay(1.0, drop=0.1, every=20)
    assert schedule(19) == 1.0 and schedule(20) == pytest.approx(0.1) and schedule(45) == pytest.approx(0.01)
    assert schedules.step_decay(1.0, every=2)(1.5) == 1.0


def test_exponential_and_inverse_time_decay_by_hand():
    exp = schedules.exponential_decay(0.2, k=0.5)
    assert exp(0) == 0.2 and exp(2) == pytest.approx(0.2 / math.e, rel=1e-12)
    inv = schedules.inverse_time_decay(0.2, k=0.5)
    assert inv(0) == 0.2 and inv(2) == pytest.approx(0.1) and inv(6) == pytest.approx(0.05)
    assert schedules.exponential_decay(0.3, k=0)(100) == 0.3   # k = 0: constant rate


@pytest.mark.parametrize("schedule", [schedules.step_decay(0.1, 0.5, 3), schedules.exponential_decay(0.1, 0.3),
                                      schedules.inverse_time_decay(0.1, 0.3)])
def test_arrays_give_the_same_values_as_scalars(schedule):
    t = np.arange(30)
    curve = schedule(t)
    assert isinstance(curve, np.ndarray) and curve.shape == (30,)
    np.testing.assert_allclose(curve, [schedule(int(k)) for k in t], rtol=1e-15)
    assert isinstance(schedule(3), float)
    assert np.all(np.diff(curve) <= 0) and curve[-1] < curve[0]


def test_readable_repr():
    assert repr(schedules.step_decay(0.1, drop=0.5, every=5)) == "step_decay(lr0=0.1, drop=0.5, every=5)"
    assert repr(schedules.exponential_decay(0.01, 0.1)) == "exponential_decay(lr0=0.01, k=0.1)"
    assert repr(schedules.inverse_time_decay(1, 2)) == "inverse_time_decay(lr0=1.0, k=2.0)"


def test_huge_t_underflows_quietly_to_zero():
    assert schedules.exponential_decay(0.1, 1.0)(1e6) == 0.0
    assert schedules.step_decay(0.1, 0.5, 1)(1e5) == 0.0


@pytest.mark.filterwarnings("error")
def test_k_times_t_beyond_the_float_range_gives_zero_without_warnings():
    assert schedules.exponential_decay(1.0, 1e300)(1e10) == 0.0     # e^-inf
    assert schedules.inverse_time_decay(1.0, 1e300)(1e300) == 0.0   # 1 / inf
    np.testing.assert_array_equal(schedules.exponential_decay(1.0, 1e308)(np.array([0.0, 10.0])), [1.0, 0.0])


@pytest.mark.parametrize("make, error, message", [
    (lambda: schedules.step_decay(0.0), ValueError, "lr0 must be > 0; got 0.0"),
    (lambda: schedules.step_decay(0.1, drop=0.0), ValueError, "drop must be > 0"),
    (lambda: schedules.step_decay(0.1, drop=1.5), ValueError, "drop must be <= 1; got 1.5"),
    (lambda: schedules.step_decay(0.1, every=0), ValueError, "every must be an integer >= 1"),
    (lambda: schedules.step_decay(0.1, every=2.5), ValueError, r"every must be an integer >= 1 .*; got 2.5"),
    (lambda: schedules.exponential_decay(0.1, k=-1), ValueError, "k must be >= 0; got -1.0"),
    (lambda: schedules.inverse_time_decay("0.1", k=1), TypeError, "lr0 must be a real number"),
    (lambda: schedules.step_decay(0.1)(-1), ValueError, r"t must be finite and >= 0 \(an epoch"),
    (lambda: schedules.step_decay(0.1)(np.array([0, 1, np.nan])), ValueError, "t must be finite and >= 0.*got nan"),
    (lambda: schedules.step_decay(0.1)("3"), TypeError, "t must be a real number or an array"),
])
def test_bad_arguments_explained(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_plateau_cuts_after_patience_epochs_without_improvement():
    plateau = schedules.ReduceLROnPlateau(0.1, factor=0.5, patience=2)
    rates = [plateau.step(acc) for acc in [0.5, 0.6, 0.6, 0.55, 0.7, 0.69, 0.68, 0.67, 0.66]]
    #                                      best  best  =1    =2 cut  best  1     2 cut  1     2 cut
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.0125])
    assert plateau.best == 0.7 and plateau.bad_epochs == 0


def test_plateau_min_mode_and_floor():
    plateau = schedules.ReduceLROnPlateau(1.0, factor=0.1, patience=1, min_lr=0.05, mode="min")
    rates = [plateau.step(loss) for loss in [2.0, 1.5, 1.6, 1.7, 1.8]]
    assert rates == pytest.approx([1.0, 1.0, 0.1, 0.05, 0.05])
    assert "mode='min'" in repr(plateau)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr0=0.1, factor=1.0), "factor must be < 1"),
    (dict(lr0=0.1, patience=0), "patience must be an integer >= 1"),
    (dict(lr0=0.1, min_lr=0.2), "min_lr must be <= 0.1"),
    (dict(lr0=0.1, mode="maximize"), "mode must be 'max' .* or 'min'"),
])
def test_plateau_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        schedules.ReduceLROnPlateau(**kwargs)
    with pytest.raises(ValueError, match="metric must be finite; got nan"):
        schedules.ReduceLROnPlateau(0.1).step(float("nan"))


# --- checks ---------------------------------------------------------------------------------------------------

def test_checks_pass_the_reference():
    for check, factory in [(check_step_decay, schedules.step_decay),
                           (check_exponential_decay, schedules.exponential_decay),
                           (check_inverse_time_decay, schedules.inverse_time_decay)]:
        result = check.evaluate(factory)
        assert result.passed, result.message


def test_checks_accept_a_plain_closure():
    assert check_step_decay.evaluate(lambda lr0, drop=0.5, every=5: lambda t: lr0 * drop ** (t // every)).passed


@pytest.mark.parametrize("check, wrong, phrase", [
    (check_step_decay, lambda lr0, drop=0.5, every=5: lambda t: lr0 * drop ** ((t + 1) // every),
     "drops at t = every - 1: off by one"),
    (check_step_decay, lambda lr0, drop=0.5, every=5: lambda t: lr0 * drop ** (t / every), "decays smoothly"),
    (check_step_decay, lambda lr0, drop=0.5, every=5: lambda t: lr0 * drop ** t, "drops every epoch"),
    (check_step_decay, lambda lr0, drop=0.4, every=3: lambda t: lr0 * drop ** (t // every), "step_decay(0.2)(t)"),
    (check_exponential_decay, lambda lr0, k: lambda t: lr0 * math.exp(k * t), "used e^(kt)"),
    (check_exponential_decay, lambda lr0, k: lambda t: math.exp(-k * t), "forgot lr0"),
    (check_inverse_time_decay, lambda lr0, k: lambda t: lr0 * (1 + k * t), "multiplied by (1 + kt)"),
    (check_inverse_time_decay, lambda lr0, k: lambda t: lr0 / (1 + t), "ignored k"),
    (check_inverse_time_decay, lambda lr0, k: lambda t: None, "did you forget a return"),
    (check_inverse_time_decay, lambda lr0, k: 0.1, "must return a schedule, a callable"),
])
def test_checks_name_the_mistake(check, wrong, phrase):
    result = check.evaluate(wrong)
    assert result.status == "failed" and phrase in result.message, result.message


def test_check_spots_a_schedule_with_hidden_state():
    def counting(lr0, drop=0.5, every=5):
        calls = []

        def schedule(t):
            calls.append(t)
            return lr0 * drop ** (len(calls) // every)
        return schedule
    assert check_step_decay.evaluate(counting).status == "failed"
