"""Lecture mode: an explorer dressed for a room, and the dashboard pages that show them (served by Voila).

A :class:`LectureView` wraps an explorer with a row of buttons, one per preset (the moments a lecturer jumps to),
a "predict, then reveal" switch that hides the figure and the readout after a preset is applied until Reveal is
pressed (so the class commits to a prediction first), and hides the controls the lecturer does not want to show.

A :class:`LecturePage` builds every explorer of one dashboard with the options of the page's address, which Voila
passes to the kernel (``QUERY_STRING``), so a link in a slide can open a dashboard at a prepared state:

    /voila/render/01_activation_functions.ipynb?show=dead_relu_explorer&preset=dead+ReLUs+at+a+high+learning+rate
        &hide=seed,weight_scale&predict=1&theme=dark&scale=1.5

- ``show``: factory names to show (comma-separated); the page's other explorers are left out
- ``preset``: the preset to open at; ``hide``: control names to hide (comma-separated)
- ``predict``: 1 to start with the predict-then-reveal switch on (with ``preset``: the figure hidden until Reveal)
- ``theme``: light or dark (Voila darkens the page with the same parameter); ``scale``: figure size, 1.5 by default
"""
from __future__ import annotations

import html
import importlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote

import ipywidgets as W
import nbformat

from widgets.explorer import THEMES, Explorer

LECTURE_SCALE = 1.5
LECTURE_DIR = Path(__file__).resolve().parent.parent / "lecture"
SHOW_CALL = re.compile(r"\bpage\.show\(widgets\.(\w+)")


@dataclass(frozen=True)
class LectureOptions:
    """The options of a dashboard's address (see the module docstring); ``show`` None means every explorer."""
    show: frozenset | None = None
    preset: str | None = None
    hide: tuple = ()
    predict: bool = False
    theme: str = "light"
    scale: float = LECTURE_SCALE


def parse_query(query: str) -> LectureOptions:
    """Read a query string such as ``preset=...&hide=seed,weight_scale&predict=1`` into :class:`LectureOptions`.
    Other keys (Voila's own) are ignored; a bad value raises ValueError saying what was expected."""
    values = {key: items[-1] for key, items in parse_qs(query or "", keep_blank_values=True).items()}

    def listed(key):
        return tuple(item.strip() for item in values.get(key, "").split(",") if item.strip())

    theme = values.get("theme", "light")
    if theme not in THEMES:
        raise ValueError(f"theme must be one of {list(THEMES)}; got {theme!r}")
    try:
        scale = float(values.get("scale", LECTURE_SCALE))
    except ValueError:
        raise ValueError(f"scale must be a number such as 1.5; got {values['scale']!r}") from None
    predict = values.get("predict", "0").lower()
    if predict not in ("0", "1", "true", "false", ""):
        raise ValueError(f"predict must be 1 or 0; got {values['predict']!r}")
    return LectureOptions(show=frozenset(listed("show")) or None, preset=values.get("preset") or None,
                          hide=listed("hide"), predict=predict in ("1", "true"), theme=theme, scale=scale)


class LectureView:
    """``explorer`` with preset buttons, a predict-then-reveal switch and some controls hidden.

    - ``preset_buttons``: preset name -> Button; a click applies that preset (and, with the switch on, hides the
      figure and the readout until ``reveal_button`` is clicked)
    - ``predict_switch``: a ToggleButton; ``reveal_button``: shown while the figure is hidden
    - ``hide``: names of controls to hide; ``preset``: a preset to apply at once; ``predict``: the switch's start
    - ``notice``: an HTML line for problems with the page's options (an unknown preset or control)
    """

    def __init__(self, explorer: Explorer, hide=(), predict: bool = False, preset: str | None = None,
                 notice: str = ""):
        self.explorer = explorer
        unknown = [name for name in hide if name not in explorer.controls]
        if unknown:
            raise ValueError(f"cannot hide {unknown}: this explorer's controls are {list(explorer.controls)}")
        for name in hide:
            explorer.controls[name].layout.display = "none"
        self.preset_buttons = {name: W.Button(description=name, tooltip=f"apply the preset {name!r}",
                                              layout=W.Layout(width="auto")) for name in explorer.presets}
        for name, button in self.preset_buttons.items():
            button.on_click(self._handler(lambda _, name=name: self.apply(name)))
        self.predict_switch = W.ToggleButton(value=predict, description="predict, then reveal",
                                             tooltip="hide the figure after a preset until Reveal is pressed")
        self.predict_switch.observe(self._handler(lambda change: change.new or self.uncover()), names="value")
        self.reveal_button = W.Button(description="Reveal", button_style="warning",
                                      layout=W.Layout(display="none"))
        self.reveal_button.on_click(self._handler(lambda _: self.uncover()))
        self.notice = W.HTML(notice)
        self.box = W.VBox([self.notice, W.HBox(list(self.preset_buttons.values()), layout=W.Layout(flex_flow="row wrap")),
                           W.HBox([self.predict_switch, self.reveal_button]), explorer.box])
        self.box.add_class("lecture-view")  # how a browser test finds each explorer of a page
        if preset is not None:
            self.apply(preset)

    def _handler(self, func):
        """A widget callback run safely on the explorer's own thread (widget events may arrive on another)."""
        return self.explorer.on_owner_thread(self.explorer.safely(func))

    @property
    def covered(self) -> bool:
        """True while the figure and the readout are hidden, waiting for Reveal."""
        return self.reveal_button.layout.display != "none"

    def apply(self, name: str) -> None:
        """Apply the preset ``name``; with the switch on, hide the result until Reveal."""
        self.explorer.apply_preset(name)
        if self.predict_switch.value:
            self._show_result(False)

    def uncover(self) -> None:
        """Show the figure and the readout again."""
        self._show_result(True)

    def _show_result(self, visible: bool) -> None:
        for widget in (self.explorer.view, self.explorer.readout):
            widget.layout.visibility = "visible" if visible else "hidden"
        self.reveal_button.layout.display = "none" if visible else "flex"

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)


