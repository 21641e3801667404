"""What every live explorer shares: its figure, its message lines, safe callbacks, in-place histograms, work
spread over the event loop, presets, and the choice between a student's functions and the reference ones.

An explorer subclasses :class:`Explorer`, builds its artists once in ``__init__``, and registers an update with
:meth:`Explorer.observe`; the update changes artists in place and ends with :meth:`Explorer.redraw`.

Threads. JupyterLab 4.6 may deliver widget messages on a second kernel thread (a "subshell"), while the
explorer was built, and its slices of work are scheduled, on the main thread's event loop. Nothing in
matplotlib, ipympl or the explorers is thread-safe, so everything an explorer does (control callbacks, canvas
messages, mouse events, training slices, drawing) runs on the event loop of the thread that built it: a call
arriving on another thread is handed over with ``loop.call_soon_threadsafe`` (:meth:`Explorer.on_owner_thread`).
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import textwrap
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, replace

import ipywidgets as W
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.colors import to_rgb
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullLocator

from course import activations, checks
from course.checks._guard import StudentCodeStopped, guarded
from course.checks._harness import NOT_IMPLEMENTED, Mistake, call, evaluate, unpack
from course.diagnostics import expected_initial_loss
from course.gradcheck import eval_numerical_gradient_array, rel_error

SLIDERS = (W.IntSlider, W.FloatSlider, W.FloatLogSlider, W.SelectionSlider)
# (message, error, note) text colours readable on a light and on a dark figure
TEXT_COLORS = {"light": ("#7a4b00", "firebrick", "#444444"), "dark": ("#ffcc66", "#ff7b7b", "#d0d0d0")}
# theme -> matplotlib style. The dark theme keeps the default colour cycle: lines resolve "C0" when they are drawn
# (after the style is gone), markers when they are made, so a cycle that differed would split their colours.
THEMES = {"light": "default",
          "dark": ["dark_background", {"axes.prop_cycle": matplotlib.rcParamsDefault["axes.prop_cycle"]}]}


def themed(factory):
    """Decorate an explorer factory so that it accepts ``theme="light"`` or ``"dark"`` and builds the explorer
    inside that matplotlib style: every artist created while the explorer is built takes the theme's colours
    (use the colour cycle "C0".."C9" and "grey" for data and guides, never black or white)."""
    @functools.wraps(factory)
    def build(*args, theme: str = "light", **options):
        if theme not in THEMES:
            raise ValueError(f"theme must be one of {list(THEMES)}; got {theme!r}")
        with plt.style.context(THEMES[theme]):
            return factory(*args, **options)
    build.__doc__ = (factory.__doc__ or "") + "\n    ``theme``: \"light\" (default) or \"dark\" (for a projector).\n"
    return build


def new_figure(ncols: int = 1, nrows: int = 1, figsize=(8, 4), scale: float = 1.0, **subplots_kw):
    """A small figure for live updates, created under plt.ioff() so it is shown only where the explorer puts it.
    Returns (fig, axes) like plt.subplots. ``scale`` multiplies the resolution (100 dpi): every text, line and
    marker grows with it in pixels, as a projector needs. With ipympl, fig.canvas is a widget; its toolbar
    header is hidden."""
    scale = float(scale)
    if not 0.25 <= scale <= 4:
        raise ValueError(f"scale must be between 0.25 and 4 (1 = normal size); got {scale}")
    with plt.ioff():
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, dpi=100 * scale, **subplots_kw)
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
    holding the traceback of the last error raised inside a callback.

    ``presets`` maps a name to control values ({"dead ReLUs at a high learning rate": {"learning_rate": 3}}):
    the moments a lecturer jumps to with :meth:`apply_preset`. ``choices`` maps a label to the functions in use
    under it (a :class:`Choice`); a student's function that fails while running is replaced by the reference
    (:meth:`fall_back`).

    Displaying the explorer shows its ``box``: the controls, the readout, the figure (ipympl's canvas widget, or
    with another backend a PNG image refreshed on every redraw) and the output area.
    """

    presets: dict = {}

    def __init__(self, fig, controls: dict, presets: dict | None = None):
        self.fig = fig
        if canvas_is_widget(fig):
            # Until its browser view says "initialized", ipympl copies every frame it sends into the canvas's
            # _data_url, without the "data:image/png;base64," prefix; a view created from that state starts from a
            # broken image and may never show the figure. Every frame reaches the view as a binary message anyway.
            fig.canvas.syncing_data_url = False
        for control in controls.values():
            control.style.description_width = "initial"  # whole labels, not "learning r..."
            if isinstance(control, SLIDERS) and control.layout.width is None and len(control.description) > 16:
                # a long label would squeeze the track: widen the slider by about the label's extra length, in
                # units of the font size on top of the theme's slider width, so a lecture's larger text widens it too
                extra = 0.6 * (len(control.description) - 16)
                control.layout.width = f"calc(var(--jp-widgets-inline-width) + {extra:.1f}em)"
        self.controls = controls
        self.sliders = controls
        self.presets = dict(presets or {})
        self.choices: dict[str, Choice] = getattr(self, "choices", {})
        self.scale = fig.dpi / 100  # new_figure's scale: the readout's text grows with it
        self.theme = "dark" if np.mean(to_rgb(fig.get_facecolor())) < 0.5 else "light"
        self._message_color, self._error_color, note_color = TEXT_COLORS[self.theme]
        self.note = fig.text(0.01, 0.99, "", ha="left", va="top", fontsize=8, color=note_color)
        self.message = fig.text(0.5, 0.01, "", ha="center", va="bottom", fontsize=9, color=self._message_color)
        self.readout = W.HTML()
        self.output = W.Output(layout=W.Layout(max_height="12em", overflow="auto"))
        self._image = None
        self._box = None
        self._dynamic = []
        self._background = None  # (renderer, pixels of the static layer) after the last full draw
        self._update = None
        self._holding = 0
        self._owner = threading.get_ident()
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:  # a script or a test: no event loop, everything runs where it is called
            self._loop = None
        self.animate(self.message)
        fig.canvas.mpl_connect("draw_event", self._on_draw)
        if canvas_is_widget(fig):  # ipympl renders in reply to its own comm messages: on our thread too
            for widget in (fig.canvas, getattr(fig.canvas, "toolbar", None)):
                if isinstance(widget, W.DOMWidget):
                    widget.on_msg(fig.canvas._handle_message, remove=True)
                    widget.on_msg(self.on_owner_thread(fig.canvas._handle_message))

    # --- wiring ---------------------------------------------------------------------------------------------
    def on_owner_thread(self, func):
        """Wrap ``func`` so that it always runs on the thread (and event loop) that built the explorer: called
        from another thread, it is queued on the owner's loop and returns None."""
        @functools.wraps(func)
        def run(*args, **kwargs):
            if self._loop is None or threading.get_ident() == self._owner:
                return func(*args, **kwargs)
            self._loop.call_soon_threadsafe(functools.partial(func, *args, **kwargs))
            return None
        return run

    def observe(self, update) -> None:
        """Call ``update()`` (safely, on the owner thread) whenever any control's value changes."""
        self._update = self.safely(update)
        callback = self.on_owner_thread(self._on_change)
        for control in self.controls.values():
            control.observe(callback, names="value")

    def _on_change(self, change=None) -> None:
        if not self._holding:
            self._update()

    def connect(self, event: str, handler) -> None:
        """Connect a matplotlib event handler (e.g. "button_press_event"), run safely on the owner thread."""
        self.fig.canvas.mpl_connect(event, self.on_owner_thread(self.safely(handler)))

    def safely(self, func):
        """Wrap ``func`` so an exception is shown in the widget (message line + traceback in ``output``) and a
        warning is shown on the message line, instead of being lost in the log console. A student's function
        failing while it runs (:class:`StudentCodeError`) makes the explorer fall back to the reference."""
        @functools.wraps(func)
        def run(*args, **kwargs):
            try:
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    result = func(*args, **kwargs)
            except StudentCodeError as exc:
                self.fall_back(exc)
                return None
            except Exception as exc:  # shown, never swallowed: the traceback goes to the output area
                self.show_error(exc)
                return None
            if caught:
                self.show_message(f"warning: {caught[0].message}", error=True)
                self.redraw()
            return result
        return run

    @contextlib.contextmanager
    def holding(self):
        """Change several controls inside this block; the update runs once, at the end of the outermost block
        (blocks nest: a preset that changes a control whose handler holds too still updates once)."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
        if not self._holding and self._update is not None:
            self._update()

    @property
    def settings(self) -> dict:
        """The controls' current values by name."""
        return {name: control.value for name, control in self.controls.items()}

    def apply_preset(self, name: str) -> None:
        """Set the controls to the values of ``presets[name]`` and update once."""
        if name not in self.presets:
            raise ValueError(f"unknown preset {name!r}; this explorer's presets are: {', '.join(self.presets)}")
        self.on_owner_thread(self._apply_preset)(name)

    def _apply_preset(self, name: str) -> None:
        with self.holding():
            for control, value in self.presets[name].items():
                self.controls[control].value = value

    def fall_back(self, exc: "StudentCodeError") -> None:
        """A student's function failed while running: use the reference under its label from now on (or nothing
        when there is none), say so in the note, and update again."""
        choice = self.choices[exc.label]
        self.choices[exc.label] = choice.fallen_back(f"failed while running: {exc.why}")
        if self._update is not None:
            self._update()

    def show_choice_notes(self, current: str) -> None:
        """The note of the choice in use (``current``, a label) and of every choice that cannot be shown."""
        self.show_note("\n".join(c.note for label, c in self.choices.items()
                                 if c.note and (label == current or c.funcs is None)))

    # --- messages -------------------------------------------------------------------------------------------
    def show_message(self, text: str, error: bool = False) -> None:
        """Put ``text`` on the figure's message line ('' clears it)."""
        self.message.set_text(text)
        self.message.set_color(self._error_color if error else self._message_color)

    def show_error(self, exc: BaseException) -> None:
        """The error on the message line, and its traceback (only the last one) in the output area."""
        text = f"{type(exc).__name__}: {exc}"
        self.show_message(f"error: {text if len(text) < 160 else text[:157] + '...'} (details below the plot)",
                          error=True)
        self.output.outputs = ()
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
        self.readout.value = f"<span style='font-size: {13 * self.scale:.0f}px'>{html}</span>"

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

    def invalidate(self) -> None:
        """The static layer (axes, ticks, titles, images drawn once) changed: make the next redraw a full one."""
        self._background = None

    @property
    def text_colors(self) -> tuple[str, str]:
        """(message, error) text colours readable in this explorer's theme, for text an explorer draws itself."""
        return self._message_color, self._error_color

    @property
    def needs_full_draw(self) -> bool:
        """True when no static layer is saved, so the next frame must come from a full draw of the figure."""
        return self._background is None

    def _on_draw(self, event) -> None:
        """After a full draw: keep the static layer (for the canvas's own renderer, not a savefig's), then draw
        the changing artists on top of it."""
        if event.renderer is getattr(self.fig.canvas, "renderer", None):
            self._background = (event.renderer, self.fig.canvas.copy_from_bbox(self.fig.bbox))
            self._send_whole_frame()
        for artist in self._dynamic:
            artist.draw(event.renderer)

    def _send_whole_frame(self) -> None:
        """Make ipympl send the next frame whole, not as its difference from the frame before. The browser shows a
        frame once its PNG is decoded, and a frame that arrives meanwhile replaces it: a lost difference would
        leave stale pixels on the canvas for good (seen in dashboards driven quickly), a lost whole frame is just
        skipped. A whole frame costs little more to encode (benchmarks/README.md)."""
        if canvas_is_widget(self.fig):
            self.fig.canvas._force_full = True

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
        renderer = canvas.get_renderer() if hasattr(canvas, "get_renderer") else None  # a new one after a resize
        if saved is not None and saved[0] is renderer:
            canvas.restore_region(saved[1])
            for artist in self._dynamic:
                self.fig.draw_artist(artist)
            self._send_whole_frame()
            canvas.blit(self.fig.bbox)
            return
        self._background = None
        if type(canvas).draw_idle is not FigureCanvasBase.draw_idle:
            canvas.draw_idle()

    @property
    def box(self) -> W.VBox:
        """The controls, the readout, the figure's view and the output area, built on first use."""
        if self._box is None:
            if canvas_is_widget(self.fig):
                self._view = self.fig.canvas
            else:
                self._image = self._view = W.Image(format="png")
            self._box = W.VBox([self.controls_box(), self.readout, self._view, self.output])
            self.redraw()
        return self._box

    @property
    def view(self) -> W.DOMWidget:
        """The widget showing the figure: ipympl's canvas, or a PNG image kept up to date with another backend."""
        return self.box.children[2]

    def controls_box(self) -> W.Box:
        """The controls in a wrapping row; subclasses may add progress bars and the like."""
        return W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap"))

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)


