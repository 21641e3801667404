"""Dead ReLU explorer: train a small network on the spiral data and watch how the learning rate, the bias
initialization and the activation decide how many units die (are inactive on every example) and whether they
come back."""
from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.ticker import LogLocator

from course.experiments import DeadUnitTraining
from widgets.explorer import (REFERENCE_ACTIVATIONS, Choice, TrainingExplorer, activation_choice, advancing,
                              light_axes, new_figure, themed)
BIAS_INITS = {"+0.1": 0.1, "+0.01": 0.01, "0": 0.0, "-0.1": -0.1}
# Learning rates on offer: the values the lab measures, and a few between (a slider of exact values: a log slider
# would snap a preset's 3.0 to its grid in the browser).
LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
ACTIVATIONS = ("relu", "leaky relu", "elu")
PRESETS = {
    "healthy: learning rate 1": dict(activation="relu", learning_rate=1.0, bias_init="0"),
    "dead ReLUs at a high learning rate": dict(activation="relu", learning_rate=3.0, bias_init="0"),
    "+0.01 bias at a high learning rate": dict(activation="relu", learning_rate=3.0, bias_init="+0.01"),
    "a negative bias kills layer 2": dict(activation="relu", learning_rate=1.0, bias_init="-0.1"),
    "ELU units revive": dict(activation="elu", learning_rate=1.0, bias_init="-0.1"),
}


