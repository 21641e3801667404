"""What the browser tests read off a page: canvas images, error outputs, the state of training progress bars."""
from __future__ import annotations

import time

CANVAS = ".jupyter-matplotlib-canvas-div > canvas:first-child"  # ipympl adds a transparent second canvas

# True when every progress bar in the outputs (explorers that train) is full.
TRAINING_DONE = """() => [...document.querySelectorAll('.jp-OutputArea .progress-bar')]
    .every(fill => parseFloat(fill.style.width) >= 100)"""

ERROR_OUTPUTS = """() => [...document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type*="error"], .jp-OutputArea-output[data-mime-type*="stderr"]')]
    .map(node => {
        const cells = [...document.querySelectorAll('.jp-Notebook .jp-Cell')];
        return `cell ${cells.indexOf(node.closest('.jp-Cell')) + 1}: ${node.innerText.slice(0, 1500)}`;
    })"""


def canvas_image(area) -> str:
    """The images of the ipympl canvases inside ``area`` (a locator), as data URLs joined by '|'."""
    return area.locator(CANVAS).evaluate_all("canvases => canvases.map(c => c.toDataURL()).join('|')")


def wait_for_new_image(area, before: str, timeout: float) -> bool:
    """True once the canvases of ``area`` show something other than ``before``, False after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.25)
        if canvas_image(area) != before:
            return True
    return False


def settled_image(cell, timeout: float) -> str:
    """The canvas image once two reads a second apart agree (the first frames arrive asynchronously)."""
    deadline, previous = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        current = canvas_image(cell)
        if current == previous:
            return current
        previous = current
        time.sleep(1.0)
    return previous


def nudge_first_slider(page, area, presses: int, timeout: float) -> tuple[str, bool]:
    """Press ArrowRight ``presses`` times on the first enabled, visible slider inside ``area`` (a locator, once its
    images have settled); return the slider's label and whether the canvases changed within ``timeout`` s."""
    before = settled_image(area, timeout)
    handle = area.locator(".widget-slider .noUi-target:not([disabled]) .noUi-handle >> visible=true").first
    handle.scroll_into_view_if_needed()
    label = handle.evaluate("h => h.closest('.widget-slider').querySelector('.widget-label')?.textContent")
    handle.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    return label, wait_for_new_image(area, before, timeout)


def assert_no_error_output(page, when: str) -> None:
    errors = page.evaluate(ERROR_OUTPUTS)
    assert not errors, f"error or stderr output {when}:\n" + "\n\n".join(errors)


