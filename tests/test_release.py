"""The student release (tools/release.py): the labs generated afresh, the library, a student README; no solution
text, no solutions/, no instructor material; the archive holds the same files as the folder."""
from __future__ import annotations

import importlib.util
import re
import tarfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


release, build_labs = load("release"), load("build_labs")


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder, archive = release.release(tmp_path_factory.mktemp("dist"))
    return folder, archive


def text_files(folder: Path):
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".ipynb", ".md", ".toml", ".yml", ".txt", ".json", ""):
            yield path, path.read_text(encoding="utf-8", errors="replace")


def blocks(source: str):
    """The text of each solution block of a cell, markers excluded."""
    return re.findall(r"### BEGIN SOLUTION\n(.*?)\n[ \t]*### END SOLUTION", source, flags=re.S)


def squeeze(text: str) -> str:
    return " ".join(text.split())


def test_the_bundle_holds_the_labs_the_library_and_a_student_readme_only(bundle):
    folder, _ = bundle
    assert sorted(p.name for p in folder.iterdir()) == ["Makefile", "README.md", "course", "environment.yml",
                                                        "labs", "pyproject.toml", "widgets"]
    labs = {p.name: p.read_text(encoding="utf-8") for p in (folder / "labs").glob("*.ipynb")}
    assert labs == build_labs.expected_labs()
    readme = (folder / "README.md").read_text()
    assert "make lab" in readme and "01_activation_functions.ipynb" in readme
    assert "reference implementation" in readme and "solutions" not in readme


def test_no_solution_text_survives(bundle):
    """No solution block survives in the labs or the README, and no written answer anywhere. (The library is the
    reference implementation and ships on purpose: its code may equal a solution's. Line by line, each lab is
    checked against its own solution by tests/test_labs.py, and the bundle's labs are those labs.)"""
    folder, _ = bundle
    files = list(text_files(folder))
    everything = squeeze("\n".join(text for _, text in files))
    lab_text = "\n".join(text for path, text in files if path.parent.name == "labs" or path.name == "README.md")
    for solution in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(solution, as_version=4)
        for cell in nb.cells:
            for block in blocks(cell.source):
                where = everything if cell.cell_type == "markdown" else squeeze(lab_text)
                assert squeeze(block) not in where, f"{solution.name}: a solution block ships:\n{block}"
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                for block in blocks(cell.source):
                    for sentence in re.split(r"(?<=[.:;])\s+", block):
                        if len(sentence) > 40:
                            assert squeeze(sentence) not in everything, f"{solution.name}: an answer ships"


def test_the_archive_holds_the_folder(bundle):
    folder, archive = bundle
    with tarfile.open(archive) as tar:
        names = {m.name for m in tar.getmembers() if m.isfile()}
    expected = {f"{folder.name}/{p.relative_to(folder).as_posix()}" for p in folder.rglob("*") if p.is_file()}
    assert names == expected and not any("__pycache__" in n for n in names)
