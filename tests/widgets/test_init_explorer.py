import warnings

import numpy as np
import pytest

import widgets
from course import init as reference
from readout import flat, readout_text
from widgets.initialization import MAX_DEPTH, student_kind


def last_std(e):
    return e.activation_line.get_ydata()[-1]


def shown_rows(e):
    """The heat map's rows that hold a layer's histogram (the others are NaN)."""
    data = np.asarray(e.heatmap.get_array())
    return data[~np.isnan(data).all(axis=1)]


def test_builds_with_the_reference_initializations_and_a_healthy_default():
    e = widgets.init_explorer()
    assert list(e.controls["init"].options) == ["zeros", "constant", "small random", "Xavier", "He"]
    assert list(e.controls["activation"].options) == ["tanh", "relu", "sigmoid"]
    assert e.controls["depth"].max >= 20
    assert e.note.get_text() == "" and e.message.get_text() == ""
    assert e.controls["weight_scale"].disabled  # Xavier has no scale


def test_small_random_collapses_tanh_and_a_large_scale_saturates_it():
    e = widgets.init_explorer()
    e.apply_preset("tanh, 0.01 randn: activations collapse")
    assert not e.controls["weight_scale"].disabled
    std = e.activation_line.get_ydata()
    assert std[-1] < 1e-9 and np.all(np.diff(std) < 0)  # 0.01 * sqrt(100) = 0.1 per layer
    assert e.gradient_line.get_ydata()[0] < 1e-8
    assert "activations collapse towards 0" in e.message.get_text()
    centre = shown_rows(e)[-1]
    assert centre[len(centre) // 2] == 1.0  # the whole last layer sits in the bin around 0

    e.apply_preset("tanh, 1.0 randn: saturation")
    assert "most units are saturated" in e.message.get_text()
    assert "little gradient passes" not in e.message.get_text()  # the gradient grows on its way back
    assert "gradients explode on the way back" in e.message.get_text()
    last = shown_rows(e)[-1]
    assert last[0] + last[-1] > 0.6  # the last layer piles up at -1 and +1
    assert float(flat(readout_text(e)).split("saturated (|f'| < 0.01) ")[1].split("%")[0]) > 50


def test_xavier_keeps_tanh_healthy_and_he_keeps_relu():
    e = widgets.init_explorer()
    e.apply_preset("tanh, Xavier: healthy")
    assert 0.1 < last_std(e) < 1 and e.message.get_text() == ""
    e.apply_preset("ReLU, Xavier: the variance halves per layer")
    std = e.activation_line.get_ydata()
    assert 0.6 < (std[-1] / std[0]) ** (1 / 9) < 0.8  # about 1/sqrt(2) per layer
    e.apply_preset("ReLU, He: the variance is kept")
    std = e.activation_line.get_ydata()
    assert 0.85 < (std[-1] / std[0]) ** (1 / 9) < 1.15
    assert "dead: 0 on every example" in readout_text(e)


@pytest.mark.parametrize("init", ["zeros", "constant"])
def test_equal_weights_keep_every_unit_of_a_layer_identical(init):
    e = widgets.init_explorer(activation="tanh", init=init, weight_scale=0.01)
    units = np.asarray(e.units_image.get_array())
    assert np.all(units == units[:1])  # every row (unit) the same
    assert "distinct units 1 of 100" in flat(readout_text(e))
    assert "all units of each layer are identical" in e.message.get_text()
    e.controls["init"].value = "Xavier"
    assert "distinct units 100 of 100" in flat(readout_text(e)) and e.message.get_text() == ""


def test_zeros_with_relu_count_one_distinct_unit_all_dead():
    e = widgets.init_explorer(activation="relu", init="zeros")
    text = flat(readout_text(e))
    assert "distinct units 1 of 100: all identical, all dead" in text and "inactive (f' = 0) 100%" in text
    assert "all units of each layer are identical" in e.message.get_text()


def test_constant_weights_give_identical_but_nonzero_units():
    e = widgets.init_explorer(activation="tanh", init="constant", weight_scale=0.01)
    units = np.asarray(e.units_image.get_array())
    assert np.abs(units).max() > 0.01 and len(np.unique(units[0])) > 10  # each example differs, each unit agrees


def test_the_scale_slider_works_only_where_it_is_used():
    e = widgets.init_explorer(init="small random", weight_scale=0.1)
    assert "weights std 0.1" in readout_text(e)
    for init in ("Xavier", "He", "zeros"):
        e.controls["init"].value = init
        assert e.controls["weight_scale"].disabled
    e.controls["init"].value = "constant"
    assert not e.controls["weight_scale"].disabled


def test_depth_and_width_change_what_is_drawn():
    e = widgets.init_explorer()
    e.controls["depth"].value = 4
    assert len(e.activation_line.get_xdata()) == 4 and shown_rows(e).shape[0] == 4
    e.controls["depth"].value = MAX_DEPTH
    assert len(e.gradient_line.get_xdata()) == MAX_DEPTH
    e.controls["width"].value = 50
    assert f"weights std {1 / np.sqrt(50):.3g}" in readout_text(e)
    e.controls["width"].value = 10
    assert np.isnan(np.asarray(e.units_image.get_array(), dtype=float)).any()  # 10 units shown of 16 rows


def test_the_activation_sets_the_value_axis():
    e = widgets.init_explorer()
    assert e.heatmap.axes.get_xlim() == (-1.0, 1.0)
    e.controls["activation"].value = "sigmoid"
    assert e.heatmap.axes.get_xlim() == (0.0, 1.0)
    e.controls["activation"].value = "relu"
    assert e.heatmap.axes.get_xlim()[0] == 0.0


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_extreme_values_give_a_message_not_an_error(activation):
    e = widgets.init_explorer(activation=activation, init="small random")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e.controls["width"].value = 200
        e.controls["depth"].value = MAX_DEPTH
        e.controls["weight_scale"].value = 10
        e.fig.canvas.draw()
        assert e.message.get_text() != "" and "error" not in e.message.get_text()
        e.controls["weight_scale"].value = 0.001
        e.fig.canvas.draw()
    assert "collapse" in e.message.get_text() or activation == "sigmoid"
    assert e.output.outputs == ()
    assert np.all(np.isfinite(e.activation_line.get_ydata())) and np.all(np.isfinite(e.gradient_line.get_ydata()))


def test_relu_explodes_with_a_large_scale():
    e = widgets.init_explorer(activation="relu", init="small random", weight_scale=1.0, depth=MAX_DEPTH)
    assert "activations explode" in e.message.get_text()
    assert e.activation_line.get_ydata()[-1] == pytest.approx(e.activation_line.axes.get_ylim()[1])  # at the edge


# --- students' initializers --------------------------------------------------------------------------------------

def xavier(shape, rng=None):
    return reference.xavier(shape, rng)


def he(shape, rng=None):
    return reference.he(shape, rng)


def small_random(shape, scale=0.01, rng=None):
    return reference.small_random(shape, scale, rng)


def stub(shape, rng=None):
    raise NotImplementedError


def xavier_rand(shape, rng=None):
    return np.random.default_rng(rng).random(shape) / np.sqrt(shape[0])


def test_students_initializers_are_used_when_they_pass_their_checks():
    e = widgets.init_explorer(initializers={"my xavier": xavier, "my he": he, "my small random": small_random})
    assert e.controls["init"].value == "my xavier" and e.note.get_text() == ""
    xavier_std = last_std(e)
    e.controls["init"].value = "Xavier"
    assert last_std(e) == pytest.approx(xavier_std, rel=0.2)  # other draws, the same spread
    e.controls["init"].value = "my small random"
    assert not e.controls["weight_scale"].disabled
    e.controls["weight_scale"].value = 0.5
    assert "weights std 0.499" in readout_text(e)  # measured on the student's draws


def test_a_stub_falls_back_to_the_reference_and_says_so():
    stub.__name__ = "xavier"
    e = widgets.init_explorer(initializers={"my xavier": stub})
    assert "my xavier: using the reference xavier -- yours is not implemented yet" in flat(e.note.get_text())
    assert 0.1 < last_std(e) < 1
    e.controls["init"].value = "He"
    assert e.note.get_text() == ""


def test_a_wrong_initializer_falls_back_with_its_check_message():
    xavier_rand.__name__ = "xavier"
    e = widgets.init_explorer(initializers={"my xavier": xavier_rand})
    note = flat(e.note.get_text())
    assert note.startswith("my xavier: using the reference xavier -- yours fails its check:")
    assert "np.random.rand" in note


def test_an_initializer_failing_while_it_runs_falls_back():
    def he(shape, rng=None):
        if shape[0] == 50:
            raise ValueError("not for 50")
        return reference.he(shape, rng)

    e = widgets.init_explorer(initializers={"my he": he})
    e.controls["width"].value = 50
    assert "my he: using the reference he -- yours failed while running: he raised ValueError: not for 50" in \
        flat(e.note.get_text())
    assert e.output.outputs == () and e.activation_line.get_ydata().size == 10


def test_initializers_are_recognized_by_name_or_label():
    def my_init(shape, rng=None):
        return reference.he(shape, rng)

    assert student_kind("my he", my_init) == "he"
    assert student_kind("anything", xavier) == "xavier"
    assert student_kind("my small random", my_init) == "small_random"
    with pytest.raises(ValueError, match="name the function"):
        widgets.init_explorer(initializers={"mine": my_init})
    with pytest.raises(ValueError, match="names a reference initialization"):
        widgets.init_explorer(initializers={"Xavier": xavier})
