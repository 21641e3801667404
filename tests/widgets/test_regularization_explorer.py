"""The regularization explorer in process: what each control shows, the presets, the student's penalties and
dropout (used when right, replaced by the reference with a note when not), extreme values without warnings."""
import re
import warnings

import numpy as np
import pytest

import widgets
from course import layers, losses
from driving import set_and_draw
from readout import flat, readout_text

FAST = dict(epochs=200)


def final(line):
    return line.get_ydata()[-1]


def test_builds_and_shows_a_finished_run_that_overfits():
    e = widgets.regularization_explorer(**FAST)
    assert set(e.controls) == {"strength", "penalty", "keep", "points", "label_noise", "epochs"}
    assert e.training.done and e.progress.value == e.progress.max == 200
    assert len(e.train_curve.get_xdata()) == 200 and np.all(np.isfinite(e.val_curve.get_ydata()))
    assert e.controls["penalty"].disabled  # no penalty: its kind changes nothing
    assert e.note.get_text() == ""
    assert e.train_points.get_offsets().shape == (60, 2) and e.wrong_points.get_offsets().shape == (12, 2)
    text = readout_text(e)
    assert "epoch 200 of 200" in text and "lowest validation loss" in text
    assert final(e.val_curve) > 2 * final(e.train_curve)
    assert e.boundary.get_array().shape == (60, 80)


def test_l2_smooths_the_boundary_and_shrinks_the_weights():
    e = widgets.regularization_explorer(**FAST)
    plain_val, plain_train = final(e.val_curve), final(e.train_curve)
    plain_weights = e.weight_hist.fractions
    e.apply_preset("L2 smooths the boundary")
    assert not e.controls["penalty"].disabled
    assert final(e.val_curve) < plain_val and final(e.train_curve) > plain_train
    centres = np.sqrt(e.weight_hist.edges[:-1] * e.weight_hist.edges[1:])
    assert e.weight_hist.fractions @ np.log(centres) < plain_weights @ np.log(centres)  # smaller weights


def test_l1_piles_the_weights_near_zero():
    e = widgets.regularization_explorer(**FAST)
    e.apply_preset("L1 zeroes weights")
    assert e.controls["penalty"].value == "L1"
    near_zero = e.weight_hist.fractions[e.weight_hist.edges[1:] <= 1e-3].sum()
    assert near_zero > 0.5 and "|w| < 0.001" in readout_text(e)


def test_too_strong_a_penalty_collapses_with_a_message():
    e = widgets.regularization_explorer(**FAST)
    e.apply_preset("too strong: L2 = 0.1 collapses")
    assert e.message.get_text().startswith("collapsed") and "|w| < 0.001: 100%" in readout_text(e)
    assert e.best_line.get_xdata()[0] < 10  # the validation loss was lowest in the first epochs


def test_a_penalty_too_strong_to_fit_but_short_of_collapse_says_underfitting():
    e = widgets.regularization_explorer(strength=0.03, label_noise=0.4, **FAST)
    assert e.message.get_text().startswith("underfitting")
    assert max(np.abs(w).max() for w in e.training.stack.weights) > 1e-3


def test_the_overfitting_verdict_and_the_early_stopping_line():
    e = widgets.regularization_explorer(**FAST)
    assert re.search(r"overfitting: \d+% of the training points right, \d+% of new ones", readout_text(e))
    assert e.message.get_text() == ""
    best = e.best_line.get_xdata()[0]
    assert e.val_curve.get_ydata()[int(best) - 1] == pytest.approx(e.val_curve.get_ydata().min())


def test_runs_are_cached_per_setting():
    e = widgets.regularization_explorer(**FAST)
    first = e.training
    e.controls["keep"].value = 0.7
    assert e.training is not first
    e.controls["keep"].value = 1.0
    assert e.training is first


@pytest.mark.parametrize("setting", [dict(strength=1.0), dict(keep=0.2, points=20, label_noise=0.4),
                                     dict(points=300, epochs=100)])
def test_extreme_values_give_no_warning_and_no_error(setting):
    e = widgets.regularization_explorer(**FAST)
    set_and_draw(e, setting)
    assert e.output.outputs == () and "error" not in e.message.get_text()


def stub(*args):
    raise NotImplementedError


def test_stubs_fall_back_to_the_reference_and_say_so():
    stub.__name__ = "l2_penalty"
    e = widgets.regularization_explorer(l2_penalty=stub, dropout=(stub, stub), **FAST)
    note = flat(e.note.get_text())
    assert "L2: using the reference l2_penalty -- yours is not implemented yet" in note
    assert "dropout: using the reference dropout_forward/backward -- yours is not implemented yet" in note
    e.controls["strength"].value = 0.01
    e.controls["keep"].value = 0.5
    assert e.training.done and e.training.reg.penalty is losses.l2_penalty
    assert e.training.reg.dropout == (layers.dropout_forward, layers.dropout_backward)


def test_a_wrong_student_penalty_is_named_in_the_note():
    def l2_penalty(w, reg):
        return reg * float(np.sum(w * w)), reg * w  # no 1/2

    e = widgets.regularization_explorer(l2_penalty=l2_penalty, strength=0.01, **FAST)
    assert "L2: using the reference l2_penalty -- yours fails its check: L2 without the 1/2" in flat(e.note.get_text())


def test_correct_student_functions_drive_the_training():
    calls = {"l1": 0, "forward": 0, "backward": 0}

    def l1_penalty(w, reg):
        calls["l1"] += 1
        return losses.l1_penalty(w, reg)

    def dropout_forward(x, param):
        calls["forward"] += 1
        return layers.dropout_forward(x, param)

    def dropout_backward(dout, cache):
        calls["backward"] += 1
        return layers.dropout_backward(dout, cache)

    e = widgets.regularization_explorer(l1_penalty=l1_penalty, dropout=(dropout_forward, dropout_backward),
                                        strength=0.001, penalty="L1", keep=0.5, **FAST)
    assert e.note.get_text() == "" and e.training.done
    assert calls["l1"] >= 200 and calls["forward"] >= 200 and calls["backward"] >= 200
    assert e.training.reg.penalty.student is l1_penalty


def test_a_student_dropout_failing_while_training_is_replaced():
    state = {"fail": False}

    def dropout_forward(x, param):
        out, cache = layers.dropout_forward(x, param)
        return out * (np.nan if state["fail"] else 1), cache

    e = widgets.regularization_explorer(dropout=(dropout_forward, layers.dropout_backward), keep=0.5, **FAST)
    state["fail"] = True
    e.controls["points"].value = 80
    assert "dropout: using the reference dropout_forward/backward -- yours failed while running" \
           in flat(e.note.get_text())
    assert e.training.done and e.output.outputs == () and np.all(np.isfinite(e.val_curve.get_ydata()))


def test_a_blitted_frame_equals_a_full_draw():
    e = widgets.regularization_explorer(**FAST)
    e.controls["keep"].value = 0.7
    e.fig.canvas.draw()
    e.controls["keep"].value = 1.0
    e.controls["keep"].value = 0.7  # cached runs: the same limits, only the artists change
    assert not e.needs_full_draw
    blitted = np.asarray(e.fig.canvas.buffer_rgba()).copy()
    e.fig.canvas.draw()
    np.testing.assert_array_equal(blitted, np.asarray(e.fig.canvas.buffer_rgba()))
