"""Latency of one control event for every explorer the `widgets` package exports, as the kernel pays it.

For each explorer, its first slider is moved through a cycle of values (events), after two warm-up events:
- **event**: set the control's value: compute, update the artists in place, redraw (the explorers blit the changing
  artists over a saved static layer; when limits change they ask for a full draw, which is included);
- **full redraw**: the same update followed by a full draw of the figure, for comparison;
- under ipympl (the default run), each event also includes encoding the frame as ipympl does before sending it
  (`canvas.get_diff_image()`: a PNG of the whole frame, as the explorers ask). With --agg: compute and redraw only.
The optimizer race is also timed on each of its surfaces, every rule shown. Explorers that train (those with a
`stepper`) run inside an asyncio event loop, as in a kernel: the table gives how long the event keeps the loop busy
(its first slice plus redraw) and the longest slice after it, i.e. the longest the kernel is ever blocked, and how
long the whole training takes in the background.

Run: .venv/bin/python benchmarks/bench_explorers.py [events] [--agg] [--only NAME]
"""
from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's course and widgets first

import matplotlib  # noqa: E402

AGG = "--agg" in sys.argv
matplotlib.use("Agg" if AGG else "module://ipympl.backend_nbagg")  # ipympl: the kernel-side canvas of JupyterLab
import ipywidgets as W  # noqa: E402
import numpy as np  # noqa: E402

import widgets  # noqa: E402
from widgets.explorer import SLIDERS, Stepper  # noqa: E402

FACTORIES = sorted(name for name in widgets.__all__ if name.endswith("_explorer")
                   or name in ("optimizer_race", "training_dashboard"))


def slider_values(control, n: int) -> list:
    """``n`` distinct positions across the slider's range, in an order that moves back and forth."""
    if isinstance(control, W.SelectionSlider):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        grid = [options[i] for i in np.linspace(0, len(options) - 1, min(n, len(options))).round().astype(int)]
        return grid[::2] + grid[1::2][::-1]
    if isinstance(control, W.FloatLogSlider):
        grid = control.base ** np.linspace(control.min, control.max, n + 2)[1:-1]
    else:
        grid = np.linspace(control.min, control.max, n + 2)[1:-1]
        if isinstance(control, W.IntSlider):
            grid = np.unique(np.round(grid).astype(int))
    order = np.concatenate([grid[::2], grid[1::2][::-1]])
    return [type(control.value)(v) for v in order]


def first_slider(explorer):
    return next((name, c) for name, c in explorer.controls.items() if isinstance(c, SLIDERS) and not c.disabled)


def encode(explorer) -> None:
    if explorer.needs_full_draw:
        explorer.fig.canvas.draw()
    if not AGG:
        explorer.fig.canvas.get_diff_image()


def time_events(explorer, control, values, full: bool) -> np.ndarray:
    """Milliseconds per event (set the value, redraw as the explorer does, encode), after two warm-ups."""
    times = []
    for i, value in enumerate(values):
        t0 = time.perf_counter()
        control.value = value
        if full:
            explorer.fig.canvas.draw()
        encode(explorer)
        if i >= 2:
            times.append(time.perf_counter() - t0)
    return np.array(times) * 1e3


def bench_static(name: str, events: int) -> list[tuple]:
    explorer = getattr(widgets, name)()
    control_name, control = first_slider(explorer)
    explorer.fig.canvas.draw()
    values = slider_values(control, events + 2)
    event = time_events(explorer, control, values, full=False)
    full = time_events(explorer, control, values, full=True)
    return [(f"{name}: {control_name} event", event), (f"{name}: same update, full redraw", full)]


def bench_race_surfaces(events: int) -> list[tuple]:
    """The optimizer race on every surface, all rules shown, 200 steps: moving the start, and the gradient noise."""
    rows = []
    for surface in widgets.optimizer_race().controls["surface"].options:
        explorer = widgets.optimizer_race(surface=surface, steps=200)
        explorer.fig.canvas.draw()
        for name in ("x0", "noise"):
            control = explorer.controls[name]
            ms = time_events(explorer, control, slider_values(control, events + 2), full=False)
            rows.append((f"optimizer_race on {surface}: {name} event", ms))
    return rows


def bench_training(name: str, events: int) -> list[tuple]:
    """Inside a running loop: the event's own duration, the longest slice after it, the time until training ends."""
    async def scenario():
        slices = []
        run = Stepper._run

        def timed_run(self, *args):
            t0 = time.perf_counter()
            run(self, *args)
            slices.append(time.perf_counter() - t0)

        Stepper._run = timed_run  # before the explorer exists: its stepper binds _run when it is made
        blocked, longest, total = [], [], []
        try:
            explorer = getattr(widgets, name)()
            control_name, control = first_slider(explorer)
            while explorer.stepper._job and not explorer_done(explorer):
                await asyncio.sleep(0.01)
            for value in slider_values(control, events):
                slices.clear()
                t0 = time.perf_counter()
                control.value = value
                encode(explorer)
                blocked.append(time.perf_counter() - t0)
                while not explorer_done(explorer):
                    await asyncio.sleep(0.002)
                total.append(time.perf_counter() - t0)
                longest.append(max(slices[1:], default=0.0))
        finally:
            Stepper._run = run
        return control_name, [np.array(x) * 1e3 for x in (blocked, longest, total)]

    control_name, (blocked, longest, total) = asyncio.run(scenario())
    return [(f"{name}: {control_name} event, loop blocked for", blocked),
            (f"{name}: longest later training slice", longest),
            (f"{name}: training finished after", total)]


def explorer_done(explorer) -> bool:
    progress = getattr(explorer, "progress", None)
    return progress is None or progress.value >= progress.max


def main() -> None:
    only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else None
    args = [a for a in sys.argv[1:] if not a.startswith("--") and a != only]
    events = int(args[0]) if args else 40
    backend = "Agg (compute + redraw)" if AGG else "ipympl (compute + redraw + PNG frame)"
    print(f"| explorer event ({backend}) | median | p95 |\n|---|---|---|")
    for name in FACTORIES:
        if only and name != only:
            continue
        probe = getattr(widgets, name)()
        rows = bench_training(name, min(events, 12)) if isinstance(getattr(probe, "stepper", None), Stepper) \
            else bench_static(name, events)
        if name == "optimizer_race":
            rows += bench_race_surfaces(events)
        for label, ms in rows:
            print(f"| {label} | {np.median(ms):.1f} ms | {np.percentile(ms, 95):.1f} ms |", flush=True)


if __name__ == "__main__":
    main()
