import warnings

import numpy as np
import pytest

import widgets
from readout import flat, readout_text
from widgets.explorer import StairsHistogram


def z_spread(explorer):
    """Standard deviation of the pre-activation histogram, read back from the stairs artist."""
    hist = explorer.z_density
    centres = (hist.edges[:-1] + hist.edges[1:]) / 2
    p = hist.fractions
    mean = np.sum(p * centres)
    return np.sqrt(np.sum(p * (centres - mean) ** 2))


def shown(explorer, label: str) -> float:
    """A percentage from the readout: shown(e, "zero gradient") -> 50.2."""
    return float(readout_text(explorer).split(f"{label}: ")[1].split("%")[0])


def saturated_shown(explorer):
    return shown(explorer, "saturated (|f'| < 0.01)")


def test_builds_with_the_reference_activations_and_no_note():
    e = widgets.saturation_explorer()
    assert list(e.controls["activation"].options) == ["sigmoid", "tanh", "relu", "leaky relu", "elu"]
    assert list(e.controls["init"].options) == ["fixed scale", "Xavier", "He"]
    assert e.note.get_text() == "" and e.message.get_text() == ""


def test_xavier_keeps_the_spread_at_one_whatever_the_fan_in_and_he_at_root_two():
    e = widgets.saturation_explorer(init="Xavier")
    assert e.controls["weight_scale"].disabled
    for fan_in in (4, 1000):
        e.controls["fan_in"].value = fan_in
        assert "std(z) = 1 " in readout_text(e) and f"weights std {1 / np.sqrt(fan_in):.3g}" in readout_text(e)
        assert z_spread(e) == pytest.approx(1.0, rel=0.05)
    e.controls["init"].value = "He"
    assert "std(z) = 1.41" in readout_text(e)
    e.controls["init"].value = "fixed scale"
    assert not e.controls["weight_scale"].disabled and "std(z) = 3.16" in readout_text(e)  # 0.1 * sqrt(1000)


def test_the_saturated_region_is_shaded_where_the_gradient_is_below_the_threshold():
    e = widgets.saturation_explorer(input_range=10)
    values, edges, _ = e.saturated_band.get_data()
    centres = (edges[:-1] + edges[1:]) / 2
    assert values[np.abs(centres) > 4.65].all() and not values[np.abs(centres) < 4.55].any()  # sigmoid' = 0.01 at 4.6
    assert "flat beyond |z| = 4.6" in readout_text(e)
    e.controls["activation"].value = "tanh"
    assert "flat beyond |z| = 3" in readout_text(e)  # tanh(z) = 2 sigmoid(2z) - 1 flattens twice as fast
    e.controls["activation"].value = "relu"
    values, edges, _ = e.saturated_band.get_data()
    assert values[edges[1:] <= 0].all() and not values[edges[:-1] >= 0].any()


def test_preactivation_histogram_widens_with_the_weight_scale():
    e = widgets.saturation_explorer(input_range=10)
    spreads = []
    for scale in (0.02, 0.05, 0.1):  # std(z) = 0.2, 0.5, 1 with fan-in 100
        e.controls["weight_scale"].value = scale
        spreads.append(z_spread(e))
    assert spreads[0] < spreads[1] < spreads[2]
    assert spreads[2] == pytest.approx(1.0, rel=0.05)


def test_preactivation_histogram_widens_with_the_fan_in():
    e = widgets.saturation_explorer(weight_scale=0.2, input_range=10)
    e.controls["fan_in"].value = 4  # std(z) = 0.4
    narrow = z_spread(e)
    e.controls["fan_in"].value = 100  # std(z) = 2
    assert z_spread(e) == pytest.approx(5 * narrow, rel=0.1)


def test_sigmoid_saturation_rises_with_the_weight_scale():
    e = widgets.saturation_explorer()
    shown = []
    for scale in (0.1, 0.5, 2.0):
        e.controls["weight_scale"].value = scale
        shown.append(saturated_shown(e))
    assert shown[0] < 1 < shown[1] < shown[2]
    # the gradient histogram moves its mass below the threshold
    below = e.grad_hist.edges[1:] <= 0.01
    assert e.grad_hist.fractions[below].sum() == pytest.approx(shown[2] / 100, abs=0.01)


