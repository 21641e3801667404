"""Build the student notebooks in labs/ from the solution notebooks in solutions/.

    python tools/build_labs.py                   write labs/<name>.ipynb for every solutions/<name>.ipynb
    python tools/build_labs.py --check           write nothing; exit 1 listing every stale, missing or extra lab
    python tools/build_labs.py --replace-edited  also replace labs a student edited, after moving each to
                                                 labs/backups/<name>-<date>.ipynb

A student's work is never lost: ``labs/.generated.json`` records a fingerprint (SHA-256) of every lab as it was
generated. A lab whose file no longer matches its fingerprint was edited since, and is kept as it is (the build
says so and how to get the new version); only with --replace-edited is it replaced, and then only after a copy
is saved under labs/backups/. Edited labs are reported, never counted as problems.

In a code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` (markers included) become a stub at
the indentation of the BEGIN marker::

    # YOUR CODE HERE
    raise NotImplementedError

In a markdown cell they become "YOUR ANSWER HERE". Outputs, execution counts, execution timings and saved widget
state are removed; everything else (cell ids, tags, the kernelspec) is kept, so a rebuild is byte-identical.
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import shutil
import sys
import time
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
CODE_STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
ANSWER_STUB = ("YOUR ANSWER HERE",)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
LABS = ROOT / "labs"
MANIFEST = ".generated.json"  # in the labs folder: file name -> SHA-256 of the lab as generated
BACKUPS = "backups"


class MarkerError(ValueError):
    """A solution marker without its partner, or a BEGIN inside an open block."""


def solution_blocks(source: str, where: str) -> list[tuple[int, int]]:
    """(first, last) line indices of each marked block in ``source``, markers included.

    ``where`` names the notebook and cell in error messages. Raises MarkerError for an END without a BEGIN,
    a BEGIN inside an open block, or a block still open at the end of the cell.
    """
    blocks, start = [], None
    for i, line in enumerate(source.splitlines()):
        marker = line.strip()
        if marker == BEGIN:
            if start is not None:
                raise MarkerError(f"{where}, line {i + 1}: nested '{BEGIN}' (the block opened on line "
                                  f"{start + 1} is not closed yet)")
            start = i
        elif marker == END:
            if start is None:
                raise MarkerError(f"{where}, line {i + 1}: '{END}' without a '{BEGIN}' before it")
            blocks.append((start, i))
            start = None
    if start is not None:
        raise MarkerError(f"{where}, line {start + 1}: '{BEGIN}' is never closed by '{END}'")
    return blocks


def strip_solutions(source: str, stub: tuple[str, ...], where: str) -> str:
    """``source`` with every marked block replaced by ``stub``, indented like the block's BEGIN marker."""
    lines = source.splitlines(keepends=True)
    for first, last in reversed(solution_blocks(source, where)):
        indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
        ending = lines[last][len(lines[last].rstrip("\r\n")):]
        lines[first: last + 1] = ["\n".join(indent + line for line in stub) + ending]
    return "".join(lines)


def cell_label(name: str, index: int, cells: list) -> str:
    return f"{name}: cell {index + 1} of {len(cells)} ({cells[index].cell_type})"


