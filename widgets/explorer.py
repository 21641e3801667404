"""What every live explorer shares: its figure, its message lines, safe callbacks, in-place histograms, work
spread over the event loop, and the choice between a student's functions and the reference ones.

An explorer subclasses :class:`Explorer`, builds its artists once in ``__init__``, and registers an update with
:meth:`Explorer.observe`; the update changes artists in place and ends with :meth:`Explorer.redraw`.
"""
from __future__ import annotations

import asyncio
import functools
import io
import textwrap
import time
import traceback
import warnings
from dataclasses import dataclass

import ipywidgets as W
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullLocator

from course import activations, checks
from course.checks._harness import NOT_IMPLEMENTED, Mistake, call, evaluate, unpack
from course.gradcheck import eval_numerical_gradient_array, rel_error

MESSAGE_COLOR, ERROR_COLOR, NOTE_COLOR = "#7a4b00", "firebrick", "#444444"


def new_figure(ncols: int = 1, nrows: int = 1, figsize=(8, 4), dpi: int = 100, **subplots_kw):
    """A small figure for live updates, created under plt.ioff() so it is shown only where the explorer puts it.
    Returns (fig, axes) like plt.subplots. With ipympl, fig.canvas is a widget; its toolbar header is hidden."""
    with plt.ioff():
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, dpi=dpi, **subplots_kw)
    if canvas_is_widget(fig):
        fig.canvas.header_visible = False
    return fig, axes


def light_axes(*axes, nbins: int = 4) -> None:
    """Few, small tick labels and no minor ticks: text is most of the cost of a redraw. Call after set_xscale
    and set_yscale, which replace the tick locators."""
    for ax in axes:
        ax.tick_params(labelsize=7)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_minor_locator(NullLocator())
            if axis.get_scale() == "log":
                axis.set_major_locator(LogLocator(numticks=nbins))
                axis.set_major_formatter(FormatStrFormatter("%g"))
            else:
                axis.set_major_locator(MaxNLocator(nbins))


def canvas_is_widget(fig) -> bool:
    """True when the figure's canvas can sit in a widget box (the ipympl backend, `%matplotlib widget`)."""
    return isinstance(fig.canvas, W.DOMWidget)


class StairsHistogram:
    """One ``ax.stairs`` artist showing the fraction of values per bin; values beyond the edges are counted in
    the end bins. Update with new values (and optionally new edges): the artist is changed, never re-created."""

    def __init__(self, ax, edges, **style):
        self.edges = np.asarray(edges, dtype=np.float64)
        self.artist = ax.stairs(np.zeros(self.edges.size - 1), self.edges, **style)

    def update(self, values, edges=None) -> np.ndarray:
        """Show the histogram of ``values`` (any shape) and return the fractions per bin, shape (bins,)."""
        if edges is not None:
            self.edges = np.asarray(edges, dtype=np.float64)
        values = np.clip(np.ravel(values), self.edges[0], self.edges[-1])
        counts = np.histogram(values, self.edges)[0] / max(values.size, 1)
        self.artist.set_data(counts, self.edges)
        return counts

    @property
    def fractions(self) -> np.ndarray:
        return np.asarray(self.artist.get_data().values)


