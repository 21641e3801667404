"""Optimizer race: the trajectories of SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam (the student's own or the
reference ones) and L-BFGS across one 2-D surface, with f(x) - f* per step, and on the quadratic what theory
predicts next to what the race measures."""
from __future__ import annotations

import functools

import contourpy
import ipywidgets as W
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D

from course import checks, optim, surfaces
from course.checks._guard import StudentCodeStopped, guarded
from course.experiments import (QuadraticTheory, gd_rate, gradient_noise, gradient_scale, lbfgs_trajectory,
                                measured_rate, momentum_rate, quadratic_theory)
from widgets.explorer import (Choice, Explorer, RecentRuns, StudentCodeError, light_axes, new_figure, prefer_student,
                              themed, watched)

RULES = {"sgd": "SGD", "sgd_momentum": "momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad",
         "rmsprop": "RMSProp", "adam": "Adam"}  # rule name -> label
LBFGS = "lbfgs"  # the key of L-BFGS among the rules
ADAPTIVE = ("adagrad", "rmsprop", "adam")  # these take the "adaptive" learning rate
SURFACES = {"ill-conditioned quadratic": "quadratic", "Rosenbrock": "rosenbrock", "saddle": "saddle",
            "several minima": "several_minima"}
MAX_STEPS = 500
CACHED_RUNS = 64
START_STEP = 0.01  # the start sliders' step
STUDENT_RACE_LIMIT = 5.0  # seconds a race with students' rules may take
LEVELS = 14
LOG_STEP = 0.001  # the learning-rate and condition sliders' step in log10: fine, so Goh's optimum sits on the grid
LOSS_LIMITS = {"quadratic": (1e-10, 1e5), "rosenbrock": (1e-10, 1e5), "saddle": (1e-4, 1e7),
               "himmelblau": (1e-10, 1e4)}  # surface name -> the range of f - f* shown (f(x0) - f on the saddle)


def on_log_grid(value: float, round_=np.round) -> float:
    """``value`` moved onto the grid of a log slider with step LOG_STEP (``round_``: np.round, or np.floor to stay
    below): the browser snaps a slider to its steps, so every value the explorer sets lies on them already."""
    return float(10 ** (round_(np.log10(value) / LOG_STEP) * LOG_STEP))


def _optimum(condition: float) -> dict:
    """Control values for heavy-ball momentum at its best on the quadratic with eigenvalues 1 and ``condition``, on
    the sliders' grids: of the grid points around Goh's optimum, the one with the smallest rate."""
    theory = quadratic_theory(np.diag([1.0, condition]))
    rates = [on_log_grid(theory.momentum_learning_rate, r) for r in (np.floor, np.ceil)]
    momenta = [np.floor(theory.momentum * 1000) / 1000, np.ceil(theory.momentum * 1000) / 1000]
    lr, mu = min(((lr, mu) for lr in rates for mu in momenta),
                 key=lambda setting: momentum_rate(*setting, [1.0, condition]))
    return dict(learning_rate=lr, momentum=float(mu))


def _showing(*keys) -> dict:
    """Checkbox values showing only the rules ``keys``."""
    return {key: key in keys for key in [*RULES, LBFGS]}


