"""Keep ``import bleedorigin.<anything>`` from paying for transformers and peft.

Every model subclasses ``mmengine.model.BaseModel``, which imports
``mmengine.optim``; mmengine 0.10.7's optimizer builder then runs
``from transformers import Adafactor`` at import time, and transformers, seeing
peft installed (our LoRA fine-tuning needs it), imports peft, which imports the
transformers model zoo and ``torch._dynamo``: 5-8 s of a 10 s import for one
optimizer nobody here uses. :func:`import_mmengine_optim_lazily`, run when
this module is imported (first thing in every subpackage whose modules
subclass mmengine types), imports ``mmengine.optim`` with transformers hidden,
so that registration is skipped,
then registers ``Adafactor`` as a small factory that imports transformers the
first time a config asks for it. peft itself is imported only by
:mod:`bleedorigin.engine.hooks.lora_hook`, where LoRA is used.
"""
import importlib.util
import sys


def _adafactor(*args, **kwargs):
    """``transformers.Adafactor``, imported only when a config builds it."""
    from transformers import Adafactor
    return Adafactor(*args, **kwargs)


def import_mmengine_optim_lazily() -> None:
    """Import ``mmengine.optim`` without importing transformers.

    A no-op when ``mmengine.optim`` or transformers is already imported (the
    cost is paid or cannot be avoided) or transformers is not installed.
    """
    if 'mmengine.optim' in sys.modules or 'transformers' in sys.modules:
        return
    if importlib.util.find_spec('transformers') is None:
        return
    # A ``None`` entry makes ``from transformers import ...`` raise ImportError,
    # which mmengine's builder catches and skips.
    sys.modules['transformers'] = None
    try:
        import mmengine.optim  # noqa: F401
    finally:
        if sys.modules.get('transformers', 0) is None:
            del sys.modules['transformers']
    from mmengine.registry import OPTIMIZERS
    if 'Adafactor' not in OPTIMIZERS.module_dict:
        OPTIMIZERS.register_module(name='Adafactor', module=_adafactor)


import_mmengine_optim_lazily()
