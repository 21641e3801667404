"""Fixtures shared by the notebook and browser tests."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kernel_env() -> dict[str, str]:
    """The environment for Jupyter servers and kernels started by tests: without MPLBACKEND (the notebooks choose
    `%matplotlib widget` themselves) and with the repository first on PYTHONPATH, so that `import course, widgets`
    find this checkout from any notebook's directory."""
    env = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env
