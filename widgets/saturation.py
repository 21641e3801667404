"""Saturation explorer: how the initialization, the weight scale and the fan-in of a layer push its
pre-activations into the flat parts of an activation function, where the local gradient (almost) vanishes."""
from __future__ import annotations

import ipywidgets as W
import numpy as np

from course.diagnostics import SATURATION_THRESHOLD
from course.experiments import WEIGHT_STDS, local_gradients, saturation, standard_normal_draws
from widgets.explorer import (REFERENCE_ACTIVATIONS, Choice, Explorer, StairsHistogram, activation_choice,
                              light_axes, new_figure, themed)

GRAD_EDGES = np.logspace(-6, 0.5, 40)  # |local gradient| bins; zeros are counted in the first one
CURVE_POINTS = 400
Z_BINS = 60
PRESETS = {
    "healthy: weights 0.1 randn, fan-in 100": dict(activation="sigmoid", init="fixed scale", weight_scale=0.1,
                                                   fan_in=100, input_range=10.0),
    "saturated: weights 1 randn, fan-in 100": dict(activation="sigmoid", init="fixed scale", weight_scale=1.0,
                                                   fan_in=100, input_range=10.0),
    "tanh at the same spread": dict(activation="tanh", init="fixed scale", weight_scale=1.0, fan_in=100,
                                    input_range=10.0),
    "Xavier: any fan-in": dict(activation="tanh", init="Xavier", fan_in=1000, input_range=6.0),
}


