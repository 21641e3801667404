"""A JupyterHub for a class on this machine, for tests and measurements: the course's deploy/jupyterhub_config.py
with the simple local-process spawner (standing in for the systemd or Kubernetes spawner), a shared-password
authenticator, the npm configurable-http-proxy, everything on 127.0.0.1 with random ports and tokens.

    hub = start_class_hub(folder, students=("alice", "bob"), env=os.environ)
    hub.api("POST", "/users/alice/server"); hub.wait("alice", ready=True); ...; hub.stop()
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROXY = ROOT / ".venv" / "node_modules" / ".bin" / "configurable-http-proxy"
ADMIN_SCOPES = ["admin:users", "admin:servers", "admin:server_state", "tokens", "list:users"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ClassHub:
    """A running hub: ``url``, an admin ``token`` for its REST API, the students' shared ``password`` and the
    folder of their ``homes``."""

    def __init__(self, process: subprocess.Popen, port: int, token: str, password: str, homes: Path, log: Path):
        self.process, self.port, self.token, self.password, self.homes, self.log = \
            process, port, token, password, homes, log

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def api(self, method: str, path: str, body=None):
        """(status, parsed JSON or None) of a call to /hub/api``path`` with the admin token."""
        request = urllib.request.Request(f"{self.url}/hub/api{path}", method=method,
                                         data=None if body is None else json.dumps(body).encode(),
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                text = reply.read()
                return reply.status, json.loads(text) if text else None
        except urllib.error.HTTPError as error:
            return error.code, None

    def open_notebook(self, page, name: str, notebook: str) -> None:
        """Log ``name`` in on the Playwright ``page`` and open ``notebook`` (a path in her home) in JupyterLab."""
        page.goto(f"{self.url}/hub/login")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", self.password)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_url(f"**/user/{name}/lab/**")
        page.goto(f"{self.url}/user/{name}/lab/tree/{notebook}?reset")

    def wait_until_up(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the hub exited with code {self.process.returncode}\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/hub/api", timeout=5):
                    return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"the hub did not answer within {timeout} s\n{self.log_tail()}")

    def wait(self, name: str, ready: bool, timeout: float = 180) -> None:
        """Wait until ``name``'s server is ready (or stopped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, user = self.api("GET", f"/users/{name}")
            server = (user or {}).get("servers", {}).get("")
            if (server is not None and bool(server.get("ready"))) == ready:
                return
            time.sleep(0.5)
        raise TimeoutError(f"{name}'s server did not become {'ready' if ready else 'stopped'} in {timeout} s\n"
                           + self.log_tail())

    def server_pid(self, name: str) -> int:
        """The process id of ``name``'s single-user server."""
        _, user = self.api("GET", f"/users/{name}")
        return int(user["servers"][""]["state"]["pid"])

    def stop(self, timeout: float = 60) -> None:
        """Stop the hub as an administrator would (SIGTERM): its servers, kernels and proxy go with it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def start_class_hub(folder: Path, students, env: dict, server_env: dict | None = None,
                    server_args: tuple = ()) -> ClassHub:
    """Start a hub for ``students`` with homes in ``folder``/homes; ``server_env`` adds environment variables and
    ``server_args`` arguments to every student's server (e.g. JupyterLab settings for a browser test)."""
    if not PROXY.exists():
        raise FileNotFoundError(f"no {PROXY}: `make test` installs it (npm install configurable-http-proxy)")
    folder, homes = Path(folder), Path(folder) / "homes"
    port, token, password = free_port(), secrets.token_hex(16), secrets.token_urlsafe(12)
    args = list(server_args) + (["--allow-root"] if os.geteuid() == 0 else [])
    server_env = {"PYTHONPATH": env.get("PYTHONPATH", str(ROOT)), **(server_env or {})}
    config = folder / "jupyterhub_config.py"
    config.write_text(f"""
import sys
load_subconfig({str(ROOT / 'deploy' / 'jupyterhub_config.py')!r})
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.JupyterHub.db_url = "sqlite:///{folder / 'hub.sqlite'}"
c.JupyterHub.cookie_secret_file = {str(folder / 'cookie_secret')!r}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {password!r}
c.Authenticator.allowed_users = {set(students)!r}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(homes / '{username}')!r}
c.Spawner.args = {args!r}
c.Spawner.environment = {server_env!r}
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
c.JupyterHub.services = [{{"name": "course-admin", "api_token": {token!r}}}]
c.JupyterHub.load_roles = [{{"name": "course-admin", "services": ["course-admin"], "scopes": {ADMIN_SCOPES!r}}}]
""")
    log = folder / "hub.log"
    hub_env = {**env, "COURSE_LABS": str(ROOT / "labs"), "COURSE_SINGLEUSER": f"{sys.executable} -m jupyterhub.singleuser"}
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], env=hub_env, cwd=folder,
                                   stdout=out, stderr=subprocess.STDOUT)
    hub = ClassHub(process, port, token, password, homes, log)
    try:
        hub.wait_until_up()
    except Exception:
        hub.stop()
        raise
    return hub
