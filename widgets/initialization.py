"""Initialization explorer: the classic experiment of a deep fully connected net at initialization. Unit-Gaussian
inputs go forward through up to 20 layers and a unit-Gaussian gradient comes back; the distribution of the
activations at every layer, the spread of activations and gradients per layer and the units of the last layer
show the signal collapsing to zero, saturating, exploding or staying healthy, and equal weights keeping every
unit of a layer identical."""
from __future__ import annotations

from dataclasses import dataclass

import ipywidgets as W
import numpy as np
from matplotlib.colors import PowerNorm

from course import checks
from course import init as reference
from course.experiments import distinct_units, layer_histograms, propagate, standard_normal_weights
from widgets.explorer import Explorer, light_axes, new_figure, prefer_student, themed

MAX_DEPTH = 20
MAX_WIDTH = 200
N_EXAMPLES = 64
BINS = 41
SHOWN_UNITS, SHOWN_EXAMPLES = 16, 40
STD_LIMITS = (1e-12, 1e6)
VALUE_RANGES = {"tanh": (-1.0, 1.0), "relu": (0.0, 4.0), "sigmoid": (0.0, 1.0)}
SCALED_INITS = ("small random", "constant")  # the reference initializations that use the scale slider
REFERENCE_INITS = ("zeros", "constant", "small random", "Xavier", "He")
STUDENT_KINDS = ("small_random", "xavier", "he", "glorot")  # the course.init functions a student may pass
CACHED = 64
PRESETS = {
    "tanh, 0.01 randn: activations collapse": dict(activation="tanh", init="small random", weight_scale=0.01,
                                                   depth=10, width=100),
    "tanh, 1.0 randn: saturation": dict(activation="tanh", init="small random", weight_scale=1.0, depth=10,
                                        width=100),
    "tanh, Xavier: healthy": dict(activation="tanh", init="Xavier", depth=10, width=100),
    "ReLU, Xavier: the variance halves per layer": dict(activation="relu", init="Xavier", depth=10, width=100),
    "ReLU, He: the variance is kept": dict(activation="relu", init="He", depth=10, width=100),
    "zeros: every unit the same": dict(activation="sigmoid", init="zeros", depth=10, width=100),
}


def student_kind(label: str, func) -> str:
    """Which course.init function a student's ``func`` stands for: by its __name__ (xavier, he, small_random,
    glorot), else by the words of its label ("my small random" -> small_random)."""
    name = getattr(func, "__name__", "")
    if name in STUDENT_KINDS:
        return name
    words = label.lower().replace("-", " ").replace("_", " ")
    found = [kind for kind in STUDENT_KINDS if kind.replace("_", " ") in words.split() or
             kind.replace("_", " ") in words]
    if not found:
        raise ValueError(f"initializers[{label!r}]: name the function (or the label) after one of "
                         f"{', '.join(STUDENT_KINDS)}, so it can be checked; got {name or func!r}")
    return max(found, key=len)


@dataclass(frozen=True)
class _Frame:
    """What the explorer shows for one setting, for L layers: the histograms (L, BINS) of each layer's activations,
    activation_std and gradient_std (L,), the saturated (or, for ReLU, inactive) share of the last layer, its
    first units on the first examples (units, examples), the weights' std, and the last layer's distinct units,
    its units alive (not 0 on every example) and the distinct ones among them."""
    histograms: np.ndarray
    activation_std: np.ndarray
    gradient_std: np.ndarray
    saturated: float
    units: np.ndarray
    weight_std: float
    distinct: int
    alive: int
    distinct_alive: int


class _DrawnWeights:
    """The layers a student's initializer drew at one width (and scale), extended as the depth grows."""

    def __init__(self, draw, seed: int):
        self.draw, self.rng, self.layers = draw, np.random.default_rng(seed), []

    def first(self, depth: int) -> np.ndarray:
        while len(self.layers) < depth:
            self.layers.append(np.asarray(self.draw(self.rng), dtype=np.float64))
        return np.array(self.layers[:depth])


