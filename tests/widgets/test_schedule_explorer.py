import sys
import warnings

import numpy as np
import pytest

import widgets
from course import schedules
from course.experiments import noise_floor
from readout import flat, readout_text

module = sys.modules["widgets.schedule"]
EPOCHS = np.arange(module.EPOCHS)


def rates(e, name):
    return e.rate_lines[name].get_ydata()[:-1]  # the last point repeats the last epoch's rate (steps-post)


def test_builds_and_draws_each_schedule_as_course_schedules_computes_it():
    e = widgets.schedule_explorer()
    assert e.note.get_text() == "" and e.output.outputs == ()
    np.testing.assert_allclose(rates(e, "constant"), 0.5)
    np.testing.assert_allclose(rates(e, "step"), schedules.step_decay(0.5, 0.5, 4)(EPOCHS))
    np.testing.assert_allclose(rates(e, "exponential"), schedules.exponential_decay(0.5, 0.15)(EPOCHS))
    np.testing.assert_allclose(rates(e, "1/t"), schedules.inverse_time_decay(0.5, 0.5)(EPOCHS))
    assert rates(e, "plateau")[0] == 0.5 and np.all(np.diff(rates(e, "plateau")) <= 0)
    assert len(e.loss_lines["constant"].get_xdata()) == module.EPOCHS * module.STEPS_PER_EPOCH + 1


@pytest.mark.parametrize("control, value, changed", [
    ("drop", 0.2, {"step"}),
    ("every", 2, {"step"}),
    ("k_exponential", 0.5, {"exponential"}),
    ("k_inverse", 2.0, {"1/t"}),
    ("factor", 0.2, {"plateau"}),
    ("patience", 3, {"plateau"}),
    ("lr0", 0.1, {"constant", "step", "exponential", "1/t", "plateau"}),
])
def test_each_parameter_changes_its_schedule_only(control, value, changed):
    e = widgets.schedule_explorer()
    before = {name: line.get_ydata().copy() for name, line in e.rate_lines.items()}
    e.controls[control].value = value
    moved = {name for name, line in e.rate_lines.items() if not np.array_equal(before[name], line.get_ydata())}
    assert moved == changed


def test_annealing_beats_the_constant_rate_with_noise_and_not_without():
    e = widgets.schedule_explorer()
    final = dict(zip(e.runs.names, e.runs.final.mean(axis=1)))
    assert all(final[name] < final["constant"] / 4 for name in ("step", "exponential", "1/t", "plateau"))
    floor = noise_floor(0.5, 1.0)
    np.testing.assert_allclose(e.floor_line.get_ydata(), floor)
    assert f"noise floor of the constant rate lr0: {floor:.3g}" in readout_text(e)
    e.apply_preset("no noise: nothing to anneal")
    final = dict(zip(e.runs.names, e.runs.final.mean(axis=1)))
    assert final["constant"] == min(final.values()) and e.floor_line.get_ydata()[0] == 0


def test_decaying_too_fast_is_named_on_the_plot():
    e = widgets.schedule_explorer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.apply_preset("decay too fast: learning stops early")
        e.fig.canvas.draw()
    assert "the rate is below 0.001 at the end" in e.message.get_text() and "exponential" in e.message.get_text()
    assert e.output.outputs == ()


def test_extreme_settings_stay_finite_and_quiet():
    e = widgets.schedule_explorer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with e.holding():
            e.controls["lr0"].value = e.controls["lr0"].max
            e.controls["noise"].value = 3.0
        e.fig.canvas.draw()
    assert np.isfinite(e.runs.loss).all() and e.output.outputs == ()


# --- students' schedules ----------------------------------------------------------------------------------------

def step_decay(lr0, drop=0.5, every=5):
    return lambda t: lr0 * drop ** (t // every)


def exponential_decay(lr0, k):
    return lambda t: lr0 * np.exp(k * t)  # grows: the sign mistake


def inverse_time_decay(lr0, k):
    raise NotImplementedError


def broken_step_decay(lr0, drop=0.5, every=5):
    def schedule(t):
        if t > 12:  # beyond what the check looks at
            raise RuntimeError("too far")
        return lr0 * drop ** (t // every)
    return schedule


def test_students_schedules_are_used_once_they_pass_and_replaced_until_then():
    e = widgets.schedule_explorer(schedules={"my step": step_decay, "my exp": exponential_decay,
                                             "my 1/t": inverse_time_decay})
    note = flat(e.note.get_text())
    assert "my exp: using the reference exponential_decay -- yours fails its check: likely mistake: used e^(kt)" in note
    assert "my 1/t: using the reference inverse_time_decay -- yours is not implemented yet" in note
    assert hasattr(e.choices["my step"].funcs[0], "student") and "my step" in readout_text(e)
    np.testing.assert_allclose(rates(e, "step"), schedules.step_decay(0.5, 0.5, 4)(EPOCHS))
    np.testing.assert_allclose(rates(e, "exponential"), schedules.exponential_decay(0.5, 0.15)(EPOCHS))


def test_a_schedule_failing_while_running_falls_back_and_is_named():
    e = widgets.schedule_explorer(schedules={"my step decay": broken_step_decay})
    assert e.output.outputs == ()
    assert "my step decay: using the reference step_decay -- yours failed while running: the schedule made by " \
           "broken_step_decay raised RuntimeError: too far" in flat(e.note.get_text())
    np.testing.assert_allclose(rates(e, "step"), schedules.step_decay(0.5, 0.5, 4)(EPOCHS))


def test_schedules_must_name_a_factory():
    with pytest.raises(ValueError, match="name a factory"):
        widgets.schedule_explorer(schedules={"mine": lambda lr0: lambda t: lr0})
