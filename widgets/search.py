"""Search explorer: grid against random search over (learning rate, regularization), on a validation-accuracy
landscape measured once (course.experiments.search), with a budget slider and the sampler on a menu."""
from __future__ import annotations

import ipywidgets as W
import numpy as np

from course import checks, search
from course.experiments.search import (LandscapeMeasurement, compare_searches, distinct_values, grid_trials,
                                       random_trials)
from widgets.explorer import Choice, Explorer, Stepper, advancing, light_axes, new_figure, prefer_student, themed

STRATEGIES = ("random", "grid", "both")
MAX_BUDGET = 64
DRAWS = 20  # random draws offered by the "draw" slider
PRESETS = {
    "9 trials: a lucky grid": dict(budget=9, strategy="both", draw=0, sampler="log-uniform"),
    "25 trials: more trials, a worse grid": dict(budget=25, strategy="both", draw=0, sampler="log-uniform"),
    "64 trials: both find the top": dict(budget=64, strategy="both", draw=0, sampler="log-uniform"),
    "uniform sampling wastes the trials": dict(budget=16, strategy="random", draw=0, sampler="uniform (linear)"),
}


def uniform_linear(low, high, size=None, rng=None):
    """Uniform on the linear scale: most samples land in the top decade (for contrast with log_uniform)."""
    return np.random.default_rng(rng).uniform(low, high, size=size)


