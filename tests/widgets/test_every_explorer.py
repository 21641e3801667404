"""What DESIGN asks of every explorer, checked on each one the ``widgets`` package exports: it is built by a
factory that works with no arguments, every control changes something visible, every preset applies and shows
something new, a blitted frame equals a full draw, and nothing warns or errs on the way."""
from __future__ import annotations

import warnings

import ipywidgets as W
import numpy as np
import pytest

import widgets
from widgets.explorer import Explorer, RecentRuns

FACTORIES = sorted(name for name in widgets.__all__ if name.endswith("_explorer")
                   or name in ("optimizer_race", "training_dashboard"))
FAST_OPTIONS = {"batchnorm_explorer": dict(steps=40), "dead_relu_explorer": dict(steps=40, hidden=(20, 20)),
                "regularization_explorer": dict(epochs=100), "training_dashboard": dict(epochs=4)}


def build(name: str) -> Explorer:
    return getattr(widgets, name)(**FAST_OPTIONS.get(name, {}))


def view(explorer: Explorer) -> tuple:
    """Everything a viewer sees: the rendered pixels, the readout, the note and the message."""
    explorer.fig.canvas.draw()
    pixels = np.asarray(explorer.fig.canvas.buffer_rgba()).copy()
    return pixels, explorer.readout.value, explorer.note.get_text(), explorer.message.get_text()


def same_view(a: tuple, b: tuple) -> bool:
    return np.array_equal(a[0], b[0]) and a[1:] == b[1:]


def other_values(control: W.Widget) -> list:
    """Valid values of ``control`` other than the current one: every other option, or a few slider positions."""
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.SelectionSlider)):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return [o for o in options if o != control.value]
    return [another_value(control)]


def another_value(control: W.Widget):
    """A different valid value for ``control``, away from the current one."""
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.SelectionSlider)):
        return other_values(control)[0]
    if isinstance(control, W.FloatLogSlider):
        low, high = control.base ** control.min, control.base ** control.max
        return low * (high / low) ** (0.2 if control.value > (low * high) ** 0.5 else 0.8)
    if isinstance(control, (W.FloatSlider, W.IntSlider)):
        target = control.min + 0.2 * (control.max - control.min) if control.value > (control.min + control.max) / 2 \
            else control.min + 0.8 * (control.max - control.min)
        return type(control.value)(round(target) if isinstance(control, W.IntSlider) else target)
    if isinstance(control, (W.Checkbox, W.ToggleButton)):
        return not control.value
    if isinstance(control, W.SelectMultiple):
        return tuple(control.options[:1]) if control.value != tuple(control.options[:1]) else tuple(control.options)
    raise TypeError(f"no test value for {type(control).__name__}")


def test_the_package_exports_explorers():
    assert "saturation_explorer" in FACTORIES and "dead_relu_explorer" in FACTORIES