def test_relu_blocks_half_of_the_gradients():
    e = widgets.saturation_explorer()
    e.controls["activation"].value = "relu"
    assert shown(e, "zero gradient") == pytest.approx(50, abs=1.5)
    assert e.grad_hist.fractions[0] == pytest.approx(0.5, abs=0.015)  # zeros sit in the first bin


def test_function_plot_follows_the_activation_and_the_range():
    e = widgets.saturation_explorer()
    e.controls["activation"].value = "tanh"
    e.controls["input_range"].value = 3
    x, y = e.curve.get_data()
    _, dy = e.gradient_curve.get_data()
    assert x.min() == -3 and x.max() == 3
    np.testing.assert_allclose(y, np.tanh(x))
    np.testing.assert_allclose(dy, 1 - np.tanh(x) ** 2)
    assert e.curve.axes.get_xlim() == (-3, 3)
    assert e.z_density.edges[0] == -3 and e.z_density.edges[-1] == 3


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "leaky relu", "elu"])
def test_extreme_values_give_a_message_not_an_error(activation):
    e = widgets.saturation_explorer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.controls["activation"].value = activation
        e.controls["fan_in"].value = 1000
        e.controls["weight_scale"].value = 100
        e.fig.canvas.draw()
    assert "beyond ±10" in e.message.get_text()
    assert "error" not in e.message.get_text() and "warning" not in e.message.get_text()
    assert e.output.outputs == ()
    assert np.all(np.isfinite(e.z_density.fractions)) and np.all(np.isfinite(e.curve.get_ydata()))
    e.controls["weight_scale"].value = 0.001
    e.controls["fan_in"].value = 1
    assert e.message.get_text() == ""


def test_sigmoid_at_a_huge_scale_says_that_no_gradient_flows():
    e = widgets.saturation_explorer(weight_scale=100)
    assert "saturated: almost no gradient flows back" in e.message.get_text()


def test_student_stub_falls_back_to_the_reference_and_says_so(stub_relu):
    e = widgets.saturation_explorer(activations={"my relu": stub_relu})
    assert e.controls["activation"].value == "my relu"
    assert "my relu: using the reference relu -- yours is not implemented yet" in e.note.get_text()
    np.testing.assert_allclose(e.curve.get_ydata(), np.maximum(e.curve.get_xdata(), 0))
    e.controls["activation"].value = "tanh"
    assert e.note.get_text() == ""


def test_wrong_student_function_falls_back_with_its_check_message(wrong_relu):
    e = widgets.saturation_explorer(activations={"my relu": wrong_relu})
    note = e.note.get_text()
    assert note.startswith("my relu: using the reference relu -- yours fails its check:")
    assert "gradient passed where x < 0" in note
    np.testing.assert_allclose(e.gradient_curve.get_ydata(), e.curve.get_xdata() > 0)


def test_correct_student_function_is_used_without_a_note(student_relu):
    calls = []
    forward, backward = student_relu

    def relu_forward(x):
        calls.append(x.size)
        return forward(x)

    e = widgets.saturation_explorer(activations={"my relu": (relu_forward, backward)})
    assert tuple(f.student for f in e.choices["my relu"].funcs) == (relu_forward, backward)
    assert e.note.get_text() == ""
    calls.clear()
    e.controls["weight_scale"].value = 1.0
    assert 20_000 in calls  # the student's forward ran on the pre-activations


def test_pairs_are_matched_by_label_when_the_names_say_nothing(stub_relu):
    forward, backward = stub_relu
    forward.__name__ = backward.__name__ = "f"
    try:
        e = widgets.saturation_explorer(activations={"my leaky relu": (forward, backward)})
    finally:
        forward.__name__, backward.__name__ = "relu_forward", "relu_backward"
    assert "using the reference leaky relu" in e.note.get_text()


def test_unknown_pair_is_gradient_checked(softsign):
    e = widgets.saturation_explorer(activations={"softsign": softsign})
    assert e.note.get_text() == ""
    x, y = e.curve.get_data()
    np.testing.assert_allclose(y, x / (1 + np.abs(x)))
    broken = (softsign[0], lambda dout, cache: dout)
    e = widgets.saturation_explorer(activations={"softsign": broken})
    assert "softsign: not shown -- yours fails its check: backward disagrees" in e.note.get_text()
    e.controls["activation"].value = "softsign"
    assert "softsign cannot be shown" in e.message.get_text()


