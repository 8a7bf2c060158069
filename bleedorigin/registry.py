"""Registries of bleedorigin.

Child registries of mmengine's root registries with scope ``bleedorigin``, as
in ``mmpose/registry.py``: configs of other OpenMMLab projects reach our
modules with the ``bleedorigin.`` prefix (``type='bleedorigin.MDGNeck'``), and
our configs build mmengine-provided types without a prefix. ``locations``
name only the packages that register into that registry (the others build
mmengine's types through the parent).
"""
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNER_CONSTRUCTORS as MMENGINE_RUNNER_CONSTRUCTORS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import Registry

# Runners and loops
RUNNERS = Registry('runner', parent=MMENGINE_RUNNERS, locations=['bleedorigin.engine'])
RUNNER_CONSTRUCTORS = Registry('runner constructor', parent=MMENGINE_RUNNER_CONSTRUCTORS)
LOOPS = Registry('loop', parent=MMENGINE_LOOPS)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, locations=['bleedorigin.engine'])

# Data
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, locations=['bleedorigin.datasets'])
DATA_SAMPLERS = Registry('data sampler', parent=MMENGINE_DATA_SAMPLERS)
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, locations=['bleedorigin.datasets.transforms'])

# Models
MODELS = Registry('model', parent=MMENGINE_MODELS, locations=['bleedorigin.models'])
MODEL_WRAPPERS = Registry('model wrapper', parent=MMENGINE_MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = Registry('weight initializer', parent=MMENGINE_WEIGHT_INITIALIZERS)

# Optimisation
OPTIMIZERS = Registry('optimizer', parent=MMENGINE_OPTIMIZERS)
OPTIM_WRAPPERS = Registry('optimizer wrapper', parent=MMENGINE_OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = Registry('parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS)

# Evaluation
METRICS = Registry('metric', parent=MMENGINE_METRICS, locations=['bleedorigin.evaluation'])
EVALUATOR = Registry('evaluator', parent=MMENGINE_EVALUATOR)

# Visualisation
VISUALIZERS = Registry('visualizer', parent=MMENGINE_VISUALIZERS)
VISBACKENDS = Registry('vis_backend', parent=MMENGINE_VISBACKENDS)

# Misc
TASK_UTILS = Registry('task util', parent=MMENGINE_TASK_UTILS)
FUNCTIONS = Registry('function', parent=MMENGINE_FUNCTIONS, locations=['bleedorigin.datasets'])
INFERENCERS = Registry('inferencer', parent=MMENGINE_INFERENCERS)
LOG_PROCESSORS = Registry('log processor', parent=MMENGINE_LOG_PROCESSORS)


def build_keypoint_codec(cfg: dict):
    """Build an mmpose heatmap codec (``KEYPOINT_CODECS``) from any default scope.

    The codecs live in mmpose's registry; building one while our scope is the default
    would make mmengine search a ``bleedorigin`` child of that registry, warn and fall
    back. mmpose (and torch) are imported here, not when the package is imported.
    """
    from mmengine.registry import DefaultScope
    from mmpose.registry import KEYPOINT_CODECS

    with DefaultScope.overwrite_default_scope('mmpose'):
        return KEYPOINT_CODECS.build(cfg)
