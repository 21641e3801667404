import warnings

import numpy as np
import pytest

import widgets
from driving import set_and_draw
from readout import flat, readout_text

FAST = dict(epochs=4)


def test_builds_and_shows_a_finished_healthy_run():
    e = widgets.training_dashboard(**FAST)
    assert set(e.controls) == {"update_rule", "learning_rate", "reg", "batch_size", "init_scale", "train_size"}
    assert e.training.done and e.progress.value == e.progress.max == 44
    x, loss = e.loss_line.get_data()
    assert len(x) == 44 and x[-1] == pytest.approx(4) and np.all(np.isfinite(loss))
    assert len(e.train_line.get_xdata()) == len(e.val_line.get_xdata()) == 4
    assert [len(line.get_xdata()) for line in e.ratio_lines] == [44, 44]
    assert e.note.get_text() == "" and e.message.get_text().startswith("healthy: the loss falls")
    text = readout_text(e)
    assert "first loss 2.9 (ln 10 = 2.30)" in text and "W2" in text
    ratios = e.training.record().ratios
    first, last = np.median(ratios[:11, 0]), np.median(ratios[-11:, 0])
    assert f"update / weight (median of the first epoch → of the last): W1 {first:.1e} → {last:.1e}" in text
    early, late = np.median(ratios[:11]), np.median(ratios[-11:])  # both layers: the verdict's relative signal
    assert early > 3 * late and f"updates from {early:.0e} to {late:.0e} of the weights" in flat(e.message.get_text())


def test_the_weight_images_show_the_first_layer():
    e = widgets.training_dashboard(**FAST)
    image = np.asarray(e.weights_image.get_array())
    W1 = e.training.model.params["W1"]
    np.testing.assert_allclose(image[:8, :8], W1[:, 0].reshape(8, 8))
    np.testing.assert_allclose(image[9:17, 9:17], W1[:, 9].reshape(8, 8))
    assert np.isnan(image[8, 0]) and e.weights_image.get_clim() == pytest.approx((-np.abs(W1).max(),
                                                                                     np.abs(W1).max()))


@pytest.mark.parametrize("preset, verdict", [
    ("learning rate too low (1e-4)", "loss barely decreasing"),
    ("learning rate too high (SGD, 10)", "diverged at iteration"),
    ("sanity check: overfit 20 examples", "sanity check passed: 100% on 20 training examples"),
    ("too much regularization (1)", "regularization raises it, as it should"),
    ("initial weights 10x too large", "far above ln 10 = 2.30: initial weights too large"),
])
def test_presets_give_the_practitioners_verdict(preset, verdict):
    e = widgets.training_dashboard()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.apply_preset(preset)
    assert verdict in e.message.get_text() and e.output.outputs == ()


def test_the_ratio_follows_the_learning_rate():
    e = widgets.training_dashboard(update_rule="sgd", **FAST)
    e.controls["learning_rate"].value = 1e-3
    slow = np.median(e.ratio_lines[0].get_ydata()[:11])
    e.controls["learning_rate"].value = 1e-2
    fast = np.median(e.ratio_lines[0].get_ydata()[:11])
    assert fast / slow == pytest.approx(10, rel=0.1)


def test_fewer_examples_open_the_gap():
    e = widgets.training_dashboard(train_size=50)
    assert e.train_line.get_ydata()[-1] - e.val_line.get_ydata()[-1] > 0.15
    e.controls["train_size"].value = 1079
    assert e.train_line.get_ydata()[-1] - e.val_line.get_ydata()[-1] < 0.08


def test_runs_are_cached_per_setting():
    e = widgets.training_dashboard(**FAST)
    first = e.training
    e.controls["batch_size"].value = 50
    assert e.training is not first
    e.controls["batch_size"].value = 100
    assert e.training is first


@pytest.mark.parametrize("setting", [{"learning_rate": 10.0, "init_scale": 100.0}, {"reg": 1.0, "init_scale": 100.0},
                                     {"learning_rate": 1e-5, "init_scale": 0.01, "batch_size": 10}])
def test_extreme_values_give_a_message_and_no_warning(setting):
    e = widgets.training_dashboard(**FAST)
    set_and_draw(e, setting)
    assert e.message.get_text() != "" and "error" not in e.message.get_text()
    assert e.output.outputs == ()


def stub_ratio(w, update):
    raise NotImplementedError


def wrong_ratio(w, update):
    return np.linalg.norm(w) / np.linalg.norm(update)


def test_a_stub_ratio_falls_back_to_the_reference_and_says_so():
    e = widgets.training_dashboard(update_to_weight_ratio=stub_ratio, **FAST)
    assert flat(e.note.get_text()) == ("your update_to_weight_ratio: using the reference update_to_weight_ratio -- "
                                       "yours is not implemented yet")
    assert e.training.done and len(e.ratio_lines[0].get_xdata()) == 44


def test_a_wrong_ratio_falls_back_with_its_check_message():
    e = widgets.training_dashboard(update_to_weight_ratio=wrong_ratio, **FAST)
    assert "yours fails its check: likely mistake: inverted" in flat(e.note.get_text())


def test_a_correct_ratio_draws_the_panel():
    calls = []

    def update_to_weight_ratio(w, update):
        calls.append(w.shape)
        return float(np.linalg.norm(update) / np.linalg.norm(w))

    e = widgets.training_dashboard(update_to_weight_ratio=update_to_weight_ratio, **FAST)
    assert e.note.get_text() == "" and (64, 32) in calls and (32, 10) in calls
    assert e.training.ratio.student is update_to_weight_ratio


def test_a_ratio_failing_while_training_is_replaced_and_named():
    state = {"fail": False}

    def update_to_weight_ratio(w, update):
        if state["fail"]:
            raise ValueError("boom")
        return float(np.linalg.norm(update) / np.linalg.norm(w))

    e = widgets.training_dashboard(update_to_weight_ratio=update_to_weight_ratio, **FAST)
    state["fail"] = True
    e.controls["batch_size"].value = 50
    assert "yours failed while running: update_to_weight_ratio raised ValueError: boom" in flat(e.note.get_text())
    assert e.training.done and e.output.outputs == () and e.message.get_text().startswith("healthy")
