"""Lecture mode in process: the options of a dashboard's address, preset buttons, predict-then-reveal, hidden
controls; and every exported explorer has presets and a lecture page."""
from __future__ import annotations

import html

import ipywidgets as W
import pytest

import widgets
from widgets.lecture import LecturePage, LectureView, explorer_presets, gallery, lecture_pages, parse_query

FACTORIES = sorted(name for name in widgets.__all__ if name.endswith("_explorer")
                   or name in ("optimizer_race", "training_dashboard"))


def test_every_exported_explorer_has_presets_and_a_lecture_page():
    shown = {name for _, names in lecture_pages().values() for name in names}
    missing = [name for name in FACTORIES if name not in shown]
    assert not missing, f"explorers without a lecture page (add them to a lecture/*.ipynb): {missing}"
    for name in FACTORIES:
        assert len(explorer_presets(name)) >= 2, f"{name} has no presets (a PRESETS dict in its module)"
    assert all(name in FACTORIES for name in shown), f"lecture pages show unknown explorers: {shown}"


def test_the_address_gives_the_options():
    options = parse_query("show=dead_relu_explorer,saturation_explorer&preset=a+b&hide=seed,%20weight_scale"
                          "&predict=1&theme=dark&scale=2&voila-extra=1")
    assert options.show == {"dead_relu_explorer", "saturation_explorer"} and options.preset == "a b"
    assert options.hide == ("seed", "weight_scale") and options.predict and options.theme == "dark"
    assert options.scale == 2.0
    default = parse_query("")
    assert default.show is None and default.preset is None and not default.predict and default.scale == 1.5
    for bad, match in [("theme=sepia", "theme must be one of"), ("scale=big", "scale must be a number"),
                       ("predict=maybe", "predict must be 1 or 0")]:
        with pytest.raises(ValueError, match=match):
            parse_query(bad)


def test_a_page_builds_its_explorers_at_the_addresses_settings():
    page = LecturePage("show=dead_relu_explorer&preset=a+negative+bias+kills+layer+2&hide=seed&theme=dark")
    assert page.show(widgets.saturation_explorer).value == ""  # not wanted on this address
    view = page.show(widgets.dead_relu_explorer, steps=30, hidden=(10, 10))
    e = view.explorer
    assert e.theme == "dark" and e.fig.dpi == 150 and e.controls["bias_init"].value == "-0.1"
    assert e.controls["seed"].layout.display == "none" and view.notice.value == ""


def test_a_mistyped_preset_or_control_is_said_on_the_page():
    page = LecturePage("show=saturation_explorer&preset=no+such&hide=nothing")
    notice = html.unescape(page.show(widgets.saturation_explorer).notice.value)
    assert "unknown preset 'no such'" in notice and "cannot hide ['nothing']" in notice


def test_preset_buttons_and_predict_then_reveal():
    view = LectureView(widgets.saturation_explorer(), predict=True)
    e = view.explorer
    assert list(view.preset_buttons) == list(e.presets) and not view.covered
    name = "saturated: weights 1 randn, fan-in 100"
    view.preset_buttons[name].click()
    assert e.controls["weight_scale"].value == 1.0
    assert view.covered and e.view.layout.visibility == "hidden" and e.readout.layout.visibility == "hidden"
    assert view.reveal_button.layout.display != "none"
    view.reveal_button.click()
    assert not view.covered and e.view.layout.visibility == "visible"
    view.predict_switch.value = False
    view.preset_buttons["healthy: weights 0.1 randn, fan-in 100"].click()
    assert not view.covered and e.controls["weight_scale"].value == 0.1


def test_hiding_an_unknown_control_is_refused():
    with pytest.raises(ValueError, match="cannot hide \\['nothing'\\]"):
        LectureView(widgets.saturation_explorer(), hide=("nothing",))


def test_the_gallery_links_every_preset():
    text = gallery().value
    for page, (title, names) in lecture_pages().items():
        assert f"<a href='{page}'>" in text
        for name in names:
            assert f"{page}?show={name}&preset=" in text
    assert isinstance(gallery(), W.HTML)
