import asyncio

import numpy as np
import pytest

import widgets
from driving import set_and_draw
from readout import flat, readout_text
from widgets.explorer import Stepper

FAST = dict(steps=60, hidden=(30, 30))


def dead_at_end(explorer):
    return np.array([line.get_ydata()[-1] for line in explorer.dead_lines])


def test_builds_and_shows_a_finished_run():
    e = widgets.dead_relu_explorer(**FAST)
    assert set(e.controls) == {"activation", "learning_rate", "bias_init", "weight_scale", "seed"}
    assert list(e.controls["activation"].options) == ["relu", "leaky relu", "elu"]
    assert e.training.done and e.progress.value == 60
    x, loss = e.loss_line.get_data()
    assert len(x) == 60 and np.all(np.isfinite(loss))
    assert e.note.get_text() == "" and e.message.get_text() == ""
    assert "at step 0" in readout_text(e) and "after 60 steps" in readout_text(e)
    np.testing.assert_array_equal(e.start_marks.get_offsets()[:, 1], [line.get_ydata()[0] for line in e.dead_lines])


def test_a_high_learning_rate_kills_more_units_than_a_small_one():
    e = widgets.dead_relu_explorer(steps=120)
    e.controls["learning_rate"].value = 0.1
    gentle = dead_at_end(e)
    e.controls["learning_rate"].value = 3.0
    harsh = dead_at_end(e)
    assert harsh.mean() > gentle.mean() + 0.3


def test_a_negative_bias_kills_layer_2_for_relu_and_elu_units_revive():
    e = widgets.dead_relu_explorer(steps=150)
    e.apply_preset("a negative bias kills layer 2")
    relu = np.array([line.get_ydata() for line in e.dead_lines])
    assert relu[1, 0] == 1 and relu[1, -1] == 1
    assert e.loss_line.get_ydata()[-1] == pytest.approx(np.log(3), abs=1e-3)
    assert "almost every ReLU of a layer is dead" in e.message.get_text()
    e.apply_preset("ELU units revive")
    elu = np.array([line.get_ydata() for line in e.dead_lines])
    assert elu[:, -1].max() < 0.1 and e.loss_line.get_ydata()[-1] < 0.7


def test_runs_are_cached_per_setting():
    e = widgets.dead_relu_explorer(**FAST)
    first = e.training
    e.controls["seed"].value = 3
    assert e.training is not first
    e.controls["seed"].value = 0
    assert e.training is first


@pytest.mark.parametrize("setting", [{"learning_rate": 5.0}, {"weight_scale": 10.0, "learning_rate": 5.0}])
def test_extreme_values_give_a_message_and_no_warning(setting):
    e = widgets.dead_relu_explorer(**FAST)
    set_and_draw(e, setting)
    assert e.message.get_text() != ""
    assert "error" not in e.message.get_text() and "warning" not in e.message.get_text()
    assert e.output.outputs == ()


def test_divergence_is_a_message_on_the_plot(monkeypatch):
    from course import data
    X, y = data.spiral()
    e = widgets.dead_relu_explorer(**FAST)
    monkeypatch.setattr(data, "spiral", lambda: (X * 1e306, y))  # inputs that overflow the first layer
    e.controls["weight_scale"].value = 10.0
    assert e.message.get_text() == "loss diverged at step 0: lower the learning rate or the weight scale"
    assert e.output.outputs == ()


def test_student_stub_falls_back_to_the_reference_and_says_so(stub_relu):
    e = widgets.dead_relu_explorer(relu=stub_relu, **FAST)
    assert e.note.get_text() == "your relu: using the reference relu -- yours is not implemented yet"
    assert e.training.done and len(e.loss_line.get_xdata()) == 60


def test_wrong_student_relu_falls_back_with_its_check_message(wrong_relu):
    e = widgets.dead_relu_explorer(relu=wrong_relu, **FAST)
    assert e.note.get_text().startswith("your relu: using the reference relu -- yours fails its check:")


def test_correct_student_relu_trains_the_network(student_relu):
    calls = []
    forward, backward = student_relu

    def relu_forward(x):
        calls.append(x.shape)
        return forward(x)

    e = widgets.dead_relu_explorer(relu=(relu_forward, backward), **FAST)
    assert e.controls["activation"].value == "your relu" and e.note.get_text() == ""
    assert tuple(f.student for f in e.training.model.activation_functions) == (relu_forward, backward)
    assert (300, 30) in calls


def test_a_student_relu_failing_while_training_is_replaced_not_blamed_on_the_learning_rate(student_relu):
    forward, backward = student_relu
    state = {"fail": False}

    def relu_backward(dout, cache):
        return backward(dout, cache) * (np.nan if state["fail"] else 1)

    e = widgets.dead_relu_explorer(relu=(forward, relu_backward), **FAST)
    state["fail"] = True
    e.controls["seed"].value = 5
    assert "your relu: using the reference relu -- yours failed while running: relu_backward returned NaN" \
           in flat(e.note.get_text())
    assert "diverged" not in e.message.get_text() and e.output.outputs == ()
    assert e.training.done and np.all(np.isfinite(e.loss_line.get_ydata()))


def test_stepper_runs_to_the_end_without_an_event_loop():
    slices, count = [], [0]

    def step():
        count[0] += 1
        return count[0] == 50

    Stepper(lambda job: slices.append(count[0]), budget=0.0).start(step)
    assert count[0] == 50 and slices[-1] == 50 and len(slices) == 50


def test_stepper_yields_to_a_running_event_loop_and_abandons_old_jobs():
    async def scenario():
        slices = []
        stepper = Stepper(lambda job: slices.append(job), budget=0.0)
        done = {"old": 0, "new": 0}

        def job(name, n):
            def step():
                done[name] += 1
                return done[name] == n
            return step

        stepper.start(job("old", 100), "old")
        assert done["old"] == 1  # one slice, then back to the loop
        stepper.start(job("new", 3), "new")
        for _ in range(50):
            await asyncio.sleep(0.01)
            if done["new"] == 3:
                break

        return done, slices

    done, slices = asyncio.run(scenario())
    assert done == {"old": 1, "new": 3}
    assert slices == ["old", "new", "new", "new"]  # each slice draws its own job


def test_a_blitted_frame_equals_a_full_draw():
    e = widgets.dead_relu_explorer(**FAST)
    e.controls["seed"].value = 1
    e.fig.canvas.draw()
    e.controls["seed"].value = 0
    e.controls["seed"].value = 1  # a cached run: the same limits, only the lines change
    assert not e.needs_full_draw
    blitted = np.asarray(e.fig.canvas.buffer_rgba()).copy()
    e.fig.canvas.draw()
    np.testing.assert_array_equal(blitted, np.asarray(e.fig.canvas.buffer_rgba()))
