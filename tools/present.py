"""Serve the lecture dashboards (lecture/*.ipynb) with Voila, for a lecturer to drive in front of a room.

    python tools/present.py [--port P] [--cull-idle SECONDS]

Voila listens on 127.0.0.1 at a free port (or P) and prints the gallery's address. Code is hidden, widgets and
text are projector-sized (the `lecture` template in lecture/jupyter), nothing is loaded from the internet, and a
dashboard's kernel is stopped once it has been idle for --cull-idle seconds (10 minutes by default), so closed
pages do not leave kernels behind. Stop with Ctrl-C.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LECTURE = ROOT / "lecture"
TEMPLATES = LECTURE / "jupyter"  # holds voila/templates/lecture


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def voila_command(port: int, cull_idle: int = 600, cull_interval: int = 60) -> list[str]:
    """The command that serves lecture/ with the lecture template on 127.0.0.1:``port``."""
    return [sys.executable, "-m", "voila", str(LECTURE), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
            "--template=lecture", f"--MappingKernelManager.cull_idle_timeout={cull_idle}",
            f"--MappingKernelManager.cull_interval={cull_interval}"]


def voila_environment(base: dict | None = None) -> dict:
    """The environment for Voila and its kernels: the lecture template on JUPYTER_PATH, this checkout first on
    PYTHONPATH (so `import widgets` finds it from any folder), and no MPLBACKEND (the pages choose ipympl)."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k != "MPLBACKEND"}
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(TEMPLATES), env.get("JUPYTER_PATH")]))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--cull-idle", type=int, default=600, help="seconds before an idle kernel is stopped")
    args = parser.parse_args(argv)
    port = args.port or free_port()
    print(f"Lecture dashboards: http://127.0.0.1:{port}/voila/render/index.ipynb\n"
          f"(add ?theme=dark for a dark page; Ctrl-C stops the server)", flush=True)
    try:
        return subprocess.call(voila_command(port, args.cull_idle, max(10, min(60, args.cull_idle // 4))),
                               env=voila_environment(), cwd=ROOT)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
