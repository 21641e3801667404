"""Training dashboard: a network learns the digits while the loss, the accuracies, the update-to-weight ratio of
every layer and the first layer's weights are drawn live, with the verdict a practitioner would give."""
from __future__ import annotations

import ipywidgets as W
import numpy as np
from matplotlib.ticker import LogLocator

from course import checks, diagnostics
from course.experiments.babysitting import RATIO_GUIDE, UPDATE_RULES, WatchedTraining, diagnose, digits_data
from widgets.explorer import Choice, TrainingExplorer, advancing, light_axes, new_figure, prefer_student, themed

REGS = [("0", 0.0)] + [(f"{r:g}", r) for r in (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)]
BATCH_SIZES = (10, 20, 50, 100, 200, 500)
LOSS_RANGE = (1e-4, 1e3)  # fixed limits of the loss axis; losses beyond them are drawn at the edge
TILES = (4, 8)  # rows, columns of first-layer units shown as 8x8 images
WEIGHT_COLORS = {"light": "RdBu_r", "dark": "berlin"}  # diverging colour maps, 0 light on light, dark on dark
PRESETS = {
    "healthy: momentum, learning rate 0.1": dict(update_rule="momentum", learning_rate=0.1, reg=0.0, batch_size=100,
                                                 init_scale=1.0, train_size=1079),
    "learning rate too low (1e-4)": dict(update_rule="momentum", learning_rate=1e-4, reg=0.0, batch_size=100,
                                         init_scale=1.0, train_size=1079),
    "learning rate too high (SGD, 10)": dict(update_rule="sgd", learning_rate=10.0, reg=0.0, batch_size=100,
                                            init_scale=1.0, train_size=1079),
    "sanity check: overfit 20 examples": dict(update_rule="momentum", learning_rate=0.1, reg=0.0, batch_size=20,
                                              init_scale=1.0, train_size=20),
    "too much regularization (1)": dict(update_rule="momentum", learning_rate=0.1, reg=1.0, batch_size=100,
                                        init_scale=1.0, train_size=1079),
    "initial weights 10x too large": dict(update_rule="momentum", learning_rate=0.1, reg=0.0, batch_size=100,
                                          init_scale=10.0, train_size=1079),
}


