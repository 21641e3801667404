
import numpy as np
import pytest

import widgets
from course import losses
from driving import set_and_draw
from readout import flat, readout_text
from widgets.loss_slowdown import MATCHED_RATE, PRESETS

QUADRATIC_STALLS = "quadratic from (2, 2): stalls"
CROSS_ENTROPY_NIELSEN = "cross-entropy from (2, 2), Nielsen's rate 0.005"
CROSS_ENTROPY_MATCHED = f"cross-entropy from (2, 2), the matched rate {MATCHED_RATE}"


def output(e):
    return e.output_line.get_ydata()


def cost(e):
    return e.cost_line.get_ydata()


def test_builds_at_nielsens_slow_start_with_300_epochs_and_no_note():
    e = widgets.loss_slowdown_explorer()
    assert set(e.controls) == {"cost", "weight", "bias", "learning_rate"}
    assert len(output(e)) == 301 and output(e)[0] == pytest.approx(0.982, abs=1e-3)
    assert e.note.get_text() == "" and e.message.get_text() == ""
    assert "quadratic: C = (a - y)² / 2" in readout_text(e) and "σ'(z) = 0.0177" in readout_text(e)


def test_the_quadratic_cost_stalls_from_2_2_and_not_from_0_6_0_9():
    e = widgets.loss_slowdown_explorer()
    e.apply_preset("quadratic from (0.6, 0.9): learns at once")
    fast = output(e).copy()
    e.apply_preset(QUADRATIC_STALLS)
    slow = output(e).copy()
    assert fast[0] - fast[100] > 0.5  # 0.82 -> 0.21 in 100 epochs
    assert slow[0] - slow[100] < 0.02  # 0.98 -> 0.96: the plateau
    assert slow[-1] == pytest.approx(0.203, abs=2e-3) and fast[-1] == pytest.approx(0.094, abs=2e-3)  # Nielsen's
    assert "a ≤ 0.5 from epoch 232" in readout_text(e)


def test_the_cross_entropy_falls_from_the_first_epoch():
    """No plateau: the cost's steepest stretch of 50 epochs is the first one, at Nielsen's rate and the matched one;
    under the quadratic cost from the same start it is far later."""
    e = widgets.loss_slowdown_explorer()
    for preset in (CROSS_ENTROPY_NIELSEN, CROSS_ENTROPY_MATCHED):
        e.apply_preset(preset)
        drops = cost(e)[:-50] - cost(e)[50:]
        assert np.argmax(drops) == 0, preset
    e.apply_preset(QUADRATIC_STALLS)
    assert np.argmax(cost(e)[:-50] - cost(e)[50:]) > 100


def test_the_matched_rate_takes_the_quadratic_costs_first_step_from_the_good_start():
    e = widgets.loss_slowdown_explorer()
    e.apply_preset("quadratic from (0.6, 0.9): learns at once")
    quadratic_step = e.run.learning_rate * e.run.gradient[0]
    with e.holding():
        e.controls["cost"].value = "cross-entropy"
        e.controls["learning_rate"].value = MATCHED_RATE
    assert e.run.learning_rate * e.run.gradient[0] == pytest.approx(quadratic_step, rel=2e-3)  # the rate is rounded


def test_the_output_error_carries_sigma_prime_only_under_the_quadratic_cost():
    e = widgets.loss_slowdown_explorer()
    a = output(e)
    np.testing.assert_allclose(e.gradient_line.get_ydata(), np.clip(a * a * (1 - a), 1e-5, 2), rtol=1e-9)
    np.testing.assert_allclose(e.error_line.get_ydata(), a, rtol=1e-12)
    e.controls["cost"].value = "cross-entropy"
    np.testing.assert_allclose(e.gradient_line.get_ydata(), e.error_line.get_ydata(), rtol=1e-12)


def test_the_cost_axis_grows_for_the_cross_entropy_of_a_badly_wrong_neuron():
    e = widgets.loss_slowdown_explorer()
    assert e.cost_line.axes.get_ylim() == (0, 0.5)
    e.controls["cost"].value = "cross-entropy"
    assert e.cost_line.axes.get_ylim() == (0, 5.0)  # -ln(1 - sigmoid(4)) = 4.02


