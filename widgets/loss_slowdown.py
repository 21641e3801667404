"""Loss-slowdown explorer: Nielsen's single sigmoid neuron learning to map the input 1 to the output 0. Under the
quadratic cost its output error carries the factor sigmoid'(z), which vanishes when the neuron is saturated and
badly wrong, so it stalls; under the cross-entropy that factor cancels and the neuron learns fastest when it is
most wrong."""
from __future__ import annotations

import ipywidgets as W
import numpy as np

from course import checks
from course.experiments import COSTS, NeuronRun, epochs_to_reach, matched_rate, train_sigmoid_neuron
from widgets.explorer import (Choice, Explorer, RecentRuns, StudentCodeError, light_axes, new_figure, prefer_student,
                              themed, watched)

EPOCHS = 300  # Nielsen's figures run 300 epochs
NIELSEN_RATE = 0.15  # his quadratic-cost learning rate; 0.005 for the cross-entropy figures
MATCHED_RATE = round(matched_rate(NIELSEN_RATE, 0.6, 0.9), 4)  # 0.0224: the same first step from (0.6, 0.9)
# the learning rates on offer: a 1-2-5 ladder with Nielsen's and the matched rate on it exactly (a log slider
# would snap them to its grid)
RATES = (0.001, 0.002, 0.005, 0.01, 0.02, MATCHED_RATE, 0.05, 0.1, NIELSEN_RATE, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
COST_LIMITS = (0.5, 1.0, 2.0, 5.0, 10.0)  # the cost axis takes the first of these above the largest cost
GRADIENT_LIMITS = (1e-5, 2.0)
CACHED_RUNS = 32
TARGET = 0.0  # the neuron learns to map the input 1 to 0
FORMULAS = {"quadratic": "C = (a - y)&sup2; / 2", "cross-entropy": "C = -y ln a - (1 - y) ln(1 - a)"}
STUDENT_CHECKS = {"quadratic": ("quadratic_loss", checks.check_quadratic_loss),
                  "cross-entropy": ("binary_cross_entropy", checks.check_binary_cross_entropy)}
PRESETS = {
    "quadratic from (0.6, 0.9): learns at once": dict(cost="quadratic", weight=0.6, bias=0.9,
                                                       learning_rate=NIELSEN_RATE),
    "quadratic from (2, 2): stalls": dict(cost="quadratic", weight=2.0, bias=2.0, learning_rate=NIELSEN_RATE),
    "cross-entropy from (2, 2), Nielsen's rate 0.005": dict(cost="cross-entropy", weight=2.0, bias=2.0,
                                                             learning_rate=0.005),
    f"cross-entropy from (2, 2), the matched rate {MATCHED_RATE}": dict(cost="cross-entropy", weight=2.0, bias=2.0,
                                                                          learning_rate=MATCHED_RATE),
}


class LossSlowdownExplorer(Explorer):
    """The cost, the output a = sigmoid(w + b) and the size of the output error |dC/dz| over the epochs of
    course.experiments.train_sigmoid_neuron (input x = 1, target y = 0), for the cost, starting weight and bias
    and learning rate on the controls.

    Controls: ``controls["cost"]`` ("quadratic" or "cross-entropy"), ``["weight"]``, ``["bias"]``,
    ``["learning_rate"]``. Artists: ``cost_line``, ``output_line``, ``gradient_line`` (Line2D, one point per
    epoch). ``run`` is the NeuronRun on display; runs are cached per setting. ``choices`` maps each cost to the
    loss function in use: a student's quadratic_loss or binary_cross_entropy once it passes its check, else
    (None,), the built-in formulas.
    """

    def __init__(self, quadratic_loss=None, binary_cross_entropy=None, cost: str = "quadratic",
                 weight: float = 2.0, bias: float = 2.0, learning_rate: float = NIELSEN_RATE, epochs: int = EPOCHS,
                 scale: float = 1.0):
        self.choices = {name: Choice(name, (None,), "") for name in COSTS}
        for name, student in zip(COSTS, (quadratic_loss, binary_cross_entropy)):
            if student is not None:
                function, check = STUDENT_CHECKS[name]
                self.choices[name] = prefer_student(name, (student,), (None,), function, check.evaluate(student))
        self.epochs = epochs
        slider = dict(min=-4.0, max=4.0, step=0.1, readout_format=".1f")
        controls = {
            "cost": W.Dropdown(options=list(COSTS), value=cost, description="cost"),
            "weight": W.FloatSlider(value=weight, description="starting weight w", **slider),
            "bias": W.FloatSlider(value=bias, description="starting bias b", **slider),
            "learning_rate": W.SelectionSlider(options=[(f"{r:g}", r) for r in sorted({*RATES, learning_rate})],
                                               value=learning_rate, description="learning rate"),
        }
        fig, (ax_cost, ax_output, ax_gradient) = new_figure(ncols=3, figsize=(9, 3.4), scale=scale)
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.16, top=0.82, wspace=0.3)
        super().__init__(fig, controls, PRESETS)

        epochs_axis = np.arange(epochs + 1)
        ax_cost.set_title("cost C (its formula: above the plot)", fontsize=9)
        self.cost_line, = ax_cost.plot(epochs_axis, np.zeros(epochs + 1), color="C0", lw=1.5)
        ax_cost.set_ylim(0, COST_LIMITS[0])
        ax_output.set_title("output a = sigmoid(w + b); target 0", fontsize=9)
        self.output_line, = ax_output.plot(epochs_axis, np.zeros(epochs + 1), color="C1", lw=1.5)
        ax_output.axhline(0.5, color="grey", lw=0.7, ls=":")
        ax_output.set_ylim(-0.02, 1.02)
        ax_gradient.set_title("output error |dC/dz|: the step's size", fontsize=9)
        self.gradient_line, = ax_gradient.plot(epochs_axis, np.ones(epochs + 1), color="C2", lw=1.5,
                                               label="|dC/dz|")
        self.error_line, = ax_gradient.plot(epochs_axis, np.ones(epochs + 1), color="grey", lw=1.0, ls="--",
                                            label="|a - y|")
        ax_gradient.set_yscale("log")
        ax_gradient.set_ylim(*GRADIENT_LIMITS)
        ax_gradient.legend(loc="lower left", fontsize=7, frameon=False)
        for ax in (ax_cost, ax_output, ax_gradient):
            ax.set_xlim(0, epochs)
            ax.set_xlabel("epoch", fontsize=8)
        light_axes(ax_cost, ax_output, ax_gradient)
        for ax in (ax_cost, ax_output, ax_gradient):
            ax.set_xticks(np.linspace(0, epochs, 4).round())
        self.animate(self.cost_line, self.output_line, self.gradient_line, self.error_line)
        self.runs = RecentRuns(CACHED_RUNS)
        self.run = None
        self.observe(self.update)
        self.safely(self.update)()

    def update(self) -> None:
        c = self.settings
        choice = self.choices[c["cost"]]
        self.show_choice_notes(c["cost"])
        self.run = run = self.runs.fetch((choice.funcs, *c.values()), lambda: self._train(choice, c))

        self.cost_line.set_ydata(run.cost)
        self.output_line.set_ydata(run.output)
        self.gradient_line.set_ydata(np.clip(np.abs(run.gradient), *GRADIENT_LIMITS))
        self.error_line.set_ydata(np.clip(np.abs(run.output - TARGET), *GRADIENT_LIMITS))
        top = next((limit for limit in COST_LIMITS if limit >= run.cost.max()), COST_LIMITS[-1])
        self.set_limits(self.cost_line.axes, ylim=(0, top))
        self.show_readout(self._numbers(run, c["cost"]))
        self.show_message(self._verdict(run))
        self.redraw()

    def _train(self, choice: Choice, c: dict) -> NeuronRun:
        """Train the neuron for the controls' setting with the choice's loss: the built-in formulas (None), or a
        student's function, run under one guard for the whole run (widgets.explorer.watched), 300 calls costing
        one guard instead of 300."""
        def train(loss):
            return train_sigmoid_neuron(c["weight"], c["bias"], c["learning_rate"], c["cost"], self.epochs, loss=loss)
        loss, = choice.funcs
        if loss is None:
            return train(None)
        student = loss.student
        train.__name__ = getattr(student, "__name__", "your function")
        run = watched(train, choice.label)(student)
        if not all(np.isfinite(values).all() for values in (run.cost, run.gradient)):
            raise StudentCodeError(choice.label, f"{train.__name__} returned NaN or inf for finite input")
        return run

    def _numbers(self, run, cost: str) -> str:
        a, g = run.output[0], run.gradient[0]
        why = (f"(a - y) &sigma;'(z), with &sigma;'(z) = {a * (1 - a):.3g}" if cost == "quadratic"
               else "a - y: no &sigma;'(z)")
        reached = epochs_to_reach(run.output, 0.5)
        return (f"{cost}: {FORMULAS[cost]}<br>start: z = w + b = {run.weight[0] + run.bias[0]:.2g}, "
                f"a = <b>{a:.3f}</b>, dC/dz = <b>{g:.3g}</b> = {why} &nbsp;&nbsp; after {self.epochs} epochs: "
                f"a = <b>{run.output[-1]:.3f}</b> &nbsp;&nbsp; "
                + (f"a &le; 0.5 from epoch <b>{reached}</b>" if reached is not None else "a stays above 0.5"))

    def _verdict(self, run) -> str:
        if run.output[0] > 0.9 and run.output[-1] > 0.9:
            return f"stuck: a > 0.9 after {self.epochs} epochs"
        return ""


@themed
def loss_slowdown_explorer(quadratic_loss=None, binary_cross_entropy=None, **options) -> LossSlowdownExplorer:
    """Build the learning-slowdown explorer; it displays itself as the last expression of a cell.

    ``quadratic_loss`` and ``binary_cross_entropy`` are yours (course.losses's contract): once they pass their
    checks they compute the cost and its gradient at every epoch; until then the built-in formulas do, with a
    note on the figure. ``options``: cost, weight, bias, learning_rate, epochs, scale (see
    :class:`LossSlowdownExplorer`).
    """
    return LossSlowdownExplorer(quadratic_loss, binary_cross_entropy, **options)