def test_a_student_function_failing_while_running_is_replaced_and_named(softsign):
    e = widgets.saturation_explorer(activations={"softsign": softsign})
    e.controls["weight_scale"].value = 100  # softsign_forward raises beyond ±1000
    assert "softsign: not shown -- yours failed while running: softsign_forward raised ValueError: " \
           "softsign_forward was not written for inputs beyond ±1000" in flat(e.note.get_text())
    assert "softsign cannot be shown" in e.message.get_text()
    assert e.output.outputs == ()


def test_nan_from_a_student_backward_falls_back_to_the_reference_naming_the_function(student_relu):
    forward, backward = student_relu

    def relu_backward(dout, cache):  # passes its check (small arrays), breaks on the explorer's large ones
        dx = backward(dout, cache)
        return dx if dx.size < 1000 else dx * np.nan

    e = widgets.saturation_explorer(activations={"my relu": (forward, relu_backward)})
    assert "my relu: using the reference relu -- yours failed while running: relu_backward returned NaN or inf " \
           "for finite input" in flat(e.note.get_text())
    assert e.controls["activation"].value == "my relu"
    assert shown(e, "zero gradient") == pytest.approx(50, abs=1.5)  # the reference's numbers, not 0% from NaN
    assert np.all(np.isfinite(e.grad_hist.fractions))


def test_a_student_function_that_hangs_is_stopped_and_replaced(student_relu, monkeypatch):
    import widgets.explorer as explorer_module
    monkeypatch.setattr(explorer_module, "STUDENT_TIME_LIMIT", 0.5)
    forward, backward = student_relu

    def relu_forward(x):
        while x.size > 1000:  # fine on the check's inputs, never returns on the explorer's
            pass
        return forward(x)

    e = widgets.saturation_explorer(activations={"my relu": (relu_forward, backward)})
    assert "relu_forward did not finish within 0.5 s" in flat(e.note.get_text())
    assert "using the reference relu" in e.note.get_text()


def test_an_exception_inside_a_callback_is_shown_and_only_the_last_traceback_kept(monkeypatch):
    e = widgets.saturation_explorer()
    from widgets import saturation as module
    real = module.saturation
    monkeypatch.setattr(module, "saturation", lambda *a, **k: 1 / 0)
    for scale in (0.2, 0.3, 0.4):
        e.controls["weight_scale"].value = scale
    assert "error: ZeroDivisionError: division by zero" in e.message.get_text()
    assert len(e.output.outputs) == 1 and "Traceback" in e.output.outputs[0]["text"]
    monkeypatch.setattr(module, "saturation", real)
    e.controls["weight_scale"].value = 0.1  # recovers on the next event
    assert e.message.get_text() == ""


def test_a_pair_that_is_not_a_pair_is_refused():
    with pytest.raises(TypeError, match=r"\(forward, backward\) pair"):
        widgets.saturation_explorer(activations={"my relu": np.maximum})


def test_stairs_histogram_counts_values_beyond_the_edges_in_the_end_bins():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    hist = StairsHistogram(ax, [0, 1, 2])
    np.testing.assert_allclose(hist.update([-5, 0.5, 1.5, 9]), [0.5, 0.5])
    artist = hist.artist
    hist.update([0.5], edges=[0, 2, 4])
    assert hist.artist is artist and list(hist.fractions) == [1.0, 0.0]
    plt.close(fig)


def test_with_a_non_widget_backend_the_box_shows_a_png_kept_up_to_date():
    import ipywidgets as W
    e = widgets.saturation_explorer()
    image = e.box.children[2]
    assert isinstance(image, W.Image) and image.value[:4] == b"\x89PNG"
    first = image.value
    e.controls["weight_scale"].value = 5.0
    assert image.value[:4] == b"\x89PNG" and image.value != first


def test_a_limit_change_or_a_new_note_forces_a_full_draw(stub_relu):
    e = widgets.saturation_explorer(activations={"my relu": stub_relu})
    e.controls["activation"].value = "sigmoid"
    e.fig.canvas.draw()
    e.controls["input_range"].value = 5  # new x-limits: new ticks
    assert e.needs_full_draw
    e.fig.canvas.draw()
    e.controls["activation"].value = "my relu"  # the fallback note appears
    assert e.needs_full_draw and "using the reference relu" in e.note.get_text()
