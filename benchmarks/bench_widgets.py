"""Latency of one control event per explorer, as the kernel pays it under ipympl (`%matplotlib widget`): set a
control's value (compute + in-place update + redraw), then encode the frame as ipympl does before sending it
(`canvas.get_diff_image()`, a PNG of the changed pixels).

Three ways of redrawing the same event are compared:
- the explorers' way: only the changing artists are drawn over the saved static layer (axes, ticks, labels) and
  the canvas is blitted; a full draw happens only when axis limits change;
- the same in-place update followed by a full draw of the figure (what `draw_idle()` leads to);
- a naive "clear and re-plot" of the same figure (cla + plot again + full draw).
For the dead-ReLU explorer a new setting trains in slices inside a running event loop: the table reports how long
one event keeps the loop busy (first slice + redraw) and how long the whole run takes in the background.

Run: .venv/bin/python benchmarks/bench_widgets.py [events] [--agg]
With --agg the figures use the plain Agg canvas: compute + redraw only, no frame encoding.
"""
from __future__ import annotations

import asyncio
import itertools
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's course and widgets first

import matplotlib  # noqa: E402

AGG = "--agg" in sys.argv
matplotlib.use("Agg" if AGG else "module://ipympl.backend_nbagg")  # ipympl: the kernel-side canvas of JupyterLab
import numpy as np  # noqa: E402

import widgets  # noqa: E402
from widgets.explorer import new_figure  # noqa: E402
from widgets.saturation import GRAD_EDGES, Z_BINS  # noqa: E402


def timed(event, n: int, fig=None, explorer=None) -> np.ndarray:
    """Milliseconds per call of event(i) for i in range(n), after two warm-up calls. With ``fig``, each call
    includes encoding the frame for the browser as ipympl does; with ``explorer``, also the full draw that the
    browser asks for when the explorer requested one (draw_idle) instead of blitting."""
    def run(i):
        event(i)
        if explorer is not None and explorer.needs_full_draw:
            explorer.fig.canvas.draw()
        if fig is not None and not AGG:
            fig.canvas.get_diff_image()
    run(0), run(1)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - t0)
    return np.array(times) * 1e3


def saturation_naive(e, scale: float) -> None:
    """The same figure rebuilt from scratch: what interact-style re-plotting costs."""
    forward, backward = e.choices["sigmoid"].funcs
    r = e.controls["input_range"].value
    x = np.linspace(-r, r, 300)
    out, cache = forward(x)
    dy = backward(np.ones_like(out), cache)
    z = scale * np.sqrt(e.controls["fan_in"].value) * e.draws
    _, zc = forward(z)
    g = np.abs(backward(np.ones_like(z), zc))
    ax_f, ax_z, ax_g = e.fig.axes
    for ax in (ax_f, ax_z, ax_g):
        ax.cla()
    ax_f.plot(x, out), ax_f.plot(x, dy), ax_f.axhline(0.01, ls=":"), ax_f.legend(["f(x)", "f'(x)"])
    edges = np.linspace(-r, r, Z_BINS + 1)
    ax_z.stairs(np.histogram(np.clip(z, -r, r), edges)[0] / z.size, edges, fill=True)
    ax_g.stairs(np.histogram(np.clip(g, GRAD_EDGES[0], GRAD_EDGES[-1]), GRAD_EDGES)[0] / g.size, GRAD_EDGES, fill=True)
    ax_g.set_xscale("log"), ax_g.axvline(0.01, ls=":")
    for ax, title in zip((ax_f, ax_z, ax_g), ("activation", "pre-activations", "local gradients")):
        ax.set_title(title, fontsize=9)
    e.fig.canvas.draw()


def dead_relu_naive(e, record) -> None:
    ax_dead, ax_loss = e.fig.axes
    ax_dead.cla(), ax_loss.cla()
    steps = np.arange(record.loss.size)
    for i in range(record.dead.shape[1]):
        ax_dead.plot(steps, record.dead[:, i], label=f"layer {i + 1}")
    ax_dead.legend(), ax_dead.set_ylim(0, 1)
    ax_loss.semilogy(steps, record.loss), ax_loss.axhline(np.log(3), ls=":")
    e.fig.canvas.draw()


def new_setting_in_event_loop(e, values) -> tuple[np.ndarray, np.ndarray]:
    """Per new setting: ms the event blocks the loop (callback + draw), and ms until the run is finished."""
    async def measure():
        blocked, total = [], []
        for value in values:
            t0 = time.perf_counter()
            e.controls["learning_rate"].value = value
            if e.needs_full_draw:
                e.fig.canvas.draw()
            if not AGG:
                e.fig.canvas.get_diff_image()
            blocked.append(time.perf_counter() - t0)
            while not e.training.done:
                await asyncio.sleep(0.001)
            total.append(time.perf_counter() - t0)
        return np.array(blocked) * 1e3, np.array(total) * 1e3
    return asyncio.run(measure())


def main(n: int = 60) -> None:
    empty, _ = new_figure(ncols=3)
    rows = [("reference: full draw of 3 empty axes", timed(lambda i: empty.canvas.draw(), n, empty))]

    sat = widgets.saturation_explorer()
    sat.fig.canvas.draw()  # the first full draw, as when the figure is first shown, saves the static layer
    scales = itertools.cycle(np.geomspace(0.01, 10, 25))
    slider = sat.controls["weight_scale"]

    def sat_event(i):
        slider.value = next(scales)

    def sat_event_full(i):
        slider.value = next(scales)
        sat.fig.canvas.draw()
    rows.append(("saturation: weight-scale event", timed(sat_event, n, sat.fig, sat)))
    rows.append(("saturation: same, full redraw", timed(sat_event_full, n, sat.fig)))
    rows.append(("saturation: naive cla + re-plot", timed(lambda i: saturation_naive(sat, next(scales)), n, sat.fig)))

    dead = widgets.dead_relu_explorer()
    seed = dead.controls["seed"]
    seed.value = 1  # two cached runs to switch between
    seed.value = 0
    dead.fig.canvas.draw()

    def dead_event(i):
        seed.value = i % 2

    def dead_event_full(i):
        seed.value = i % 2
        dead.fig.canvas.draw()
    rows.append(("dead ReLU: cached-setting event", timed(dead_event, n, dead.fig, dead)))
    rows.append(("dead ReLU: same, full redraw", timed(dead_event_full, n, dead.fig)))
    record = dead.training.record()
    rows.append(("dead ReLU: naive cla + re-plot", timed(lambda i: dead_relu_naive(dead, record), n, dead.fig)))

    fresh = widgets.dead_relu_explorer()
    fresh.fig.canvas.draw()
    blocked, total = new_setting_in_event_loop(fresh, np.geomspace(0.01, 9, 12))
    rows.append(("dead ReLU: new setting, loop blocked", blocked))
    rows.append(("dead ReLU: new setting, run finished", total))

    title = "event (Agg canvas; ms)" if AGG else "event (ipympl canvas, incl. PNG; ms)"
    print(f"{title:40s} {'n':>4s} {'median':>8s} {'p95':>8s}")
    for name, t in rows:
        print(f"{name:40s} {t.size:4d} {np.median(t):8.1f} {np.percentile(t, 95):8.1f}")


if __name__ == "__main__":
    counts = [int(a) for a in sys.argv[1:] if a.isdigit()]
    main(counts[0] if counts else 60)