class LecturePage:
    """The explorers of one dashboard, built with the options of its address (Voila's ``QUERY_STRING``, or the
    ``query`` given). :meth:`show` returns what the cell displays."""

    def __init__(self, query: str | None = None):
        self.options = parse_query(os.environ.get("QUERY_STRING", "") if query is None else query)
        self.views: dict[str, LectureView] = {}

    def show(self, factory, **options):
        """``factory(**options)`` as a :class:`LectureView` at the page's scale and theme, opened at its preset and
        with its hidden controls; an empty widget when the address shows only other explorers."""
        name = factory.__name__
        wanted = self.options.show
        if wanted is not None and name not in wanted:
            return W.HTML("")
        explorer = factory(scale=self.options.scale, theme=self.options.theme, **options)
        problems = []
        preset = self.options.preset
        if preset is not None and preset not in explorer.presets:
            if wanted is not None:  # the address names this explorer: the preset was meant for it
                problems.append(f"unknown preset {preset!r}; the presets are: {', '.join(explorer.presets)}")
            preset = None
        hide = [c for c in self.options.hide if c in explorer.controls]
        if wanted is not None and len(hide) < len(self.options.hide):
            problems.append(f"cannot hide {sorted(set(self.options.hide) - set(hide))}; the controls are: "
                            f"{', '.join(explorer.controls)}")
        notice = "".join(f"<p style='color: firebrick'>{html.escape(p)}</p>" for p in problems)
        view = LectureView(explorer, hide, self.options.predict, preset, notice)
        self.views[name] = view
        return view


def lecture_pages(folder: Path = LECTURE_DIR) -> dict[str, tuple[str, list[str]]]:
    """Dashboard file name -> (its title, the factory names it shows), read from the notebooks in ``folder``."""
    pages = {}
    for path in sorted(Path(folder).glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        title = next((line.lstrip("# ").strip() for cell in nb.cells if cell.cell_type == "markdown"
                      for line in cell.source.splitlines() if line.startswith("# ")), path.stem)
        shown = [name for cell in nb.cells if cell.cell_type == "code" for name in SHOW_CALL.findall(cell.source)]
        pages[path.name] = (title, shown)
    return pages


def explorer_presets(factory_name: str) -> dict:
    """The presets of an explorer, from the PRESETS of the module defining its factory (without building it)."""
    import widgets
    module = importlib.import_module(getattr(widgets, factory_name).__module__)
    return dict(getattr(module, "PRESETS", {}))


def gallery(folder: Path = LECTURE_DIR) -> W.HTML:
    """Every dashboard with a link to each of its explorers' presets: the page a lecturer opens first, and the
    addresses to put in slides (add &predict=1, &theme=dark, &hide=... to a link as needed)."""
    parts = ["<style>.lecture-gallery a { color: var(--jp-content-link-color); text-decoration: underline; }</style>"
             "<div class='lecture-gallery'>"]
    for page, (title, shown) in lecture_pages(folder).items():
        parts.append(f"<h2><a href='{page}'>{html.escape(title)}</a></h2><ul>")
        for name in shown:
            links = ", ".join(f"<a href='{page}?show={name}&preset={quote(preset)}'>{html.escape(preset)}</a>"
                              for preset in explorer_presets(name))
            parts.append(f"<li><b>{name}</b>: <a href='{page}?show={name}'>alone</a>; presets: {links}</li>")
        parts.append("</ul>")
    return W.HTML("".join(parts + ["</div>"]))