class DeadReluExplorer(TrainingExplorer):
    """Fraction of dead units per hidden layer and the loss over the training steps of
    course.experiments.DeadUnitTraining, for the setting of the controls.

    Controls: ``controls["activation"]`` (relu, leaky relu, elu, and "your relu" when given), ``["learning_rate"]``,
    ``["bias_init"]`` (a key of BIAS_INITS), ``["weight_scale"]``, ``["seed"]``. Artists: ``dead_lines`` (one Line2D
    per hidden layer), ``start_marks`` (the step-0 fractions), ``loss_line``; the fractions and loss are in
    ``readout`` (an HTML widget). ``training`` is the run on display; runs are cached per setting, and training
    proceeds in slices of at most ``budget`` seconds so that the kernel stays responsive (TrainingExplorer).
    """

    def __init__(self, relu=None, activation: str | None = None, learning_rate: float = 1.0, bias_init: str = "0",
                 weight_scale: float = 0.1, seed: int = 0, steps: int = 200, hidden: tuple[int, ...] = (50, 50),
                 budget: float = 0.05, scale: float = 1.0):
        self.choices = {name: Choice(name, REFERENCE_ACTIVATIONS[name], "") for name in ACTIVATIONS}
        if relu is not None:
            self.choices["your relu"] = activation_choice("your relu", relu)
        self.steps, self.hidden = steps, tuple(hidden)
        slider = dict(continuous_update=False, readout_format=".3g", base=10)
        controls = {
            "activation": W.Dropdown(options=list(self.choices), description="activation",
                                     value=activation or ("your relu" if relu is not None else "relu")),
            "learning_rate": W.SelectionSlider(options=[(f"{v:g}", v) for v in LEARNING_RATES], value=learning_rate,
                                               description="learning rate", continuous_update=False),
            "bias_init": W.Dropdown(options=list(BIAS_INITS), value=bias_init, description="bias init"),
            "weight_scale": W.FloatLogSlider(value=weight_scale, min=-3, max=1, step=0.1,
                                             description="weight scale", **slider),
            "seed": W.IntSlider(value=seed, min=0, max=9, description="seed", continuous_update=False),
        }
        fig, (ax_dead, ax_loss) = new_figure(ncols=2, scale=scale)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.2, top=0.8, wspace=0.25)
        super().__init__(fig, controls, PRESETS, budget)
        self.progress.max = steps

        ax_dead.set_title("units with z <= 0 on every example (dead, for ReLU)", fontsize=9)
        colors = [f"C{i}" for i in range(len(self.hidden))]
        self.dead_lines = [ax_dead.plot([], [], lw=1.5, color=c, label=f"layer {i + 1}")[0]
                           for i, c in enumerate(colors)]
        self.start_marks = ax_dead.scatter(np.zeros(len(self.hidden)), np.zeros(len(self.hidden)), s=30, c=colors,
                                           marker="o", zorder=3, label="at step 0")
        ax_dead.set_xlim(-steps * 0.02, steps)
        ax_dead.set_ylim(-0.02, 1.02)
        ax_dead.legend(loc="center right", fontsize=7, frameon=False)
        self.loss_axes(ax_loss, 3, steps, ylim=(1e-2, 1e1))
        self.loss_line, = ax_loss.plot([], [], lw=1.5, color="C3")
        for ax in (ax_dead, ax_loss):
            ax.set_xlabel("step", fontsize=8)
        light_axes(ax_dead, ax_loss)
        ax_loss.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0), numticks=6))  # the loss spans few decades
        self.animate(*self.dead_lines, self.start_marks, self.loss_line)

        self.training: DeadUnitTraining | None = None
        self.observe(self.update)
        self.safely(self.update)()

    def update(self) -> None:
        c = self.settings
        choice = self.choices[c["activation"]]
        self.show_choice_notes(c["activation"])
        self.training = training = self.runs.fetch((choice.funcs, *c.values()), lambda: DeadUnitTraining(
            learning_rate=c["learning_rate"], bias_init=BIAS_INITS[c["bias_init"]], weight_scale=c["weight_scale"],
            seed=c["seed"], steps=self.steps, hidden=self.hidden, activation=choice.funcs))
        self.train(training, advancing([training], 2))

    def show_training(self, training: DeadUnitTraining) -> None:
        record = training.record()
        steps = np.arange(record.loss.size)
        for i, line in enumerate(self.dead_lines):
            line.set_data(steps, record.dead[:, i])
        self.loss_line.set_data(steps, np.maximum(record.loss, 1e-4))
        if record.loss.size:
            self.start_marks.set_offsets(np.column_stack([np.zeros(record.dead.shape[1]), record.dead[0]]))
            low, high = max(record.loss.min(), 1e-4), record.loss.max()
            # whole decades, so the limits (and with them a full redraw) change rarely
            self.set_limits(self.loss_line.axes, ylim=(10.0 ** np.floor(np.log10(min(low, 0.5))),
                                                       10.0 ** np.ceil(np.log10(max(high, 5.0)))))
            start = ", ".join(f"{f:.0%}" for f in record.dead[0])
            now = ", ".join(f"{f:.0%}" for f in record.dead[-1])
            self.show_readout(f"dead (layer 1, 2...): <b>{start}</b> at step 0 &rarr; <b>{now}</b> after "
                              f"{record.loss.size} steps &nbsp;&nbsp; loss <b>{record.loss[-1]:.3g}</b>")
        self.progress.value = training.step
        self.show_message(self._verdict(training, record))
        self.redraw()

    def _verdict(self, training: DeadUnitTraining, record) -> str:
        if record.diverged_at is not None:
            return f"loss diverged at step {record.diverged_at}: lower the learning rate or the weight scale"
        if not training.done:
            return f"training... step {training.step} of {training.steps}"
        if record.dead.size and record.dead[-1].max() > 0.9:
            if self.controls["activation"].value in ("relu", "your relu"):
                return ("almost every ReLU of a layer is dead: no gradient reaches its weights, "
                        "so the network has stopped learning")
            return "almost every unit of a layer is inactive: they pass only a small gradient (alpha, alpha e^z)"
        return ""


@themed
def dead_relu_explorer(relu=None, **options) -> DeadReluExplorer:
    """Build the dead-ReLU explorer; it displays itself as the last expression of a cell.

    ``relu`` is your ``(relu_forward, relu_backward)`` pair (forward(x) -> (out, cache), backward(dout, cache)
    -> dx); it appears as "your relu" once it passes course.checks' relu checks, and until then the reference relu
    is used under that name, with a note on the figure. ``options``: activation, learning_rate, bias_init
    (a key of BIAS_INITS), weight_scale, seed, steps, hidden, budget, scale (see :class:`DeadReluExplorer`).
    """
    return DeadReluExplorer(relu, **options)