class InitExplorer(Explorer):
    """A deep fully connected net at initialization (course.experiments.propagate): activations of every layer
    as a heat map (layer by value), the std of the activations and of the backpropagated gradients per layer on
    a log axis, and the activations of the last layer's first units on the first examples.

    Controls: ``controls["activation"]`` (tanh, relu, sigmoid), ``["init"]`` (zeros, constant, small random,
    Xavier, He and your initializers), ``["depth"]``, ``["width"]``, ``["weight_scale"]`` (the std of small
    random, the value of constant; disabled otherwise). Artists: ``heatmap`` (AxesImage), ``units_image`` (QuadMesh),
    ``activation_line``, ``gradient_line`` (Line2D). ``frame`` holds the numbers on show.
    Reference initializations scale standard normal draws made once (so an event costs the forward and backward
    passes only); a student's initializer is called for each layer, and its draws are cached per width and scale.
    """

    def __init__(self, initializers: dict | None = None, activation: str = "tanh", init: str = "Xavier",
                 weight_scale: float = 0.01, depth: int = 10, width: int = 100, seed: int = 0, scale: float = 1.0):
        self.choices, self.kinds = {}, {}
        for label, func in (initializers or {}).items():
            if label in REFERENCE_INITS:
                raise ValueError(f"initializers: {label!r} names a reference initialization; label yours "
                                 f"differently, e.g. 'my {label.lower()}'")
            kind = self.kinds[label] = student_kind(label, func)
            self.choices[label] = prefer_student(label, (func,), (getattr(reference, kind),), kind,
                                                 getattr(checks, f"check_{kind}").evaluate(func))
        self.seed = seed
        rng = np.random.default_rng(seed)
        self.inputs = rng.standard_normal((N_EXAMPLES, MAX_WIDTH))
        self.top_gradient = rng.standard_normal((N_EXAMPLES, MAX_WIDTH))
        self.bank = standard_normal_weights(MAX_DEPTH, MAX_WIDTH, seed + 1)
        self.drawn: dict[tuple, _DrawnWeights] = {}
        self.frames: dict[tuple, _Frame] = {}  # setting -> what it shows, most recently computed last

        students = list(self.choices)
        controls = {
            "activation": W.Dropdown(options=list(VALUE_RANGES), value=activation, description="activation"),
            "init": W.Dropdown(options=[*REFERENCE_INITS, *students], value=students[0] if students else init,
                               description="initialization"),
            "depth": W.IntSlider(value=depth, min=1, max=MAX_DEPTH, description="depth"),
            "width": W.IntSlider(value=width, min=10, max=MAX_WIDTH, step=10, description="width"),
            "weight_scale": W.FloatLogSlider(value=weight_scale, base=10, min=-3, max=1, step=0.05,
                                             readout_format=".3g", description="weight scale"),
        }
        fig, (ax_heat, ax_std, ax_units) = new_figure(ncols=3, figsize=(8.6, 3.4), scale=scale,
                                                      gridspec_kw={"width_ratios": [1.25, 1.25, 0.9]})
        fig.subplots_adjust(left=0.06, right=0.98, bottom=0.21, top=0.86, wspace=0.32)
        super().__init__(fig, controls, PRESETS)

        low, high = VALUE_RANGES[activation]
        ax_heat.set_autoscale_on(False)
        self.heatmap = ax_heat.imshow(np.full((MAX_DEPTH, BINS), np.nan), aspect="auto", cmap="magma",
                                      norm=PowerNorm(0.4, vmin=0, vmax=1), interpolation="nearest",
                                      extent=(low, high, MAX_DEPTH + 0.5, 0.5))
        ax_heat.set(xlim=(low, high), ylim=(MAX_DEPTH + 0.5, 0.5))
        ax_heat.set_title("activations of each layer (share per value)", fontsize=9)
        ax_heat.set_xlabel("activation value (beyond: in the end bins)", fontsize=8)
        ax_heat.set_ylabel("layer", fontsize=8)

        layers = np.arange(1, MAX_DEPTH + 1)
        self.activation_line, = ax_std.plot(layers, np.ones(MAX_DEPTH), "o-", ms=3, lw=1.5, color="C0",
                                            label="activations")
        self.gradient_line, = ax_std.plot(layers, np.ones(MAX_DEPTH), "s-", ms=3, lw=1.5, color="C1",
                                          label="gradients (backward)")
        ax_std.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax_std.set_yscale("log")
        ax_std.set(xlim=(0.5, MAX_DEPTH + 0.5), ylim=STD_LIMITS)
        ax_std.set_title("standard deviation per layer", fontsize=9)
        ax_std.set_xlabel("layer", fontsize=8)
        ax_std.legend(loc="lower left", fontsize=7, frameon=False)

        self.units_image = ax_units.pcolormesh(np.arange(SHOWN_EXAMPLES + 1) - 0.5, np.arange(SHOWN_UNITS + 1) - 0.5,
                                               np.zeros((SHOWN_UNITS, SHOWN_EXAMPLES)), cmap="coolwarm", vmin=-1,
                                               vmax=1)  # a mesh: drawn in ~1 ms, an image in ~5
        ax_units.set_ylim(SHOWN_UNITS - 0.5, -0.5)
        ax_units.set_title("the last layer's units", fontsize=9)
        ax_units.set_xlabel("example", fontsize=8)
        ax_units.set_ylabel("unit", fontsize=8)
        light_axes(ax_heat, ax_std, ax_units)
        self.animate(self.heatmap, self.activation_line, self.gradient_line, self.units_image)
        self.frame = None
        self.observe(self.update)
        self.safely(self.update)()

    # --- weights --------------------------------------------------------------------------------------------
    def weights(self, init: str, scale: float, depth: int, width: int) -> np.ndarray:
        """(depth, width, width) weights of the initialization ``init`` (a reference name or a student's label)."""
        if init == "zeros":
            return np.zeros((depth, width, width))
        if init == "constant":
            return np.full((depth, width, width), scale)
        if init in ("small random", "Xavier", "He"):
            return self.nominal_std(init, scale, width) * self.bank[:depth, :width, :width]
        func, kind = self.choices[init].funcs[0], self.kinds[init]
        scaled = kind == "small_random"
        key = (init, func, width, scale if scaled else None)
        if key not in self.drawn:
            if scaled:
                self.drawn[key] = _DrawnWeights(lambda rng: func((width, width), scale, rng=rng), self.seed)
            else:
                self.drawn[key] = _DrawnWeights(lambda rng: func((width, width), rng=rng), self.seed)
            while len(self.drawn) > 4:
                self.drawn.pop(next(iter(self.drawn)))
        return self.drawn[key].first(depth)

    @staticmethod
    def nominal_std(init: str, scale: float, width: int) -> float:
        """The std a reference initialization draws its weights with (0 for zeros and constant)."""
        return {"small random": scale, "Xavier": 1 / np.sqrt(width), "He": np.sqrt(2 / width)}.get(init, 0.0)

    def _uses_scale(self, init: str) -> bool:
        return init in SCALED_INITS or self.kinds.get(init) == "small_random"

    # --- update ---------------------------------------------------------------------------------------------
    def update(self) -> None:
        c = self.settings
        uses_scale = self._uses_scale(c["init"])
        self.controls["weight_scale"].disabled = not uses_scale
        self.show_note("\n".join(choice.note for label, choice in self.choices.items()
                                 if choice.note and label == c["init"]))
        choice = self.choices.get(c["init"])
        key = (c["activation"], c["init"], choice.funcs if choice else None,
               c["weight_scale"] if uses_scale else None, c["depth"], c["width"])
        if key not in self.frames:
            self.frames[key] = self._compute(c)
            while len(self.frames) > CACHED:
                self.frames.pop(next(iter(self.frames)))
        frame = self.frame = self.frames[key]

        low, high = VALUE_RANGES[c["activation"]]
        image = np.full((MAX_DEPTH, BINS), np.nan)
        image[:c["depth"]] = frame.histograms
        self.heatmap.set_data(image)
        self.heatmap.set_extent((low, high, MAX_DEPTH + 0.5, 0.5))
        self.set_limits(self.heatmap.axes, xlim=(low, high))
        layers = np.arange(1, c["depth"] + 1)
        self.activation_line.set_data(layers, self._on_scale(frame.activation_std))
        self.gradient_line.set_data(layers, self._on_scale(frame.gradient_std))
        block = np.full((SHOWN_UNITS, SHOWN_EXAMPLES), np.nan)
        block[:frame.units.shape[0]] = frame.units
        largest = np.max(np.abs(frame.units)) if np.all(np.isfinite(frame.units)) else 0.0
        self.units_image.set_array(np.ma.masked_invalid(block))
        self.units_image.set_clim(-(largest or 1.0), largest or 1.0)
        self.show_readout(self._readout(frame, c))
        self.show_message(self._verdict(frame, c))
        self.redraw()

    def _compute(self, c) -> "_Frame":
        width = c["width"]
        weights = self.weights(c["init"], c["weight_scale"], c["depth"], width)
        signal = propagate(c["activation"], weights, self.inputs[:, :width], self.top_gradient[:, :width])
        last = signal.activations[-1]
        alive = np.any(last != 0, axis=0)
        return _Frame(
            histograms=layer_histograms(signal.activations, np.linspace(*VALUE_RANGES[c["activation"]], BINS + 1),
                                        max_values=4096),
            activation_std=signal.activation_std, gradient_std=signal.gradient_std,
            saturated=float(signal.saturated[-1]), units=last[:SHOWN_EXAMPLES, :SHOWN_UNITS].T,
            weight_std=float(weights[0].std()) if c["init"] in self.choices else  # a student's: as measured
            self.nominal_std(c["init"], c["weight_scale"], width),
            distinct=distinct_units(last), alive=int(alive.sum()), distinct_alive=distinct_units(last[:, alive]))

    @staticmethod
    def _readout(frame: "_Frame", c) -> str:
        a, g, width, depth = frame.activation_std, frame.gradient_std, c["width"], c["depth"]
        if c["activation"] == "relu" and frame.alive == 0:
            units = (f"inactive (f' = 0) <b>{frame.saturated:.0%}</b>, distinct units <b>1</b> of {width}: all "
                     f"identical, all dead (0 on every example)")
        elif c["activation"] == "relu":
            units = (f"inactive (f' = 0) <b>{frame.saturated:.0%}</b>, distinct units <b>{frame.distinct_alive}</b> "
                     f"of the {frame.alive} alive ({width - frame.alive} dead: 0 on every example)")
        else:
            units = (f"saturated (|f'| &lt; 0.01) <b>{frame.saturated:.0%}</b>, distinct units <b>{frame.distinct}</b> "
                     f"of {width}")
        weights = (f"weights all equal to <b>{c['weight_scale']:.3g}</b>" if c["init"] == "constant" else
                   f"weights std <b>{frame.weight_std:.3g}</b>, std &times; &radic;width = "
                   f"<b>{frame.weight_std * np.sqrt(width):.3g}</b>")
        return (f"layer {depth} (the last): activation std <b>{a[-1]:.3g}</b>, {units} &nbsp;&nbsp; gradient std at "
                f"layer 1 <b>{g[0]:.3g}</b> (at layer {depth}: {g[-1]:.3g}) &nbsp;&nbsp; {weights}")

    @staticmethod
    def _on_scale(values: np.ndarray) -> np.ndarray:
        """Values clipped to the plot's range (0 and overflow included), so the line stays on the plot."""
        return np.clip(np.nan_to_num(values, nan=STD_LIMITS[1], posinf=STD_LIMITS[1]), *STD_LIMITS)

    @staticmethod
    def _verdict(frame: "_Frame", c) -> str:
        """Short, without numbers (those are in the readout): text is the slowest thing to draw."""
        a, g = frame.activation_std, frame.gradient_std
        if frame.distinct == 1 and c["width"] > 1:
            return "equal weights: all units of each layer are identical, and stay so"
        parts = []
        ratio = g[0] / g[-1] if g[-1] > 0 else np.nan
        grows = c["depth"] > 1 and g[-1] > 0 and not g[0] <= g[-1]  # an overflow (inf, NaN) counts as growth
        if not np.isfinite(a[-1]) or a[-1] > 1e3:
            parts.append("activations explode")
        elif a[-1] < 1e-3:
            parts.append("activations collapse towards 0")
        elif c["activation"] != "relu" and frame.saturated > 0.5:
            parts.append("most units are saturated" + ("" if grows else ": little gradient passes"))
        if c["depth"] > 1 and np.isfinite(ratio) and ratio < 1e-3:
            parts.append("gradients vanish on the way back")
        elif c["depth"] > 1 and (not np.isfinite(ratio) or ratio > 1e3):
            parts.append("gradients explode on the way back")
        return "; ".join(parts)


@themed
def init_explorer(initializers: dict | None = None, **options) -> InitExplorer:
    """Build the initialization explorer; it displays itself as the last expression of a cell.

    ``initializers`` adds your own: ``{"my xavier": xavier, "my he": he, "my small random": small_random}``, each
    with course.init's signature (``xavier(shape, rng=None)``, ``small_random(shape, scale=0.01, rng=None)``),
    named after the function it stands for. Each is checked with course.checks and used once it passes; until
    then the reference is used under its label, with a note on the figure. ``options``: activation, init,
    weight_scale, depth, width, seed, scale (the figure's, see :class:`InitExplorer`).
    """
    return InitExplorer(initializers, **options)
