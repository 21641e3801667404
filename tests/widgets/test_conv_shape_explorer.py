import html
import re
import warnings

import numpy as np
import pytest

import widgets
from course import conv as K
from readout import flat, readout_text
from widgets.conv_shape import VIEWS


def set_controls(e, **values):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with e.holding():
            for name, value in values.items():
                e.controls[name].value = value
    assert e.output.outputs == (), e.output.outputs


def table_text(e) -> str:
    """The readout with every tag as a space: table cells stay apart."""
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", e.readout.value)))


def shown_controls(e):
    return {name for name, control in e.controls.items() if not control.disabled}


# --- one layer ----------------------------------------------------------------------------------------------------

def test_builds_on_one_layer_with_only_its_controls():
    e = widgets.conv_shape_explorer()
    assert e.controls["view"].value == "one layer" and list(e.controls["view"].options) == list(VIEWS)
    assert shown_controls(e) == {"view", "W", "C", "F", "S", "P", "K", "position"}
    assert [box.layout.display for box in e._boxes.values()] == [None, "none", "none"]
    assert all(ax.get_visible() for ax in e.layer.axes) and not any(ax.get_visible() for ax in e.digits.axes)
    text = readout_text(e)
    assert "output 4×4×2 = 32 activations" in text and "(3·3·3 + 1)·2 = 56" in text
    assert e.layer.formula.get_text() == "(W − F + 2P)/S + 1 = (7 − 3 + 2·1)/2 + 1 = 4"
    assert e.message.get_text() == "" and e.note.get_text() == ""
    assert e.controls["position"].max == 15


def test_the_position_slider_walks_the_filter_row_by_row():
    e = widgets.conv_shape_explorer()
    cell = e.layer.input.cell
    set_controls(e, position=5)  # row 1, column 1 of the 4x4 output: stride 2 -> rows and columns 2-4
    x, y = e.layer.window.get_xy()
    assert (x, e.layer.window.get_width()) == pytest.approx((2 * cell, 3 * cell))
    assert "position 6 of 16: rows 2–4, columns 2–4 of the padded input → output (1, 1)" in readout_text(e)
    image = e.layer.output.image.get_array()
    assert image.shape == (4, 4, 4)
    done, now, todo = image[0, 0], image[1, 1], image[3, 3]
    assert not np.array_equal(done, todo) and not np.array_equal(now, done)
    assert e.layer.next_window.get_visible()
    set_controls(e, position=7)  # the end of a row: no next position on it
    assert not e.layer.next_window.get_visible()


def test_the_position_range_follows_the_layer_and_clamps():
    e = widgets.conv_shape_explorer()
    set_controls(e, position=15)
    set_controls(e, S=3)  # (7 - 3 + 2)/3 + 1 = 3: 9 positions
    assert e.controls["position"].max == 8 and e.controls["position"].value == 8
    assert "position 9 of 9" in readout_text(e)


def test_alexnet_first_layer_preset():
    e = widgets.conv_shape_explorer()
    e.apply_preset("AlexNet's first layer: 227x227x3, 96 11x11 filters, stride 4")
    text = readout_text(e)
    assert "output 55×55×96 = 290,400 activations" in text and "(11·11·3 + 1)·96 = 34,944" in text
    assert e.layer.formula.get_text().endswith("(227 − 11 + 2·0)/4 + 1 = 55")
    assert e.layer.input.image.get_array().shape == (227, 227, 4)
    assert len(e.layer.output.sheets.get_paths()) == 7  # 8 sheets drawn for a depth of 96: the front one and 7


@pytest.mark.parametrize("values, message, formula, verdict", [
    (dict(W=7, F=3, S=3, P=0), "the stride S = 3 does not divide W − F + 2P = 4: the last input column is never "
     "covered",
     "(7 − 3 + 2·0)/3 + 1 = 2.33", "✗ not whole: input lost"),
    (dict(W=224, F=11, S=4, P=0), "the stride S = 4 does not divide W − F + 2P = 213", "= 54.2",
     "✗ not whole: input lost"),
    (dict(W=3, F=15, S=1, P=0), "the filter (F = 15) is wider than the padded input (W + 2P = 3)", "= -11",
     "✗ fits nowhere"),
])
def test_an_invalid_layer_is_drawn_with_its_arithmetic_and_no_exception(values, message, formula, verdict):
    e = widgets.conv_shape_explorer()
    set_controls(e, **values)
    assert flat(e.message.get_text()).startswith(message)
    assert e.message.get_color() == e.text_colors[1]  # an error
    assert formula in e.layer.formula.get_text() and e.layer.formula.get_text().endswith(verdict)
    assert e.layer.overhang.get_visible()
    assert "not a valid layer" in readout_text(e)
    e.fig.canvas.draw()