class SaturationExplorer(Explorer):
    """Activation f(z) and local gradient f'(z) over the input range, with the density of the pre-activations
    z = x @ W of a layer drawn under them and the saturated region (|f'(z)| < threshold) shaded; a histogram of
    the local gradients f'(z); live fractions of saturated and zero-gradient units.

    The layer has fan_in unit-variance inputs and weights of std s, so std(z) = s * sqrt(fan_in): s is the weight
    scale for "fixed scale", 1/sqrt(fan_in) for "Xavier" (std(z) = 1 whatever the fan-in), sqrt(2/fan_in) for
    "He" (course.experiments.WEIGHT_STDS). The weight-scale slider is disabled unless the scale is fixed.

    Controls: ``controls["activation"]``, ``["init"]``, ``["weight_scale"]``, ``["fan_in"]``, ``["input_range"]``.
    Artists: ``curve``, ``gradient_curve`` (Line2D), ``z_density``, ``saturated_band``, ``grad_hist``
    (StairsHistogram); the live fractions are in ``readout`` (an HTML widget). ``choices`` maps each label to the
    functions in use and the note shown when the reference replaces a student's functions.
    """

    def __init__(self, activations: dict | None = None, init: str = "fixed scale", weight_scale: float = 0.1,
                 fan_in: int = 100, input_range: float = 10.0, threshold: float = SATURATION_THRESHOLD,
                 n_samples: int = 20_000, seed: int = 0, scale: float = 1.0):
        self.choices = {label: Choice(label, pair, "") for label, pair in REFERENCE_ACTIVATIONS.items()}
        for label, pair in (activations or {}).items():
            self.choices[label] = activation_choice(label, pair)
        self.threshold = threshold
        self.draws = standard_normal_draws(n_samples, seed)

        students = list(activations or {})
        controls = {
            "activation": W.Dropdown(options=list(self.choices), value=students[0] if students else "sigmoid",
                                     description="activation"),
            "init": W.Dropdown(options=list(WEIGHT_STDS), value=init, description="initialization"),
            "weight_scale": W.FloatLogSlider(value=weight_scale, base=10, min=-3, max=2, step=0.05,
                                             description="weight scale", readout_format=".3g"),
            "fan_in": W.IntSlider(value=fan_in, min=1, max=1000, description="fan-in"),
            "input_range": W.FloatSlider(value=input_range, min=1, max=20, step=0.5, description="input range ±"),
        }
        fig, (ax_f, ax_g) = new_figure(ncols=2, scale=scale, gridspec_kw={"width_ratios": [1.6, 1]})
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.2, top=0.84, wspace=0.2)
        super().__init__(fig, controls, PRESETS)

        ax_f.set_title("f(z), f'(z), and the spread of z (shaded: |f'(z)| < threshold)", fontsize=9)
        self.ax_density = ax_f.twinx()
        self.ax_density.set_yticks([])
        self.ax_density.set_ylim(0, 1)
        self.saturated_band = self.ax_density.stairs(np.zeros(CURVE_POINTS - 1), np.zeros(CURVE_POINTS),
                                                     fill=True, color="grey", alpha=0.25, baseline=0, zorder=0)
        self.z_density = StairsHistogram(self.ax_density, np.linspace(-input_range, input_range, Z_BINS + 1),
                                         fill=True, alpha=0.35, color="C2", label="density of z")
        self.curve, = ax_f.plot([], [], lw=1.5, label="f(z)")
        self.gradient_curve, = ax_f.plot([], [], lw=1.5, label="f'(z)")
        ax_f.axhline(threshold, color="grey", lw=0.8, ls=":")
        ax_f.set_zorder(self.ax_density.get_zorder() + 1)
        ax_f.patch.set_visible(False)
        ax_f.legend(loc="upper left", fontsize=7, frameon=False)
        ax_f.set_xlabel("z (beyond the range: in the end bins)", fontsize=8)

        ax_g.set_title("local gradients f'(z)", fontsize=9)
        self.grad_hist = StairsHistogram(ax_g, GRAD_EDGES, fill=True, alpha=0.6, color="C1")
        ax_g.set_xscale("log")
        ax_g.set_xlim(GRAD_EDGES[0], GRAD_EDGES[-1])
        ax_g.set_ylim(0, 1.05)
        ax_g.axvline(threshold, color="grey", lw=0.8, ls=":")
        ax_g.set_xlabel(f"|f'(z)| (0 counted at {GRAD_EDGES[0]:.0e})", fontsize=8)
        ax_g.set_ylabel("share of units", fontsize=8)
        light_axes(ax_f, ax_g)
        self.animate(self.saturated_band, self.z_density.artist, self.curve, self.gradient_curve,
                     self.grad_hist.artist)
        self.observe(self.update)
        self.safely(self.update)()

    def update(self) -> None:
        c = self.settings
        self.controls["weight_scale"].disabled = c["init"] != "fixed scale"
        choice = self.choices[c["activation"]]
        self.show_choice_notes(c["activation"])
        if choice.funcs is None:
            self.show_message(f"{choice.label} cannot be shown: choose another activation", error=True)
            self.redraw()
            return
        forward, backward = choice.funcs
        r = c["input_range"]
        x = np.linspace(-r, r, CURVE_POINTS)
        y, dy = local_gradients(forward, backward, x)
        self.curve.set_data(x, y)
        self.gradient_curve.set_data(x, dy)
        low, high = min(y.min(), dy.min(), 0.0), max(y.max(), dy.max(), 1.0)
        pad = 0.05 * (high - low)
        self.set_limits(self.curve.axes, xlim=(-r, r), ylim=(low - pad, high + pad))
        flat = (np.abs(dy[:-1]) < self.threshold) & (np.abs(dy[1:]) < self.threshold)
        self.saturated_band.set_data(flat.astype(float), x)

        result = saturation(forward, backward, c["weight_scale"], c["fan_in"], self.draws, self.threshold,
                            init=c["init"])
        density = self.z_density.update(result.preactivations, np.linspace(-r, r, Z_BINS + 1))
        self.ax_density.set_ylim(0, max(density.max(), 0.02) / 0.85)  # no ticks on this axis: no full redraw
        self.grad_hist.update(np.abs(result.local_grad))

        weight_std = WEIGHT_STDS[c["init"]](c["weight_scale"], c["fan_in"])
        self.show_readout(f"weights std <b>{weight_std:.3g}</b> &times; &radic;fan-in = std(z) = <b>{result.std:.3g}</b>"
                          f" &nbsp;&nbsp; saturated (|f'| &lt; {self.threshold:g}): "
                          f"<b>{result.saturated:.1%}</b> &nbsp;&nbsp; zero gradient: <b>{result.zero_gradient:.1%}</b>"
                          f" &nbsp;&nbsp; flat beyond |z| = <b>{self._flat_beyond(x, dy)}</b>")
        self.show_message(self._verdict(result, r))
        self.redraw()

    def _flat_beyond(self, x: np.ndarray, dy: np.ndarray) -> str:
        """Where the positive side turns flat (|f'| below the threshold from there on), as text: the crossing
        interpolated between the last steep grid point and the next."""
        g = np.abs(dy)
        steep = np.flatnonzero((x > 0) & (g >= self.threshold))
        if steep.size == 0:
            return "0"
        i = steep[-1]
        if i == x.size - 1:
            return "never (in range)"
        crossing = x[i] + (x[i + 1] - x[i]) * (g[i] - self.threshold) / (g[i] - g[i + 1])
        return f"{crossing:.2g}"

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


@themed
def saturation_explorer(activations: dict | None = None, **options) -> SaturationExplorer:
    """Build the saturation explorer; it displays itself as the last expression of a cell.

    ``activations`` adds your own pairs to the reference ones: ``{"my relu": (relu_forward, relu_backward)}``,
    each ``forward(x) -> (out, cache)`` and ``backward(dout, cache) -> dx``. A pair named like a known activation
    (by the forward's name, relu_forward -> relu, or by the label) is checked with course.checks and replaced by
    the reference, with a note on the figure, while it is not implemented or fails its check; any other pair
    must pass a numerical gradient check. ``options``: init ("fixed scale", "Xavier", "He"), weight_scale, fan_in,
    input_range, threshold, n_samples, seed, scale (see :class:`SaturationExplorer`).
    """
    return SaturationExplorer(activations, **options)
