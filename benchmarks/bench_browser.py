"""Slider move to new frame, in a real browser: for every explorer that does not train, the time from a key press
on its first enabled slider to the next image ipympl draws on its canvas, in JupyterLab (figure scale 1) and in
its Voila lecture dashboard (lecture scale 1.5). Headless Debian Chromium driven by Playwright.

The page's `CanvasRenderingContext2D.drawImage` is wrapped to record when a frame is drawn; a key press is
dispatched on the slider handle in the page itself, so Playwright's own round trip is not counted. Presses
alternate right and left so the slider stays in range.

Run: .venv/bin/python benchmarks/bench_browser.py [presses] [--only NAME] [--lab | --voila]
"""
from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import present  # noqa: E402

from widgets.lecture import lecture_pages  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
CANVAS = ".jupyter-matplotlib-canvas-div > canvas:first-child"
RECORD_DRAWS = """
const draw = CanvasRenderingContext2D.prototype.drawImage;
window.__lastDraw = 0;
CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    window.__lastDraw = performance.now();
    return draw.apply(this, args);
};"""
# Press a key on the handle and resolve with the milliseconds until the next frame is drawn (or -1 after 5 s).
PRESS = """async ([handle, key]) => {
    const t0 = performance.now();
    handle.dispatchEvent(new KeyboardEvent('keydown', {key, bubbles: true}));
    while (window.__lastDraw <= t0) {
        if (performance.now() - t0 > 5000) return -1;
        await new Promise(r => requestAnimationFrame(r));
    }
    return window.__lastDraw - t0;
}"""


def static_explorers() -> dict[str, str]:
    """Factory name -> lecture page, for every explorer with a page that does not train (no progress bar)."""
    import matplotlib
    matplotlib.use("Agg")
    import widgets
    from widgets.explorer import Stepper
    found = {}
    for page, (_, names) in lecture_pages().items():
        for name in names:
            if not isinstance(getattr(getattr(widgets, name)(), "stepper", None), Stepper):
                found[name] = page
    return found


def wait_ready(url: str, process, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"no answer from {url}")


def measure(page, presses: int) -> np.ndarray:
    page.wait_for_selector(CANVAS, timeout=120_000)
    time.sleep(3)  # first frames and the kernel's start-up work settle
    handle = page.locator(".widget-slider .noUi-target:not([disabled]) .noUi-handle").first
    handle.scroll_into_view_if_needed()
    times = []
    for i in range(presses + 2):
        ms = page.evaluate(PRESS, [handle.element_handle(), "ArrowRight" if i % 2 == 0 else "ArrowLeft"])
        if i >= 2 and ms >= 0:
            times.append(ms)
        time.sleep(0.3)  # one move at a time, as a lecturer's
    return np.array(times)


def bench_voila(browser, explorers: dict, presses: int) -> None:
    port = present.free_port()
    with tempfile.TemporaryDirectory() as tmp:
        log = open(Path(tmp) / "voila.log", "w")
        server = subprocess.Popen(present.voila_command(port), env=present.voila_environment(), cwd=ROOT,
                                  stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(f"http://127.0.0.1:{port}/voila/static/voila-style.js", server)
            for name, page_file in explorers.items():
                page = browser.new_page(viewport={"width": 1600, "height": 1400})
                page.add_init_script(RECORD_DRAWS)
                page.goto(f"http://127.0.0.1:{port}/voila/render/{page_file}?show={name}")
                report(f"Voila dashboard, scale 1.5: {name}", measure(page, presses))
                page.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


def bench_lab(browser, explorers: dict, presses: int) -> None:
    port, token = present.free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp:
        for name in explorers:
            nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
                f"%matplotlib widget\nimport widgets\nwidgets.{name}()")], metadata={"kernelspec": {
                    "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
            nbformat.write(nb, Path(tmp) / f"{name}.ipynb")
        env = present.voila_environment()
        command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
                   f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp}",
                   "--LabApp.expose_app_in_browser=True"] + (["--allow-root"] if os.geteuid() == 0 else [])
        log = open(Path(tmp) / "lab.log", "w")
        server = subprocess.Popen(command, env=env, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(f"http://127.0.0.1:{port}/api/status?token={token}", server)
            for name in explorers:
                page = browser.new_page(viewport={"width": 1600, "height": 1200})
                page.add_init_script(RECORD_DRAWS)
                page.goto(f"http://127.0.0.1:{port}/lab/tree/{name}.ipynb?token={token}&reset")
                page.wait_for_function("() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session"
                                       "?.kernel?.status === 'idle'", timeout=120_000)
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
                report(f"JupyterLab notebook, scale 1: {name}", measure(page, presses))
                page.close()
        finally:
            server.terminate()
            server.wait(timeout=30)


def report(label: str, ms: np.ndarray) -> None:
    if ms.size == 0:
        print(f"| {label} | no frame | |", flush=True)
        return
    print(f"| {label} | {np.median(ms):.0f} ms | {np.percentile(ms, 95):.0f} ms |", flush=True)


def main() -> None:
    from playwright.sync_api import sync_playwright
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    presses = int(args[0]) if args else 30
    explorers = static_explorers()
    if "--only" in sys.argv:
        only = sys.argv[sys.argv.index("--only") + 1]
        explorers = {k: v for k, v in explorers.items() if k == only}
    print("| slider move to new frame, in Chromium | median | p95 |\n|---|---|---|")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=FLAGS)
        if "--voila" not in sys.argv:
            bench_lab(browser, explorers, presses)
        if "--lab" not in sys.argv:
            bench_voila(browser, explorers, presses)
        browser.close()


if __name__ == "__main__":
    main()