def test_the_uncovered_cells_are_marked():
    e = widgets.conv_shape_explorer()
    set_controls(e, W=7, F=3, S=3, P=0)
    image = e.layer.input.image.get_array()
    assert image.shape == (9, 9, 4)  # room for the overhanging position
    red = image[0, 6]
    assert np.array_equal(image[6, 0], red) and not np.array_equal(image[0, 5], red)
    assert image[0, 7, 3] == 0  # beyond the input: transparent
    assert "a library that floors the formula would make 2×2 outputs and never see the red cells, the last " \
           "column and row of the input" in readout_text(e)


@pytest.mark.parametrize("values, size", [
    (dict(W=32, F=5, S=2, P=2), 16),  # lab 08's question 1
    (dict(W=56, F=3, S=2, P=1), 28),  # ResNet's 3x3, stride-2 downsampling
    (dict(W=224, F=11, S=4, P=2), 55),  # torchvision's AlexNet
])
def test_a_stride_that_leaves_only_padding_uncovered_is_a_warning_not_lost_input(values, size):
    e = widgets.conv_shape_explorer()
    set_controls(e, C=3, **values)
    W_, P = values["W"], values["P"]
    image = e.layer.input.image.get_array()
    n = W_ + 2 * P
    padding, unused, inputs = image[0, 0], image[0, n - 1], image[P:P + W_, P:P + W_].reshape(-1, 4)
    assert not np.array_equal(unused, padding)  # the uncovered padding column is marked
    assert np.array_equal(image[n - 1, 0], unused) and np.array_equal(image[n - 2, n - 1], unused)
    assert (inputs == image[P, P]).all()  # every input cell is covered: none marked as lost
    span = W_ - values["F"] + 2 * P
    assert flat(e.message.get_text()) == (f"the stride S = {values['S']} does not divide W − F + 2P = {span}: only "
                                          "zero padding is uncovered: no input lost")
    assert e.message.get_color() == e.text_colors[0]  # a warning, not an error
    assert e.layer.formula.get_text().endswith("✗ not whole, but no input lost")
    text = readout_text(e)
    assert f"no input is lost: the uncovered cells (faint red) are zero padding; a library that floors the " \
           f"formula makes {size}×{size} outputs that cover every input pixel (padding {P} before, {P - 1} " \
           "after)" in text
    assert "not a valid layer" not in text and f"output {size}×{size}×" in text
    assert e.layer.output.image.get_array()[0, 0].tolist() == e.layer.colors["out_now"].tolist()
    e.fig.canvas.draw()


def test_every_extreme_gives_a_picture_not_an_error():
    e = widgets.conv_shape_explorer()
    for values in (dict(W=1, F=1, S=8, P=0), dict(W=256, F=1, S=1, P=0, K=128, C=64), dict(W=1, F=15, P=8),
                   dict(W=256, F=15, S=8, P=8)):
        set_controls(e, **values)
        e.fig.canvas.draw()
        assert not e.message.get_text().startswith("error")


# --- a network ----------------------------------------------------------------------------------------------------

def test_the_network_view_tabulates_the_layers_with_totals():
    e = widgets.conv_shape_explorer(view="a network")
    assert shown_controls(e) == {"view", "net_W", "net_C", "pool1", "pool2", "pool3",
                                 *(f"conv{i}_{k}" for i in (1, 2, 3) for k in "FSPK")}
    text = table_text(e)
    for row in ("conv1 32×32×16 1,216 16,384 64 KiB 5×5", "pool3 4×4×20 0 320 1.25 KiB 36×36",
                "total 19,256 31,552 123 KiB"):
        assert row in text, text
    assert [t.get_text() for t in e.network.shapes] == ["32×32×3", "32×32×16", "16×16×16", "16×16×20", "8×8×20",
                                                        "8×8×20", "4×4×20"]
    side = e.network.fields[-1].get_width()
    assert side == pytest.approx(36 / 32)


