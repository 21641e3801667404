"""Live explorers for the labs (ipywidgets + ipympl): run ``%matplotlib widget`` first in JupyterLab.

- ``saturation_explorer(activations=None)``: weight scale and fan-in against saturated activations.
- ``dead_relu_explorer(relu=None)``: learning rate and bias initialization against dead ReLUs during training.

Both accept your own functions and fall back to the reference ones, saying so on the figure, while yours are
not implemented or fail their check. ``widgets.explorer`` holds what every explorer shares.
"""
from widgets.dead_relu import DeadReluExplorer, dead_relu_explorer
from widgets.saturation import SaturationExplorer, saturation_explorer

__all__ = ["DeadReluExplorer", "SaturationExplorer", "dead_relu_explorer", "saturation_explorer"]
