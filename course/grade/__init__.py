"""Grading a folder of submissions with the course's own checks: for each student and lab, which functions pass,
which fail and with which named mistake, which are not implemented, crashed or timed out; and a class report of
the mistakes to address next lecture.

    python -m course.grade SUBMISSIONS... --out DIR [--jobs N] [--cell-limit S] [--total-limit S]

Each submission (a lab notebook, or a folder searched for them; the student is the first folder below the one
searched, or the folder holding a notebook named on its own: course.grade.plan.identify)
runs in its own temporary copy, in its own kernel confined to that copy (course.grade.sandbox), with a time limit
per cell and for the whole notebook; then the lab's checks (every ``checks.check_*`` call of the lab notebook,
course.grade.plan) are replayed on the functions it defines. Submissions are never modified; a submission that
hangs, kills its kernel, floods its output or writes outside its copy affects no other. Results go to DIR:
grades.csv, report.md and report.html (course.grade.report).
"""
from __future__ import annotations

import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from course.grade.plan import course_labs, identify
from course.grade.report import write_reports
from course.grade.run import Grade, grade_submission

__all__ = ["Grade", "find_submissions", "grade"]


SKIPPED_FOLDERS = {".ipynb_checkpoints", "backups"}  # Jupyter's autosaves; copies kept by tools/build_labs.py


def find_submissions(paths) -> list[tuple[Path, Path | None]]:
    """(notebook, the folder it was found in, or None for a file named on its own) for the notebooks among
    ``paths``: files as given, folders searched recursively (checkpoint and backup folders skipped)."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found += [(p, path) for p in sorted(path.rglob("*.ipynb"))
                      if not SKIPPED_FOLDERS & set(p.relative_to(path).parts)]
        elif path.exists():
            found.append((path, None))
        else:
            raise FileNotFoundError(f"no such submission: {path}")
    return found


def _grade_one(job) -> list[Grade]:
    path, student, lab, plan, workdir, cell_limit, total_limit = job
    return grade_submission(path, student, lab, plan, Path(workdir), cell_limit, total_limit)


def grade(paths, out, jobs: int = 2, cell_limit: float = 60, total_limit: float = 300) -> list[Grade]:
    """Grade every submission under ``paths`` (see the module docstring), ``jobs`` at a time; write the reports
    to ``out`` and return the grades, sorted by student, lab and the lab's order of functions."""
    labs = course_labs()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    grades, work = [], []
    for path, root in find_submissions(paths):
        student, lab = identify(path, labs, root)
        if lab is None:
            grades.append(Grade(student, path.stem, "-", "crashed",
                                f"{path.name} is not a lab of this course (expected a name containing one of: "
                                f"{', '.join(labs)})"))
        else:
            work.append((path, student, lab))
    with tempfile.TemporaryDirectory(prefix="grading-", dir=out) as workdir:
        jobs_list = [(path, student, lab, labs[lab], workdir, cell_limit, total_limit)
                     for path, student, lab in work]
        with ProcessPoolExecutor(max_workers=max(1, jobs),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            for result in pool.map(_grade_one, jobs_list):
                grades += result
    order = {lab: [c.function for c in plan] for lab, plan in labs.items()}
    grades.sort(key=lambda g: (g.student, g.lab, order.get(g.lab, []).index(g.function)
                               if g.function in order.get(g.lab, []) else -1))
    write_reports(grades, out)
    return grades
