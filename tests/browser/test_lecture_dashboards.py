"""Every lecture dashboard served by Voila (`tools/present.py`, the `lecture` template) in a real browser: each
page renders its explorers without an error, every preset button applies, a slider of each explorer changes its
canvas, predict-then-reveal hides and shows the figure, nothing is fetched from the internet, the console holds
no unexpected error and the server log no traceback; and the kernels of closed pages are gone after the cull
time."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from conftest import CULL_IDLE_S, CULL_INTERVAL_S, open_page, save_screenshot
from pages import CANVAS, TRAINING_DONE, assert_no_error_output, canvas_image, nudge_first_slider

from widgets.lecture import explorer_presets, lecture_pages

pytestmark = pytest.mark.browser

PAGES = lecture_pages()
VIEWS = ".lecture-view"
LOAD_TIMEOUT_MS = 120_000
CANVAS_TIMEOUT_S = 45
# Console errors that are not ours: Voila's page-unload kernel shutdown is refused for a missing _xsrf token
# (voila-dashboards/voila#1458); that is why the dashboards' kernels are culled when idle.
ALLOWED_CONSOLE_ERRORS = [re.compile(r"Failed to load resource: the server responded with a status of 403")]


def open_dashboard(page, voila, address: str, explorers: int) -> None:
    page.goto(f"{voila.base_url}/voila/render/{address}")
    page.wait_for_function(f"() => document.querySelectorAll('{VIEWS} {CANVAS}').length >= {explorers}",
                           timeout=LOAD_TIMEOUT_MS)
    page.wait_for_function(TRAINING_DONE, timeout=LOAD_TIMEOUT_MS)


def assert_clean(page, voila, when: str) -> None:
    assert_no_error_output(page, when)
    external = [line for line in page.console if "[request]" in line]
    errors = [line for line in page.console if line.startswith(("[error]", "[pageerror]"))
              and not any(pattern.search(line) for pattern in ALLOWED_CONSOLE_ERRORS)]
    assert not errors, f"console errors {when}:\n" + "\n".join(errors)
    assert not external, f"requests beyond 127.0.0.1 {when}:\n" + "\n".join(external)
    assert "Traceback" not in voila.log_text(), f"a traceback in the server log {when}\n" + voila.log_tail()


def record_outside_requests(page) -> None:
    page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:"))
            else page.console.append(f"[request] {r.url}"))


@pytest.mark.parametrize("address", sorted(PAGES), ids=[Path(a).stem for a in sorted(PAGES)])
def test_dashboard_renders_and_every_preset_and_slider_works(address, browser, voila, request):
    title, shown = PAGES[address]
    with open_page(browser, request, voila, viewport=(1400, 2000)) as page:
        record_outside_requests(page)
        open_dashboard(page, voila, address, len(shown))
        views = page.locator(VIEWS)
        assert views.count() == len(shown), f"{address}: {views.count()} explorers rendered, expected {shown}"
        for index, name in enumerate(shown):
            view = views.nth(index)
            presets = list(explorer_presets(name))
            for preset in presets + presets[:1]:  # each in turn, then back to the first for the slider
                view.get_by_role("button", name=preset, exact=True).click()
                page.wait_for_function(TRAINING_DONE, timeout=LOAD_TIMEOUT_MS)
            label, changed = nudge_first_slider(page, view, 3, CANVAS_TIMEOUT_S)
            assert changed, f"{name}: the slider {label!r} changed nothing"
            page.wait_for_function(TRAINING_DONE, timeout=LOAD_TIMEOUT_MS)
        assert_clean(page, voila, f"on {address}")
        save_screenshot(page, f"lecture-{Path(address).stem}")


def test_predict_then_reveal_and_the_dark_theme(browser, voila, request):
    address, (_, shown) = next(iter(PAGES.items()))
    name = shown[-1]
    preset = list(explorer_presets(name))[-1]
    with open_page(browser, request, voila, viewport=(1400, 1400)) as page:
        record_outside_requests(page)
        open_dashboard(page, voila, f"{address}?show={name}&preset={quote(preset)}&predict=1&theme=dark", 1)
        view = page.locator(VIEWS).first
        figure = view.locator(".jupyter-matplotlib")
        assert figure.evaluate("node => getComputedStyle(node.closest('.jupyter-matplotlib')).visibility") \
            == "hidden" or not figure.is_visible()
        assert page.evaluate("() => document.body.dataset.jpThemeLight") == "false"
        view.get_by_role("button", name="Reveal", exact=True).click()
        page.wait_for_function("() => [...document.querySelectorAll('.jupyter-matplotlib')]"
                               ".every(n => getComputedStyle(n).visibility === 'visible')")
        assert view.locator(".widget-slider").count() >= 1 and canvas_image(view)
        assert_clean(page, voila, "with predict-then-reveal and the dark theme")
        save_screenshot(page, "lecture-dark")
        page.goto(f"{voila.base_url}/voila/render/index.ipynb")
        page.wait_for_selector("a[href*='preset=']")
        save_screenshot(page, "lecture-gallery")


def kernels_of(pid: int) -> list[int]:
    """The ipykernel processes started by the process ``pid`` (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"ipykernel" in cmdline:
            found.append(int(entry))
    return found


def test_kernels_of_closed_pages_are_culled(browser, voila, request):
    """Runs last in this module: every page above is closed by now."""
    deadline = time.monotonic() + CULL_IDLE_S + 4 * CULL_INTERVAL_S + 20
    while kernels_of(voila.process.pid) and time.monotonic() < deadline:
        time.sleep(1)
    assert not kernels_of(voila.process.pid), (
        f"kernels still running {deadline} s after their pages closed\n" + voila.log_tail())