def test_each_receptive_field_is_drawn_where_its_centre_unit_looks():
    e = widgets.conv_shape_explorer(view="a network")
    conv3 = e.network.fields[4]  # fields: conv1, pool1, conv2, pool2, conv3, pool3
    # a 32x32 field on a 32x32 image, yet its centre unit (row and column 3 of 8) sees rows -2 to 29: the square
    # overhangs the image's top left corner by two rows of padding and misses its last two rows
    assert conv3.get_width() == pytest.approx(1)
    assert conv3.get_xy() == pytest.approx((-2 / 32, 1 - 30 / 32))
    text = table_text(e)
    assert "conv3 8×8×20 10,020 1,280 5 KiB 32×32 −2 to 29" in text, text
    assert "those below 0 or above 31 being padding" in text


def test_every_network_control_changes_the_table():
    e = widgets.conv_shape_explorer(view="a network")
    for name in ("net_W", "net_C", *(f"conv{i}_{k}" for i in (1, 2, 3) for k in "FSPK"), "pool1", "pool2", "pool3"):
        before = readout_text(e)
        control = e.controls[name]
        options = getattr(control, "options", None)
        value = next(o for o in options if o != control.value) if options else \
            (control.value + 1 if control.value < control.max else control.value - 1)
        set_controls(e, **{name: value})
        assert readout_text(e) != before, name


def test_a_block_that_does_not_fit_stops_the_table_and_says_why():
    e = widgets.conv_shape_explorer(view="a network")
    set_controls(e, conv2_S=2, conv2_P=1)
    assert flat(e.message.get_text()) == ("conv2 does not fit: (16 − 5 + 2·1)/2 + 1 = 7.5; only zero padding is "
                                          "uncovered: no input lost")
    text = table_text(e)
    assert "stopped: conv2 (K = 20, F = 5, S = 2, P = 1) does not fit: (W − F + 2P)/S + 1" in text
    assert "not computed: pool2 (F = 2, S = 2), conv3 (K = 20, F = 5, S = 1, P = 2), pool3 (F = 2, S = 2)" in text
    assert [t.get_text() for t in e.network.shapes][3:] == ["✗", "?", "?", "?"]
    assert e.network.boxes[3].get_visible() and e.network.boxes[3].get_hatch() == "///"
    assert not e.network.boxes[4].get_visible()
    e.fig.canvas.draw()


def test_pools_switched_off_leave_their_slot_empty():
    e = widgets.conv_shape_explorer(view="a network")
    set_controls(e, pool1="none", pool2="none", pool3="none", conv1_F=3, conv2_F=3, conv3_F=3, conv1_P=1,
                 conv2_P=1, conv3_P=1)
    assert [t.get_text() for t in e.network.shapes][2::2] == ["no pool"] * 3
    assert "conv3 32×32×20 3,620 20,480 80 KiB 7×7" in table_text(e)


# --- trained on digits --------------------------------------------------------------------------------------------

def test_the_digits_view_shows_filters_and_maps_that_follow_the_controls():
    e = widgets.conv_shape_explorer(view="trained on digits")
    assert shown_controls(e) == {"view", "iterations", "digit", "stage"}
    filters = e.digits.filters.get_array().copy()
    assert filters.shape == (5, 8 * 6 - 1)
    assert "validation accuracy" in readout_text(e)
    set_controls(e, iterations=0)
    assert not np.allclose(e.digits.filters.get_array(), filters, equal_nan=True)
    assert "after 0 training iterations" in readout_text(e)
    set_controls(e, stage="pool")
    assert e.digits.maps.get_array().shape == (4, 8 * 5 - 1)
    set_controls(e, stage="conv")
    maps = e.digits.maps.get_array()
    assert maps.shape == (8, 8 * 9 - 1) and np.nanmin(maps) < 0 and np.nanmax(np.abs(maps)) == pytest.approx(1)
    before = e.digits.digit.get_array().copy()
    set_controls(e, digit=7)
    assert not np.array_equal(e.digits.digit.get_array(), before)
    probs = [bar.get_height() for bar in e.digits.bars]
    assert sum(probs) == pytest.approx(1)


