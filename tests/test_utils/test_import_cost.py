"""The subpackages import without transformers/peft; Adafactor stays buildable;
`import bleedorigin` and `tools/demo.py --help` do not load torch."""
import os.path as osp
import subprocess
import sys

import pytest

PROBE = r'''
import sys
from bleedorigin.utils import register_all_modules
register_all_modules()
heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('transformers', 'peft'))
assert not heavy, heavy
from mmengine.registry import OPTIMIZERS
assert 'Adafactor' in OPTIMIZERS.module_dict
print('ok')
'''


def test_register_all_modules_does_not_import_transformers_or_peft():
    pytest.importorskip('transformers')
    out = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().endswith('ok')


def test_lazy_adafactor_builds_the_transformers_optimizer():
    pytest.importorskip('transformers')
    import torch

    from bleedorigin._import_cost import _adafactor
    optimizer = _adafactor([torch.nn.Parameter(torch.zeros(2))], lr=1e-3,
                           relative_step=False, scale_parameter=False)
    assert type(optimizer).__name__ == 'Adafactor'


def test_importing_the_apis_does_not_import_the_models():
    """The predictors import model code when they are built, not at ``import bleedorigin.apis``
    (the models package pulls in mmengine.model, mmpose and every registered module)."""
    probe = ("import sys\nimport bleedorigin.apis\n"
             "print(sorted(m for m in sys.modules if m.startswith('bleedorigin.models')))")
    out = subprocess.run([sys.executable, '-c', probe], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == '[]'


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run(code: str) -> str:
    import os

    env = dict(os.environ, PYTHONPATH=REPO)
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip()


def test_import_bleedorigin_does_not_load_torch_but_keeps_the_registry_scope():
    assert _run('import sys, bleedorigin; from bleedorigin.registry import MODELS; '
                'print("torch" in sys.modules, MODELS.scope)') == 'False bleedorigin'


def test_demo_help_does_not_load_torch():
    code = ('import runpy, sys; sys.argv = ["demo.py", "--help"]\n'
            'try:\n    runpy.run_path("tools/demo.py", run_name="__main__")\n'
            'except SystemExit:\n    pass\n'
            'print("torch" in sys.modules)')
    assert _run(code).splitlines()[-1] == 'False'


def test_models_allow_list_the_checkpoint_globals():
    code = ('import torch, bleedorigin.models; from mmengine.logging import HistoryBuffer; '
            'print(HistoryBuffer in torch.serialization.get_safe_globals())')
    assert _run(code) == 'True'
