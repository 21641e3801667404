"""The experiments behind the live explorers and the labs' measurements, in pure NumPy: one module per lab topic.

- :mod:`course.experiments.activations` (lab 01): saturation through a layer, dead units while training.
- :mod:`course.experiments.depth` (labs 01, 02): activations and gradients through a deep stack at initialization.
- :mod:`course.experiments.batchnorm` (lab 03): a deep network with and without batch norm, many seeds at once.
- :mod:`course.experiments.gradients` (lab 04): search vs gradient descent, finite differences, minibatch noise,
  the learning slowdown of a sigmoid neuron.
- :mod:`course.experiments.cnn` (lab 08): one conv layer's geometry, a small conv net's table, a ConvNet on digits.
- :mod:`course.experiments.preprocessing` (lab 02): a 2-D point cloud through centring, standardizing, PCA, whitening.
- :mod:`course.experiments.regularization` (lab 06): networks overfitting the digits and two moons, trained side by
  side over seeds, with penalties, max-norm, dropout and augmentation.
- :mod:`course.experiments.optimizers` (lab 05): update rules on 2-D surfaces and what theory predicts on a quadratic,
  schedules on noisy gradient descent, a network trained on the digits with each rule, many seeds at once.
- :mod:`course.experiments.babysitting` (lab 07): a network on the digits watched while it trains (loss, update
  ratios, accuracies) and the verdict a practitioner would give.
- :mod:`course.experiments.search` (lab 07): many small networks trained side by side, the accuracy landscape over
  (learning rate, regularization), grid against random search, ensembles.
"""
from course.experiments.activations import *  # noqa: F401,F403
from course.experiments.babysitting import *  # noqa: F401,F403
from course.experiments.batchnorm import *  # noqa: F401,F403
from course.experiments.cnn import *  # noqa: F401,F403
from course.experiments.depth import *  # noqa: F401,F403
from course.experiments.gradients import *  # noqa: F401,F403
from course.experiments.optimizers import *  # noqa: F401,F403
from course.experiments.preprocessing import *  # noqa: F401,F403
from course.experiments.regularization import *  # noqa: F401,F403
from course.experiments.search import *  # noqa: F401,F403