def advancing(runs, iterations: int):
    """A :class:`Stepper` step: advance each of ``runs`` (objects with ``advance(n)`` and ``done``) by
    ``iterations``; True once all are done."""
    def step() -> bool:
        for run in runs:
            run.advance(iterations)
        return all(run.done for run in runs)
    return step


class RecentRuns(dict):
    """Runs (or any results) by the settings they were made for, hashable keys: at most ``size`` of them, the least
    recently used dropped first (most recently used last)."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    def keep(self, key, run):
        """Store ``run`` for ``key`` as the most recent; return it."""
        self.pop(key, None)
        self[key] = run
        while len(self) > self.size:
            del self[next(iter(self))]
        return run

    def fetch(self, key, make):
        """The run kept for ``key``, or ``make()``'s new one; either way the most recent now."""
        return self.keep(key, self.pop(key) if key in self else make())


class Stepper:
    """Run a long job in slices of at most ``budget`` seconds. ``start(step, job)`` calls ``step()`` repeatedly
    until it returns True (finished), calling ``on_slice(job)`` after every slice (e.g. to draw that job's
    progress: a slice never draws another job's state). With a running event loop (a Jupyter kernel) it yields to the loop between slices, so widget
    events keep flowing; without one (tests, scripts) it runs to the end at once. Starting a new job abandons the
    previous one. ``guard`` wraps the slices run later from the loop (e.g. Explorer.safely). Slices run on the
    thread that calls ``start`` (the explorer's owner thread)."""

    def __init__(self, on_slice, budget: float = 0.1, guard=lambda func: func):
        self.on_slice = on_slice
        self.budget = budget
        self._resume = guard(self._run)
        self._job = 0

    def start(self, step, job=None) -> None:
        self._job += 1
        self._run(self._job, step, job)

    def _run(self, number: int, step, job) -> None:
        while number == self._job:
            deadline = time.perf_counter() + self.budget
            finished = step()
            while not finished and time.perf_counter() < deadline:
                finished = step()
            self.on_slice(job)
            if finished:
                return
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                continue
            loop.call_later(0.005, self._resume, number, step, job)
            return


