"""The experiments behind the live explorers and the labs' measurements, in pure NumPy: one module per lab topic.

- :mod:`course.experiments.activations` (lab 01): saturation through a layer, dead units while training.
- :mod:`course.experiments.depth` (labs 01, 02): activations and gradients through a deep stack at initialization.
"""
from course.experiments.activations import *  # noqa: F401,F403
from course.experiments.depth import *  # noqa: F401,F403
