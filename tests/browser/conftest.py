"""Fixtures for the real-browser tests: JupyterLab on a free loopback port with a random token, and Debian's
headless Chromium driven by Playwright. A failing test leaves a screenshot in test-artifacts/ and prints the
server's log tail and the browser console."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_START_TIMEOUT = 120
# User settings for the test server: attach every cell to the DOM, never write the notebook back, no news.
# (Checkpoints go to the server's temporary directory, not next to the notebooks.)
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class JupyterLab:
    """A running `jupyter lab` serving the repository."""
    process: subprocess.Popen
    port: int
    token: str
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, path: str) -> str:
        return f"{self.base_url}/lab/tree/{path}?token={self.token}&reset"

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return f"--- last {len(text)} lines of {self.log} ---\n" + "\n".join(text)

    def wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"jupyter lab exited with code {self.process.returncode} before answering\n"
                            + self.log_tail(), pytrace=False)
            try:
                with urllib.request.urlopen(f"{self.base_url}/api/status?token={self.token}", timeout=5) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"jupyter lab did not answer /api/status within {timeout} s\n" + self.log_tail(), pytrace=False)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        message = (f"no {CHROMIUM}: the browser tests need Debian's Chromium (`apt-get install chromium`); "
                   "Playwright's own browser download is not used")
        if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " (COURSE_REQUIRE_BROWSER=1 makes this a failure)", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="module")
def jupyter_lab(chromium, kernel_env, tmp_path_factory):
    home = tmp_path_factory.mktemp("jupyterlab")
    for plugin, values in LAB_SETTINGS.items():
        path = home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(kernel_env, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT}",
               "--LabApp.expose_app_in_browser=True", f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = home / "server.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    server = JupyterLab(process, port, token, log)
    try:
        server.wait_until_ready(SERVER_START_TIMEOUT)
        yield server
    finally:
        server.stop()


# Module scope, not session: while Playwright's sync API is alive, this thread has an asyncio loop marked as
# running, which the widget tests that come later (explorers that train in slices) must not see.
@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.call_failed = report.failed


def save_screenshot(page, name: str) -> None:
    """A full-page screenshot in test-artifacts/browser-<name>.png; prints the path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"browser-{name}.png"
    page.screenshot(path=path, full_page=True)
    print(f"screenshot: {path}")


@pytest.fixture
def screenshot():
    return save_screenshot


@pytest.fixture
def page(browser, jupyter_lab, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    console = []
    page.on("console", lambda message: console.append(f"[{message.type}] {message.text}"))
    page.on("pageerror", lambda error: console.append(f"[pageerror] {error}"))
    yield page
    if getattr(request.node, "call_failed", False):
        save_screenshot(page, f"FAILED-{request.node.name}")
        print(jupyter_lab.log_tail())
        print("--- browser console ---\n" + "\n".join(console[-40:]))
    context.close()