def make_lab(nb: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student version of the solution notebook ``nb`` (which is left unchanged); ``name`` labels errors."""
    lab = copy.deepcopy(nb)
    lab.metadata.pop("widgets", None)
    stubs = {"code": CODE_STUB, "markdown": ANSWER_STUB}
    for index, cell in enumerate(lab.cells):
        if cell.cell_type in stubs:
            cell.source = strip_solutions(cell.source, stubs[cell.cell_type], cell_label(name, index, lab.cells))
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    return lab


def removed_lines(nb: nbformat.NotebookNode, name: str = "notebook") -> list[str]:
    """The stripped, non-blank lines inside the marked blocks of ``nb`` (markers excluded)."""
    removed = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type in ("code", "markdown"):
            lines = cell.source.splitlines()
            for first, last in solution_blocks(cell.source, cell_label(name, index, nb.cells)):
                removed += [line.strip() for line in lines[first + 1: last] if line.strip()]
    return removed


def lab_text(solution: Path) -> str:
    """The lab built from the notebook file ``solution``, as the exact text to write."""
    nb = nbformat.read(solution, as_version=nbformat.NO_CONVERT)
    return nbformat.writes(make_lab(nb, name=str(solution))) + "\n"


def expected_labs(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """File name -> lab text, for every notebook in ``solutions``."""
    return {path.name: lab_text(path) for path in sorted(solutions.glob("*.ipynb"))}


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_manifest(labs: Path = LABS) -> dict[str, str]:
    """File name -> fingerprint of each lab as last generated ({} when there is no manifest yet)."""
    path = labs / MANIFEST
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def is_edited(lab: Path, manifest: dict[str, str]) -> bool:
    """True when ``lab`` exists and is not what the build last wrote there: someone worked in it."""
    return lab.exists() and fingerprint(lab.read_text(encoding="utf-8")) != manifest.get(lab.name)


def edited_labs(labs: Path = LABS) -> list[Path]:
    """The labs changed since they were generated (a student's work)."""
    manifest = read_manifest(labs)
    return [lab for lab in sorted(labs.glob("*.ipynb")) if is_edited(lab, manifest)]


def lab_problems(solutions: Path = SOLUTIONS, labs: Path = LABS) -> list[str]:
    """One line per lab in ``labs`` that is stale (generated from older solutions), missing, or has no source in
    ``solutions``. A lab edited since it was generated is not a problem: it is judged by the fingerprint the
    build recorded for it, which must be that of the current solutions' lab."""
    expected = expected_labs(solutions)
    manifest = read_manifest(labs)
    present = {path.name for path in labs.glob("*.ipynb")}
    problems = []
    for name in sorted(expected.keys() | present):
        lab = labs / name
        if name not in expected:
            problems.append(f"extra: {lab} has no source {solutions / name}; delete it or add the solution")
        elif name not in present:
            problems.append(f"missing: {lab} (built from {solutions / name})")
        elif manifest.get(name) != fingerprint(expected[name]):
            problems.append(f"stale: {lab} was not generated from the current {solutions / name}")
    return problems


def write_labs(solutions: Path = SOLUTIONS, labs: Path = LABS, replace_edited: bool = False) -> list[str]:
    """Write every lab built from ``solutions`` into ``labs`` and record its fingerprint; return one line per
    action taken. A lab edited since it was generated is kept, unless ``replace_edited``: then it is first moved
    to labs/backups/<name>-<date>.ipynb."""
    expected = expected_labs(solutions)
    labs.mkdir(parents=True, exist_ok=True)
    manifest = read_manifest(labs)
    actions = []
    for name, text in expected.items():
        lab = labs / name
        if lab.exists() and lab.read_text(encoding="utf-8") == text:
            manifest[name] = fingerprint(text)
            continue
        if is_edited(lab, manifest):
            if not replace_edited:
                actions.append(f"kept {lab}: it was edited since it was generated, so it is not replaced. To get "
                               f"the new version, rename your copy, or run `python tools/build_labs.py "
                               f"--replace-edited`, which saves yours in {labs / BACKUPS} first")
                continue
            backup = labs / BACKUPS / f"{lab.stem}-{time.strftime('%Y%m%d-%H%M%S')}{lab.suffix}"
            backup.parent.mkdir(exist_ok=True)
            shutil.copy2(lab, backup)
            actions.append(f"saved your edited {lab.name} as {backup}")
        lab.write_text(text, encoding="utf-8")
        manifest[name] = fingerprint(text)
        actions.append(f"wrote {lab}")
    (labs / MANIFEST).write_text(json.dumps(dict(sorted(manifest.items())), indent=1) + "\n", encoding="utf-8")
    return actions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if labs/ is out of date")
    parser.add_argument("--replace-edited", action="store_true",
                        help="replace labs edited since they were generated, after saving a copy in labs/backups/")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS, help="source notebooks (default: %(default)s)")
    parser.add_argument("--labs", type=Path, default=LABS, help="generated notebooks (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        if not args.check:
            for action in write_labs(args.solutions, args.labs, args.replace_edited):
                print(action)
        problems = lab_problems(args.solutions, args.labs)
        for lab in edited_labs(args.labs):
            print(f"edited since generated (kept as it is): {lab}")
    except MarkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems and args.check:
        print("run `make labs` (python tools/build_labs.py) to rebuild labs/", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
