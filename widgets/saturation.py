"""Saturation explorer: how the weight scale and the fan-in of a layer push its pre-activations into the flat
parts of an activation function, where the local gradient (almost) vanishes."""
from __future__ import annotations

import ipywidgets as W
import numpy as np

from course.diagnostics import SATURATION_THRESHOLD
from course.experiments import local_gradients, saturation, standard_normal_draws
from widgets.explorer import (REFERENCE_ACTIVATIONS, Choice, Explorer, StairsHistogram,
                              activation_choice, light_axes, new_figure)

GRAD_EDGES = np.logspace(-6, 0.5, 40)  # |local gradient| bins; zeros are counted in the first one
CURVE_POINTS = 300
Z_BINS = 40


class SaturationExplorer(Explorer):
    """Activation and local gradient over the input range; histograms of the pre-activations z = x @ W of a layer
    (fan_in unit-variance inputs, W ~ weight_scale * N(0, 1), so std(z) = weight_scale * sqrt(fan_in)) and of
    their local gradients; live fractions of saturated (|gradient| < threshold) and zero-gradient units.

    Controls: ``controls["activation"]``, ``["weight_scale"]``, ``["fan_in"]``, ``["input_range"]``.
    Artists: ``curve``, ``gradient_curve`` (Line2D), ``z_hist``, ``grad_hist`` (StairsHistogram); the live
    fractions are in ``readout`` (an HTML widget).
    ``choices`` maps each label to the functions in use and the note shown when the reference replaces a
    student's functions.
    """

    def __init__(self, activations: dict | None = None, weight_scale: float = 0.1, fan_in: int = 100,
                 input_range: float = 6.0, threshold: float = SATURATION_THRESHOLD, n_samples: int = 20_000,
                 seed: int = 0):
        self.choices = {label: Choice(label, pair, "") for label, pair in REFERENCE_ACTIVATIONS.items()}
        dropped = []
        for label, pair in (activations or {}).items():
            choice = activation_choice(label, pair)
            if choice.funcs is None:
                dropped.append(choice.note)
            else:
                self.choices[label] = choice
        self.dropped_note = "\n".join(dropped)
        self.threshold = threshold
        self.draws = standard_normal_draws(n_samples, seed)

        students = [label for label in (activations or {}) if label in self.choices]
        first = students[0] if students else "sigmoid"
        controls = {
            "activation": W.Dropdown(options=list(self.choices), value=first, description="activation"),
            "weight_scale": W.FloatLogSlider(value=weight_scale, base=10, min=-3, max=2, step=0.05,
                                             description="weight scale", readout_format=".3g"),
            "fan_in": W.IntSlider(value=fan_in, min=1, max=1000, description="fan-in"),
            "input_range": W.FloatSlider(value=input_range, min=1, max=20, step=0.5, description="input range ±"),
        }
        fig, (ax_f, ax_z, ax_g) = new_figure(ncols=3)
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.2, top=0.84, wspace=0.3)
        super().__init__(fig, controls)

        ax_f.set_title("activation and local gradient", fontsize=9)
        self.curve, = ax_f.plot([], [], lw=1.5, label="f(x)")
        self.gradient_curve, = ax_f.plot([], [], lw=1.5, label="f'(x)")
        ax_f.axhline(threshold, color="grey", lw=0.8, ls=":")
        ax_f.legend(loc="upper left", fontsize=7, frameon=False)
        ax_f.set_xlabel("x", fontsize=8)

        ax_z.set_title("pre-activations z", fontsize=9)
        self.z_hist = StairsHistogram(ax_z, np.linspace(-input_range, input_range, Z_BINS + 1), fill=True, alpha=0.6)
        ax_z.set_xlabel("z (beyond the range: in the end bins)", fontsize=8)

        ax_g.set_title("local gradients f'(z)", fontsize=9)
        self.grad_hist = StairsHistogram(ax_g, GRAD_EDGES, fill=True, alpha=0.6, color="C1")
        ax_g.set_xscale("log")
        ax_g.set_xlim(GRAD_EDGES[0], GRAD_EDGES[-1])
        ax_g.set_ylim(0, 1.05)
        ax_g.axvline(threshold, color="grey", lw=0.8, ls=":")
        ax_g.set_xlabel(f"|f'(z)| (0 counted at {GRAD_EDGES[0]:.0e})", fontsize=8)
        light_axes(ax_f, ax_z, ax_g)
        ax_z.set_yticks([])  # its y-limit follows the data every event; tick labels would force full redraws
        ax_z.set_ylabel("share of units", fontsize=8)
        self.animate(self.curve, self.gradient_curve, self.z_hist.artist, self.grad_hist.artist)
        self.observe(self.update)
        self.safely(self.update)()

    def update(self) -> None:
        c = {name: control.value for name, control in self.controls.items()}
        choice = self.choices[c["activation"]]
        forward, backward = choice.funcs
        r = c["input_range"]
        x = np.linspace(-r, r, CURVE_POINTS)
        y, dy = local_gradients(forward, backward, x)
        self.curve.set_data(x, y)
        self.gradient_curve.set_data(x, dy)
        low, high = min(y.min(), dy.min(), 0.0), max(y.max(), dy.max(), 1.0)
        pad = 0.05 * (high - low)
        self.set_limits(self.curve.axes, xlim=(-r, r), ylim=(low - pad, high + pad))

        result = saturation(forward, backward, c["weight_scale"], c["fan_in"], self.draws, self.threshold)
        z_fractions = self.z_hist.update(result.preactivations, np.linspace(-r, r, Z_BINS + 1))
        self.set_limits(self.z_hist.artist.axes, xlim=(-r, r))
        self.z_hist.artist.axes.set_ylim(0, 1.1 * max(z_fractions.max(), 0.05))  # no y ticks: no full redraw
        self.grad_hist.update(np.abs(result.local_grad))

        self.show_readout(f"std(z) = <b>{result.std:.3g}</b> &nbsp;&nbsp; saturated (|f'| &lt; {self.threshold:g}): "
                          f"<b>{result.saturated:.1%}</b> &nbsp;&nbsp; zero gradient: <b>{result.zero_gradient:.1%}</b>")
        self.show_note("\n".join(filter(None, [choice.note, self.dropped_note])))
        self.show_message(self._verdict(result, r))
        self.redraw()

    @staticmethod
    def _verdict(result, r: float) -> str:
        """A message for the extremes: everything saturated, or z beyond the plotted range."""
        outside = float(np.mean(np.abs(result.preactivations) > r))
        parts = []
        if result.saturated > 0.9:
            parts.append(f"{result.saturated:.0%} of the units are saturated: almost no gradient flows back")
        if outside > 0.05:
            parts.append(f"{outside:.0%} of z lie beyond ±{r:g}")
        return "; ".join(parts)


def saturation_explorer(activations: dict | None = None, **options) -> SaturationExplorer:
    """Build the saturation explorer; it displays itself as the last expression of a cell.

    ``activations`` adds your own pairs to the reference ones: ``{"my relu": (relu_forward, relu_backward)}``,
    each ``forward(x) -> (out, cache)`` and ``backward(dout, cache) -> dx``. A pair named like a known activation
    (by the forward's name, relu_forward -> relu, or by the label) is checked with course.checks and replaced by
    the reference, with a note on the figure, while it is not implemented or fails its check; any other pair
    must pass a numerical gradient check. ``options``: weight_scale, fan_in, input_range, threshold, n_samples,
    seed (see :class:`SaturationExplorer`).
    """
    return SaturationExplorer(activations, **options)
