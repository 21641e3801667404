"""Gradient-check explorer: the relative error of centred and one-sided finite differences against the step h, on a
log-log plot, for a smooth function and for one with a kink near the point, computed in float64 and in float32.
Truncation error falls with h, round-off error rises as h shrinks, and a kink closer than h spoils everything."""
from __future__ import annotations

import ipywidgets as W
import numpy as np

from course import checks
from course.experiments import best_step, difference_errors, kinked_exp, round_off_guide, truncation_guides
from widgets.explorer import Explorer, light_axes, new_figure, prefer_student, themed

STEPS = np.logspace(-16, 0, 161)  # 10 steps a decade
STUDENT_STEPS = STEPS[(STEPS >= 1e-12)][::4]  # where a student's grad_check_sparse is run (x0 + h != x0 there)
X0 = 1.0
FLOOR = 1e-15  # relative errors below this (exact by luck) are drawn at it, on the log axis
THRESHOLDS = ((1e-7, "< 1e-7: right"), (1e-4, "< 1e-4: fine near kinks"), (1e-2, "> 1e-2: wrong"))  # the notes
FUNCTIONS = {"smooth: e^x": False, "with a kink: e^x + 2 max(0, x - x0 - d)": True}
CURVES = (("centred", "float64", "C0", "-"), ("one-sided", "float64", "C1", "-"),
          ("centred", "float32", "C0", "--"), ("one-sided", "float32", "C1", "--"))
STUDENT_LABEL = "your grad_check_sparse"
SMOOTH, KINK = FUNCTIONS
PRESETS = {
    "smooth at the course's h = 1e-5": dict(function=SMOOTH, step=1e-5),
    "one-sided at its best h = 1e-8": dict(function=SMOOTH, step=1e-8),
    "float32: no h reaches 1e-7": dict(function=SMOOTH, step=10 ** -2.5),  # on the slider's grid
    "a kink 1e-4 away, h = 1e-3": dict(function=KINK, kink_distance=1e-4, step=1e-3),
    "a kink 1e-4 away, h = 1e-5": dict(function=KINK, kink_distance=1e-4, step=1e-5),
}


