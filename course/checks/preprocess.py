"""Checks for the data preprocessing and augmentation functions of labs 02 and 06 (course.preprocess)."""
from __future__ import annotations

import numpy as np  # noqa: F401

from course import preprocess as ref  # noqa: F401
from course.checks._harness import Mistake, call, checker, expect_close, unpack  # noqa: F401

# Checks go above this line; each is a function check_<name> decorated with @checker.

__all__ = sorted(name for name in dir() if name.startswith("check_"))
