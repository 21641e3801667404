"""Grading speed (course.grade): each lab's own solution graded as a submission, one at a time and two at a
time; the time per submission is what a class of N costs, N times over, divided by the jobs.

Run: .venv/bin/python benchmarks/bench_grade.py [--labs 01,05]
"""
from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course.grade import grade  # noqa: E402
from course.grade.plan import course_labs  # noqa: E402


def main() -> None:
    labs = list(course_labs())
    if "--labs" in sys.argv:
        wanted = sys.argv[sys.argv.index("--labs") + 1].split(",")
        labs = [lab for lab in labs if lab[:2] in wanted]
    print("| graded | submissions | jobs | wall time | per submission |\n|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        subs = Path(folder) / "submissions"
        for lab in labs:
            (subs / f"student-{lab[:2]}").mkdir(parents=True)
            shutil.copyfile(ROOT / "solutions" / f"{lab}.ipynb", subs / f"student-{lab[:2]}" / f"{lab}.ipynb")
            t0 = time.perf_counter()
            grades = grade([subs / f"student-{lab[:2]}"], Path(folder) / f"out-{lab}", jobs=1)
            elapsed = time.perf_counter() - t0
            passed = sum(g.status == "passed" for g in grades)
            print(f"| {lab} (its solution: {passed}/{len(grades)} checks pass) | 1 | 1 | {elapsed:.1f} s | "
                  f"{elapsed:.1f} s |", flush=True)
        for jobs in (1, 2):
            t0 = time.perf_counter()
            grade([subs], Path(folder) / f"out-all-{jobs}", jobs=jobs)
            elapsed = time.perf_counter() - t0
            print(f"| every lab's solution | {len(labs)} | {jobs} | {elapsed:.1f} s | {elapsed / len(labs):.1f} s |",
                  flush=True)


if __name__ == "__main__":
    main()