def test_mosaic_puts_tiles_side_by_side_each_scaled_to_its_largest_value():
    from widgets.conv_shape import DigitsView
    tiles = np.stack([np.full((2, 2), 4.0), np.array([[1.0, -2.0], [0.5, 0.0]])])
    m = DigitsView.mosaic(tiles)
    assert m.shape == (2, 5) and np.isnan(m[:, 2]).all()
    np.testing.assert_allclose(m[:, :2], 1)
    np.testing.assert_allclose(m[:, 3:], [[0.5, -1], [0.25, 0]])


# --- students' functions ------------------------------------------------------------------------------------------

def test_student_stubs_fall_back_to_the_reference_and_say_so():
    def conv_output_size(W, F, S=1, P=0):
        raise NotImplementedError

    def conv_forward_naive(x, w, b, conv_param):
        raise NotImplementedError

    def max_pool_forward_naive(x, pool_param):
        raise NotImplementedError

    e = widgets.conv_shape_explorer(conv_output_size, conv_forward_naive, max_pool_forward_naive)
    assert flat(e.note.get_text()) == ("conv_output_size: using the reference conv_output_size -- yours is not "
                                      "implemented yet")
    set_controls(e, view="a network")
    assert e.note.get_text() == ""
    set_controls(e, view="trained on digits")
    assert flat(e.note.get_text()) == (
        "conv forward: using the reference conv_forward -- yours is not implemented yet max pool forward: using "
        "the reference max_pool_forward -- yours is not implemented yet")
    assert e.digits.maps.get_array().size > 1


def test_a_wrong_student_function_falls_back_with_its_check_message():
    def conv_output_size(W, F, S=1, P=0):
        return (W + F + 2 * P) // S + 1

    e = widgets.conv_shape_explorer(conv_output_size=conv_output_size)
    assert "yours fails its check: likely mistake: used + F instead of - F" in flat(e.note.get_text())
    assert "output 4×4×2" in readout_text(e)


def test_correct_student_functions_drive_the_explorer():
    calls = []

    def conv_output_size(W, F, S=1, P=0):
        calls.append("size")
        return K.conv_output_size(W, F, S, P)

    def conv_forward_naive(x, w, b, conv_param):
        calls.append("conv")
        return K.conv_forward_naive(x, w, b, conv_param)

    def max_pool_forward_naive(x, pool_param):
        calls.append("pool")
        return K.max_pool_forward_naive(x, pool_param)

    e = widgets.conv_shape_explorer(conv_output_size, conv_forward_naive, max_pool_forward_naive)
    assert e.note.get_text() == ""
    calls.clear()
    set_controls(e, W=9)
    assert calls == ["size"]
    set_controls(e, view="trained on digits", stage="pool")
    assert calls[1:] == ["conv", "pool"]
    reference = widgets.conv_shape_explorer(view="trained on digits")
    set_controls(reference, stage="pool")
    np.testing.assert_allclose(e.digits.maps.get_array(), reference.digits.maps.get_array())


def test_a_student_function_failing_while_running_is_replaced():
    state = {"fail": False}

    def conv_forward_naive(x, w, b, conv_param):
        if state["fail"]:
            raise IndexError("index 8 is out of bounds")
        return K.conv_forward_naive(x, w, b, conv_param)

    e = widgets.conv_shape_explorer(conv_forward=conv_forward_naive, view="trained on digits")
    state["fail"] = True
    set_controls(e, digit=3)
    assert ("conv forward: using the reference conv_forward -- yours failed while running: conv_forward_naive "
            "raised IndexError: index 8 is out of bounds") in flat(e.note.get_text())
    assert e.digits.maps.get_array().size > 1


def test_an_unknown_view_is_refused():
    with pytest.raises(ValueError, match="view must be one of"):
        widgets.conv_shape_explorer(view="all")
