"""Fixtures shared by the notebook and browser tests, and the suite's hypothesis settings."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import Phase, settings

ROOT = Path(__file__).resolve().parent.parent

# The suite draws the same examples on every run and machine (a run of `make test` must not pass or fail by luck),
# and skips the "explain" phase, whose line tracing makes shrinking a failure take many minutes on Python 3.11.
# HYPOTHESIS_PROFILE=explore draws new random examples on each run instead, to look for new failures.
settings.register_profile("repeatable", derandomize=True, database=None,
                          phases=[phase for phase in Phase if phase is not Phase.explain])
settings.register_profile("explore", phases=[phase for phase in Phase if phase is not Phase.explain])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def kernel_env() -> dict[str, str]:
    """The environment for Jupyter servers and kernels started by tests: without MPLBACKEND (the notebooks choose
    `%matplotlib widget` themselves) and with the repository first on PYTHONPATH, so that `import course, widgets`
    find this checkout from any notebook's directory."""
    env = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env
