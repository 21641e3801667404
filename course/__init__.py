"""A small NumPy library for learning how neural networks are trained.

Layers are forward/backward pairs, losses return (loss, dscores), update rules return (next_w, config);
randomness is always passed in. See README.md, "Library at a glance", for the modules.

``OutOfRangeError`` (a ValueError) is raised where finite inputs have a true result beyond the float range.
"""
from course._validate import OutOfRangeError

__version__ = "0.1.0"
