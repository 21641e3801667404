"""Copy the course's labs into a student's home without overwriting anything already there.

    python copy_labs.py SOURCE_LABS [--home HOME] [--then COMMAND ...]

Every notebook of SOURCE_LABS missing from HOME/labs (HOME defaults to $HOME) is copied in; a notebook that is
already there (the student's work) is left untouched, so running this at every server start is safe. With --then,
the COMMAND (the single-user server) replaces this process afterwards. It runs as the student, so the copies are
the student's. Used as the servers' start command by jupyterhub_config.py, and by the Kubernetes postStart hook.
Standard library only: any python3 can run it.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path


def copy_labs(source: Path, home: Path) -> list[Path]:
    """Copy the notebooks of ``source`` missing from ``home``/labs; return the files copied."""
    target = Path(home) / "labs"
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for notebook in sorted(Path(source).glob("*.ipynb")):
        destination = target / notebook.name
        if not destination.exists():
            shutil.copyfile(notebook, destination)
            copied.append(destination)
    return copied


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the released labs, e.g. /opt/training-nets-course/labs")
    parser.add_argument("--home", type=Path, default=Path(os.environ.get("HOME", "~")).expanduser())
    parser.add_argument("--then", nargs=argparse.REMAINDER, default=[], help="the command to run afterwards")
    args = parser.parse_args(argv)
    try:
        copied = copy_labs(args.source, args.home)
        print(f"copy_labs: {len(copied)} lab(s) copied into {args.home / 'labs'}", file=sys.stderr)
    except OSError as exc:  # never keep a student from their server
        print(f"copy_labs: could not copy the labs: {exc}", file=sys.stderr)
    if args.then:
        os.execvp(args.then[0], args.then)
    return 0


if __name__ == "__main__":
    sys.exit(main())