class TrainingExplorer(Explorer):
    """An explorer whose controls start training. It adds a ``progress`` bar under the controls; ``runs``, the runs
    of the most recent settings (a :class:`RecentRuns` of at most ``cached_runs``: ``self.runs.fetch(key, make)``); and
    :meth:`train`, which runs a job in slices of at most ``budget`` seconds (:class:`Stepper`), each drawn by the
    subclass's ``show_training(job)``."""

    cached_runs = 32

    def __init__(self, fig, controls: dict, presets: dict | None = None, budget: float = 0.05):
        self.progress = W.IntProgress(value=0, min=0, max=1, description="training")
        self.runs = RecentRuns(self.cached_runs)
        super().__init__(fig, controls, presets)
        self.stepper = Stepper(self.show_training, budget, guard=self.safely)

    def controls_box(self) -> W.Box:
        return W.VBox([super().controls_box(), self.progress])

    def train(self, job, step) -> None:
        """Advance ``job`` by calling ``step()`` (True when finished) in slices; ``show_training(job)`` draws it."""
        self.stepper.start(step, job)

    def show_training(self, job) -> None:
        raise NotImplementedError("a TrainingExplorer draws its job in show_training(job)")

    @staticmethod
    def loss_axes(ax, classes: int, steps: int, ylim: tuple, title: str = "training loss") -> None:
        """Prepare ``ax`` for a training loss over ``steps`` steps: log axis, ``ylim``, and a dotted line at chance,
        ln ``classes``, the loss of a classifier that spreads its probability evenly over ``classes`` classes."""
        ax.set_title(title, fontsize=9)
        chance = expected_initial_loss(classes)
        ax.axhline(chance, color="grey", lw=0.8, ls=":")
        ax.text(steps, chance, f"chance: ln {classes} ", fontsize=7, color="grey", ha="right", va="bottom")
        ax.set_yscale("log")
        ax.set(xlim=(0, steps), ylim=ylim)



