"""Grading one submission: a temporary copy, its own sandboxed kernel (course.grade.sandbox), a time limit per cell
and for the whole notebook, then the lab's checks replayed on the functions the submission defines."""
from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from course.grade.plan import ROOT, CheckCall

STATUSES = ("passed", "mistake", "not implemented", "crashed", "timed out")
MARK = "COURSE-GRADES:"
MAX_OUTPUT_CHARS = 100_000  # per cell: what a flooding cell may leave in memory
CHECK_LIMIT = 5.0  # seconds a check lets one call of student code run while grading (COURSE_CHECK_TIME_LIMIT)
GRADING_CELL = """
import json as __json
import course.checks as __checks
__grades = []
for __check, __names in {plan!r}:
    try:
        __functions = [eval(__name) for __name in __names]
    except Exception as __missing:
        __grades.append((__check, "missing", f"{{type(__missing).__name__}}: {{__missing}}"))
        continue
    __result = getattr(__checks, __check).evaluate(*__functions)
    __grades.append((__check, __result.status, __result.detail))
print({mark!r} + __json.dumps(__grades))
"""


@dataclass(frozen=True)
class Grade:
    """One row of grades.csv: ``status`` is one of STATUSES, ``detail`` the named mistake or what went wrong."""
    student: str
    lab: str
    function: str
    status: str
    detail: str


class CappedClient(NotebookClient):
    """A notebook client that keeps at most MAX_OUTPUT_CHARS of a cell's outputs (a flood is cut, with a note)."""

    def output(self, outs, msg, display_id, cell_index):
        size = sum(len(json.dumps(o)) for o in outs[-3:]) + getattr(self, "_kept", {}).get(cell_index, 0)
        if size > MAX_OUTPUT_CHARS and msg["msg_type"] == "stream":
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None:
            self._kept = getattr(self, "_kept", {})
            self._kept[cell_index] = self._kept.get(cell_index, 0) + len(json.dumps(out))
        return out


def sandbox_kernel(folder: Path, check_limit: float = CHECK_LIMIT) -> AsyncKernelManager:
    """A kernel manager for the sandbox kernel, confined to ``folder`` (its home, working and cache folder), in
    which a check stops a student function after ``check_limit`` seconds."""
    specs = folder / ".kernels" / "course-grading"
    specs.mkdir(parents=True)
    env = {"COURSE_GRADE_DIR": str(folder), "HOME": str(folder), "IPYTHONDIR": str(folder / ".ipython"),
           "MPLCONFIGDIR": str(folder / ".matplotlib"), "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
           "COURSE_CHECK_TIME_LIMIT": str(check_limit),
           # one BLAS thread per kernel: submissions graded side by side (--jobs) then share the cores instead of
           # fighting over them, and a lab's numbers do not depend on the machine's core count
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    (specs / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "course.grade.sandbox", "-f", "{connection_file}"],
        "display_name": "course grading", "language": "python", "env": env}))
    return AsyncKernelManager(kernel_name="course-grading",
                              kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(specs.parent)]))


def classify(status: str, detail: str) -> str:
    """A CheckResult status (course.checks) as a grade status."""
    if status == "error" and "did not finish within" in detail:
        return "timed out"
    return {"passed": "passed", "failed": "mistake", "not implemented": "not implemented", "missing":
            "not implemented"}.get(status, "crashed")


def grade_submission(path: Path, student: str, lab: str, plan: list[CheckCall], workdir: Path,
                     cell_limit: float = 60, total_limit: float = 300) -> list[Grade]:
    """Grade the notebook ``path`` (never modified: a copy runs in ``workdir``/student-lab) and return one Grade
    per check of the lab's ``plan``.

    Its code cells run in order, each for at most ``cell_limit`` seconds (then interrupted), until
    ``total_limit`` seconds have passed (the rest is skipped); then the lab's checks run on whatever functions it
    defined by then. A check stops a student function that does not return ("timed out")."""
    def every(status, detail):
        return [Grade(student, lab, call.function, status, detail) for call in plan]

    # a folder per notebook, not per (student, lab): a student may hand in two copies of a lab
    folder = Path(tempfile.mkdtemp(prefix=f"{student}-{lab}-", dir=workdir))
    copy = folder / path.name
    shutil.copyfile(path, copy)
    try:
        nb = nbformat.read(copy, as_version=4)
        nbformat.validate(nb)
    except Exception as exc:
        return every("crashed", f"the notebook file could not be read: {type(exc).__name__}: {exc}"[:300])
    grading = nbformat.v4.new_code_cell(GRADING_CELL.format(plan=[(c.check, c.arguments) for c in plan], mark=MARK))
    nb.cells.append(grading)
    km = sandbox_kernel(folder)
    client = CappedClient(nb, km=km, timeout=cell_limit, interrupt_on_timeout=True, allow_errors=True,
                          error_on_timeout={"ename": "TimeoutError", "evalue": f"stopped after {cell_limit:g} s",
                                            "traceback": []},
                          resources={"metadata": {"path": str(folder)}})
    try:
        with client.setup_kernel():
            deadline = time.monotonic() + total_limit
            for index, cell in enumerate(nb.cells[:-1]):  # the submission's cells, as long as time remains
                remaining = deadline - time.monotonic()
                if remaining <= 1:
                    break
                if cell.cell_type == "code":
                    client.timeout = min(cell_limit, remaining)
                    client.execute_cell(cell, index)
            client.timeout = 3 * CHECK_LIMIT * (len(plan) + 1)  # each check stops its student code by itself
            client.execute_cell(grading, len(nb.cells) - 1)
    except DeadKernelError:
        return every("crashed", "the kernel died while the notebook ran (os._exit, a crash, or too much memory)")
    except Exception as exc:
        return every("crashed", f"the notebook could not be run: {type(exc).__name__}: {exc}"[:300])
    finally:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    printed = "".join(o.get("text", "") for o in grading.outputs if o.get("output_type") == "stream")
    if MARK not in printed:
        return every("timed out", "the checks could not run: the notebook was still busy (a cell that never ends)")
    results = json.loads(printed.split(MARK, 1)[1].splitlines()[0])
    return [Grade(student, lab, check.removeprefix("check_"), classify(status, detail), detail)
            for check, status, detail in results]