_QUADRATIC = dict(surface="ill-conditioned quadratic", noise=0.0, steps=200, x0=-3.5, y0=2.0)
DECAY_RATE = 0.9  # RMSProp's decay in the explorer (Hinton's value): its first step is lr / sqrt(1 - decay_rate)
_ALL = _showing(*RULES, LBFGS)
PRESETS = {
    "SGD zig-zags across a narrow valley": dict(
        _QUADRATIC, condition=on_log_grid(50), angle=30.0, learning_rate=on_log_grid(0.038), momentum=0.9,
        **_showing("sgd", "sgd_momentum")),
    "momentum at its optimal values": dict(
        _QUADRATIC, condition=100.0, angle=0.0, **_optimum(100.0), **_showing("sgd", "sgd_momentum")),
    "a learning rate too high diverges": dict(
        _QUADRATIC, condition=10.0, angle=0.0, learning_rate=on_log_grid(0.25), adaptive_learning_rate=0.1,
        momentum=0.9, beta1=0.9, beta2=0.999, decay_rate=DECAY_RATE, **_ALL),
    "minibatch noise": dict(
        _QUADRATIC, condition=10.0, angle=0.0, learning_rate=on_log_grid(0.05), adaptive_learning_rate=0.1,
        momentum=0.9, beta1=0.9, beta2=0.999, noise=0.1, **_showing("sgd", "sgd_momentum", "adam")),
    "Rosenbrock's curved valley": dict(
        surface="Rosenbrock", x0=-1.5, y0=2.5, learning_rate=1e-3, adaptive_learning_rate=0.1, momentum=0.9,
        beta1=0.9, beta2=0.999, decay_rate=DECAY_RATE, noise=0.0, steps=500, **_ALL),
    # RMSProp is left out: without bias correction its first step, lr / sqrt(1 - decay_rate) per coordinate, is
    # 3.2 times the rate at 0.9, a head start off the ridge that says nothing about saddles (Adam's steps are lr)
    "escaping a saddle": dict(
        surface="saddle", x0=-1.5, y0=0.01, learning_rate=on_log_grid(0.05), adaptive_learning_rate=on_log_grid(0.05),
        momentum=0.9, beta1=0.9, beta2=0.999, noise=0.0, steps=100,
        **_showing("sgd", "sgd_momentum", "nesterov", "adagrad", "adam", LBFGS)),
}


def reference_rule(label: str, rule) -> str | None:
    """The name of the update rule a student's function stands for: its __name__ (adam -> adam), else a rule named
    in the label ("my momentum" -> sgd_momentum); None for a rule of the student's own."""
    name = getattr(rule, "__name__", "")
    if name in RULES:
        return name
    words = " " + label.lower().replace("_", " ").replace("-", " ") + " "
    for name, word in (("nesterov", "nesterov"), ("sgd_momentum", "momentum"), ("adagrad", "adagrad"),
                       ("rmsprop", "rmsprop"), ("adam", "adam"), ("sgd", "sgd")):
        if f" {word} " in words:
            return name
    return None


@functools.lru_cache(maxsize=16)
def _surface(name: str, condition: float, angle: float) -> surfaces.Surface:
    if name == "quadratic":
        return surfaces.quadratic(condition, angle)
    return surfaces.SURFACES[name]()


