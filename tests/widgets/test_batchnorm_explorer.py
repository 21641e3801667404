import warnings

import numpy as np
import pytest

import widgets
from course import layers
from driving import set_and_draw
from readout import flat, readout_text

FAST = dict(steps=40)


def final_accuracy(e, name):
    return e.accuracy_lines[name].get_ydata()[-1]


def student_pair():
    def batchnorm_forward(x, gamma, beta, bn_param):
        return layers.batchnorm_forward(x, gamma, beta, bn_param)

    def batchnorm_backward(dout, cache):
        return layers.batchnorm_backward(dout, cache)
    return batchnorm_forward, batchnorm_backward


def test_builds_and_shows_both_finished_runs():
    e = widgets.batchnorm_explorer(**FAST)
    assert set(e.controls) == {"show", "gain", "learning_rate", "batch_size", "momentum", "seed"}
    assert all(t.done for t in e.trainings.values()) and e.progress.value == 40
    for line in e.loss_lines.values():
        assert len(line.get_xdata()) == 40 and np.all(np.isfinite(line.get_ydata()))
    assert [len(line.get_xdata()) for line in e.accuracy_lines.values()] == [4, 4, 4]
    assert e.note.get_text() == ""
    assert e.message.get_text() == "without batch norm: no better than chance after 40 steps"
    assert "held-out accuracy after 40 steps: with batch norm" in readout_text(e)
    assert "before → after batch norm" in readout_text(e)


def test_batch_norm_learns_from_a_bad_initialization_and_the_plain_network_does_not():
    e = widgets.batchnorm_explorer(steps=150)  # the default: gain 0.1
    assert final_accuracy(e, "test mode") > 0.8 and final_accuracy(e, "without") < 0.2
    e.controls["show"].value = "without batch norm"
    plain = readout_text(e).split("without batch norm): ")[1].split(", ")
    assert float(plain[-1]) < 1e-2 * float(plain[0])  # the spread shrinks layer after layer


def test_show_switches_the_layers_panel_between_the_two_networks():
    e = widgets.batchnorm_explorer(**FAST)
    assert all(a.get_visible() for a in e.ridgeline.outline)
    with_bn = [a.get_data().values.copy() for a in e.ridgeline.filled]
    e.controls["show"].value = "without batch norm"
    assert not any(a.get_visible() for a in e.ridgeline.outline)
    assert any(not np.allclose(a.get_data().values, v) for a, v in zip(e.ridgeline.filled, with_bn))
    assert "(without batch norm)" in readout_text(e)


def test_after_batch_norm_every_layer_has_unit_spread_at_initialization():
    e = widgets.batchnorm_explorer(steps=1)
    spreads = readout_text(e).split("(before → after batch norm): ")[1].split(", ")
    before, after = np.array([[float(v) for v in s.split(" → ")] for s in spreads]).T
    assert max(before) < 0.2 and np.allclose(after, 1, atol=0.02)


def test_a_high_learning_rate_diverges_without_batch_norm_only():
    e = widgets.batchnorm_explorer(**FAST)
    e.apply_preset("He init, learning rate 1")
    assert "without batch norm: the loss diverged at step" in e.message.get_text()
    assert "with batch norm: the loss diverged" not in e.message.get_text()
    assert e.trainings["with"].diverged_at[0] == -1


def test_batches_of_two_cost_batch_norm_its_learning():
    e = widgets.batchnorm_explorer(steps=150)
    e.apply_preset("batches of 2")
    assert "batch size 2" in e.message.get_text()
    assert final_accuracy(e, "test mode") < 0.3 < final_accuracy(e, "without")
    after = e.trainings["with"].after[0][0]  # (2, H): at most two values per unit, gamma * (±1) + beta
    assert after.shape[0] == 2


def test_a_batch_of_one_trains_only_the_network_without_batch_norm():
    e = widgets.batchnorm_explorer(**FAST)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.controls["batch_size"].value = 1
    assert e.trainings["with"] is None and e.trainings["without"].done
    assert "batch size 1: batch norm cannot train on one example" in e.message.get_text()
    assert len(e.loss_lines["with"].get_xdata()) == 0 and len(e.accuracy_lines["test mode"].get_xdata()) == 0
    assert e.controls["momentum"].disabled
    e.controls["batch_size"].value = 2
    assert not e.controls["momentum"].disabled
    assert e.output.outputs == ()