class Explorer:
    """Base of the live explorers: owns ``fig``, ``controls`` (name -> widget; ``sliders`` is the same dict),
    a ``readout`` (HTML widget: the live numbers, rendered by the browser rather than the kernel), a ``note`` text
    artist (which functions are in use), a ``message`` text artist (warnings, errors) and an ``output`` area
    holding the full traceback of any error raised inside a callback.

    Displaying the explorer shows its ``box``: the controls, the readout, the figure (ipympl's canvas widget, or
    with another backend a PNG image refreshed on every redraw) and the output area.
    """

    def __init__(self, fig, controls: dict):
        self.fig = fig
        for control in controls.values():
            control.style.description_width = "initial"  # whole labels, not "learning r..."
        self.controls = controls
        self.sliders = controls
        self.note = fig.text(0.01, 0.99, "", ha="left", va="top", fontsize=8, color=NOTE_COLOR)
        self.message = fig.text(0.5, 0.01, "", ha="center", va="bottom", fontsize=9, color=MESSAGE_COLOR)
        self.readout = W.HTML()
        self.output = W.Output(layout=W.Layout(max_height="12em", overflow="auto"))
        self._image = None
        self._box = None
        self._dynamic = []
        self._background = None  # (renderer, pixels of the static layer) after the last full draw
        self.animate(self.message)
        fig.canvas.mpl_connect("draw_event", self._on_draw)

    # --- wiring ---------------------------------------------------------------------------------------------
    def observe(self, update) -> None:
        """Call ``update()`` (safely) whenever any control's value changes."""
        callback = self.safely(update)
        for control in self.controls.values():
            control.observe(lambda change: callback(), names="value")

    def safely(self, func):
        """Wrap ``func`` so an exception is shown in the widget (message line + traceback in ``output``) and a
        warning is shown on the message line, instead of being lost in the log console."""
        @functools.wraps(func)
        def run(*args, **kwargs):
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    result = func(*args, **kwargs)
            except Exception as exc:  # shown, never swallowed: the traceback goes to the output area
                self.show_error(exc)
                return None
            if caught:
                self.show_message(f"warning: {caught[0].message}", error=True)
                self.redraw()
            return result
        return run

    # --- messages -------------------------------------------------------------------------------------------
    def show_message(self, text: str, error: bool = False) -> None:
        """Put ``text`` on the figure's message line ('' clears it)."""
        self.message.set_text(text)
        self.message.set_color(ERROR_COLOR if error else MESSAGE_COLOR)

    def show_error(self, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}"
        self.show_message(f"error: {text if len(text) < 160 else text[:157] + '...'} (details below the plot)",
                          error=True)
        self.output.append_stderr("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
        self.redraw()

    def show_note(self, text: str) -> None:
        """Put ``text`` (one note a line, wrapped to the figure's width) on the note line at the top. The note
        is part of the static layer: a change makes the next redraw a full one."""
        width = int(self.fig.get_figwidth() * 17)  # characters of the 8-point note font per inch
        text = "\n".join(textwrap.fill(line, width) for line in text.splitlines())
        if text != self.note.get_text():
            self.note.set_text(text)
            self._background = None

    def show_readout(self, html: str) -> None:
        """Show the live numbers above the figure."""
        self.readout.value = f"<span style='font-size: 13px'>{html}</span>"

    # --- drawing and display ---------------------------------------------------------------------------------
    def animate(self, *artists) -> None:
        """Declare artists that change from one event to the next. Everything else (axes, ticks, labels,
        titles: mostly text, the slowest thing to render) is rendered once per full draw and reused."""
        for artist in artists:
            artist.set_animated(True)
            self._dynamic.append(artist)

    def set_limits(self, ax, xlim=None, ylim=None) -> None:
        """Set axis limits; when they change, the static layer (ticks) is stale and the next redraw is full."""
        for new, get, set_ in ((xlim, ax.get_xlim, ax.set_xlim), (ylim, ax.get_ylim, ax.set_ylim)):
            if new is not None and not np.allclose(get(), new, rtol=1e-9, atol=0):
                set_(*new)
                self._background = None

    @property
    def needs_full_draw(self) -> bool:
        """True when no static layer is saved, so the next frame must come from a full draw of the figure."""
        return self._background is None

    def _on_draw(self, event) -> None:
        """After a full draw: keep the static layer (for the canvas's own renderer, not a savefig's), then draw
        the changing artists on top of it."""
        if event.renderer is getattr(self.fig.canvas, "renderer", None):
            self._background = (event.renderer, self.fig.canvas.copy_from_bbox(self.fig.bbox))
        for artist in self._dynamic:
            artist.draw(event.renderer)

    def redraw(self) -> None:
        """Show the updated artists. Usually only the changing artists are drawn, over the saved static layer,
        and the canvas is blitted (ipympl ships that frame at once). A full draw is requested when no valid static
        layer is saved (none yet, or limits or the note changed): ``draw_idle()`` on an interactive canvas (ipympl
        merges bursts of requests); with a non-interactive backend, the PNG in the box is refreshed once it is
        shown, else the rendering is left to whoever draws the figure (a test, a benchmark, savefig)."""
        canvas = self.fig.canvas
        if self._image is not None:
            buffer = io.BytesIO()
            self.fig.savefig(buffer, format="png")
            self._image.value = buffer.getvalue()
            return
        saved = self._background
        if saved is not None and saved[0] is canvas.get_renderer():
            canvas.restore_region(saved[1])
            for artist in self._dynamic:
                self.fig.draw_artist(artist)
            canvas.blit(self.fig.bbox)
            return
        self._background = None
        if type(canvas).draw_idle is not FigureCanvasBase.draw_idle:
            canvas.draw_idle()

    @property
    def box(self) -> W.VBox:
        if self._box is None:
            if canvas_is_widget(self.fig):
                view = self.fig.canvas
            else:
                self._image = W.Image(format="png")
                view = self._image
            self._box = W.VBox([self.controls_box(), self.readout, view, self.output])
            self.redraw()
        return self._box

    def controls_box(self) -> W.Box:
        """The controls in a wrapping row; subclasses may add progress bars and the like."""
        return W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap"))

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)


