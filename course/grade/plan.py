"""What grading a lab means: the checks its notebook runs, replayed on the student's own functions.

The plan of a lab is read from the course's notebook of that lab (labs/NN_topic.ipynb): every call
``checks.check_NAME(arg, ...)`` in its code cells, in order, once each. Grading a submission replays those calls
with ``.evaluate`` on the functions the submission defines under the same names.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
LABS = ROOT / "labs"
CHECK_CALL = re.compile(r"\bchecks\.(check_\w+)\(([^()]*)\)")


@dataclass(frozen=True)
class CheckCall:
    """One check of a lab: ``check`` (e.g. "check_relu_backward") called on the functions named ``arguments``."""
    check: str
    arguments: tuple[str, ...]

    @property
    def function(self) -> str:
        """What the grade reports this check as: "relu_backward"."""
        return self.check.removeprefix("check_")


STUB = "# YOUR CODE HERE"


def lab_plan(notebook: Path) -> list[CheckCall]:
    """The check calls of a lab notebook, in order, each once; none when students write no code in it (no
    "# YOUR CODE HERE" stub in a code cell)."""
    code = [cell.source for cell in nbformat.read(notebook, as_version=4).cells if cell.cell_type == "code"]
    if not any(STUB in source for source in code):
        return []
    calls = []
    for source in code:
        for check, args in CHECK_CALL.findall(source):
            call = CheckCall(check, tuple(a.strip() for a in args.split(",") if a.strip()))
            if call not in calls:
                calls.append(call)
    return calls


def course_labs(labs: Path = LABS) -> dict[str, list[CheckCall]]:
    """Lab name (the notebook's stem, "01_activation_functions") -> its plan, for every lab in which students
    write code (a "# YOUR CODE HERE" stub) checked by the lab."""
    plans = {path.stem: lab_plan(path) for path in sorted(labs.glob("*.ipynb"))}
    return {name: plan for name, plan in plans.items() if plan}


def identify(submission: Path, labs: dict, root: Path | None = None) -> tuple[str, str | None]:
    """(student, lab) of a submitted notebook, found under the folder ``root`` (None: the notebook was named on
    its own). The student is the first folder below ``root`` on the way to the notebook, so a class folder can hold
    one folder per student laid out in any way: "class/alice/01_....ipynb", hub homes "home/alice/labs/01_....ipynb",
    nbgrader's "submitted/alice/ps1/01_....ipynb"; a notebook directly in ``root`` (or named on its own) belongs to
    the folder holding it. The lab is the course lab whose name the file name contains; None when there is none."""
    lab = next((name for name in sorted(labs, key=len, reverse=True) if name in submission.stem), None)
    below = submission.relative_to(root).parts if root is not None else ()
    return (below[0] if len(below) > 1 else submission.parent.name), lab
