"""A real JupyterHub for a class of three, with the course's deploy/jupyterhub_config.py: JupyterHub from PyPI, the
npm configurable-http-proxy, the simple local-process spawner standing in for the systemd or Kubernetes spawner, a
shared-password authenticator, everything on 127.0.0.1 with random ports and tokens.

Three students are created and their servers started at once; one logs in with Chromium and works in lab 01
(writes relu, runs the lab, moves the explorers' sliders, saves). Her edit is in her copy only, another student's
server refuses her, a restarted server keeps her work, and every process started is gone at the end."""
from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest
from conftest import LAB_SETTINGS, save_screenshot
from pages import CANVAS, TRAINING_DONE, nudge_first_slider

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
from class_hub import PROXY, descendants, start_class_hub  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]

STUDENTS = ("alice", "bob", "carol")
LAB = "01_activation_functions.ipynb"
MY_RELU = ("def relu_forward(x):\n    return np.maximum(x, 0.0), x  # alice's answer\n\n\n"
           "def relu_backward(dout, cache):\n    return np.where(cache > 0, dout, 0)\n")
KERNEL_IDLE = ("() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status"
               " === 'idle'")
ERRORS = """() => [...document.querySelectorAll('.jp-OutputArea-output[data-mime-type*="error"]')]
    .map(n => n.innerText).filter(t => !t.includes('NotImplementedError'))"""


@pytest.fixture(scope="module")
def hub(chromium, kernel_env, tmp_path_factory):
    if not PROXY.exists():
        message = f"no {PROXY}: `make test` installs it (npm install --prefix .venv configurable-http-proxy)"
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    base = tmp_path_factory.mktemp("hub")
    settings = base / "lab-settings"
    for plugin, values in LAB_SETTINGS.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    hub = start_class_hub(base, STUDENTS, kernel_env, server_env={"JUPYTERLAB_SETTINGS_DIR": str(settings)},
                          server_args=("--LabApp.expose_app_in_browser=True",))
    try:
        yield hub
    finally:
        hub.stop()


def test_a_class_of_three(hub, browser):
    for name in STUDENTS:
        assert hub.api("POST", f"/users/{name}")[0] in (201, 409)
    started = time.monotonic()
    for name in STUDENTS:  # all three at once
        assert hub.api("POST", f"/users/{name}/server")[0] in (201, 202)
    for name in STUDENTS:
        hub.wait(name, ready=True)
    print(f"three servers ready in {time.monotonic() - started:.1f} s")
    for name in STUDENTS:
        assert (hub.homes / name / "labs" / LAB).exists(), f"{name} did not get the labs"
    untouched = {name: (hub.homes / name / "labs" / LAB).read_bytes() for name in ("bob", "carol")}

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        hub.open_notebook(page, "alice", f"labs/{LAB}")
        page.wait_for_function(KERNEL_IDLE)
        # write relu into the lab (the cell defining relu_forward), run everything, save
        page.evaluate("""(code) => {
            const cell = window.jupyterapp.shell.currentWidget.content.widgets
                .find(c => c.model.sharedModel.getSource().startsWith('def relu_forward'));
            cell.model.sharedModel.setSource(code);
        }""", MY_RELU)
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(KERNEL_IDLE)
        page.wait_for_function(TRAINING_DONE)
        assert page.evaluate(ERRORS) == [], "error outputs in alice's lab"
        cells = page.locator(".jp-Notebook .jp-Cell").filter(has=page.locator(CANVAS)).filter(
            has=page.locator(".widget-slider"))
        assert cells.count() == 2, "the lab's two explorers did not render"
        for index in range(cells.count()):
            label, changed = nudge_first_slider(page, cells.nth(index), 1, 45)
            assert changed, f"an explorer did not redraw in alice's server when its slider {label!r} moved"
        page.wait_for_function(TRAINING_DONE)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        save_screenshot(page, "jupyterhub-alice")

        mine = hub.homes / "alice" / "labs" / LAB
        assert "alice's answer" in mine.read_text(), "alice's edit is not in her copy"
        for name, content in untouched.items():
            assert (hub.homes / name / "labs" / LAB).read_bytes() == content, f"{name}'s copy changed"

        reply = page.goto(f"{hub.url}/user/bob/api/contents/labs?token=")
        assert reply.status == 403 or "403" in page.content(), f"bob's server answered {reply.status} to alice"

        assert hub.api("DELETE", "/users/alice/server")[0] in (202, 204)
        hub.wait("alice", ready=False)
        assert hub.api("POST", "/users/alice/server")[0] in (201, 202)
        hub.wait("alice", ready=True)
        assert "alice's answer" in mine.read_text(), "the restart overwrote alice's work"
        page.goto(f"{hub.url}/user/alice/lab/tree/labs/{LAB}?reset")
        page.wait_for_function(KERNEL_IDLE)
        assert page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
            .some(c => c.model.sharedModel.getSource().includes("alice's answer"))""")
    except Exception:
        save_screenshot(page, "FAILED-jupyterhub")
        print(hub.log_tail())
        raise
    finally:
        context.close()


def test_every_process_started_is_gone_at_the_end(hub):
    """Runs last: stop the hub as an administrator would (SIGTERM); its servers, kernels and proxy go with it."""
    started = descendants(hub.process.pid)
    assert started, "the hub started no process"
    hub.stop()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        alive = [pid for pid in started if Path(f"/proc/{pid}").exists()]
        if not alive:
            return
        time.sleep(0.5)
    pytest.fail(f"processes still running after the hub stopped: {alive}\n" + hub.log_tail())
