"""Every lab as a student first opens it, in a real JupyterLab and a real browser: the lab generated from its
solution (written afresh under test-artifacts/, so a student's edits in labs/ do not matter) runs top to bottom
without an error output, every check says "not implemented yet" and passes nothing, and moving the first slider
of each explorer (running on the reference code) changes what its ipympl canvas shows. Explorers that train show a
progress bar: the test waits until every bar is full before it looks for errors, so an error raised late is not
missed. JupyterLab runs with its defaults, so slider events reach the kernel on a subshell thread. (The solutions
themselves are verified by nbval.)"""
from __future__ import annotations

import re
import time
from pathlib import Path

import importlib.util

import nbformat
import pytest
from pages import TRAINING_DONE, assert_no_error_output, nudge_first_slider

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser

KERNEL_TIMEOUT_MS = 120_000
RUN_ALL_TIMEOUT_MS = 600_000
CANVAS_TIMEOUT_S = 45
TRAINING_TIMEOUT_MS = 120_000
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location("build_labs", ROOT / "tools" / "build_labs.py")
build_labs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_labs)

# For each cell that calls a check: (1-based index, whether its output says "not implemented yet", any ✓ in it).
CHECK_CELLS = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .map((cell, i) => [cell, i + 1])
    .filter(([cell]) => cell.model.type === 'code' && /\\bcheck_\\w+\\s*\\(/.test(cell.model.sharedModel.getSource()))
    .map(([cell, i]) => {
        const text = cell.node.querySelector('.jp-OutputArea')?.innerText ?? '';
        return [i, text.includes('not implemented yet'), text.includes('✓')];
    })"""
EXPLORER_CALL = re.compile(r"\bwidgets\.(\w+_explorer|optimizer_race|training_dashboard)\(")

KERNEL_IDLE = """() => {
    const kernel = window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel;
    return kernel?.status === 'idle';
}"""

# Resolves when JupyterLab has run every cell (or stopped at an error); rejects after `timeout` ms.
RUN_ALL = """async (timeout) => {
    const limit = new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`run-all took over ${timeout} ms`)), timeout));
    return await Promise.race([window.jupyterapp.commands.execute('notebook:run-all-cells'), limit]);
}"""

# Cells that never ran (empty code cells aside), by 1-based index.
NOT_EXECUTED = """() => window.jupyterapp.shell.currentWidget.content.widgets
    .map((cell, i) => [cell, i + 1])
    .filter(([cell]) => cell.model.type === 'code' && cell.model.sharedModel.getSource().trim()
                        && cell.model.executionCount === null)
    .map(([, i]) => i)"""

# 0-based indices of the cells whose output holds both an ipympl canvas and a slider.
EXPLORER_CELLS = """() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')]
    .map((cell, i) => [cell, i])
    .filter(([cell]) => cell.querySelector('.jp-OutputArea .jupyter-matplotlib-canvas-div canvas')
                        && cell.querySelector('.jp-OutputArea .widget-slider .noUi-handle'))
    .map(([, i]) => i)"""


def open_and_run_all(page, jupyter_lab, path: str) -> None:
    page.goto(jupyter_lab.notebook_url(path))
    page.wait_for_function(KERNEL_IDLE, timeout=KERNEL_TIMEOUT_MS)
    page.evaluate(RUN_ALL, RUN_ALL_TIMEOUT_MS)
    page.wait_for_function(KERNEL_IDLE, timeout=KERNEL_TIMEOUT_MS)
    page.wait_for_function(TRAINING_DONE, timeout=TRAINING_TIMEOUT_MS)
    assert_no_error_output(page, f"after running all cells of {path}")
    not_executed = page.evaluate(NOT_EXECUTED)
    assert not not_executed, f"{path}: cells {not_executed} did not run"


def move_each_explorer_slider(page, path: str, expected: list[str]) -> None:
    """For each explorer cell: press ArrowRight on its first slider and wait for its canvas to change."""
    page.wait_for_function(f"() => ({EXPLORER_CELLS})().length >= {len(expected)}", timeout=CANVAS_TIMEOUT_S * 1000)
    found = page.evaluate(EXPLORER_CELLS)
    assert len(found) == len(expected), (f"{path}: expected {len(expected)} explorers ({', '.join(expected)}); "
                                         f"found sliders with canvases in cells {[i + 1 for i in found]}")
    for name, index in zip(expected, found):
        cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
        cell.scroll_into_view_if_needed()
        label, changed = nudge_first_slider(page, cell, 3, CANVAS_TIMEOUT_S)
        assert changed, (f"{name} (cell {index + 1}): its canvas did not change within "
                         f"{CANVAS_TIMEOUT_S} s of moving the slider {label!r}")
    page.wait_for_function(TRAINING_DONE, timeout=TRAINING_TIMEOUT_MS)
    page.wait_for_function(KERNEL_IDLE, timeout=KERNEL_TIMEOUT_MS)
    assert_no_error_output(page, f"after moving the sliders of {path} and waiting for training to finish")


def explorer_calls(notebook) -> list[str]:
    nb = nbformat.read(notebook, as_version=4)
    return [m for cell in nb.cells if cell.cell_type == "code" for m in EXPLORER_CALL.findall(cell.source)]


PROBE_CELLS = [
    "%matplotlib widget\nimport ipywidgets as W\nimport matplotlib.pyplot as plt\nimport numpy as np",
    "with plt.ioff():\n    fig, ax = plt.subplots(figsize=(4, 3))\n"
    "x = np.linspace(0, 6, 200)\nline, = ax.plot(x, np.sin(x))\n"
    "slider = W.FloatSlider(value=1.0, min=0.5, max=3.0, step=0.25, description='frequency')\n"
    "slider.observe(lambda change: (line.set_ydata(np.sin(change.new * x)), fig.canvas.draw_idle()), 'value')\n"
    "W.VBox([slider, fig.canvas])",
]


@pytest.fixture
def probe_notebook():
    """A minimal notebook (one slider redrawing one ipympl figure) inside the served tree, git-ignored."""
    path = ROOT / "test-artifacts" / "browser-probe.ipynb"
    path.parent.mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in PROBE_CELLS], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}})
    nbformat.write(nb, path)
    yield path
    path.unlink()


def test_a_slider_redraws_an_ipympl_canvas(page, jupyter_lab, probe_notebook, screenshot):
    path = probe_notebook.relative_to(ROOT).as_posix()
    open_and_run_all(page, jupyter_lab, path)
    move_each_explorer_slider(page, path, ["probe"])
    screenshot(page, "probe")


@pytest.mark.parametrize("solution", SOLUTIONS, ids=[n.stem for n in SOLUTIONS])
def test_the_untouched_lab_runs_and_its_explorers_respond(solution, page, jupyter_lab, screenshot):
    lab = ROOT / "test-artifacts" / "labs" / solution.name
    lab.parent.mkdir(parents=True, exist_ok=True)
    notebook = build_labs.make_lab(nbformat.read(solution, as_version=4), str(solution))
    nbformat.write(notebook, lab)
    stored = lab.read_bytes()
    path = lab.relative_to(ROOT).as_posix()
    open_and_run_all(page, jupyter_lab, path)
    if any(build_labs.CODE_STUB[0] in c.source for c in notebook.cells if c.cell_type == "code"):
        # a lab with code to write: its checks wait for it (the start page shows a failing check on purpose)
        wrong = [i for i, waiting, passed in page.evaluate(CHECK_CELLS) if not waiting or passed]
        assert not wrong, f"{path}: check cells {wrong} should say 'not implemented yet' and pass nothing"
    move_each_explorer_slider(page, path, explorer_calls(lab))
    screenshot(page, solution.stem)
    assert lab.read_bytes() == stored, f"{lab} was modified by the browser session"
