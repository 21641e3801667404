"""Live explorers for the labs (ipywidgets + ipympl): run ``%matplotlib widget`` first in JupyterLab.

Lab 01, activation functions:
- ``saturation_explorer(activations=None)``: the spread of a layer's pre-activations (weight scale, fan-in,
  initialization) against the flat parts of each activation.
- ``dead_relu_explorer(relu=None)``: learning rate, bias initialization and activation against dead units during
  training.

Lab 02, preprocessing and initialization:
- ``preprocessing_explorer(center=None, standardize=None, pca=None, whiten=None)``: a 2-D cloud centred,
  standardized, decorrelated and whitened, with a test split transformed by the training statistics.
- ``init_explorer(initializers=None)``: a deep net at initialization, the activations and gradients of every
  layer for zeros, small random, Xavier and He weights (and yours).

Lab 03, batch normalization:
- ``batchnorm_explorer(batchnorm=None)``: a deep network trained with and without batch norm from a bad
  initialization; each layer before and after normalizing, the losses, train- vs test-mode accuracy.

Lab 04, losses and gradients:
- ``gradcheck_explorer(grad_check_sparse=None)``: the error of centred and one-sided finite differences against
  the step h, for a smooth function and one with a kink, in float64 and float32.
- ``loss_slowdown_explorer(quadratic_loss=None, binary_cross_entropy=None)``: Nielsen's sigmoid neuron learning
  under the quadratic cost (it stalls when badly wrong) and under the cross-entropy (it does not).

Lab 05, optimizers and schedules:
- ``optimizer_race(rules=None)``: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam and L-BFGS racing across a 2-D
  surface, with what theory predicts on the ill-conditioned quadratic next to what the race measures.
- ``schedule_explorer(schedules=None)``: step, exponential and 1/t decay and reduction on a plateau, their rate per
  epoch and what each does to noisy gradient descent against a constant rate's noise floor.

Lab 06, regularization:
- ``regularization_explorer(l2_penalty=None, l1_penalty=None, dropout=None)``: a network overfitting a few
  two-moons points with flipped labels, trained live under L2 or L1, dropout, more data or fewer epochs.

Lab 07, babysitting and search:
- ``training_dashboard(update_to_weight_ratio=None)``: a network learning the digits, with its loss, accuracies,
  update-to-weight ratios and first-layer weights drawn live, and a practitioner's verdict.
- ``search_explorer(log_uniform=None)``: grid against random search over (learning rate, regularization) on a
  measured accuracy landscape, with a budget slider.

Lab 08, CNN shapes:
- ``conv_shape_explorer(conv_output_size=None, conv_forward=None, max_pool_forward=None)``: one conv layer drawn as
  grids, a small conv net tabulated live, and a ConvNet's filters and feature maps on the digits.

Every explorer accepts your own functions and falls back to the reference ones, saying so on the figure, while
yours are not implemented, fail their check or fail while running; offers ``presets`` and ``apply_preset(name)``;
and takes ``scale`` (figure size) and ``theme`` ("light" or "dark"). ``widgets.explorer`` holds what every
explorer shares; ``widgets.lecture`` dresses them for a lecture (Voila dashboards).
"""
from widgets.batchnorm import BatchNormExplorer, batchnorm_explorer
from widgets.conv_shape import ConvShapeExplorer, conv_shape_explorer
from widgets.dead_relu import DeadReluExplorer, dead_relu_explorer
from widgets.gradcheck import GradcheckExplorer, gradcheck_explorer
from widgets.initialization import InitExplorer, init_explorer
from widgets.loss_slowdown import LossSlowdownExplorer, loss_slowdown_explorer
from widgets.optimizer_race import OptimizerRace, optimizer_race
from widgets.preprocessing import PreprocessingExplorer, preprocessing_explorer
from widgets.regularization import RegularizationExplorer, regularization_explorer
from widgets.saturation import SaturationExplorer, saturation_explorer
from widgets.schedule import ScheduleExplorer, schedule_explorer
from widgets.search import SearchExplorer, search_explorer
from widgets.training_dashboard import TrainingDashboard, training_dashboard

__all__ = ["SaturationExplorer", "saturation_explorer", "DeadReluExplorer", "dead_relu_explorer",
           "PreprocessingExplorer", "preprocessing_explorer", "InitExplorer", "init_explorer",
           "BatchNormExplorer", "batchnorm_explorer", "GradcheckExplorer", "gradcheck_explorer",
           "LossSlowdownExplorer", "loss_slowdown_explorer", "OptimizerRace", "optimizer_race",
           "ScheduleExplorer", "schedule_explorer", "RegularizationExplorer", "regularization_explorer",
           "TrainingDashboard", "training_dashboard", "SearchExplorer", "search_explorer",
           "ConvShapeExplorer", "conv_shape_explorer"]
