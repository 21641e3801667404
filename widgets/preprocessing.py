"""Preprocessing explorer: a correlated, off-centre 2-D point cloud shown as it is, centred, standardized,
decorrelated by PCA and whitened, with a test split transformed by the training split's statistics (or, to see
the mistake, by its own)."""
from __future__ import annotations

import ipywidgets as W
import numpy as np

from course import checks, preprocess
from course.experiments import STAGES, cloud_draws, cloud_mean, correlated_cloud, preprocessing_stages
from widgets.explorer import Choice, Explorer, light_axes, new_figure, prefer_student, themed

N_TRAIN = 300
MAX_TEST = 100
TEST_STATISTICS = {"training split": False, "test split's own": True}  # option -> own_test_statistics
FUNCTIONS = ("center", "standardize", "pca", "whiten")
LIMITS = {  # stage -> (xlim, ylim): fixed, so moving a slider never redraws the axes
    "original": ((-8.0, 16.0), (-8.0, 16.0)),
    "centred": ((-8.0, 8.0), (-8.0, 8.0)),
    "standardized": ((-4.5, 4.5), (-4.5, 4.5)),
    "decorrelated (PCA)": ((-8.0, 8.0), (-8.0, 8.0)),
    "whitened": ((-4.5, 4.5), (-4.5, 4.5)),
}
HALF = 10 ** -0.3  # about 0.5, on the std-ratio slider's grid (steps of 0.05 in log10)
PRESETS = {
    "an off-centre, correlated cloud": dict(correlation=0.8, offset=6.0, spread_ratio=HALF, eps=1e-5, test_points=30,
                                            test_statistics="training split"),
    "uncorrelated features of equal spread": dict(correlation=0.0, offset=6.0, spread_ratio=1.0, eps=1e-5,
                                                  test_points=30, test_statistics="training split"),
    "nearly one-dimensional: eps matters": dict(correlation=0.995, offset=6.0, spread_ratio=1.0, eps=0.1,
                                                test_points=30, test_statistics="training split"),
    "two test points with their own statistics": dict(correlation=0.8, offset=6.0, spread_ratio=HALF, eps=1e-5,
                                                      test_points=2, test_statistics="test split's own"),
}


def _correlation(X: np.ndarray) -> float:
    c = np.corrcoef(X.T)[0, 1] if np.all(X.std(axis=0) > 0) else 0.0
    return float(c)


def _angle(components: np.ndarray) -> float:
    """The angle in degrees of the first principal direction (the first column of components (2, 2)) from the
    axis of feature 1: the rotation PCA applies."""
    return float(np.degrees(np.arctan2(components[1, 0], components[0, 0])))


