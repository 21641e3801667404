"""Regularization explorer: a network large enough to overfit a few 2-D points with wrong labels, trained live,
with an L2 or L1 penalty, dropout, more or fewer points, more or less label noise and more or fewer epochs:
its decision boundary, its training and validation loss, and the histogram of its weights."""
from __future__ import annotations

import weakref

import ipywidgets as W
import numpy as np
from matplotlib.colors import LinearSegmentedColormap, to_rgb

from course import checks, layers, losses
from course.experiments import Regularizer, class_one_probability, moons_training, noisy_moons
from widgets.explorer import (Choice, StairsHistogram, TrainingExplorer, advancing, light_axes, new_figure,
                              prefer_student, themed)

STRENGTHS = [0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 1.0]
PENALTIES = {"L2": "l2_penalty", "L1": "l1_penalty"}  # option -> the course.losses function
XLIM, YLIM = (-1.7, 2.7), (-1.2, 1.7)  # the moons' coordinates
GRID = (60, 80)  # rows, columns of the decision-boundary image
WEIGHT_EDGES = np.logspace(-4, 1, 41)  # |w| bins; zeros and tinier weights are counted in the first one
NEAR_ZERO = 1e-3
LOSS_LIMITS = (3e-3, 5.0)  # the loss axis; values beyond are drawn at its ends
CURVE_POINTS = 250  # longer loss curves are drawn every k-th epoch
PRESETS = {
    "overfitting: no regularization": dict(strength=0.0, keep=1.0, points=60, label_noise=0.2, epochs=1000),
    "L2 smooths the boundary": dict(strength=0.01, penalty="L2", keep=1.0, points=60, label_noise=0.2, epochs=1000),
    "L1 zeroes weights": dict(strength=0.001, penalty="L1", keep=1.0, points=60, label_noise=0.2, epochs=1000),
    "dropout, keep p = 0.5": dict(strength=0.0, keep=0.5, points=60, label_noise=0.2, epochs=1000),
    "more data: 300 points": dict(strength=0.0, keep=1.0, points=300, label_noise=0.2, epochs=1000),
    "too strong: L2 = 0.1 collapses": dict(strength=0.1, penalty="L2", keep=1.0, points=60, label_noise=0.2,
                                            epochs=1000),
}


def _strength_label(value: float) -> str:
    return "0 (none)" if value == 0 else f"{value:g}"


