"""Student feedback: one check for every function a lab asks for.

Each ``check_<name>(*your_functions)`` prints one line: ✓ and what was verified, ✗ and the likely mistake by
name, or "not implemented yet". It never raises for your code's errors and never changes your arrays.
``check_<name>.evaluate(*your_functions)`` returns a :class:`CheckResult` instead of printing.
"""
from course.checks._harness import CheckResult
from course.checks.activations import *  # noqa: F401,F403
from course.checks.conv import *  # noqa: F401,F403
from course.checks.diagnostics import *  # noqa: F401,F403
from course.checks.gradcheck import *  # noqa: F401,F403
from course.checks.init import *  # noqa: F401,F403
from course.checks.layers import *  # noqa: F401,F403
from course.checks.losses import *  # noqa: F401,F403
from course.checks.optim import *  # noqa: F401,F403
from course.checks.preprocess import *  # noqa: F401,F403
from course.checks.schedules import *  # noqa: F401,F403
from course.checks.search import *  # noqa: F401,F403