class TrainingDashboard(TrainingExplorer):
    """A FullyConnectedNet (64 -> hidden -> 10, ReLU) trains on the digits (course.experiments.babysitting), in
    slices of at most ``budget`` seconds, while four panels follow it: the minibatch loss (log axis) against the
    chance level ln 10, the training and validation accuracy after each epoch, the update-to-weight ratio of each
    weight matrix (reference lines at 1 and at the notes' 1e-3), and the first layer's weights as 8x8 images (one
    per hidden unit). The message line gives the verdict (course.experiments.babysitting.diagnose).

    The ratio is a relative signal: compare the layers, and the first epochs with the last (a converging run's
    updates shrink); near 1 each step rewrites the weights (blow-up). The notes' 1e-3 is a reference line, not a
    target. When training ends the Trainer restores the weights of the epoch with the best validation accuracy, so
    the final weight images show those.

    Controls: ``controls["update_rule"]`` (sgd, momentum, adam), ``["learning_rate"]``, ``["reg"]`` (L2 strength),
    ``["batch_size"]``, ``["init_scale"]`` (the He weights times this), ``["train_size"]`` (training examples).
    Artists: ``loss_line``, ``train_line``, ``val_line``, ``ratio_lines`` (one per weight matrix), ``weights_image``.
    ``training`` is the run on display (a WatchedTraining); runs are cached per setting.
    """

    def __init__(self, update_to_weight_ratio=None, update_rule: str = "momentum", learning_rate: float = 0.1,
                 reg: float = 0.0, batch_size: int = 100, init_scale: float = 1.0, train_size: int | None = None,
                 hidden: tuple[int, ...] = (32,), epochs: int = 20, seed: int = 0, budget: float = 0.05,
                 scale: float = 1.0):
        self.data = digits_data()
        n_train = len(self.data["y_train"])
        reference = (diagnostics.update_to_weight_ratio,)
        if update_to_weight_ratio is None:
            self.ratio_label = "update_to_weight_ratio"
            self.choices = {self.ratio_label: Choice(self.ratio_label, reference, "")}
        else:
            self.ratio_label = "your update_to_weight_ratio"
            self.choices = {self.ratio_label: prefer_student(
                self.ratio_label, (update_to_weight_ratio,), reference, "update_to_weight_ratio",
                checks.check_update_to_weight_ratio.evaluate(update_to_weight_ratio))}
        self.hidden, self.epochs, self.seed = tuple(hidden), epochs, seed
        sizes = sorted({s for s in (20, 50, 100, 200, 500) if s < n_train} | {n_train})
        slider = dict(continuous_update=False, readout_format=".3g", base=10)
        controls = {
            "update_rule": W.Dropdown(options=list(UPDATE_RULES), value=update_rule, description="update rule"),
            "learning_rate": W.FloatLogSlider(value=learning_rate, min=-5, max=1, step=0.25,
                                              description="learning rate", **slider),
            "reg": W.SelectionSlider(options=REGS, value=reg, description="L2 reg", continuous_update=False),
            "batch_size": W.Dropdown(options=BATCH_SIZES, value=batch_size, description="batch size"),
            "init_scale": W.FloatLogSlider(value=init_scale, min=-2, max=2, step=0.25, description="init scale (x He)",
                                           **slider),
            "train_size": W.Dropdown(options=[(f"{s}" if s < n_train else f"all {s}", s) for s in sizes],
                                     value=train_size or n_train, description="training examples"),
        }
        fig, axes = new_figure(ncols=2, nrows=2, figsize=(8, 5.2), scale=scale)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.92, wspace=0.22, hspace=0.5)
        super().__init__(fig, controls, PRESETS, budget)
        (ax_loss, ax_acc), (ax_ratio, ax_w) = axes

        self.loss_axes(ax_loss, 10, epochs, ylim=LOSS_RANGE, title="loss of each minibatch")
        self.loss_line, = ax_loss.plot([], [], lw=1, color="C0")

        ax_acc.set_title("accuracy after each epoch", fontsize=9)
        self.train_line, = ax_acc.plot([], [], "o-", ms=3, lw=1.2, color="C1", label="training")
        self.val_line, = ax_acc.plot([], [], "s-", ms=3, lw=1.2, color="C2", label="validation")
        ax_acc.set_ylim(0, 1.18)
        ax_acc.legend(loc="upper center", fontsize=7, frameon=False, ncol=2)

        ax_ratio.set_title("||update|| / ||W|| of each layer", fontsize=9)
        layers = len(self.hidden) + 1
        self.ratio_lines = [ax_ratio.plot([], [], lw=1, color=f"C{3 + i}", label=f"W{i + 1}")[0]
                            for i in range(layers)]
        ax_ratio.axhline(1.0, color="grey", lw=0.8, label="1: step = weights")
        ax_ratio.axhline(RATIO_GUIDE, color="grey", lw=0.8, ls="--", label="1e-3: the notes' value")
        ax_ratio.set_yscale("log")
        ax_ratio.set_ylim(1e-7, 1e2)
        ax_ratio.legend(loc="lower left", fontsize=6, frameon=False, ncol=2)
        for ax in (ax_loss, ax_acc, ax_ratio):
            ax.set_xlim(0, epochs)
            ax.set_xlabel("epoch", fontsize=8)
        light_axes(ax_loss, ax_acc, ax_ratio)
        ax_acc.set_yticks([0, 0.25, 0.5, 0.75, 1])
        ax_ratio.yaxis.set_major_locator(LogLocator(numticks=5))

        self.units = min(TILES[0] * TILES[1], self.hidden[0])
        ax_w.set_title(f"first-layer weights of {self.units} units (8x8 each)", fontsize=9)
        self.weights_image = ax_w.imshow(self._mosaic(np.zeros((64, self.units))), cmap=WEIGHT_COLORS[self.theme],
                                         vmin=-1, vmax=1, interpolation="nearest")
        ax_w.set_axis_off()
        self.animate(self.loss_line, self.train_line, self.val_line, *self.ratio_lines, self.weights_image)

        self.training: WatchedTraining | None = None
        self.observe(self.update)
        self.safely(self.update)()

    def _mosaic(self, W1: np.ndarray) -> np.ndarray:
        """The first ``units`` columns of W1 (64, H) as 8x8 tiles in a (rows, columns) mosaic, NaN between tiles:
        shape (rows * 9 - 1, columns * 9 - 1)."""
        rows, cols = TILES
        tiles = np.full((rows * cols, 9, 9), np.nan)
        tiles[:self.units, :8, :8] = W1[:, :self.units].T.reshape(self.units, 8, 8)
        return tiles.reshape(rows, cols, 9, 9).transpose(0, 2, 1, 3).reshape(rows * 9, cols * 9)[:-1, :-1]

    def update(self) -> None:
        c = self.settings
        choice = self.choices[self.ratio_label]
        self.show_choice_notes(self.ratio_label)
        key = (choice.funcs, *c.values())
        self.training = training = self.runs.fetch(key, lambda: WatchedTraining(
            learning_rate=c["learning_rate"], reg=c["reg"], batch_size=c["batch_size"], init_scale=c["init_scale"],
            train_size=c["train_size"], update_rule=c["update_rule"], hidden=self.hidden, epochs=self.epochs,
            seed=self.seed, data=self.data, ratio=choice.funcs[0]))
        self.progress.max = training.trainer.num_iterations
        self.train(training, advancing([training], 5))

    def show_training(self, training: WatchedTraining) -> None:
        record = training.record()
        self.loss_line.set_data(record.epoch, np.clip(record.loss, *LOSS_RANGE))
        epochs = np.arange(1, record.train_acc.size + 1)
        self.train_line.set_data(epochs, record.train_acc)
        self.val_line.set_data(epochs, record.val_acc)
        for line, ratio in zip(self.ratio_lines, record.ratios.T):
            line.set_data(record.epoch, np.clip(ratio, 1e-12, 1e12))  # beyond the axis: at its edge
        W1 = training.model.params["W1"]
        self.weights_image.set_data(self._mosaic(W1))
        limit = float(np.max(np.abs(W1[:, :self.units]))) or 1.0
        self.weights_image.set_clim(-limit, limit)
        self.show_readout(self._readout(record))
        self.progress.value = training.trainer.iteration if not training.done else self.progress.max
        self.show_message(diagnose(record))
        self.redraw()

    @staticmethod
    def _readout(record) -> str:
        if not record.loss.size:
            return "training..."
        per_epoch = max(1, int(round(1 / record.epoch[0])))
        ratios = ", ".join(f"W{i + 1} <b>{np.median(r[:per_epoch]):.1e}</b> &rarr; <b>{np.median(r[-per_epoch:]):.1e}</b>"
                           for i, r in enumerate(record.ratios.T))
        parts = [f"first loss <b>{record.first_loss:.3g}</b> (ln 10 = 2.30)", f"loss now <b>{record.loss[-1]:.3g}</b>"]
        if record.train_acc.size:
            parts.append(f"training <b>{record.train_acc[-1]:.0%}</b>, validation <b>{record.val_acc[-1]:.0%}</b>")
        parts.append(f"update / weight (median of the first epoch &rarr; of the last): {ratios}")
        return " &nbsp;&middot;&nbsp; ".join(parts)


@themed
def training_dashboard(update_to_weight_ratio=None, **options) -> TrainingDashboard:
    """Build the training dashboard; it displays itself as the last expression of a cell.

    ``update_to_weight_ratio`` is your function ratio(w, update) -> ||update|| / ||w||; it draws the ratio panel
    once it passes course.checks.check_update_to_weight_ratio, and until then the reference is used, with a note on
    the figure. ``options``: update_rule ("sgd", "momentum", "adam"), learning_rate, reg, batch_size, init_scale,
    train_size, hidden, epochs, seed, budget, scale (see :class:`TrainingDashboard`).
    """
    return TrainingDashboard(update_to_weight_ratio, **options)