class Stepper:
    """Run a long job in slices of at most ``budget`` seconds. ``start(step)`` calls ``step()`` repeatedly until
    it returns True (finished), calling ``on_slice()`` after every slice (e.g. to redraw). With a running event
    loop (a Jupyter kernel) it yields to the loop between slices, so widget events keep flowing; without one
    (tests, scripts) it runs to the end at once. Starting a new job abandons the previous one. ``guard`` wraps
    the slices run later from the loop (e.g. Explorer.safely)."""

    def __init__(self, on_slice, budget: float = 0.1, guard=lambda func: func):
        self.on_slice = on_slice
        self.budget = budget
        self._resume = guard(self._run)
        self._job = 0

    def start(self, step) -> None:
        self._job += 1
        self._run(self._job, step)

    def _run(self, job: int, step) -> None:
        while job == self._job:
            deadline = time.perf_counter() + self.budget
            finished = step()
            while not finished and time.perf_counter() < deadline:
                finished = step()
            self.on_slice()
            if finished:
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                continue
            loop.call_later(0.005, self._resume, job, step)
            return


# --- students' functions ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Choice:
    """The functions an explorer runs under a label, and the note to show ('' when the student's own are used).
    ``funcs`` is None when a student's functions fail and there is no reference to fall back on."""
    label: str
    funcs: tuple | None
    note: str


def prefer_student(label: str, student: tuple, reference: tuple | None, reference_name: str, result) -> Choice:
    """The student's functions if their check passed, else the reference, with a note saying why.
    ``result`` is a CheckResult (course.checks) for the student's functions."""
    if result.passed:
        return Choice(label, student, "")
    if result.status == NOT_IMPLEMENTED:
        why = "yours is not implemented yet"
    else:
        why = f"yours fails its check: {result.detail}"
    if reference is None:
        return Choice(label, None, f"{label}: not shown -- {why}")
    return Choice(label, reference, f"{label}: using the reference {reference_name} -- {why}")


# name -> (forward, backward) of the reference activations, in the order explorers list them
REFERENCE_ACTIVATIONS = {
    "sigmoid": (activations.sigmoid_forward, activations.sigmoid_backward),
    "tanh": (activations.tanh_forward, activations.tanh_backward),
    "relu": (activations.relu_forward, activations.relu_backward),
    "leaky relu": (activations.leaky_relu_forward, activations.leaky_relu_backward),
    "elu": (activations.elu_forward, activations.elu_backward),
}


def reference_name(label: str, pair: tuple) -> str | None:
    """The reference activation a student's pair stands for: from the forward's __name__ (relu_forward -> relu),
    else from the label ("my leaky relu" -> leaky relu); None when neither names a known activation."""
    name = getattr(pair[0], "__name__", "").removesuffix("_forward").replace("_", " ")
    if name in REFERENCE_ACTIVATIONS:
        return name
    words = " " + label.lower().replace("_", " ").replace("-", " ") + " "
    found = [ref for ref in REFERENCE_ACTIVATIONS if f" {ref} " in words]
    return max(found, key=len) if found else None


def activation_choice(label: str, pair) -> Choice:
    """Check a student's (forward, backward) activation pair and decide what to run under ``label``.

    A pair standing for a known activation is checked with course.checks (forward, then backward) and falls back
    to the reference; any other pair must pass a numerical gradient check of backward against forward, and is
    left out (funcs None) when it does not.
    """
    if not (isinstance(pair, tuple) and len(pair) == 2):
        raise TypeError(f"activations[{label!r}] must be a (forward, backward) pair of functions; got {pair!r}")
    name = reference_name(label, pair)
    if name is None:
        return prefer_student(label, pair, None, "", evaluate(label, _gradient_check, *pair))
    check = name.replace(" ", "_")
    result = getattr(checks, f"check_{check}_forward").evaluate(pair[0])
    if result.passed:
        result = getattr(checks, f"check_{check}_backward").evaluate(*pair)
    return prefer_student(label, pair, REFERENCE_ACTIVATIONS[name], name, result)


_rng = np.random.default_rng(7)
_GRADCHECK_X = _rng.uniform(0.2, 3.0, size=(3, 4)) * _rng.choice([-1.0, 1.0], size=(3, 4))  # away from kinks at 0
_GRADCHECK_DOUT = _rng.normal(size=(3, 4))


def _gradient_check(forward, backward):
    """Backward against a centred-difference gradient of forward, at points away from 0."""
    _, cache = unpack(call(forward, _GRADCHECK_X), 2, "forward")
    dx = call(backward, _GRADCHECK_DOUT, cache)
    numeric = eval_numerical_gradient_array(lambda x: forward(x.copy())[0], _GRADCHECK_X.copy(), _GRADCHECK_DOUT)
    if np.shape(dx) != numeric.shape:
        raise Mistake(f"backward returned shape {np.shape(dx)}; expected {numeric.shape}, the shape of x")
    error = rel_error(dx, numeric)
    if not error < 1e-5:
        raise Mistake(f"backward disagrees with a numerical gradient of forward (relative error {error:.1e})")
    return f"backward matches a numerical gradient of forward (relative error {error:.1e})"
