"""What a class costs on one hub node (tools/class_hub.py: the course's deploy/jupyterhub_config.py, the simple
local-process spawner): the hub's start, the time to spawn one server and three at once, and the memory of a
student's server and kernel after running lab 01 with its explorers in Chromium; from those, students per GB.

Run: .venv/bin/python benchmarks/bench_hub.py
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from class_hub import descendants, start_class_hub  # noqa: E402

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
KERNEL_IDLE = ("() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status"
               " === 'idle'")
TRAINING_DONE = """() => [...document.querySelectorAll('.jp-OutputArea .progress-bar')]
    .every(fill => parseFloat(fill.style.width) >= 100)"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    from playwright.sync_api import sync_playwright
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        hub = start_class_hub(Path(folder), ("s1", "s2", "s3", "s4"), env,
                              server_args=("--LabApp.expose_app_in_browser=True",))
        rows = [("hub start (to its API answering)", f"{time.perf_counter() - t0:.1f} s")]
        try:
            for name in ("s1", "s2", "s3", "s4"):
                hub.api("POST", f"/users/{name}")
            t0 = time.perf_counter()
            hub.api("POST", "/users/s1/server")
            hub.wait("s1", ready=True)
            rows.append(("spawn one server", f"{time.perf_counter() - t0:.1f} s"))
            t0 = time.perf_counter()
            for name in ("s2", "s3", "s4"):
                hub.api("POST", f"/users/{name}/server")
            for name in ("s2", "s3", "s4"):
                hub.wait(name, ready=True)
            rows.append(("spawn three servers at once", f"{time.perf_counter() - t0:.1f} s"))
            server = hub.server_pid("s1")
            rows.append(("a student's server, idle (RSS)", f"{rss_mb(server):.0f} MB"))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=FLAGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(300_000)
                hub.open_notebook(page, "s1", "labs/01_activation_functions.ipynb")
                page.wait_for_function(KERNEL_IDLE)
                kernels = [p for p in descendants(server) if b"ipykernel" in Path(f"/proc/{p}/cmdline").read_bytes()]
                before = sum(cpu_seconds(p) for p in kernels)
                t0 = time.perf_counter()
                page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
                page.wait_for_function(KERNEL_IDLE)
                page.wait_for_function(TRAINING_DONE)
                rows.append(("run all of lab 01 (the student version, explorers falling back to the reference)",
                             f"{time.perf_counter() - t0:.1f} s, {sum(cpu_seconds(p) for p in kernels) - before:.1f}"
                             " CPU s in the kernel"))
                kernel = sum(rss_mb(p) for p in kernels)
                total = rss_mb(server) + kernel
                rows.append(("after lab 01: the student's server (RSS)", f"{rss_mb(server):.0f} MB"))
                rows.append(("after lab 01: its kernel with both explorers (RSS)", f"{kernel:.0f} MB"))
                rows.append(("students per GB of memory (server + kernel)", f"{1024 / total:.1f}"))
                browser.close()
        finally:
            hub.stop()
    print("| measured | value |\n|---|---|")
    for label, value in rows:
        print(f"| {label} | {value} |", flush=True)


if __name__ == "__main__":
    main()
