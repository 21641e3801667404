"""Batch-norm explorer: one deep ReLU network trained on the digits twice, with and without batch normalization,
from an initialization scale of your choice. Watch each layer's values before and after normalizing, the two loss
curves, and the accuracy the batch-norm network reaches in train mode (batch statistics) and in test mode
(running averages) as the batch size and the momentum change."""
from __future__ import annotations

import ipywidgets as W
import numpy as np

from course import checks, layers
from course.experiments import BatchNormTraining, layer_histograms
from widgets.explorer import (Choice, TrainingExplorer, advancing, light_axes, new_figure, prefer_student,
                              themed)

HIDDEN = (32,) * 6
STEPS = 300
EVAL_EVERY = 10
SMOOTHING = 10  # the loss curves show the mean of the last this many minibatch losses
EDGES = np.linspace(-4.0, 4.0, 41)  # values beyond ±4 are counted in the end bins
GAINS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
LEARNING_RATES = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)
MOMENTA = (0.0, 0.5, 0.9, 0.99, 0.999)
CHANCE = 0.1  # ten classes
LABEL = "your batchnorm"
PRESETS = {
    "bad init (gain 0.1): batch norm learns anyway": dict(gain=0.1, learning_rate=0.1, batch_size=32, momentum=0.9,
                                                          seed=0, show="with batch norm"),
    "bad init (gain 0.1): without batch norm": dict(gain=0.1, learning_rate=0.1, batch_size=32, momentum=0.9, seed=0,
                                                    show="without batch norm"),
    "He init, learning rate 1": dict(gain=1.0, learning_rate=1.0, batch_size=32, momentum=0.9, seed=0,
                                     show="without batch norm"),
    "batches of 2": dict(gain=1.0, learning_rate=0.03, batch_size=2, momentum=0.9, seed=0, show="with batch norm"),
    "momentum 0.999: stale running averages": dict(gain=1.0, learning_rate=0.1, batch_size=32, momentum=0.999,
                                                   seed=0, show="with batch norm"),
    "He init, learning rate 0.1: both learn": dict(gain=1.0, learning_rate=0.1, batch_size=32, momentum=0.9, seed=0,
                                                   show="with batch norm"),
}


class Ridgeline:
    """One row per layer (layer 1 at the top) on ``ax``, each a histogram between EDGES drawn as a filled
    ``stairs`` artist and an outline one, rescaled so that its tallest bin fills 0.9 of the row: the rows compare
    shapes; :meth:`show` returns the spread (std) each row stands for."""

    def __init__(self, ax, rows: int, color: str):
        self.rows = rows
        bottoms = [rows - 1 - i for i in range(rows)]
        self.filled = [ax.stairs(np.full(EDGES.size - 1, b), EDGES, baseline=b, fill=True, color=color, alpha=0.55)
                       for b in bottoms]
        self.outline = [ax.stairs(np.full(EDGES.size - 1, b), EDGES, baseline=b, color="grey", lw=1.2)
                        for b in bottoms]
        ax.set_xlim(EDGES[0], EDGES[-1])
        ax.set_ylim(0, rows)
        ax.set_yticks(np.array(bottoms) + 0.35, [f"layer {i + 1}" for i in range(rows)])

    @property
    def artists(self) -> list:
        return [*self.filled, *self.outline]

    def show(self, filled: list, outline: list | None, color: str) -> list[str]:
        """Histograms of ``filled`` (one array per layer, drawn in ``color``) and of ``outline`` (None: no
        outlines). Returns the std of each row's values as text: "std of the outline -> std of the filled" when
        both are shown."""
        for artist in self.filled:
            artist.set_color(color)
        for artist in self.outline:
            artist.set_visible(outline is not None)
        for artists, values in ((self.filled, filled), (self.outline, outline or [])):
            heights = layer_histograms(values, EDGES) if values else np.zeros((self.rows, EDGES.size - 1))
            for row, (artist, h) in enumerate(zip(artists, heights)):
                bottom = self.rows - 1 - row
                artist.set_data(bottom + 0.9 * h / max(h.max(), 1e-12), EDGES, baseline=bottom)
        if outline is None:
            return [_std(f) for f in filled]
        return [f"{_std(o)} → {_std(f)}" for o, f in zip(outline, filled)]


