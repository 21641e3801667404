"""Write the student release: the labs, the library and a student README, without solutions or instructor material.

    python tools/release.py [--out dist]

writes dist/training-nets-course/ and dist/training-nets-course.tar.gz. The labs are generated afresh from
solutions/ (so a local edit in labs/ never ships); the library (course/, widgets/) ships whole, because the
explorers and checks need it: students can import the reference implementations (course.activations,
course.layers, ...), which is worth knowing when grading.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tarfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_labs  # noqa: E402

NAME = "training-nets-course"
LIBRARY = ["course", "widgets"]
FILES = ["pyproject.toml", "environment.yml"]
STUDENT_README = """# Training neural networks: an interactive course (student edition)

Jupyter labs on **how neural networks are trained**. In each lab you re-implement a piece of a small NumPy
library (`course`), a check tells you at once whether it is right or names the likely mistake, and live
explorers (`widgets`) driven by your own code make the idea visible.

## Start

On a machine with Python >= 3.10:

```bash
make lab        # creates .venv, installs everything (first run only), opens JupyterLab at the start page
```

or by hand:

```bash
python3 -m venv .venv
.venv/bin/pip install -e .
.venv/bin/jupyter lab labs/00_start_here.ipynb
```

With conda: `conda env create -f environment.yml`, `conda activate training-nets-course`, then
`jupyter lab labs/00_start_here.ipynb`.

## The labs

{labs}

Work in the notebooks of `labs/`: they are yours. Cells marked `# YOUR CODE HERE` are for your code; cells that
say YOUR ANSWER HERE are for your predictions and answers. Run a lab top to bottom at any time: what you have not
written yet is reported as "not implemented yet", and the explorers use the reference implementation until
yours passes its check.

## What is in this folder

- `labs/`: the lab notebooks, one per topic, and `00_start_here.ipynb`.
- `course/`: the NumPy library the labs are about. It holds a complete reference implementation of every
  function you write (the checks compare yours with it, and the explorers fall back to it): reading it before you
  have tried defeats the purpose of the labs.
- `widgets/`: the live explorers.
"""
STUDENT_MAKEFILE = """# `make lab`: create .venv and install (first run only), then open JupyterLab at the start page.
PYTHON ?= python3
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: lab
lab: .venv/.installed
\t.venv/bin/jupyter lab --ServerApp.ip=127.0.0.1 $(ROOT_FLAG) --LabApp.default_url=/lab/tree/labs/00_start_here.ipynb

.venv/.installed: pyproject.toml
\t$(PYTHON) -m venv .venv
\t.venv/bin/python -m pip install --quiet --upgrade pip
\t.venv/bin/python -m pip install --quiet -e .
\t@touch $@
"""


def lab_list() -> str:
    """One line per lab: its title, from the first heading of its notebook."""
    lines = []
    for path in sorted(build_labs.SOLUTIONS.glob("*.ipynb")):
        title = next((line.lstrip("# ").strip() for cell in nbformat.read(path, as_version=4).cells
                      if cell.cell_type == "markdown" for line in cell.source.splitlines() if line.startswith("# ")),
                     path.stem)
        lines.append(f"- `labs/{path.name}`: {title}")
    return "\n".join(lines)


def ignore(folder, names):
    return [n for n in names if n in ("__pycache__", ".ipynb_checkpoints") or n.endswith(".pyc")]


def release(out: Path) -> tuple[Path, Path]:
    """Write the bundle folder and its .tar.gz archive in ``out``; return both paths."""
    bundle = out / NAME
    if bundle.exists():
        shutil.rmtree(bundle)
    (bundle / "labs").mkdir(parents=True)
    for name, text in build_labs.expected_labs().items():
        (bundle / "labs" / name).write_text(text, encoding="utf-8")
    for folder in LIBRARY:
        shutil.copytree(ROOT / folder, bundle / folder, ignore=ignore)
    for name in FILES:
        shutil.copy2(ROOT / name, bundle / name)
    (bundle / "README.md").write_text(STUDENT_README.replace("{labs}", lab_list()), encoding="utf-8")
    (bundle / "Makefile").write_text(STUDENT_MAKEFILE, encoding="utf-8")
    archive = out / f"{NAME}.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle, arcname=NAME)
    return bundle, archive


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist/)")
    args = parser.parse_args(argv)
    bundle, archive = release(args.out)
    print(f"wrote {bundle}/ and {archive}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
