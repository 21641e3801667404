"""The experiments behind the live explorers and the labs' measurements, in pure NumPy: one module per lab topic.

- :mod:`course.experiments.activations` (lab 01): saturation through a layer, dead units while training.
"""
from course.experiments.activations import *  # noqa: F401,F403