def _std(values) -> str:
    if np.size(values) == 0:
        return "–"
    with np.errstate(all="ignore"):
        s = float(np.std(values))
    return f"{s:.2g}" if np.isfinite(s) else "inf"


class BatchNormExplorer(TrainingExplorer):
    """The network of course.experiments.BatchNormTraining (6 hidden ReLU layers of 32 units on the digits, SGD
    for STEPS steps) trained with batch norm and without, for the setting of the controls.

    Controls: ``controls["show"]`` (which network's layers the left panel shows), ``["gain"]`` (weights drawn
    with std gain * sqrt(2 / fan_in): 1 is He's initialization), ``["learning_rate"]``, ``["batch_size"]``,
    ``["momentum"]`` (of the running averages), ``["seed"]``. Artists: ``ridgeline`` (a :class:`Ridgeline`: each
    layer's pre-activations of the last minibatch, before (grey) and after (filled) batch norm, or without batch
    norm), ``loss_lines`` ({"with": Line2D, "without": Line2D}), ``accuracy_lines`` ({"test mode", "train mode",
    "without"}: the held-out accuracy over the steps); the numbers are in ``readout``. Runs are cached per
    setting and train in slices of at most ``budget`` seconds (widgets.explorer.TrainingExplorer).
    """

    cached_runs = 24

    def __init__(self, batchnorm=None, gain: float = 0.1, learning_rate: float = 0.1, batch_size: int = 32,
                 momentum: float = 0.9, seed: int = 0, show: str = "with batch norm", steps: int = STEPS,
                 budget: float = 0.05, scale: float = 1.0):
        reference = (layers.batchnorm_forward, layers.batchnorm_backward)
        if batchnorm is None:
            self.choices = {LABEL: Choice(LABEL, reference, "")}
        else:
            result = checks.check_batchnorm_forward.evaluate(batchnorm[0])
            if result.passed:
                result = checks.check_batchnorm_backward.evaluate(*batchnorm)
            self.choices = {LABEL: prefer_student(LABEL, tuple(batchnorm), reference, "batchnorm", result)}
        self.steps = steps
        def choose(options, value, description):
            return W.SelectionSlider(options=options, value=value, description=description, continuous_update=False)
        controls = {
            "show": W.ToggleButtons(options=["with batch norm", "without batch norm"], value=show, description="show"),
            "gain": choose(GAINS, gain, "init gain (× He)"),
            "learning_rate": choose(LEARNING_RATES, learning_rate, "learning rate"),
            "batch_size": choose(BATCH_SIZES, batch_size, "batch size"),
            "momentum": choose(MOMENTA, momentum, "momentum"),
            "seed": W.IntSlider(value=seed, min=0, max=9, description="seed", continuous_update=False),
        }
        fig, axes = new_figure(ncols=2, nrows=2, figsize=(9, 4.8), scale=scale,
                               gridspec_kw={"width_ratios": [1.1, 1]})
        for ax in axes[:, 0]:
            ax.remove()
        ax_rows = fig.add_subplot(axes[0, 0].get_subplotspec().get_gridspec()[:, 0])
        ax_loss, ax_acc = axes[:, 1]
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.84, wspace=0.3, hspace=0.55)
        super().__init__(fig, controls, PRESETS, budget)
        self.progress.max = steps

        self.ridgeline = Ridgeline(ax_rows, len(HIDDEN), "C0")
        ax_rows.set_title("each layer's input to its ReLU (last minibatch)\nwith batch norm: before (grey), after "
                          "(blue)\nwithout batch norm: orange", fontsize=8)
        ax_rows.set_xlabel("value (beyond ±4: in the end bins)", fontsize=8)

        self.loss_axes(ax_loss, 10, steps, ylim=(0.01, 30))
        self.loss_lines = {"with": ax_loss.plot([], [], color="C0", lw=1.5, label="with batch norm")[0],
                           "without": ax_loss.plot([], [], color="C1", lw=1.5, label="without")[0]}
        ax_loss.legend(loc="lower left", fontsize=7, frameon=False)

        ax_acc.set_title("held-out accuracy; with batch norm: in test mode (solid,\nrunning averages) and in train "
                         "mode (dashed, batch statistics)", fontsize=8)
        self.accuracy_lines = {"test mode": ax_acc.plot([], [], color="C0", lw=1.5)[0],
                               "train mode": ax_acc.plot([], [], color="C0", lw=1.2, ls="--")[0],
                               "without": ax_acc.plot([], [], color="C1", lw=1.5)[0]}
        ax_acc.axhline(CHANCE, color="grey", lw=0.8, ls=":")
        ax_acc.set(xlim=(0, steps), ylim=(0, 1.02))
        ax_acc.set_xlabel("step", fontsize=8)
        light_axes(ax_loss, ax_acc)
        for ax in (ax_loss, ax_acc):
            ax.set_xticks(np.linspace(0, steps, 4))
        ax_rows.tick_params(labelsize=7)
        self.animate(*self.ridgeline.artists, *self.loss_lines.values(), *self.accuracy_lines.values())

        self.trainings: dict[str, BatchNormTraining | None] = {}
        self.observe(self.update)
        self.safely(self.update)()

    # --- training -------------------------------------------------------------------------------------------------
    def _run(self, key: tuple, **settings) -> BatchNormTraining:
        """The cached run for ``key``, or a new one with ``settings``; the most recently used stay cached."""
        return self.runs.fetch(key, lambda: BatchNormTraining(steps=self.steps, hidden=HIDDEN,
                                                              eval_every=EVAL_EVERY, **settings))

    def update(self) -> None:
        c = self.settings
        self.controls["momentum"].disabled = c["batch_size"] < 2  # no batch norm to average for
        choice = self.choices[LABEL]
        self.show_choice_notes(LABEL)
        shared = dict(gain=c["gain"], learning_rate=c["learning_rate"], batch_size=c["batch_size"], seed=c["seed"])
        self.trainings = {
            "with": None if c["batch_size"] < 2 else self._run(
                ("with", choice.funcs, c["momentum"], *shared.values()), batchnorm=choice.funcs,
                momentum=c["momentum"], **shared),
            "without": self._run(("without", *shared.values()), batchnorm=False, **shared),
        }
        runs = [t for t in self.trainings.values() if t is not None]
        self.train(self.trainings, advancing(runs, 5))

    # --- drawing --------------------------------------------------------------------------------------------------
    def show_training(self, trainings: dict) -> None:
        with_bn, without = trainings["with"], trainings["without"]
        shown = with_bn if self.controls["show"].value == "with batch norm" else without
        if shown is not None and shown.before:
            before = [z[0] for z in shown.before] if shown.bn else None
            spreads = self.ridgeline.show([a[0] for a in shown.after], before, "C0" if shown.bn else "C1")
        else:
            spreads = self.ridgeline.show([np.zeros(0)] * len(HIDDEN), None, "C0")
        for name, t in trainings.items():
            self.loss_lines[name].set_data(*_smoothed_loss(t))
        for name, t in (("test mode", with_bn), ("train mode", with_bn), ("without", without)):
            evals = t.evaluations if t is not None else []
            mode = "train_mode" if name == "train mode" else "test_mode"
            self.accuracy_lines[name].set_data([e.step for e in evals], [getattr(e, mode)[0] for e in evals])
        self.progress.value = min(t.step if not t.done else self.steps for t in trainings.values() if t is not None)
        where = "before → after batch norm" if shown is not None and shown.bn else "without batch norm"
        self.show_readout(self._readout(with_bn, without) + f"<br>std of each layer's values ({where}): "
                          + ", ".join(f"<b>{s}</b>" for s in spreads))
        self.show_message(self._verdict(with_bn, without))
        self.redraw()

    def _readout(self, with_bn, without) -> str:
        def percent(t, mode="test_mode"):
            return f"{getattr(t.evaluations[-1], mode)[0]:.0%}" if t is not None and t.evaluations else "–"
        steps = max(t.step for t in (with_bn, without) if t is not None)
        text = f"held-out accuracy after {steps} steps: "
        if with_bn is not None:
            text += (f"with batch norm <b>{percent(with_bn)}</b> in test mode, <b>{percent(with_bn, 'train_mode')}</b> "
                     "in train mode; ")
        text += f"without <b>{percent(without)}</b>"
        kept = self.controls["momentum"].value ** with_bn.step if with_bn is not None else 0.0
        if kept >= 0.01:
            text += f" &nbsp; (the running averages still hold <b>{kept:.0%}</b> of their starting values)"
        return text

    def _verdict(self, with_bn, without) -> str:
        b = self.controls["batch_size"].value
        notes = []
        if b == 1:
            notes.append("batch size 1: batch norm cannot train on one example (its variance is 0: every output "
                         "would be beta); only the network without it runs")
        elif b == 2:
            notes.append("batch size 2: batch norm turns every value into ±1 (then gamma, beta): each unit only "
                         "passes which of the two examples is larger")
        for name, t in (("with batch norm", with_bn), ("without batch norm", without)):
            if t is not None and t.diverged_at[0] >= 0:
                notes.append(f"{name}: the loss diverged at step {t.diverged_at[0]}")
            elif t is not None and t.done and t.evaluations[-1].test_mode[0] < CHANCE + 0.05:
                notes.append(f"{name}: no better than chance after {t.step} steps")
        kept = self.controls["momentum"].value ** self.steps
        if with_bn is not None and with_bn.done and kept > 0.1:
            notes.append(f"after {self.steps} steps the running averages still hold {kept:.0%} of their starting "
                         "values (0 and 1): test mode normalizes with stale statistics")
        return "\n".join(notes)