# --- students' functions ----------------------------------------------------------------------------------------

STUDENT_TIME_LIMIT = 2.0  # seconds one call of a student's function may take inside an explorer


class StudentCodeError(Exception):
    """A student's function failed while an explorer ran it. ``label`` names the :class:`Choice` it serves and
    ``why`` says what went wrong, naming the function."""

    def __init__(self, label: str, why: str):
        super().__init__(f"{label}: {why}")
        self.label, self.why = label, why


def _arrays(value, depth: int = 2):
    """The NumPy float arrays in ``value`` and in the tuples, lists and dicts it holds, ``depth`` levels down."""
    if isinstance(value, np.ndarray):
        return [value] if value.dtype.kind == "f" else []
    if depth and isinstance(value, (tuple, list)):
        return [a for item in value for a in _arrays(item, depth - 1)]
    if depth and isinstance(value, dict):
        return [a for item in value.values() for a in _arrays(item, depth - 1)]
    return []


def watched(func, label: str, time_limit: float | None = None):
    """``func``, a student's function, wrapped for use inside an explorer: each call runs as student code
    (course.checks._guard: time limit, output dropped, sys.exit caught) and its float results are checked to be
    finite whenever its float arguments are. Any failure raises :class:`StudentCodeError` naming ``label`` and
    the function, so the explorer can fall back to the reference instead of drawing NaN or blaming a slider.
    ``time_limit`` defaults to STUDENT_TIME_LIMIT seconds per call."""
    name = getattr(func, "__name__", "your function")

    @functools.wraps(func)
    def run(*args, **kwargs):
        try:
            with guarded(name, STUDENT_TIME_LIMIT if time_limit is None else time_limit):
                result = func(*args, **kwargs)
        except StudentCodeStopped as exc:
            raise StudentCodeError(label, str(exc)) from None
        except Exception as exc:
            raise StudentCodeError(label, f"{name} raised {type(exc).__name__}: {exc}") from exc
        if all(np.isfinite(a).all() for a in _arrays((args, kwargs), 3)) and \
                not all(np.isfinite(a).all() for a in _arrays(result)):
            raise StudentCodeError(label, f"{name} returned NaN or inf for finite input")
        return result

    run.student = func
    return run


