"""environment.yml mirrors pyproject.toml: the same runtime and `test` dependencies with the same version
specifiers, the same Python, and the project itself installed with `pip: [-e .]`."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="reading pyproject.toml needs Python >= 3.11 (tomllib)")

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*([^;\[\]]*?)\s*$")


def requirement(text: str) -> tuple[str, str]:
    """'NumPy >= 1.24, <3' -> ('numpy', '<3,>=1.24'): normalized name and order-free specifier."""
    match = REQUIREMENT.match(text)
    if not match:
        raise ValueError(f"cannot compare requirement {text!r}: expected 'name' plus version specifiers "
                         "(no extras or environment markers, which conda does not have)")
    name, spec = match.groups()
    return re.sub(r"[-_.]+", "-", name).lower(), ",".join(sorted(re.sub(r"\s+", "", spec).split(",") if spec else []))


def pyproject_requirements(text: str) -> dict[str, str]:
    """Name -> specifier for the runtime dependencies, the `test` extra and `python` (requires-python)."""
    project = tomllib.loads(text)["project"]
    listed = project.get("dependencies", []) + project.get("optional-dependencies", {}).get("test", [])
    return dict([requirement(r) for r in listed] + [requirement("python" + project["requires-python"])])


def environment_lists(text: str) -> tuple[list[str], list[str]]:
    """The `dependencies:` list of an environment.yml and its nested `- pip:` list, as strings.

    Handles the simple block style conda writes (`key:` then `  - item` lines, comments, one nested `pip:`
    list); anything else raises ValueError naming the line.
    """
    conda, pip, in_dependencies, pip_indent = [], [], False, None
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*", "", raw).rstrip()
        if not line:
            continue
        if not line[0].isspace():
            in_dependencies, pip_indent = line == "dependencies:", None
            continue
        if not in_dependencies:
            continue
        item = re.fullmatch(r"(\s*)- (.+)", line)
        if not item:
            raise ValueError(f"environment.yml line {number}: expected '- item' under dependencies; got {raw!r}")
        indent, value = len(item[1]), item[2].strip()
        if pip_indent is not None and indent > pip_indent:
            pip.append(value)
        elif value == "pip:":
            pip_indent = indent
        else:
            pip_indent = None
            conda.append(value)
    return conda, pip


def differences(pyproject_text: str, environment_text: str) -> list[str]:
    """One line per disagreement between the two files; empty when they agree."""
    wanted = pyproject_requirements(pyproject_text)
    conda, pip = environment_lists(environment_text)
    problems = []
    if pip != ["-e ."]:
        problems.append(f"environment.yml must install the project with `- pip: [-e .]`; its pip list is {pip}")
    if "pip" not in conda:
        problems.append("environment.yml lists a pip section but not `- pip` itself among the dependencies")
    have = dict(requirement(c) for c in conda if c != "pip")
    for name in sorted(wanted.keys() | have.keys()):
        if name not in have:
            problems.append(f"only in pyproject.toml: {name}{wanted[name]}")
        elif name not in wanted:
            problems.append(f"only in environment.yml: {name}{have[name]}")
        elif wanted[name] != have[name]:
            problems.append(f"{name}: pyproject.toml has {wanted[name] or 'no version'!r}, "
                            f"environment.yml has {have[name] or 'no version'!r}")
    return problems


def test_environment_yml_mirrors_pyproject_toml():
    problems = differences((ROOT / "pyproject.toml").read_text(), (ROOT / "environment.yml").read_text())
    assert not problems, "environment.yml and pyproject.toml disagree:\n" + "\n".join(problems)


PYPROJECT = """
[project]
requires-python = ">=3.10"
dependencies = ["numpy>=1.24", "matplotlib >=3.7, <4", "ipympl>=0.9"]
[project.optional-dependencies]
test = ["pytest>=8"]
docs = ["sphinx"]
"""

ENVIRONMENT = """name: demo  # a comment
channels:
  - conda-forge
dependencies:
  - python>=3.10
  - numpy>=1.24
  - matplotlib<4,>=3.7   # order of specifiers is free
  - ipympl>=0.9
  - pytest>=8
  - pip
  - pip:
      - -e .
"""


def test_agreeing_files_have_no_differences():
    assert differences(PYPROJECT, ENVIRONMENT) == []


def test_every_kind_of_disagreement_is_listed_exactly():
    environment = (ENVIRONMENT.replace("  - numpy>=1.24\n", "")
                   .replace("ipympl>=0.9", "ipympl>=0.10")
                   .replace("python>=3.10", "python>=3.11")
                   .replace("  - pytest>=8\n", "  - pytest>=8\n  - scipy\n")
                   .replace("      - -e .\n", "      - requests\n"))
    assert differences(PYPROJECT, environment) == [
        "environment.yml must install the project with `- pip: [-e .]`; its pip list is ['requests']",
        "ipympl: pyproject.toml has '>=0.9', environment.yml has '>=0.10'",
        "only in pyproject.toml: numpy>=1.24",
        "python: pyproject.toml has '>=3.10', environment.yml has '>=3.11'",
        "only in environment.yml: scipy",
    ]
