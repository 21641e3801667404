"""python -m course.grade SUBMISSIONS... --out DIR: see course.grade."""
from __future__ import annotations

import argparse
import sys

from course.grade import grade


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.grade",
                                     description="Grade lab submissions with the course's checks.")
    parser.add_argument("submissions", nargs="+", help="submitted notebooks, or folders holding them")
    parser.add_argument("--out", required=True, help="folder for grades.csv, report.md and report.html")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once (default 2)")
    parser.add_argument("--cell-limit", type=float, default=60, help="seconds a cell may run (default 60)")
    parser.add_argument("--total-limit", type=float, default=300, help="seconds a notebook may run (default 300)")
    args = parser.parse_args(argv)
    grades = grade(args.submissions, args.out, args.jobs, args.cell_limit, args.total_limit)
    students = len({g.student for g in grades})
    passed = sum(g.status == "passed" for g in grades)
    print(f"graded {students} students: {passed} of {len(grades)} checks passed; see {args.out}/report.html "
          f"and {args.out}/grades.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