class GradcheckExplorer(Explorer):
    """Relative error |a - n| / (|a| + |n|) of the estimates n of f'(x0) at x0 = 1 against the step h
    (course.experiments.difference_errors): centred (f(x0 + h) - f(x0 - h)) / 2h and one-sided
    (f(x0 + h) - f(x0)) / h, each in float64 and in float32, for f(x) = e^x or for e^x with a kink at x0 + d.

    Controls: ``controls["function"]`` (a key of FUNCTIONS), ``["step"]`` (the h marked on the plot, whose errors
    the readout gives), ``["kink_distance"]`` (d; disabled for the smooth function), ``["guides"]`` (the theory
    lines). Artists: ``curves`` (name -> Line2D, names like "centred, float64"), ``best_marks`` (the
    smallest error of each curve), ``step_line``, ``kink_line``, ``guides`` (Line2D list), ``student_dots``
    (your grad_check_sparse's errors, when given and passing its check).
    """

    def __init__(self, grad_check_sparse=None, function: str = SMOOTH, kink_distance: float = 1e-4,
                 step: float = 1e-5, guides: bool = True, scale: float = 1.0):
        self.choices = {}
        if grad_check_sparse is not None:
            self.choices[STUDENT_LABEL] = prefer_student(
                STUDENT_LABEL, (grad_check_sparse,), None, "",
                checks.check_grad_check_sparse.evaluate(grad_check_sparse))
        log_slider = dict(base=10, readout_format=".0e")
        controls = {
            "function": W.Dropdown(options=list(FUNCTIONS), value=function, description="function"),
            "step": W.FloatLogSlider(value=step, min=-14, max=0, step=0.1, description="step h", **log_slider),
            "kink_distance": W.FloatLogSlider(value=kink_distance, min=-10, max=-1, step=0.1,
                                              description="kink at distance d", **log_slider),
            "guides": W.Checkbox(value=guides, description="theory: truncation and round-off"),
        }
        fig, ax = new_figure(figsize=(8, 4.2), scale=scale)
        fig.subplots_adjust(left=0.09, right=0.75, bottom=0.14, top=0.86)
        super().__init__(fig, controls, PRESETS)

        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlim(STEPS[0], STEPS[-1])
        ax.set_ylim(FLOOR / 2, 3)
        ax.set_xlabel("step h", fontsize=8)
        ax.set_ylabel("relative error of the estimate of f'(1)", fontsize=8)
        ax.set_title("estimating f'(1) by finite differences: the error against the step h", fontsize=9)
        for level, label in THRESHOLDS:
            ax.axhline(level, color="grey", lw=0.7, ls=":")
            ax.text(1.01, level, label, transform=ax.get_yaxis_transform(), fontsize=7, color="grey", va="center")
        guide = dict(color="grey", lw=0.8, ls=(0, (4, 3)), alpha=0.8)
        truncation = truncation_guides(STEPS)
        round_off = [round_off_guide(STEPS, dtype, one_sided) for dtype in (np.float64, np.float32)
                     for one_sided in (False, True)]
        self.guides = [ax.plot(STEPS, line, **guide)[0]
                       for line in (truncation["centred"], truncation["one-sided"], *round_off)]
        self.curves = {f"{kind}, {dtype}": ax.plot(STEPS, np.ones_like(STEPS), color=color, ls=ls, lw=1.4,
                                                   label=f"{kind}, {dtype}")[0]
                       for kind, dtype, color, ls in CURVES}
        self.best_marks = ax.scatter(np.ones(4), np.ones(4), s=45, marker="D", c=[c for *_, c, _ in CURVES],
                                     edgecolors="grey", zorder=4, label="smallest error")
        self.student_dots, = ax.plot([], [], "o", color="C2", ms=4,
                                     label=STUDENT_LABEL if self.choices else "_nolegend_")
        self.step_line = ax.axvline(step, color="C3", lw=1.0)
        self.kink_line = ax.axvline(kink_distance, color="grey", lw=1.2, ls="-.")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 0.47), fontsize=7, frameon=False)
        light_axes(ax, nbins=9)
        self.animate(*self.guides, *self.curves.values(), self.best_marks, self.student_dots, self.step_line,
                     self.kink_line)
        self._computed = None  # ((function, d), errors per curve, student errors)
        self.observe(self.update)
        self.safely(self.update)()

    def update(self) -> None:
        c = self.settings
        kinked = FUNCTIONS[c["function"]]
        self.controls["kink_distance"].disabled = not kinked
        distance = c["kink_distance"] if kinked else None
        key = (c["function"], distance)
        if self._computed is None or self._computed[0] != key:
            by_dtype = {dtype: difference_errors(STEPS, dtype, distance, X0) for dtype in ("float64", "float32")}
            errors = {f"{kind}, {dtype}": by_dtype[dtype][kind] for kind, dtype, _, _ in CURVES}
            self._computed = (key, errors, self._student_errors(distance))
        _, errors, student = self._computed
        for name, line in self.curves.items():
            line.set_ydata(np.maximum(errors[name], FLOOR))
        best = [best_step(STEPS, errors[name]) for name in self.curves]
        self.best_marks.set_offsets([(h, max(e, FLOOR)) for h, e in best])
        self.student_dots.set_data(*((STUDENT_STEPS, np.maximum(student, FLOOR)) if student is not None
                                     else ([], [])))
        self.show_choice_notes(STUDENT_LABEL)
        for line in self.guides:
            line.set_visible(c["guides"])
        self.step_line.set_xdata([c["step"]] * 2)
        self.kink_line.set_xdata([c["kink_distance"]] * 2)
        self.kink_line.set_visible(kinked)

        i = int(np.argmin(np.abs(np.log(STEPS / c["step"]))))
        at_step = ", ".join(f"{name} <b>{errors[name][i]:.1e}</b>" for name in self.curves)
        smallest = ", ".join(f"{name} {h:.0e}" for name, (h, _) in zip(self.curves, best))
        self.show_readout(f"at h = {STEPS[i]:.0e}: {at_step}<br>smallest error at h = {smallest}")
        self.show_message(self._verdict(c, kinked))
        self.redraw()

    def _student_errors(self, distance):
        """The relative errors of the student's grad_check_sparse at STUDENT_STEPS (one coordinate, x = [x0]), or
        None when it is not given or not used (a failure while running falls back: the note says so)."""
        choice = self.choices.get(STUDENT_LABEL)
        if choice is None or choice.funcs is None:
            return None
        grad_check_sparse, = choice.funcs
        kink = np.inf if distance is None else X0 + distance
        analytic = np.array([np.exp(X0)])
        rng = np.random.default_rng(0)
        return np.array([grad_check_sparse(lambda v: float(kinked_exp(v, kink)[0]), np.array([X0]), analytic,
                                           num_checks=1, h=float(h), rng=rng)[2][0] for h in STUDENT_STEPS])

    @staticmethod
    def _verdict(c: dict, kinked: bool) -> str:
        h = c["step"]
        if kinked and h > c["kink_distance"]:
            return "h > d: the differences straddle the kink"
        if h < float(np.spacing(np.float32(X0))) / 2:
            return "float32: 1 + h rounds to 1, the difference is 0"
        return ""


@themed
def gradcheck_explorer(grad_check_sparse=None, **options) -> GradcheckExplorer:
    """Build the gradient-check explorer; it displays itself as the last expression of a cell.

    ``grad_check_sparse`` is yours (course.gradcheck's contract): once it passes its check, its relative errors on
    the same function are drawn as dots over the centred float64 curve (and a note says why they are not while
    it is missing or fails). ``options``: function (a key of FUNCTIONS), kink_distance, step, guides, scale (see
    :class:`GradcheckExplorer`).
    """
    return GradcheckExplorer(grad_check_sparse, **options)
