"""Widget events delivered on a kernel subshell thread, as JupyterLab 4.6 sends them by default
(``commsOverSubshells: "perCommTarget"``): every piece of an explorer's work must still run on the thread that
built it. Reproduced at the kernel level with jupyter_client: a subshell is created on the control channel and
slider updates are sent as comm messages whose header carries its id."""
from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.slow

SETUP = """
%matplotlib widget
import asyncio, json, threading
import widgets
from course.experiments import DeadUnitTraining

work_threads, event_threads = set(), set()
_step = DeadUnitTraining._step
def _recording_step(self):
    work_threads.add(threading.current_thread().name)
    return _step(self)
DeadUnitTraining._step = _recording_step

explorer = widgets.dead_relu_explorer(steps=120, budget=0.01)
for control in explorer.controls.values():
    control.observe(lambda change: event_threads.add(threading.current_thread().name), names="value")
print(json.dumps({name: control.model_id for name, control in explorer.controls.items()}))
"""

REPORT = """
import time
deadline = time.monotonic() + 60
while explorer.progress.value < explorer.progress.max and time.monotonic() < deadline:
    await asyncio.sleep(0.05)  # let the remaining training slices run on this loop
print(json.dumps({"work": sorted(work_threads), "events": sorted(event_threads),
                  "errors": [o.get("text", "") for o in explorer.output.outputs],
                  "message": explorer.message.get_text(), "done": explorer.progress.value}))
"""


def execute(kc, code: str, timeout: float = 120) -> str:
    """Run ``code`` in the kernel and return what it printed; fail on an error."""
    msg_id = kc.execute(code)
    printed = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=timeout)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            printed.append(content["text"])
        elif kind == "error":
            pytest.fail("kernel error:\n" + "\n".join(content["traceback"]))
        elif kind == "status" and content["execution_state"] == "idle":
            return "".join(printed)
    pytest.fail(f"the kernel did not finish within {timeout} s:\n{code}")


def test_slider_events_on_a_subshell_run_the_explorer_on_its_own_thread(kernel_env):
    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3", env=kernel_env)
    try:
        ids = json.loads(execute(kc, SETUP).strip().splitlines()[-1])
        request = kc.session.msg("create_subshell_request", {})
        kc.control_channel.send(request)
        reply = kc.control_channel.get_msg(timeout=30)
        subshell = reply["content"]["subshell_id"]

        for i in range(60):  # alternate the subshell and the main shell, each update starting a new run
            name, value = ("learning_rate", 10 ** (-1 + 0.1 * (i % 15))) if i % 3 else ("seed", i % 10)
            msg = kc.session.msg("comm_msg", {"comm_id": ids[name], "data": {
                "method": "update", "state": {"value": value}, "buffer_paths": []}})
            if i % 2 == 0:
                msg["header"]["subshell_id"] = subshell
            kc.shell_channel.send(msg)
            time.sleep(0.03)

        report = json.loads(execute(kc, REPORT).strip().splitlines()[-1])
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    assert any(name != "MainThread" for name in report["events"]), (
        f"the test did not deliver events on a subshell thread (events seen on {report['events']})")
    assert report["work"] == ["MainThread"], f"training steps ran on {report['work']}"
    assert report["errors"] == [] and not report["message"].startswith("error"), report
    assert report["done"] == 120, report