class SearchExplorer(Explorer):
    """Grid against random search over (learning rate, L2 strength), both read off one measured landscape.

    Left: the landscape (course.experiments.search.measure_landscape: one small network trained per point of a
    log-spaced grid, drawn as one cell each; crosses mark runs that diverged) and the trials of the current search,
    each scored by Landscape.accuracy_at (measured at the cells' centres, interpolated between them). Top right: the best
    accuracy over the regularization at each learning rate, with a tick at every learning rate each strategy
    tries: a grid of k x k trials tries k, a random search of n trials tries n. Bottom right: the best accuracy
    found against the budget, grid (one line) and random search (the mean of ``searches`` searches and their
    10-90% band).

    Controls: ``controls["budget"]`` (trials), ``["strategy"]`` (random, grid, both), ``["draw"]`` (which random
    search), ``["sampler"]`` ("log-uniform", "uniform (linear)", and "your log_uniform" when given). Artists:
    ``grid_points``, ``random_points``, ``best_marks`` (scatters on the landscape), ``grid_ticks``,
    ``random_ticks`` (the learning rates tried), ``budget_line``, ``found_marks``. The landscape is measured at
    construction, in slices with a progress bar, and cached per process; no event trains anything.
    """

    def __init__(self, log_uniform=None, budget: int = 16, strategy: str = "both", draw: int = 0,
                 sampler: str | None = None, searches: int = 1000, landscape: dict | None = None,
                 budget_seconds: float = 0.05, scale: float = 1.0):
        self.choices = {"log-uniform": Choice("log-uniform", (search.log_uniform,), ""),
                        "uniform (linear)": Choice("uniform (linear)", (uniform_linear,), "")}
        if log_uniform is not None:
            self.choices["your log_uniform"] = prefer_student(
                "your log_uniform", (log_uniform,), (search.log_uniform,), "log_uniform",
                checks.check_log_uniform.evaluate(log_uniform))
        self.searches = searches
        controls = {
            "budget": W.IntSlider(value=budget, min=1, max=MAX_BUDGET, description="budget (trials)",
                                  continuous_update=False),
            "strategy": W.ToggleButtons(options=STRATEGIES, value=strategy, description="strategy"),
            "draw": W.IntSlider(value=draw, min=0, max=DRAWS - 1, description="random draw", continuous_update=False),
            "sampler": W.Dropdown(options=list(self.choices), description="sampler",
                                  value=sampler or ("your log_uniform" if log_uniform is not None else "log-uniform")),
        }
        self.progress = W.IntProgress(value=0, min=0, max=1, description="measuring")
        fig, _ = new_figure(figsize=(8, 4.4), scale=scale)
        fig.clear()
        grid = fig.add_gridspec(2, 2, width_ratios=(1.25, 1), left=0.08, right=0.98, bottom=0.16, top=0.9,
                                wspace=0.28, hspace=0.55)
        self.ax_map = fig.add_subplot(grid[:, 0])
        self.ax_lr = fig.add_subplot(grid[0, 1])
        self.ax_budget = fig.add_subplot(grid[1, 1])
        super().__init__(fig, controls, PRESETS)

        self.measurement = LandscapeMeasurement(**(landscape or {}))
        m = self.measurement
        self.lr_range, self.reg_range = (m.learning_rates[0], m.learning_rates[-1]), (m.regs[0], m.regs[-1])
        ax = self.ax_map
        self.mesh_edges = _edges(m.learning_rates), _edges(m.regs)
        self.mesh = ax.pcolormesh(*self.mesh_edges,
                                  np.full((m.regs.size, m.learning_rates.size), np.nan), cmap="viridis", vmin=0,
                                  vmax=1, shading="flat")
        self.diverged_marks = ax.scatter([], [], marker="x", s=12, color="grey", lw=0.8)
        ax.set(xscale="log", yscale="log", xlim=self.mesh_edges[0][[0, -1]], ylim=self.mesh_edges[1][[0, -1]])
        ax.set_xlabel("learning rate", fontsize=8)
        ax.set_ylabel("L2 regularization", fontsize=8)
        ax.set_title("validation accuracy (x: diverged)", fontsize=9)
        fig.colorbar(self.mesh, ax=ax, fraction=0.05, pad=0.02).ax.tick_params(labelsize=7)
        self.grid_points = ax.scatter([], [], marker="s", s=28, facecolors="none", edgecolors="C1", lw=1.4,
                                      label="grid")
        self.random_points = ax.scatter([], [], marker="o", s=24, facecolors="none", edgecolors="C3", lw=1.4,
                                        label="random")
        self.best_marks = ax.scatter([], [], marker="*", s=110, c=[], edgecolors="none", zorder=4)
        ax.legend(loc="lower left", fontsize=7, framealpha=0.6)

        ax = self.ax_lr
        ax.set_title("best over the regularization (ticks: lr tried)", fontsize=9)
        self.profile, = ax.plot([], [], lw=1.2, color="C0")
        self.grid_ticks = ax.scatter([], [], marker="|", s=80, color="C1", lw=1.5)
        self.random_ticks = ax.scatter([], [], marker="|", s=80, color="C3", lw=1.5)
        ax.set(xscale="log", xlim=self.mesh_edges[0][[0, -1]])
        ax.set_ylim(-0.25, 1.02)
        ax.set_yticks([0, 0.5, 1])
        ax.set_xlabel("learning rate", fontsize=8)

        ax = self.ax_budget
        ax.set_title("best accuracy found", fontsize=9)
        self.random_band = ax.fill_between([1, MAX_BUDGET], [0, 0], [0, 0], color="C3", alpha=0.2, lw=0)
        self.random_mean, = ax.plot([], [], color="C3", lw=1.2, label="random (mean, 10-90%)")
        self.grid_line, = ax.step([], [], where="post", color="C1", lw=1.2, label="grid")
        self.budget_line = ax.axvline(budget, color="grey", lw=1, ls="--")
        self.found_marks = ax.scatter([], [], s=30, c=[], zorder=4)
        ax.set_xlim(1, MAX_BUDGET)
        ax.set_ylim(0.5, 1.0)
        ax.set_xlabel("budget (trials)", fontsize=8)
        ax.legend(loc="lower right", fontsize=7, frameon=False)
        light_axes(self.ax_map, self.ax_lr, self.ax_budget)
        self.ax_lr.set_yticks([0, 0.5, 1])
        self.animate(self.grid_points, self.random_points, self.best_marks, self.grid_ticks, self.random_ticks,
                     self.random_band, self.random_mean, self.budget_line, self.found_marks)

        self.landscape = None
        self.prepared: dict[str, tuple] = {}  # sampler label -> (draws, comparison, mean, low, high)
        self.stepper = Stepper(self._measured, budget_seconds, guard=self.safely)
        self.observe(self.update)
        self.progress.max = max(self.measurement.progress[1], 1)
        self.safely(self.stepper.start)(advancing([self.measurement], 1))

    def controls_box(self) -> W.Box:
        return W.VBox([super().controls_box(), self.progress])

    # --- the landscape, measured once ----------------------------------------------------------------------------
    def _measured(self, job=None) -> None:
        done, total = self.measurement.progress
        self.progress.value = done
        if not self.measurement.done:
            self.show_message(f"measuring the landscape: training {self._count()} networks, iteration {done} of "
                              f"{total}")
            self.redraw()
            return
        self.landscape = landscape = self.measurement.result()
        self.progress.value = self.progress.max
        self.mesh.set_array(landscape.accuracy.ravel())
        lrs, regs = np.meshgrid(landscape.learning_rates, landscape.regs)
        self.diverged_marks.set_offsets(np.column_stack([lrs[landscape.diverged], regs[landscape.diverged]]))
        self.profile.set_data(landscape.learning_rates, landscape.accuracy.max(axis=0))
        self._prepare("log-uniform")
        comparison = self.prepared["log-uniform"][1]
        self.grid_line.set_data(comparison.budgets, comparison.grid)
        for label in self.choices:  # what every sampler's events need, computed once
            if label not in self.prepared:
                self._prepare(label)
        self.invalidate()  # the landscape is part of the static layer
        self.safely(self.update)()

    def _count(self) -> int:
        return self.measurement.regs.size * self.measurement.learning_rates.size

    def _prepare(self, label: str) -> None:
        """For one sampler: its DRAWS random searches (DRAWS, MAX_BUDGET, 2) and the grid-versus-random
        comparison with its (mean, 10%, 90%) curves, in ``prepared[label]``."""
        sampler = self.choices[label].funcs[0]
        draws = np.stack([random_trials(MAX_BUDGET, self.lr_range, self.reg_range, rng=seed, sampler=sampler)
                          for seed in range(DRAWS)])
        comparison = compare_searches(self.landscape, MAX_BUDGET, self.searches, sampler=sampler)
        self.prepared[label] = (draws, comparison, *comparison.random_summary())

    # --- events ----------------------------------------------------------------------------------------------------
    def update(self) -> None:
        if self.landscape is None:
            return
        c = self.settings
        self.show_choice_notes(c["sampler"])
        if c["sampler"] not in self.prepared:  # a student's sampler that failed while prepared: now the reference
            self._prepare(c["sampler"])
        draws, comparison, mean, low, high = self.prepared[c["sampler"]]
        n, show = c["budget"], c["strategy"]
        trials = {"grid": grid_trials(n, self.lr_range, self.reg_range),
                  "random": draws[c["draw"], :n]}
        found = {k: self.landscape.accuracy_at(t[:, 0], t[:, 1]) for k, t in trials.items()}
        shown = [k for k in ("grid", "random") if show in (k, "both")]
        empty = np.empty((0, 2))
        for k, points, ticks, height in (("grid", self.grid_points, self.grid_ticks, -0.2),
                                         ("random", self.random_points, self.random_ticks, -0.1)):
            t = trials[k] if k in shown else empty
            points.set_offsets(t)
            ticks.set_offsets(np.column_stack([t[:, 0], np.full(len(t), height)]))
        best = [(trials[k][np.argmax(found[k])], found[k].max(), "C1" if k == "grid" else "C3") for k in shown]
        self.best_marks.set_offsets([b[0] for b in best] or empty)
        self.best_marks.set_color([b[2] for b in best])

        self.random_mean.set_data(comparison.budgets, mean)
        self.random_band.set_data(comparison.budgets, low, high)
        self.budget_line.set_xdata([n, n])
        self.found_marks.set_offsets([(n, b[1]) for b in best] or empty)
        self.found_marks.set_color([b[2] for b in best])

        k = int(np.sqrt(n) + 1e-9)
        parts = []
        if "grid" in shown:
            parts.append(f"grid: <b>{k} x {k} = {k * k}</b> trials, <b>{distinct_values(trials['grid'][:, 0])}</b> "
                         f"learning rates tried, best <b>{found['grid'].max():.1%}</b>")
        if "random" in shown:
            parts.append(f"random (draw {c['draw']}): <b>{n}</b> trials, <b>{distinct_values(trials['random'][:, 0])}"
                         f"</b> learning rates tried, best <b>{found['random'].max():.1%}</b> (mean over "
                         f"{self.searches} searches {mean[n - 1]:.1%})")
        self.show_readout(" &nbsp;&middot;&nbsp; ".join(parts) + f"<br><small>The landscape: "
                          f"{self.landscape.description}. Measured: its points (the cells). Interpolated: a trial "
                          "between them reads the bilinear interpolation of its four measured neighbours, or the "
                          "nearest one next to a network that diverged. No event trains anything.</small>")
        self.show_message(self._verdict(trials, shown))
        self.redraw()

    def _verdict(self, trials, shown) -> str:
        """A message when the random learning rates crowd into the top decade (sampling on a linear scale)."""
        if "random" not in shown:
            return ""
        lr = trials["random"][:, 0]
        top = np.mean(lr > self.lr_range[1] / 10)
        if top > 0.6:
            return (f"{top:.0%} of the random learning rates fall in the top decade: sample on a log scale, "
                    "so that every decade gets its share")
        return ""


def _edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges for log-spaced centres: the geometric midpoints, and one half step beyond each end."""
    logs = np.log(centres)
    mids = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - mids[0]], mids, [2 * logs[-1] - mids[-1]]]))


@themed
def search_explorer(log_uniform=None, **options) -> SearchExplorer:
    """Build the search explorer; it displays itself as the last expression of a cell.

    ``log_uniform`` is your sampler log_uniform(low, high, size=None, rng=None); it appears as "your log_uniform"
    and draws the random trials once it passes course.checks.check_log_uniform (until then the reference is used,
    with a note on the figure). ``options``: budget, strategy ("random", "grid", "both"), draw, sampler, searches
    (random searches averaged in the budget panel), landscape (settings of
    course.experiments.search.LandscapeMeasurement, e.g. dict(n_lr=8, n_reg=5, epochs=1) for a quick one),
    budget_seconds (the longest slice of work while measuring), scale (see :class:`SearchExplorer`).
    """
    return SearchExplorer(log_uniform, **options)
