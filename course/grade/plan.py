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


def identify(submission: Path, labs: dict) -> tuple[str, str | None]:
    """(student, lab) of a submitted notebook: the student is the folder holding it, the lab the course lab whose
    name the file name contains ("alice/01_activation_functions.ipynb"); lab None when there is none."""
    lab = next((name for name in sorted(labs, key=len, reverse=True) if name in submission.stem), None)
    return submission.parent.name, lab