def test_a_high_momentum_leaves_test_mode_with_stale_running_averages():
    e = widgets.batchnorm_explorer(steps=150)
    e.apply_preset("momentum 0.999: stale running averages")
    assert "still hold 86% of their starting values" in e.message.get_text()
    assert "the running averages still hold 86% of their starting values" in readout_text(e)
    assert final_accuracy(e, "test mode") < final_accuracy(e, "train mode") - 0.2


def test_runs_are_cached_per_setting_and_momentum_retrains_only_batch_norm():
    e = widgets.batchnorm_explorer(**FAST)
    first = dict(e.trainings)
    e.controls["momentum"].value = 0.5
    assert e.trainings["with"] is not first["with"] and e.trainings["without"] is first["without"]
    e.controls["momentum"].value = 0.9
    assert e.trainings["with"] is first["with"]


@pytest.mark.parametrize("setting", [{"learning_rate": 10.0}, {"gain": 30.0, "learning_rate": 10.0},
                                     {"gain": 0.01, "learning_rate": 0.001}])
def test_extreme_values_give_a_message_and_no_warning(setting):
    e = widgets.batchnorm_explorer(**FAST)
    set_and_draw(e, setting)
    assert "error" not in e.message.get_text() and "warning" not in e.message.get_text()
    assert e.output.outputs == ()
    assert "diverged" in e.message.get_text() or "no better than chance" in e.message.get_text()


def test_student_stub_falls_back_to_the_reference_and_says_so():
    def batchnorm_forward(x, gamma, beta, bn_param):
        raise NotImplementedError

    def batchnorm_backward(dout, cache):
        raise NotImplementedError

    e = widgets.batchnorm_explorer(batchnorm=(batchnorm_forward, batchnorm_backward), **FAST)
    assert e.note.get_text() == "your batchnorm: using the reference batchnorm -- yours is not implemented yet"
    assert e.trainings["with"].done and final_accuracy(e, "test mode") > 0.1


def test_wrong_student_batchnorm_falls_back_with_its_check_message():
    def batchnorm_forward(x, gamma, beta, bn_param):
        out, cache = layers.batchnorm_forward(x, gamma, beta, bn_param)
        if bn_param["mode"] == "train":
            out = gamma * (x - x.mean(axis=0)) / (x.std(axis=0) + bn_param.get("eps", 1e-5)) + beta
        return out, cache

    e = widgets.batchnorm_explorer(batchnorm=(batchnorm_forward, layers.batchnorm_backward), **FAST)
    assert flat(e.note.get_text()).startswith("your batchnorm: using the reference batchnorm -- yours fails its "
                                              "check: likely mistake: eps outside the square root")


def test_correct_student_batchnorm_trains_the_network():
    calls = []
    forward, backward = student_pair()

    def batchnorm_forward(x, gamma, beta, bn_param):
        calls.append(x.shape)
        return forward(x, gamma, beta, bn_param)

    e = widgets.batchnorm_explorer(batchnorm=(batchnorm_forward, backward), **FAST)
    assert e.note.get_text() == ""
    assert e.trainings["with"].bn[0].student is batchnorm_forward
    assert (32, 32) in calls  # a minibatch of 32 examples, 32 units of one replica


def test_a_student_batchnorm_failing_while_training_is_replaced():
    forward, backward = student_pair()
    state = {"fail": False}

    def batchnorm_backward(dout, cache):
        dx, dgamma, dbeta = backward(dout, cache)
        return dx * (np.nan if state["fail"] else 1), dgamma, dbeta

    e = widgets.batchnorm_explorer(batchnorm=(forward, batchnorm_backward), **FAST)
    state["fail"] = True
    e.controls["seed"].value = 5
    assert "your batchnorm: using the reference batchnorm -- yours failed while running: batchnorm_backward " \
           "returned NaN" in flat(e.note.get_text())
    assert "diverged" not in e.message.get_text() and e.output.outputs == ()
    assert e.trainings["with"].done and np.all(np.isfinite(e.loss_lines["with"].get_ydata()))