@pytest.mark.parametrize("setting", [dict(weight=4.0, bias=4.0, learning_rate=0.001),
                                     dict(weight=-4.0, bias=-4.0, learning_rate=10.0),
                                     dict(cost="cross-entropy", weight=4.0, bias=4.0, learning_rate=10.0)])
def test_extreme_values_give_no_warning_and_no_error(setting):
    e = widgets.loss_slowdown_explorer()
    set_and_draw(e, setting)
    assert e.output.outputs == () and "error" not in e.message.get_text()
    assert np.all(np.isfinite(cost(e))) and np.all(np.isfinite(output(e)))


def test_a_neuron_that_barely_moves_gets_a_message():
    e = widgets.loss_slowdown_explorer(weight=4.0, bias=4.0, learning_rate=0.01)
    assert e.message.get_text() == "stuck: a > 0.9 after 300 epochs"
    e.controls["cost"].value = "cross-entropy"
    assert e.message.get_text() == ""


def stub(*args):
    raise NotImplementedError


def test_student_stubs_fall_back_to_the_built_in_formulas_and_say_so():
    e = widgets.loss_slowdown_explorer(quadratic_loss=stub, binary_cross_entropy=stub)
    assert e.note.get_text() == "quadratic: using the reference quadratic_loss -- yours is not implemented yet"
    e.controls["cost"].value = "cross-entropy"
    assert e.note.get_text() == ("cross-entropy: using the reference binary_cross_entropy -- yours is not "
                                 "implemented yet")
    assert output(e)[0] == pytest.approx(0.982, abs=1e-3)


def test_a_wrong_student_loss_falls_back_with_its_check_message():
    def quadratic_loss(pred, y):
        loss, d = losses.quadratic_loss(pred, y)
        return 2 * loss, d
    e = widgets.loss_slowdown_explorer(quadratic_loss=quadratic_loss)
    assert "quadratic: using the reference quadratic_loss -- yours fails its check: likely mistake: forgot the 1/2" \
        in flat(e.note.get_text())


def test_correct_student_losses_drive_the_runs():
    calls = {"quadratic": 0, "bce": 0}

    def quadratic_loss(pred, y):
        calls["quadratic"] += 1
        return losses.quadratic_loss(pred, y)

    def binary_cross_entropy(logits, y):
        calls["bce"] += 1
        return losses.binary_cross_entropy(logits, y)

    reference = widgets.loss_slowdown_explorer()
    e = widgets.loss_slowdown_explorer(quadratic_loss=quadratic_loss, binary_cross_entropy=binary_cross_entropy)
    assert e.note.get_text() == "" and calls["quadratic"] > 301
    before = calls["quadratic"]
    e.controls["weight"].value = 1.0
    assert calls["quadratic"] == before + 301
    reference.controls["weight"].value = 1.0
    np.testing.assert_allclose(output(e), output(reference), rtol=1e-12)
    e.controls["cost"].value = "cross-entropy"
    reference.controls["cost"].value = "cross-entropy"
    np.testing.assert_allclose(cost(e), cost(reference), rtol=1e-12)


def test_a_student_loss_failing_while_running_is_replaced():
    def binary_cross_entropy(logits, y):
        loss, d = losses.binary_cross_entropy(logits, y)
        return (np.nan if logits.size == 1 and logits.ravel()[0] < 0 else loss), d  # right, until z < 0

    e = widgets.loss_slowdown_explorer(binary_cross_entropy=binary_cross_entropy, cost="cross-entropy",
                                       learning_rate=0.001)  # z stays above 3
    assert e.note.get_text() == ""
    e.controls["weight"].value = -2.0
    assert ("cross-entropy: using the reference binary_cross_entropy -- yours failed while running: "
            "binary_cross_entropy returned NaN or inf for finite input") in flat(e.note.get_text())
    assert e.output.outputs == () and np.all(np.isfinite(cost(e)))


def test_runs_are_cached_per_setting():
    e = widgets.loss_slowdown_explorer()
    first = e.run
    e.controls["bias"].value = 1.0
    assert e.run is not first
    e.controls["bias"].value = 2.0
    assert e.run is first


def test_presets_name_nielsens_settings():
    assert PRESETS[QUADRATIC_STALLS] == dict(cost="quadratic", weight=2.0, bias=2.0, learning_rate=0.15)
    assert MATCHED_RATE == pytest.approx(0.15 * 0.8176 * (1 - 0.8176), abs=1e-4)