class PreprocessingExplorer(Explorer):
    """Five panels, one per stage of course.experiments.STAGES, each showing the training split (dots) and the
    test split (crosses) after that stage; the principal directions of the training split (scaled by two standard
    deviations) are drawn in the first two panels. The readout follows the means, spreads and correlations, and the
    angle PCA rotates by.

    Controls: ``controls["correlation"]``, ``["offset"]``, ``["spread_ratio"]`` (std of feature 2 / feature 1),
    ``["eps"]`` (whitening's epsilon), ``["test_points"]`` (size of the test split), ``["test_statistics"]``
    ("training split", or "test split's own": the mistake). Artists: ``train_points`` and ``test_points`` (stage
    -> PathCollection), ``axes_lines`` (two Line2D per panel of the first two). ``stages`` is the last
    course.experiments.Stages computed. ``choices`` maps each of center, standardize, pca, whiten to the function
    in use (a student's or the reference).
    """

    def __init__(self, functions: dict | None = None, correlation: float = 0.8, offset: float = 6.0,
                 spread_ratio: float = HALF, eps: float = 1e-5, test_points: int = 30,
                 test_statistics: str = "training split", seed: int = 0, scale: float = 1.0):
        functions = dict(functions or {})
        unknown = set(functions) - set(FUNCTIONS)
        if unknown:
            raise ValueError(f"functions may hold {', '.join(FUNCTIONS)}; got {', '.join(sorted(unknown))}")
        self.choices = {}
        for name in FUNCTIONS:
            reference = (getattr(preprocess, name),)
            student = functions.get(name)
            self.choices[name] = Choice(name, reference, "") if student is None else prefer_student(
                name, (student,), reference, name, getattr(checks, f"check_{name}").evaluate(student))
        self.train_draws = cloud_draws(N_TRAIN, seed)
        self.test_draws = cloud_draws(MAX_TEST, seed + 1)
        slider = dict(continuous_update=True, readout_format=".3g")
        controls = {
            "correlation": W.FloatSlider(value=correlation, min=-0.995, max=0.995, step=0.005,
                                         description="correlation", **slider),
            "offset": W.FloatSlider(value=offset, min=0.0, max=8.0, step=0.1, description="offset", **slider),
            "spread_ratio": W.FloatLogSlider(value=spread_ratio, base=10, min=-1, max=1, step=0.05,
                                             description="std ratio (feature 2 / 1)", **slider),
            "eps": W.FloatLogSlider(value=eps, base=10, min=-5, max=1, step=0.25, description="whitening eps",
                                    **slider),
            "test_points": W.IntSlider(value=test_points, min=2, max=MAX_TEST, description="test points"),
            "test_statistics": W.ToggleButtons(options=list(TEST_STATISTICS), value=test_statistics,
                                               description="test split transformed with the statistics of"),
        }
        fig, axes = new_figure(ncols=len(STAGES), figsize=(8.6, 2.7), scale=scale)
        fig.subplots_adjust(left=0.05, right=0.99, bottom=0.13, top=0.8, wspace=0.3)
        super().__init__(fig, controls, PRESETS)

        self.train_points, self.test_points, self.axes_lines = {}, {}, {}
        for ax, stage in zip(axes, STAGES):
            xlim, ylim = LIMITS[stage]
            ax.set(xlim=xlim, ylim=ylim, aspect="equal")
            ax.set_title(stage, fontsize=9)
            ax.axhline(0, color="grey", lw=0.5)
            ax.axvline(0, color="grey", lw=0.5)
            self.train_points[stage] = ax.scatter(np.zeros(N_TRAIN), np.zeros(N_TRAIN), s=3, marker="s", color="C0",
                                                  alpha=0.5, linewidths=0, label="training split")
            self.test_points[stage] = ax.scatter([], [], s=16, color="C1", marker="x", linewidths=1,
                                                 label="test split")
            if stage in ("original", "centred"):
                self.axes_lines[stage] = [ax.plot([], [], color=c, lw=2)[0] for c in ("C2", "C3")]
        axes[0].legend(loc="upper left", fontsize=6, frameon=False, markerscale=1.5)
        axes[0].set_xlabel("feature 1", fontsize=8)
        axes[0].set_ylabel("feature 2", fontsize=8)
        light_axes(*axes, nbins=3)
        self.animate(*self.train_points.values(), *self.test_points.values(),
                     *(line for lines in self.axes_lines.values() for line in lines))
        self.stages = None
        self.observe(self.update)
        self.safely(self.update)()

    def update(self) -> None:
        c = self.settings
        self.show_note("\n".join(choice.note for choice in self.choices.values() if choice.note))
        train = correlated_cloud(self.train_draws, c["correlation"], c["offset"], c["spread_ratio"])
        test = correlated_cloud(self.test_draws[:c["test_points"]], c["correlation"], c["offset"], c["spread_ratio"])
        functions = {name: choice.funcs[0] for name, choice in self.choices.items()}
        stages = preprocessing_stages(train, test, c["eps"], TEST_STATISTICS[c["test_statistics"]], **functions)
        self.stages = stages
        for stage in STAGES:
            self.train_points[stage].set_offsets(stages.train[stage])
            self.test_points[stage].set_offsets(stages.test[stage])
        half_lengths = 2 * np.sqrt(stages.explained_variance)
        for stage, origin in (("original", stages.mean), ("centred", np.zeros(2))):
            for line, direction, length in zip(self.axes_lines[stage], stages.components.T, half_lengths):
                ends = origin + np.outer([-length, length], direction)
                line.set_data(ends[:, 0], ends[:, 1])
        self.show_readout(self._readout(stages, c))
        self.show_message(self._verdict(stages, c))
        self.redraw()

    @staticmethod
    def _readout(stages, c) -> str:
        def pair(v):
            return f"({v[0]:.2f}, {v[1]:.2f})"
        train, test = stages.train, stages.test
        white_cov = np.cov(train["whitened"].T, bias=True)
        source = "its own statistics" if TEST_STATISTICS[c["test_statistics"]] else "the training statistics"
        return (f"training split: mean <b>{pair(stages.mean)}</b>, std <b>{pair(stages.std)}</b>, correlation "
                f"<b>{_correlation(train['original']):.2f}</b> &rarr; after PCA <b>"
                f"{_correlation(train['decorrelated (PCA)']):.2f}</b>; PCA variances "
                f"<b>{pair(stages.explained_variance)}</b>, first direction at <b>{_angle(stages.components):.0f}&deg;"
                f"</b>; whitened variances <b>"
                f"{pair(np.diag(white_cov))}</b><br>test split ({len(test['original'])} points, with {source}): "
                f"mean after centring <b>{pair(test['centred'].mean(axis=0))}</b>, std after standardizing "
                f"<b>{pair(test['standardized'].std(axis=0))}</b>")

    @staticmethod
    def _verdict(stages, c) -> str:
        smallest = stages.explained_variance[-1]
        if TEST_STATISTICS[c["test_statistics"]] and c["test_points"] <= 3:
            return (f"with its own statistics, {c['test_points']} test points are always stretched to unit spread: "
                    "where a point lands depends on the other test points")
        if TEST_STATISTICS[c["test_statistics"]]:
            return "each test point's position now depends on the other test points (their mean and spread)"
        if c["eps"] > 0.1 * smallest:
            return "eps is not small next to the smallest variance: that direction is shrunk, not scaled to 1"
        return ""


@themed
def preprocessing_explorer(center=None, standardize=None, pca=None, whiten=None, **options) -> PreprocessingExplorer:
    """Build the preprocessing explorer; it displays itself as the last expression of a cell.

    Pass your own ``center``, ``standardize``, ``pca`` and ``whiten`` (course.preprocess's signatures): each is
    checked with course.checks and used once it passes; until then the reference is used, with a note on the
    figure. ``options``: correlation, offset, spread_ratio, eps, test_points, test_statistics ("training split"
    or "test split's own"), seed, scale (see :class:`PreprocessingExplorer`).
    """
    functions = {name: f for name, f in zip(FUNCTIONS, (center, standardize, pca, whiten)) if f is not None}
    return PreprocessingExplorer(functions, **options)
