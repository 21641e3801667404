import numpy as np
import pytest

from course import activations
from course.data import spiral
from course.experiments import (DeadUnitTraining, dead_unit_study, local_gradients, preactivation_std, saturation,
                                standard_normal_draws, train_dead_units)

DRAWS = standard_normal_draws(20_000, seed=0)
SIGMOID = (activations.sigmoid_forward, activations.sigmoid_backward)
RELU = (activations.relu_forward, activations.relu_backward)


def test_preactivation_spread_matches_a_real_layer():
    rng = np.random.default_rng(3)
    fan_in, scale = 64, 0.3
    z = rng.standard_normal((2000, fan_in)) @ (scale * rng.standard_normal((fan_in, 50)))
    assert preactivation_std(scale, fan_in) == pytest.approx(scale * 8)
    assert z.std() == pytest.approx(preactivation_std(scale, fan_in), rel=0.05)
    assert saturation(*SIGMOID, scale, fan_in, DRAWS).preactivations.std() == pytest.approx(z.std(), rel=0.05)


def test_sigmoid_saturates_as_the_weight_scale_grows():
    fractions = [saturation(*SIGMOID, s, 100, DRAWS).saturated for s in (0.01, 0.3, 1.0, 10.0)]
    assert fractions[0] == 0.0
    assert np.all(np.diff(fractions) > 0)
    # std 10: |z| > 4.59 saturates, P(|N(0, 10)| > 4.59) = 0.646
    assert fractions[2] == pytest.approx(0.646, abs=0.01)


def test_relu_blocks_half_of_the_gradients_at_any_scale():
    for scale in (1e-3, 1.0, 100.0):
        result = saturation(*RELU, scale, 50, DRAWS)
        assert result.zero_gradient == pytest.approx(0.5, abs=0.01)
        assert result.saturated == result.zero_gradient


def test_local_gradients_are_the_derivative():
    x = np.linspace(-3, 3, 7)
    out, grad = local_gradients(activations.tanh_forward, activations.tanh_backward, x)
    np.testing.assert_allclose(out, np.tanh(x))
    np.testing.assert_allclose(grad, 1 - np.tanh(x) ** 2)
    with pytest.raises(ValueError, match="shaped like its input"):
        local_gradients(lambda v: (v[:2], v), lambda d, c: d, x)


def test_training_records_loss_and_dead_fractions_per_step():
    record = train_dead_units(steps=30, hidden=(20, 10))
    assert record.loss.shape == (30,) and record.dead.shape == (30, 2)
    assert record.diverged_at is None
    assert np.all((record.dead >= 0) & (record.dead <= 1))
    assert record.loss[-1] < record.loss[0]
    assert record.loss[0] == pytest.approx(np.log(3), abs=0.05)  # small weights: chance-level start


def test_advancing_in_chunks_gives_the_same_run():
    whole = train_dead_units(steps=40, seed=4)
    training = DeadUnitTraining(steps=40, seed=4)
    while not training.done:
        training.advance(7)
    np.testing.assert_array_equal(training.record().loss, whole.loss)
    np.testing.assert_array_equal(training.record().dead, whole.dead)


def test_a_high_learning_rate_kills_relus():
    gentle = train_dead_units(learning_rate=0.3, steps=150)
    harsh = train_dead_units(learning_rate=2.5, steps=150)
    assert harsh.dead[-1].mean() > gentle.dead[-1].mean() + 0.2


def test_the_bias_init_sets_the_dead_fraction_at_the_start():
    start = {b: DeadUnitTraining(bias_init=b, steps=1).advance().dead[0] for b in (-0.1, 0.0, 0.01)}
    assert start[-0.1][1] == 1.0 and start[-0.1].mean() > start[0.0].mean() > start[0.01].mean()


def test_xavier_and_he_fix_the_spread_whatever_the_fan_in():
    for fan_in in (3, 300):
        assert preactivation_std(5.0, fan_in, "Xavier") == pytest.approx(1.0)
        assert preactivation_std(5.0, fan_in, "He") == pytest.approx(np.sqrt(2))
    with pytest.raises(ValueError, match="init must be one of"):
        preactivation_std(1.0, 10, "LeCun")


def test_a_loss_a_hundred_times_the_first_is_divergence_even_while_finite():
    record = train_dead_units(learning_rate=3.0, activation="elu", steps=200)
    assert record.diverged_at is not None and np.all(np.isfinite(record.loss))
    assert record.loss.max() <= 100 * record.loss[0]


def test_a_study_runs_one_setting_over_seeds():
    study = dead_unit_study(seeds=range(3), steps=20, hidden=(10, 10))
    assert study.start.shape == study.peak.shape == study.end.shape == (3, 2)
    assert study.loss.shape == study.diverged.shape == (3,)
    assert np.all(study.peak >= study.end) and np.all(study.peak >= study.start)
    single = train_dead_units(seed=2, steps=20, hidden=(10, 10))
    np.testing.assert_array_equal(study.end[2], single.dead[-1])


def test_divergence_is_reported_with_its_step_and_no_warning():
    X, y = spiral()
    record = train_dead_units(dataset=(X * 1e306, y), weight_scale=10.0, steps=20)
    assert record.diverged_at == 0
    assert record.loss.size == 0 and record.dead.shape == (0, 2)


def test_training_uses_the_given_relu():
    calls = []

    def counting_relu_forward(x):
        calls.append(x.shape)
        return activations.relu_forward(x)

    train_dead_units(steps=3, hidden=(8,), activation=(counting_relu_forward, activations.relu_backward))
    assert calls == [(300, 8)] * 3


@pytest.mark.parametrize("kwargs, match", [
    ({"learning_rate": 0}, "learning_rate"), ({"steps": 0}, "steps"), ({"weight_scale": -1}, "weight_scale")])
def test_training_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DeadUnitTraining(**kwargs)
