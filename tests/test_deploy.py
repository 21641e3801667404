"""deploy/copy_labs.py: the labs a student lacks are copied in at every server start, the ones they have are
never overwritten, and the server command runs afterwards."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY = ROOT / "deploy" / "copy_labs.py"


def test_missing_labs_are_copied_and_the_students_are_kept(tmp_path):
    source, home = tmp_path / "release", tmp_path / "home"
    source.mkdir()
    for name in ("01_a.ipynb", "02_b.ipynb"):
        (source / name).write_text(f"released {name}")
    (home / "labs").mkdir(parents=True)
    (home / "labs" / "01_a.ipynb").write_text("my work")
    result = subprocess.run([sys.executable, str(COPY), str(source), "--home", str(home), "--then",
                             sys.executable, "-c", "print('server started')"], capture_output=True, text=True)
    assert result.returncode == 0 and "server started" in result.stdout
    assert "1 lab(s) copied" in result.stderr
    assert (home / "labs" / "01_a.ipynb").read_text() == "my work"
    assert (home / "labs" / "02_b.ipynb").read_text() == "released 02_b.ipynb"


def test_the_server_starts_even_when_copying_fails(tmp_path):
    result = subprocess.run([sys.executable, str(COPY), str(tmp_path / "missing"), "--home", "/proc/forbidden",
                             "--then", sys.executable, "-c", "print('server started')"], capture_output=True, text=True)
    assert result.returncode == 0 and "server started" in result.stdout
    assert "could not copy the labs" in result.stderr