@dataclass(frozen=True)
class Choice:
    """The functions an explorer runs under a label, and the note to show ('' when the student's own are used).

    - funcs: the functions in use; a student's are :func:`watched`; None when a student's functions fail and
      there is no reference to fall back on
    - reference, reference_name: what to fall back on (None, '' when there is nothing)
    """
    label: str
    funcs: tuple | None
    note: str
    reference: tuple | None = None
    reference_name: str = ""

    def fallen_back(self, why: str) -> "Choice":
        """This choice after the student's functions failed: the reference, or nothing. ``why`` completes the
        sentence "yours ...": "is not implemented yet", "fails its check: ...", "failed while running: ..."."""
        if self.reference is None:
            return replace(self, funcs=None, note=f"{self.label}: not shown -- yours {why}")
        return replace(self, funcs=self.reference,
                       note=f"{self.label}: using the reference {self.reference_name} -- yours {why}")


def prefer_student(label: str, student: tuple, reference: tuple | None, reference_name: str, result) -> Choice:
    """The student's functions (watched) if their check passed, else the reference, with a note saying why.
    ``result`` is a CheckResult (course.checks) for the student's functions."""
    choice = Choice(label, tuple(watched(f, label) for f in student), "", reference, reference_name)
    if result.passed:
        return choice
    if result.status == NOT_IMPLEMENTED:
        return choice.fallen_back("is not implemented yet")
    return choice.fallen_back(f"fails its check: {result.detail}")


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