@functools.lru_cache(maxsize=16)
def _contours(surface: surfaces.Surface) -> list:
    """Contour lines of ``surface`` over its window, as a list of (n, 2) arrays: levels spaced geometrically in
    f - f* (in |f| on both sides for a surface without a minimum). The quadratic's are exact ellipses."""
    (x0, x1), (y0, y1) = surface.bounds
    x, y = np.linspace(x0, x1, 100), np.linspace(y0, y1, 100)
    z = surface.f(*np.meshgrid(x, y))
    if not surface.minima.size:
        high = np.quantile(np.abs(z), 0.95)
        levels = np.concatenate([-np.geomspace(high / 300, high, LEVELS // 2), np.geomspace(high / 300, high,
                                                                                             LEVELS // 2)])
    else:
        floor = _floor(surface)
        levels = floor + np.geomspace(*np.quantile(z - floor, [0.005, 0.9]), LEVELS)
    if surface.name == "quadratic":  # f = 1/2 p^T A p = c on p = sqrt(2c) V diag(1/sqrt(lambda)) (cos t, sin t)
        eigenvalues, vectors = np.linalg.eigh(surface.hessian(np.zeros(2)))
        circle = np.stack([np.cos(t := np.linspace(0, 2 * np.pi, 120)), np.sin(t)])
        ellipse = (vectors @ (circle / np.sqrt(eigenvalues)[:, None])).T
        return [np.sqrt(2 * c) * ellipse for c in levels]
    generator = contourpy.contour_generator(x, y, z)
    return [line for level in levels for line in generator.lines(level)]


def _floor(surface: surfaces.Surface) -> float:
    """f* over the known minima (0 on every surface of course.surfaces that has one)."""
    return min(surface.value(m) for m in surface.minima)


class OptimizerRace(Explorer):
    """Trajectories of the update rules (and L-BFGS) from one start across a 2-D surface, drawn over its contour
    lines, and f(x) - f* per step on a log axis (on the saddle, which has no minimum, f(x0) - f(x): how far down).

    The rules run in lockstep (course.surfaces.race): SGD, momentum and Nesterov take ``learning_rate`` (and
    ``momentum``); AdaGrad, RMSProp and Adam take ``adaptive_learning_rate`` (their step is about that size whatever
    the gradient's scale, so one rate cannot serve both families); Adam takes ``beta1`` and ``beta2``, RMSProp its
    own ``decay_rate`` (0.9 by default, Hinton's value: RMSProp has no bias correction, so its first step is
    lr / sqrt(1 - decay_rate) per coordinate, 3.2 lr at 0.9 and 31.6 lr at 0.999, and tied to Adam's beta2 = 0.999
    it would leap out of the window); epsilon is 1e-8. Every rule gets the same gradient noise, ``noise`` times the
    surface's typical gradient (course.experiments.gradient_scale). A rule that diverges is stopped, and the message
    line under the plots says "Adam diverged at step k"; the others go on. On a surface without a minimum (the
    saddle) leaving the window is an escape, not a failure: the message line says "escaped (left the window) at
    step k". On the quadratic, the readout compares the rates theory predicts for gradient descent and heavy-ball
    momentum at the current settings (course.experiments.gd_rate, momentum_rate) with the rates measured on their
    paths (measured_rate), dashed lines show the predicted decay (without noise), and two buttons set the optimal
    values (quadratic_theory). L-BFGS uses exact gradients and no learning rate: one point per iteration.

    Controls: ``controls["surface"]``, ``["condition"]``, ``["angle"]`` (the quadratic's), ``["learning_rate"]``,
    ``["adaptive_learning_rate"]``, ``["momentum"]``, ``["beta1"]``, ``["beta2"]``, ``["decay_rate"]``,
    ``["steps"]``, ``["noise"]``, ``["x0"]``, ``["y0"]`` (the start; a click on the contour plot sets it too) and one
    checkbox per rule, keyed like ``keys`` ("sgd", ..., "adam", then a student's own rules by label, then "lbfgs").
    Buttons: ``gd_button``, ``momentum_button``. Artists: ``paths`` and ``curves`` (one LineCollection each, a segment
    per key, empty when hidden), ``contours`` (LineCollection), ``start_mark``, ``theory_lines`` ("gd", "momentum" ->
    Line2D, drawn without noise). ``runs`` maps each shown key to its course.surfaces.Trajectory.
    """

    def __init__(self, rules: dict | None = None, surface: str = "ill-conditioned quadratic", condition: float = 10.0,
                 angle: float = 0.0, learning_rate: float = on_log_grid(0.05), adaptive_learning_rate: float = 0.1,
                 momentum: float = 0.9, beta1: float = 0.9, beta2: float = 0.999, decay_rate: float = DECAY_RATE,
                 steps: int = 200, noise: float = 0.0, scale: float = 1.0):
        if surface not in SURFACES:
            raise ValueError(f"surface must be one of {list(SURFACES)}; got {surface!r}")
        self.entries = {name: name for name in RULES}  # key -> rule name (None: a rule of the student's own)
        self.labels = dict(RULES)  # key -> label
        self.choices = {label: Choice(label, (getattr(optim, name),), "") for name, label in RULES.items()}
        for label, rule in (rules or {}).items():
            self._add_student_rule(label, rule)
        self.labels[LBFGS] = "L-BFGS"
        self.keys = list(self.labels)
        start = _surface(SURFACES[surface], condition, angle).start
        slider = dict(continuous_update=True, readout_format=".3g")
        controls = {
            "surface": W.Dropdown(options=list(SURFACES), value=surface, description="surface"),
            "condition": W.FloatLogSlider(value=condition, min=0, max=3, step=LOG_STEP,
                                          description="condition number", **slider),
            "angle": W.FloatSlider(value=angle, min=0, max=90, step=5, description="rotation (degrees)", **slider),
            "learning_rate": W.FloatLogSlider(value=learning_rate, min=-4, max=1, step=LOG_STEP,
                                              description="learning rate (SGD, momentum, Nesterov)", **slider),
            "adaptive_learning_rate": W.FloatLogSlider(value=adaptive_learning_rate, min=-4, max=1, step=LOG_STEP,
                                                       description="learning rate (AdaGrad, RMSProp, Adam)", **slider),
            "momentum": W.FloatSlider(value=momentum, min=0, max=0.99, step=0.001, readout_format=".3f",
                                      description="momentum"),
            "beta1": W.FloatSlider(value=beta1, min=0, max=0.99, step=0.01, description="beta1 (Adam)", **slider),
            "beta2": W.FloatSlider(value=beta2, min=0.5, max=0.999, step=0.001, readout_format=".3f",
                                   description="beta2 (Adam)"),
            "decay_rate": W.FloatSlider(value=decay_rate, min=0.5, max=0.999, step=0.001, readout_format=".3f",
                                        description="decay (RMSProp)"),
            "steps": W.IntSlider(value=steps, min=10, max=MAX_STEPS, step=10, description="steps"),
            "noise": W.FloatSlider(value=noise, min=0, max=0.5, step=0.01, description="gradient noise", **slider),
            "x0": W.FloatSlider(value=start[0], min=-100, max=100, description="start x", **slider),
            "y0": W.FloatSlider(value=start[1], min=-100, max=100, description="start y", **slider),
        }
        for key, label in self.labels.items():  # after the sliders: hiding every rule leaves them nothing to show
            controls[key] = W.Checkbox(value=True, description=label, indent=False, layout=W.Layout(width="auto"))
        self.gd_button = W.Button(description="GD optimum", tooltip="learning rate 2 / (lambda_min + lambda_max)")
        self.momentum_button = W.Button(description="momentum optimum",
                                        tooltip="Goh's optimal learning rate and momentum (Distill 2017)")
        self.gd_button.on_click(lambda _: self.on_owner_thread(self.safely(self.set_gd_optimum))())
        self.momentum_button.on_click(lambda _: self.on_owner_thread(self.safely(self.set_momentum_optimum))())

        fig, (ax_path, ax_loss) = new_figure(ncols=2, figsize=(8, 4), scale=scale)
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.15, top=0.84, wspace=0.22)
        super().__init__(fig, controls, PRESETS)
        self.ax_path, self.ax_loss = ax_path, ax_loss
        colors = [f"C{i}" for i in range(len(self.keys))]
        self.contours = LineCollection([], colors="grey", linewidths=0.7, alpha=0.5)
        self.paths = LineCollection([np.empty((0, 2))] * len(self.keys), colors=colors, linewidths=1.3, zorder=3)
        self.curves = LineCollection([np.empty((0, 2))] * len(self.keys), colors=colors, linewidths=1.3)
        ax_path.add_collection(self.contours)
        ax_path.add_collection(self.paths)
        ax_loss.add_collection(self.curves)
        self.minima_marks, = ax_path.plot([], [], "x", color="grey", ms=6)
        self.start_mark, = ax_path.plot([], [], "o", color="grey", ms=5, zorder=4)
        self.theory_lines = {name: ax_loss.plot([], [], "--", color=colors[self.keys.index(key)], lw=1)[0]
                             for name, key in (("gd", "sgd"), ("momentum", "sgd_momentum"))}
        ax_path.set_aspect("equal", adjustable="box")
        ax_loss.set_yscale("log")
        ax_loss.set_xlabel("step", fontsize=8)
        handles = [Line2D([], [], color=color, lw=1.3, label=self.labels[key]) for key, color in zip(self.keys, colors)]
        handles += [Line2D([], [], color="grey", ls="--", lw=1, label="theory (quadratic)")]
        ax_loss.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=7, frameon=False,
                       ncol=4, handlelength=1.5, columnspacing=1)
        light_axes(ax_path, ax_loss)
        self.animate(self.contours, self.paths, self.curves, self.minima_marks, self.start_mark,
                     *self.theory_lines.values())

        self.runs: dict = {}
        self._cache = RecentRuns(CACHED_RUNS)
        self._shown_surface = None
        self._set_start_range(_surface(SURFACES[surface], condition, angle))
        controls["surface"].observe(self.on_owner_thread(self.safely(self._surface_changed)), names="value")
        self.connect("button_press_event", self.on_click)
        self.observe(self.update)
        self.safely(self.update)()

    # --- rules ----------------------------------------------------------------------------------------------------
    def _add_student_rule(self, label: str, rule) -> None:
        if not callable(rule):
            raise TypeError(f"rules[{label!r}] must be an update rule next_w, config = rule(w, dw, config); "
                            f"got {type(rule).__name__}")
        name = reference_rule(label, rule)
        if name is None:  # a rule of the student's own: no check, it races with the learning rate alone
            key = label
            self.choices[label] = Choice(label, (watched(rule, label),), "")
        else:
            key = name
            result = getattr(checks, f"check_{name}").evaluate(rule)
            del self.choices[self.labels[name]]
            self.choices[label] = prefer_student(label, (rule,), (getattr(optim, name),), name, result)
        self.entries[key] = name
        self.labels[key] = label

    def _config(self, key: str, c: dict) -> dict:
        name = self.entries[key]
        if name is None:
            return {"learning_rate": c["learning_rate"]}
        settings = {"learning_rate": c["adaptive_learning_rate"] if name in ADAPTIVE else c["learning_rate"],
                    "momentum": c["momentum"], "beta1": c["beta1"], "beta2": c["beta2"], "decay_rate": c["decay_rate"]}
        return {key: settings.get(key, default) for key, default in optim.DEFAULTS[name].items()}

    def _rule(self, key: str):
        """The function racing under ``key``: a reference rule through course.optim.unchecked (several times faster;
        the controls keep every setting valid), a student's rule as written (the race as a whole is guarded)."""
        rule = self.choices[self.labels[key]].funcs[0]
        return rule.student if hasattr(rule, "student") else optim.unchecked(self.entries[key])

    def _race(self, keys: list, surface, start, steps: int, configs: list, noise) -> list:
        """course.surfaces.race of the rules under ``keys``. Students' rules run as student code, guarded once for
        the whole race (not once per step); one that raises, or returns NaN or inf for a finite point and gradient
        (0/0 where a gradient component is exactly 0, say), is named, and the explorer falls back for it."""
        rules = [(self._rule(key), config) for key, config in zip(keys, configs)]
        students = [key for key in keys if hasattr(self.choices[self.labels[key]].funcs[0], "student")]
        if not students:
            return surfaces.race(rules, surface, start, steps, gradient_noise=noise)
        try:
            with guarded("your update rules", STUDENT_RACE_LIMIT):
                return surfaces.race(rules, surface, start, steps, gradient_noise=noise)
        except surfaces.RuleFailed as failure:
            key, cause = keys[failure.index], failure.__cause__
            if key not in students:  # a reference rule: a bug of the course, shown as an error
                raise
            name = getattr(rules[failure.index][0], "__name__", "your rule")
            why = str(cause) if isinstance(cause, optim.NonFiniteStep) else \
                f"{name} raised {type(cause).__name__}: {cause}"
            raise StudentCodeError(self.labels[key], why) from None
        except StudentCodeStopped as exc:
            raise StudentCodeError(self.labels[students[0]], str(exc)) from None

    # --- controls -------------------------------------------------------------------------------------------------
    def _surface_of(self, c: dict) -> surfaces.Surface:
        return _surface(SURFACES[c["surface"]], c["condition"], c["angle"])

    def _set_start_range(self, surface) -> None:
        """The start sliders span the surface's window (their values are clamped into it)."""
        for control, (low, high) in zip((self.controls["x0"], self.controls["y0"]), surface.bounds):
            control.min, control.max = min(low, control.min), max(high, control.max)  # never empty on the way
            control.min, control.max, control.step = low, high, START_STEP

    def _surface_changed(self, change) -> None:
        """A new surface: the start sliders take its window and its instructive start (one update, at the end)."""
        surface = _surface(SURFACES[change["new"]], self.controls["condition"].value, self.controls["angle"].value)
        with self.holding():  # a preset updates once, at its end
            self._set_start_range(surface)
            self.controls["x0"].value, self.controls["y0"].value = surface.start

    def on_click(self, event) -> None:
        """A click on the contour plot moves the start there (to the start sliders' grid)."""
        if event.inaxes is self.ax_path and event.xdata is not None and event.ydata is not None:
            with self.holding():
                for key, value in (("x0", event.xdata), ("y0", event.ydata)):
                    control = self.controls[key]
                    control.value = control.min + round((value - control.min) / START_STEP) * START_STEP

    def _theory(self) -> QuadraticTheory:
        return quadratic_theory(self._surface_of(self.settings).hessian(np.zeros(2)))

    def set_gd_optimum(self) -> None:
        """Set the learning rate to gradient descent's best on the quadratic, 2 / (lambda_min + lambda_max), on the
        slider's grid just below it (just above, near 2 / lambda_max, gradient descent would diverge)."""
        self.controls["learning_rate"].value = on_log_grid(self._theory().gd_learning_rate, np.floor)

    def set_momentum_optimum(self) -> None:
        """Set the learning rate and momentum to heavy-ball momentum's best on the quadratic (Goh 2017), on the
        sliders' grids."""
        with self.holding():
            for key, value in _optimum(self._theory().condition).items():
                self.controls[key].value = value

    def controls_box(self) -> W.Box:
        c = self.controls
        row = functools.partial(W.HBox, layout=W.Layout(flex_flow="row wrap"))
        return W.VBox([
            row([c["surface"], c["condition"], c["angle"]]),
            row([W.Label("rules:"), *(c[key] for key in self.keys)]),
            row([c["learning_rate"], c["adaptive_learning_rate"], c["momentum"]]),
            row([c["beta1"], c["beta2"], c["decay_rate"], c["steps"], c["noise"]]),
            row([c["x0"], c["y0"], self.gd_button, self.momentum_button]),
        ])

    # --- the race -------------------------------------------------------------------------------------------------
    def update(self) -> None:
        c = self.settings
        surface = self._surface_of(c)
        for control in (self.controls["condition"], self.controls["angle"], self.gd_button, self.momentum_button):
            control.disabled = surface.name != "quadratic"
        if surface is not self._shown_surface:
            self._show_surface(surface, c["surface"])
        start, steps = np.array([c["x0"], c["y0"]]), c["steps"]
        place = (surface, c["x0"], c["y0"], steps)
        shown = [key for key in self.keys if key != LBFGS and c[key] and self.choices[self.labels[key]].funcs]
        configs = {key: self._config(key, c) for key in shown}
        cache_keys = {key: (self.choices[self.labels[key]].funcs, key, *place, c["noise"],
                            tuple(configs[key].items())) for key in shown}
        missing = [key for key in shown if cache_keys[key] not in self._cache]
        if missing:
            noise = gradient_noise(steps, c["noise"] * gradient_scale(surface))
            runs = self._race(missing, surface, start, steps, [configs[key] for key in missing], noise)
            for key, run in zip(missing, runs):
                self._cache.keep(cache_keys[key], run)
        self.runs = {key: self._cache[cache_keys[key]] for key in shown}
        if c[LBFGS]:
            self.runs[LBFGS] = self._cache.fetch((LBFGS, *place), lambda: lbfgs_trajectory(surface, start, steps))
        self._draw_runs(surface, start, steps)
        self.show_readout(self._theory_line(surface, start, c) + self._finish_line(surface))
        self.show_note(self._notes())
        self.redraw()

    def _show_surface(self, surface, title: str) -> None:
        self.contours.set_segments(_contours(surface))
        self.minima_marks.set_data(surface.minima[:, 0], surface.minima[:, 1])
        self.set_limits(self.ax_path, *surface.bounds)
        self.set_limits(self.ax_loss, ylim=LOSS_LIMITS[surface.name])
        if self.ax_path.get_title() != title:
            self.ax_path.set_title(title, fontsize=9)
            self.ax_loss.set_ylabel("f(x) - f*" if surface.minima.size else "f(x0) - f(x): how far down", fontsize=8)
            self.invalidate()  # the title and label are part of the static layer: draw it again
        self._shown_surface = surface

    def _draw_runs(self, surface, start, steps: int) -> None:
        self.set_limits(self.ax_loss, xlim=(0, steps))
        self.start_mark.set_data([start[0]], [start[1]])
        empty = np.empty((0, 2))
        paths, curves = [], []
        for key in self.keys:
            path = self.runs[key].path if key in self.runs else empty
            progress = _progress(surface, path)
            paths.append(path)
            curves.append(np.column_stack([np.arange(len(path)), np.where(progress > 0, progress, np.nan)]))
        self.paths.set_segments(paths)
        self.curves.set_segments(curves)
        self.show_message(self._divergences(surface))

    def _divergences(self, surface) -> str:
        """"SGD diverged at step 19", or for several "diverged at step: SGD 3 · Nesterov 7" (short: on the plot,
        text is the slowest thing to draw). On a surface without a minimum, where leaving is success, "SGD escaped
        (left the window) at step 49" or "escaped (left the window) at step: SGD 49 · Adam 21"."""
        if surface.minima.size:
            what = "diverged at step"
            ended = [(self.labels[key], int(run.status.split()[-1])) for key, run in self.runs.items() if run.diverged]
        else:
            what = "escaped (left the window) at step"
            ended = [(self.labels[key], k) for key, run in self.runs.items()
                     if (k := _left_window(surface, run)) is not None]
        if len(ended) == 1:
            return f"{ended[0][0]} {what} {ended[0][1]}"
        return f"{what}: " + " · ".join(f"{label} {k}" for label, k in ended) if ended else ""

    def path_of(self, key: str) -> np.ndarray:
        """The path drawn for ``key`` (K + 1, 2); empty when the rule is hidden."""
        return self.paths.get_segments()[self.keys.index(key)]

    def curve_of(self, key: str) -> np.ndarray:
        """The f - f* curve drawn for ``key``: (K + 1, 2) rows (step, value)."""
        return self.curves.get_segments()[self.keys.index(key)]

    def _theory_line(self, surface, start, c: dict) -> str:
        """On the quadratic: the predicted decay of GD and momentum at the current settings (dashed lines) and the
        readout of the optimal values and of predicted against measured rates; elsewhere nothing."""
        for line in self.theory_lines.values():
            line.set_data([], [])
        if surface.name != "quadratic":
            return ""
        hessian = surface.hessian(start)
        theory, eigenvalues = quadratic_theory(hessian), np.linalg.eigvalsh(hessian)
        lr, mu = c["learning_rate"], c["momentum"]
        predicted = {"gd": gd_rate(lr, eigenvalues), "momentum": momentum_rate(lr, mu, eigenvalues)}
        measured = {}
        for name, key in (("gd", "sgd"), ("momentum", "sgd_momentum")):
            run = self.runs.get(key)
            if run is not None and not c["noise"]:  # the theory is that of exact gradients
                k = np.arange(c["steps"] + 1)
                with np.errstate(all="ignore"):
                    self.theory_lines[name].set_data(k, surface.value(start) * predicted[name] ** (2 * k))
            measured[name] = ("(hidden)" if run is None else "diverged" if run.diverged else
                              f"{measured_rate(run.path, np.zeros(2)):.3g}" + (" (noisy)" if c["noise"] else ""))
        return (f"&kappa; = <b>{theory.condition:.3g}</b>. &nbsp;<b>GD</b>: best learning rate "
                f"2/(&lambda;<sub>min</sub>+&lambda;<sub>max</sub>) = {theory.gd_learning_rate:.3g}, best rate "
                f"(&kappa;&minus;1)/(&kappa;+1) = {theory.gd_rate:.3g}; at yours, rate predicted "
                f"<b>{predicted['gd']:.3g}</b>, measured <b>{measured['gd']}</b><br><b>momentum</b>: best learning "
                f"rate (2/(&radic;&lambda;<sub>max</sub>+&radic;&lambda;<sub>min</sub>))<sup>2</sup> = "
                f"{theory.momentum_learning_rate:.3g}, momentum ((&radic;&kappa;&minus;1)/(&radic;&kappa;+1))"
                f"<sup>2</sup> = {theory.momentum:.3g}, best rate {theory.momentum_rate:.3g}; at yours, rate "
                f"predicted <b>{predicted['momentum']:.3g}</b>, measured <b>{measured['momentum']}</b><br>")

    def _finish_line(self, surface) -> str:
        """Where each rule ended: f - f* (or its divergence), and on several minima next to which minimum; on a
        surface without a minimum, f(x0) - f(x) or the step at which it escaped from the window."""
        parts = []
        for key, run in self.runs.items():
            escaped = None if surface.minima.size else _left_window(surface, run)
            if escaped is not None or run.diverged:
                parts.append(f"{self.labels[key]} " + (run.status if escaped is None else f"escaped at step {escaped}"))
                continue
            end = run.path[-1]
            nearest = min(surface.minima, key=lambda m: np.linalg.norm(m - end), default=None)
            near = (f" at ({nearest[0]:.2g}, {nearest[1]:.2g})" if len(surface.minima) > 1
                    and np.linalg.norm(nearest - end) < 0.1 else "")
            parts.append(f"{self.labels[key]} <b>{_progress(surface, run.path)[-1]:.2g}</b>{near}")
        what = "f &minus; f*" if surface.minima.size else "f(x<sub>0</sub>) &minus; f(x)"
        return f"{what} at the end: " + " &nbsp;&middot;&nbsp; ".join(parts) if parts else "no rule shown"

    def _notes(self) -> str:
        """One line per reason some students' rules are replaced by the reference (or, without one, left out)."""
        reasons: dict = {}
        for label, choice in self.choices.items():
            if choice.note:
                what = "the reference runs in place of yours" if choice.funcs else "not shown"
                reasons.setdefault((what, choice.note.split(" -- yours ", 1)[-1]), []).append(label)
        return "\n".join(f"{', '.join(labels)}: {what} -- yours {why}" for (what, why), labels in reasons.items())


def _left_window(surface, run) -> int | None:
    """The first step after which ``run`` (a Trajectory) lies outside the surface's window: the first point of its
    path outside, or the step at which it diverged (left for far beyond the window); None while it stays inside."""
    (x0, x1), (y0, y1) = surface.bounds
    x, y = run.path.T
    outside = np.flatnonzero((x < x0) | (x > x1) | (y < y0) | (y > y1))
    if outside.size:
        return int(outside[0])
    return int(run.status.split()[-1]) if run.diverged else None


def _progress(surface, path) -> np.ndarray:
    """f - f* along a path (K, 2); on a surface without a minimum, f(x0) - f(x)."""
    with np.errstate(all="ignore"):
        values = surface.f(path[:, 0], path[:, 1])
    return values - _floor(surface) if surface.minima.size else values[0] - values if len(values) else values


@themed
def optimizer_race(rules: dict | None = None, **options) -> OptimizerRace:
    """Build the optimizer race; it displays itself as the last expression of a cell.

    ``rules`` maps labels to your update rules, ``{"my adam": adam, "my momentum": sgd_momentum}``, each
    ``next_w, config = rule(w, dw, config)``. A rule standing for one of the six (by its name, adam -> adam, or by
    the label) takes that rule's place in the race once it passes its check in course.checks; until then the
    reference runs under your label, with a note on the figure. Any other rule races too, with the first learning
    rate alone. A rule that fails while racing (raises, or returns NaN or inf for finite input) is replaced by the
    reference, or left out, with a note naming it. ``options``: surface, condition, angle, learning_rate,
    adaptive_learning_rate, momentum, beta1, beta2, decay_rate, steps, noise, scale (see :class:`OptimizerRace`).
    """
    return OptimizerRace(rules, **options)
