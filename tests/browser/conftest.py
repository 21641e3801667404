"""Fixtures for the real-browser tests: JupyterLab on a free loopback port with a random token, and Debian's
headless Chromium driven by Playwright. A failing test leaves a screenshot in test-artifacts/ and prints the
server's log tail and the browser console."""
from __future__ import annotations

import contextlib
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
class Server:
    """A server process the tests started (JupyterLab or Voila), listening on 127.0.0.1:``port``."""
    process: subprocess.Popen
    port: int
    log: Path
    token: str = ""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, path: str) -> str:
        """JupyterLab's address for the notebook at ``path`` (relative to the repository)."""
        return f"{self.base_url}/lab/tree/{path}?token={self.token}&reset"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_text().splitlines()[-lines:]
        return f"--- last {len(text)} lines of {self.log} ---\n" + "\n".join(text)

    def wait_until_ready(self, path: str, timeout: float) -> None:
        """Poll ``path`` until it answers 200; fail early if the process exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.process.args[:3]} exited with code {self.process.returncode} before answering\n"
                            + self.log_tail(), pytrace=False)
            try:
                with urllib.request.urlopen(f"{self.base_url}{path}", timeout=5) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        pytest.fail(f"the server did not answer {path} within {timeout} s\n" + self.log_tail(), pytrace=False)

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
    server = start_server(command, env, home / "server.log", port, token)
    try:
        server.wait_until_ready(f"/api/status?token={token}", SERVER_START_TIMEOUT)
        yield server
    finally:
        server.stop()


def start_server(command: list[str], env: dict, log: Path, port: int, token: str = "") -> Server:
    with log.open("w") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    return Server(process, port, log, token)


# Voila culls a dashboard's kernel once it has been idle and disconnected this long (lecturers use 10 minutes).
CULL_IDLE_S, CULL_INTERVAL_S = 12, 4


@pytest.fixture(scope="module")
def voila(chromium, kernel_env, tmp_path_factory):
    """`tools/present.py`'s Voila, serving lecture/ on a free port, with short kernel culling times."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("present", ROOT / "tools" / "present.py")
    present = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(present)
    port = free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    server = start_server(present.voila_command(port, CULL_IDLE_S, CULL_INTERVAL_S),
                          present.voila_environment(kernel_env), log, port)
    try:
        server.wait_until_ready("/voila/static/voila-style.js", SERVER_START_TIMEOUT)
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


@contextlib.contextmanager
def open_page(browser, request, server: Server, viewport=(1400, 1000)):
    """A new browser page recording its console in ``page.console``; on failure, a screenshot, the server's log
    tail and the console are kept."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.console = []
    page.on("console", lambda message: page.console.append(f"[{message.type}] {message.text}"))
    page.on("pageerror", lambda error: page.console.append(f"[pageerror] {error}"))
    try:
        yield page
    finally:
        if getattr(request.node, "call_failed", False):
            save_screenshot(page, f"FAILED-{request.node.name}")
            print(server.log_tail())
            print("--- browser console ---\n" + "\n".join(page.console[-40:]))
        context.close()


@pytest.fixture
def page(browser, jupyter_lab, request):
    with open_page(browser, request, jupyter_lab) as page:
        yield page