def _smoothed_loss(t: BatchNormTraining | None):
    """(steps, loss) of replica 0: the mean of the last SMOOTHING minibatch losses, up to where it diverged."""
    if t is None or t.step == 0:
        return [], []
    loss = t.losses[:, 0]
    if t.diverged_at[0] >= 0:
        loss = loss[:t.diverged_at[0]]
    if loss.size == 0:
        return [], []
    cumulative = np.cumsum(np.insert(loss, 0, 0.0))
    window = np.minimum(np.arange(1, loss.size + 1), SMOOTHING)
    smoothed = (cumulative[1:] - cumulative[np.arange(1, loss.size + 1) - window]) / window
    return np.arange(1, loss.size + 1), np.clip(smoothed, 1e-3, 1e3)


@themed
def batchnorm_explorer(batchnorm=None, **options) -> BatchNormExplorer:
    """Build the batch-norm explorer; it displays itself as the last expression of a cell.

    ``batchnorm`` is your ``(batchnorm_forward, batchnorm_backward)`` pair (the contract of course.layers); it
    trains the batch-norm network once it passes course.checks' batch-norm checks, and until then the reference is
    used, with a note on the figure. ``options``: gain (one of GAINS), learning_rate (one of LEARNING_RATES),
    batch_size (one of BATCH_SIZES), momentum (one of MOMENTA), seed, show ("with batch norm" or "without batch
    norm"), steps, budget, scale (see :class:`BatchNormExplorer`).
    """
    return BatchNormExplorer(batchnorm, **options)