@pytest.mark.parametrize("name", FACTORIES)
def test_builds_with_no_arguments_and_displays_a_box(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = build(name)
    assert isinstance(e, Explorer) and e.controls and e.sliders is e.controls
    assert e.output.outputs == () and not e.message.get_text().startswith("error")
    assert isinstance(e.box, W.VBox)


@pytest.mark.parametrize("name", FACTORIES)
def test_every_control_changes_something_visible(name):
    """Each control, in turn, is moved to its other values until the view changes (one setting may coincide:
    Xavier's spread equals a fixed scale of 0.1 at fan-in 100)."""
    e = build(name)
    for control_name, control in e.controls.items():
        if getattr(control, "disabled", False):
            continue
        before, changed = view(e), False
        for value in other_values(control):
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                control.value = value
            assert e.output.outputs == (), f"{name}: moving {control_name!r} raised:\n{e.output.outputs}"
            if not same_view(before, view(e)):
                changed = True
                break
        assert changed, f"{name}: moving {control_name!r} changed nothing visible"


@pytest.mark.parametrize("name", FACTORIES)
def test_presets_apply_and_each_shows_something_new(name):
    e = build(name)
    assert len(e.presets) >= 2, f"{name} offers no presets"
    for preset, values in e.presets.items():
        assert set(values) <= set(e.controls), f"{name}: preset {preset!r} names unknown controls"
        e.apply_preset(preset)
        assert all(e.controls[k].value == pytest.approx(v) if isinstance(v, float) else e.controls[k].value == v
                   for k, v in values.items()), preset
        assert e.output.outputs == () and not e.message.get_text().startswith("error"), preset
    first, last = list(e.presets)[0], list(e.presets)[-1]
    e.apply_preset(first)
    shown = view(e)
    e.apply_preset(last)
    assert not same_view(shown, view(e))
    with pytest.raises(ValueError, match="unknown preset"):
        e.apply_preset("no such preset")


@pytest.mark.parametrize("name", FACTORIES)
def test_a_blitted_frame_equals_a_full_draw(name):
    e = build(name)
    e.fig.canvas.draw()
    control_name, control = next((k, c) for k, c in e.controls.items() if isinstance(c, W.FloatLogSlider)
                                 or isinstance(c, (W.FloatSlider, W.IntSlider)))
    control.value = another_value(control)
    if e.needs_full_draw:  # the first move may change limits: then the second one blits
        e.fig.canvas.draw()
        control.value = another_value(control)
    if e.needs_full_draw:
        pytest.skip(f"{name}: {control_name} changes the static layer every time")
    blitted = np.asarray(e.fig.canvas.buffer_rgba()).copy()
    e.fig.canvas.draw()
    np.testing.assert_array_equal(blitted, np.asarray(e.fig.canvas.buffer_rgba()))


@pytest.mark.parametrize("name", FACTORIES)
def test_scale_enlarges_the_figure(name):
    factory = getattr(widgets, name)
    normal = factory(**FAST_OPTIONS.get(name, {}))
    large = factory(scale=1.5, **FAST_OPTIONS.get(name, {}))
    assert large.fig.dpi == pytest.approx(1.5 * normal.fig.dpi)


@pytest.mark.parametrize("name", FACTORIES)
def test_the_dark_theme_darkens_the_figure_and_keeps_the_text_readable(name):
    from matplotlib.colors import to_rgb
    e = getattr(widgets, name)(theme="dark", **FAST_OPTIONS.get(name, {}))
    background = np.mean(to_rgb(e.fig.get_facecolor()))
    assert e.theme == "dark" and background < 0.2
    e.show_message("a message")
    for text in [e.message, e.note, *(t for ax in e.fig.axes for t in (ax.title, ax.xaxis.label, ax.yaxis.label))]:
        assert abs(np.mean(to_rgb(text.get_color())) - background) > 0.4, f"{name}: {text.get_text()!r} is unreadable"
    with pytest.raises(ValueError, match="theme must be one of"):
        getattr(widgets, name)(theme="sepia")


def on_grid(control: W.Widget, value) -> bool:
    """Whether a slider can hold ``value`` exactly: the browser snaps a slider to its steps and sends the snapped
    value back, so a preset off the grid would not stay what the lecturer chose."""
    if isinstance(control, W.FloatLogSlider):
        position = np.log(value) / np.log(control.base)
    elif isinstance(control, (W.FloatSlider, W.IntSlider)):
        position = value
    elif isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.SelectionSlider, W.SelectMultiple)):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return all(v in options for v in value) if isinstance(control, W.SelectMultiple) else value in options
    else:
        return True
    steps = (position - control.min) / control.step
    return control.min - 1e-9 <= position <= control.max + 1e-9 and abs(steps - round(steps)) < 1e-6


@pytest.mark.parametrize("name", FACTORIES)
def test_every_preset_value_lies_on_its_controls_grid(name):
    e = build(name)
    for preset, values in e.presets.items():
        for control, value in values.items():
            assert on_grid(e.controls[control], value), (
                f"{name}: preset {preset!r} sets {control} = {value!r}, which its control cannot hold exactly "
                f"(the browser would snap it)")


def test_recent_runs_keep_the_most_recently_used():
    runs, made = RecentRuns(2), []

    def make(value):
        made.append(value)
        return value

    assert runs.fetch("a", lambda: make(1)) == 1 and runs.fetch("b", lambda: make(2)) == 2
    assert runs.fetch("a", lambda: make(99)) == 1  # kept: not made again, and now the most recent
    runs.keep("c", 3)  # drops "b", the least recently used
    assert list(runs) == ["a", "c"] and made == [1, 2]
    assert runs.fetch("b", lambda: make(4)) == 4 and list(runs) == ["c", "b"]
