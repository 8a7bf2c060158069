"""Load a command-line script of tools/ as a module, for the tests that call its ``main`` or
``parse_args`` in-process: one copy, importable from every test folder (tests/ is on
sys.path; projects/yolo_baselines/tests imports it as ``tests.tool_loader``)."""
import importlib.util
import os.path as osp
import re

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(relpath, name=None):
    """Execute the script at ``relpath`` (relative to the repository root) as a new module.

    Every call runs the script again and returns a fresh module, which is not put in
    ``sys.modules``. ``name`` defaults to the path with its extension dropped and every
    other character than a letter, digit or ``_`` replaced by ``_``
    (``tools/benchmark.py`` -> ``tools_benchmark``).
    """
    path = osp.join(REPO, relpath)
    if not osp.isfile(path):
        raise FileNotFoundError(f'no tool script {relpath} (looked for {path})')
    if name is None:
        name = re.sub(r'\W', '_', osp.splitext(osp.normpath(relpath))[0])
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