class RegularizationExplorer(TrainingExplorer):
    """A 2 -> hidden -> hidden -> 2 ReLU network trained by full-batch gradient descent with momentum on the two moons
    (course.experiments.moons_training: a fraction of the training labels flipped, validation labels correct).

    Left: the probability of class 1 over the plane (an image updated in place) with the training points, the
    wrongly labelled ones ringed. Middle: training and validation loss (test mode) per epoch, and the epoch of the
    lowest validation loss (where early stopping would return). Right: the histogram of |w| over every weight.

    Controls: ``controls["strength"]`` (the penalty's reg; 0 = none), ``["penalty"]`` ("L2" or "L1", disabled
    while the strength is 0), ``["keep"]`` (dropout keep probability; 1 = no dropout), ``["points"]`` (training
    points), ``["label_noise"]`` (fraction of training labels flipped), ``["epochs"]``. Artists: ``boundary``
    (AxesImage), ``train_points``, ``wrong_points`` (PathCollections), ``train_curve``, ``val_curve`` (Line2D),
    ``best_line`` (the early-stopping epoch), ``weight_hist`` (StairsHistogram). ``training`` is the run on display
    (a course.experiments.StackTraining); runs are cached per setting and trained in slices of at most ``budget``
    seconds (widgets.explorer.TrainingExplorer). ``choices`` maps "L2", "L1" and "dropout" to the functions in use.
    """

    cached_runs = 16

    def __init__(self, l2_penalty=None, l1_penalty=None, dropout=None, strength: float = 0.0, penalty: str = "L2",
                 keep: float = 1.0, points: int = 60, label_noise: float = 0.2, epochs: int = 1000,
                 hidden: tuple[int, ...] = (64, 64), seed: int = 0, budget: float = 0.05, scale: float = 1.0):
        self.choices = {}
        for label, student in (("L2", l2_penalty), ("L1", l1_penalty)):
            name = PENALTIES[label]
            reference = (getattr(losses, name),)
            self.choices[label] = Choice(label, reference, "") if student is None else prefer_student(
                label, (student,), reference, name, getattr(checks, f"check_{name}").evaluate(student))
        reference = (layers.dropout_forward, layers.dropout_backward)
        if dropout is None:
            self.choices["dropout"] = Choice("dropout", reference, "")
        else:
            result = checks.check_dropout_forward.evaluate(dropout[0])
            if result.passed:
                result = checks.check_dropout_backward.evaluate(*dropout)
            self.choices["dropout"] = prefer_student("dropout", tuple(dropout), reference,
                                                     "dropout_forward/backward", result)
        self.hidden, self.seed = tuple(hidden), seed
        slider = dict(continuous_update=False)
        controls = {
            "strength": W.SelectionSlider(options=[(_strength_label(v), v) for v in STRENGTHS], value=strength,
                                          description="penalty strength", **slider),
            "penalty": W.Dropdown(options=list(PENALTIES), value=penalty, description="penalty"),
            "keep": W.FloatSlider(value=keep, min=0.2, max=1.0, step=0.05, description="dropout keep p",
                                  readout_format=".2f", **slider),
            "points": W.IntSlider(value=points, min=20, max=300, step=10, description="training points", **slider),
            "label_noise": W.FloatSlider(value=label_noise, min=0.0, max=0.4, step=0.05, description="labels flipped",
                                         readout_format=".0%", **slider),
            "epochs": W.IntSlider(value=epochs, min=100, max=2000, step=100, description="epochs", **slider),
        }
        fig, (ax_b, ax_l, ax_w) = new_figure(ncols=3, figsize=(9, 3.4), scale=scale,
                                             gridspec_kw={"width_ratios": [1.35, 1, 0.85]})
        fig.subplots_adjust(left=0.05, right=0.98, bottom=0.2, top=0.8, wspace=0.32)
        super().__init__(fig, controls, PRESETS, budget)
        self.progress.max = epochs

        background = np.asarray(to_rgb(fig.get_facecolor()))
        classes = LinearSegmentedColormap.from_list("classes", [to_rgb("C0"), to_rgb("C1")])
        faded = LinearSegmentedColormap.from_list("faded", [0.45 * np.asarray(to_rgb(c)) + 0.55 * background
                                                            for c in ("C0", "grey", "C1")])
        xs, ys = np.linspace(*XLIM, GRID[1]), np.linspace(*YLIM, GRID[0])
        self.grid = np.column_stack([np.repeat(xs[None], GRID[0], 0).ravel(), np.repeat(ys, GRID[1])])
        self.boundary = ax_b.imshow(np.full(GRID, 0.5), extent=(*XLIM, *YLIM), origin="lower", cmap=faded,
                                    vmin=0, vmax=1, aspect="auto", interpolation="antialiased")
        self.train_points = ax_b.scatter(np.zeros(0), np.zeros(0), c=np.zeros(0), s=16, edgecolors="grey",
                                         linewidths=0.6, cmap=classes, vmin=0, vmax=1)
        self.wrong_points = ax_b.scatter(np.zeros(0), np.zeros(0), s=70, facecolors="none", edgecolors="C3",
                                         linewidths=1.2)
        ax_b.set(xlim=XLIM, ylim=YLIM)
        ax_b.set_title("P(class 1), training points (ringed: label flipped)", fontsize=9)

        self.train_curve, = ax_l.plot([], [], lw=1.2, color="C0", label="training")
        self.val_curve, = ax_l.plot([], [], lw=1.2, color="C1", label="validation")
        self.best_line = ax_l.axvline(0, color="grey", lw=0.8, ls=":", label="lowest validation loss")
        ax_l.set_yscale("log")
        ax_l.set_ylim(*LOSS_LIMITS)
        ax_l.set_xlim(0, epochs)
        ax_l.set_xlabel("epoch", fontsize=8)
        ax_l.set_title("loss (test mode)", fontsize=9)
        ax_l.legend(loc="lower left", fontsize=7, frameon=False)

        self.weight_hist = StairsHistogram(ax_w, WEIGHT_EDGES, fill=True, alpha=0.6, color="C2")
        ax_w.axvline(NEAR_ZERO, color="grey", lw=0.8, ls=":")
        ax_w.set_xscale("log")
        ax_w.set_xlim(WEIGHT_EDGES[0], WEIGHT_EDGES[-1])
        ax_w.set_yscale("function", functions=(np.sqrt, np.square))  # small shares readable, 100% within reach
        ax_w.set_ylim(0, 1)
        ax_w.set_xlabel("|w| (smaller: in the first bin)", fontsize=8)
        ax_w.set_ylabel("share of weights (sqrt scale)", fontsize=8)
        ax_w.set_title("weights", fontsize=9)
        light_axes(ax_b, ax_l, ax_w)
        ax_w.set_yticks([0, 0.05, 0.2, 0.5, 1], ["0", "5%", "20%", "50%", "100%"])
        self.animate(self.boundary, self.train_points, self.wrong_points, self.train_curve, self.val_curve,
                     self.best_line, self.weight_hist.artist)

        self.training = None
        self._frames = weakref.WeakKeyDictionary()  # run -> (epoch, what the figure shows of it), while it is cached
        self.observe(self.update)
        self.safely(self.update)()

    def update(self) -> None:
        c = self.settings
        self.controls["penalty"].disabled = c["strength"] == 0
        penalty, dropout = self.choices[c["penalty"]], self.choices["dropout"]
        self.show_note("\n".join(choice.note for choice in (penalty, dropout) if choice.note))
        key = (c["strength"] and (c["penalty"], penalty.funcs), c["keep"] < 1 and dropout.funcs, c["strength"],
               c["keep"], c["points"], c["label_noise"], c["epochs"])  # what the run depends on
        self.training = training = self.runs.fetch(key, lambda: moons_training(
            c["points"], c["label_noise"], c["epochs"], self.seed, hidden=self.hidden,
            regularizer=Regularizer(penalty=penalty.funcs[0], reg=c["strength"], keep=c["keep"],
                                    dropout=dropout.funcs)))
        X, y, wrong = noisy_moons(c["points"], c["label_noise"], self.seed)
        self.train_points.set_offsets(X)
        self.train_points.set_array(y.astype(float))
        self.wrong_points.set_offsets(X[wrong].reshape(-1, 2))
        self.set_limits(self.train_curve.axes, xlim=(0, c["epochs"]))
        self.progress.max = c["epochs"]
        self.train(training, advancing([training], 1))

    def _frame(self, training) -> tuple:
        """What the figure shows of ``training`` at its current epoch: (record, |weights|, probability image),
        computed once per epoch, so that a cached run is shown again without recomputing."""
        epoch, frame = self._frames.get(training, (None, None))
        if epoch != training.epoch:
            weights = np.abs(np.concatenate([w.ravel() for w in training.stack.weights]))
            image = class_one_probability(training.stack, self.grid).reshape(GRID)
            frame = training.record(), weights, image
            self._frames[training] = training.epoch, frame
        return frame

    def show_training(self, training) -> None:
        record, weights, image = self._frame(training)
        train_loss, val_loss = record["train_loss"][0], record["val_loss"][0]
        stride = -(-train_loss.size // CURVE_POINTS)  # at most CURVE_POINTS points per curve
        epochs = np.arange(1, train_loss.size + 1)
        self.train_curve.set_data(epochs[::stride], np.clip(train_loss[::stride], *LOSS_LIMITS))
        self.val_curve.set_data(epochs[::stride], np.clip(val_loss[::stride], *LOSS_LIMITS))
        self.weight_hist.update(weights)
        self.progress.value = training.epoch
        if train_loss.size:
            best = int(np.argmin(val_loss)) + 1
            self.best_line.set_xdata([best, best])
            self.boundary.set_data(image)
            train_acc, val_acc = record["train_acc"][0, -1], record["val_acc"][0, -1]
            self.show_readout(
                f"epoch <b>{training.epoch}</b> of {training.epochs} &nbsp;&nbsp; training: loss "
                f"<b>{train_loss[-1]:.3g}</b>, accuracy <b>{train_acc:.0%}</b> &nbsp;&nbsp; validation: loss "
                f"<b>{val_loss[-1]:.3g}</b>, accuracy <b>{val_acc:.0%}</b> &nbsp;&nbsp; lowest validation loss "
                f"<b>{val_loss[best - 1]:.3g}</b> at epoch <b>{best}</b> &nbsp;&nbsp; weights with |w| &lt; "
                f"{NEAR_ZERO:g}: <b>{np.mean(weights < NEAR_ZERO):.0%}</b>"
                + (f"<br>overfitting: {train_acc:.0%} of the training points right, {val_acc:.0%} of new ones"
                   if training.done and train_acc - val_acc > 0.15 else ""))
        self.show_message(self._verdict(training, record))
        self.redraw()

    @staticmethod
    def _verdict(training, record) -> str:
        """A message on the plot for the extremes (text is slow to draw: nothing otherwise)."""
        if training.diverged_at is not None:
            return f"training diverged at epoch {training.diverged_at + 1}: the loss is no longer finite"
        if training.done and record["train_acc"].size and record["train_acc"][0, -1] < 0.7:
            if max(np.abs(w).max() for w in training.stack.weights) < NEAR_ZERO:
                return "collapsed: the penalty shrank every weight to almost 0; the same output everywhere"
            return "underfitting: too strong to fit even the training points"
        return ""


@themed
def regularization_explorer(l2_penalty=None, l1_penalty=None, dropout=None, **options) -> RegularizationExplorer:
    """Build the regularization explorer; it displays itself as the last expression of a cell.

    Pass your own functions to drive it: ``l2_penalty`` and ``l1_penalty`` (``(w, reg) -> (loss, dw)``) and
    ``dropout``, your ``(dropout_forward, dropout_backward)`` pair. Each is checked with course.checks; while it is
    not implemented or fails its check the reference is used, and a note on the figure says so. ``options``:
    strength, penalty ("L2" or "L1"), keep, points, label_noise, epochs, hidden, seed, budget, scale (see
    :class:`RegularizationExplorer`).
    """
    return RegularizationExplorer(l2_penalty, l1_penalty, dropout, **options)
