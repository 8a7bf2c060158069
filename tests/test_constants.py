"""The paper's tolerances and thresholds are stated once, in bleedorigin/constants.py."""
import ast
import os
import os.path as osp

from bleedorigin import constants

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PAPER_TUPLES = {tuple(constants.ONSET_TOLERANCES), tuple(constants.POINT_THRESHOLDS)}


def _python_files():
    for top in ('bleedorigin', 'tools', 'projects'):
        for root, dirs, files in os.walk(osp.join(REPO, top)):
            dirs[:] = [d for d in dirs if d != 'configs']  # configs state their own values
            for name in files:
                if name.endswith('.py'):
                    yield osp.join(root, name)


def _literal_tuples(path):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List)):
            try:
                value = tuple(ast.literal_eval(node))
            except (ValueError, TypeError, SyntaxError):
                continue
            if all(isinstance(v, (int, float)) for v in value):
                yield node.lineno, value


def test_paper_constants():
    assert constants.ONSET_TOLERANCES == (0, 1, 2, 4, 8)
    assert constants.POINT_THRESHOLDS == (10, 25, 50, 75, 100)
    assert constants.WINDOW_SIZE == 60 and constants.ONSET_CONF_THRESHOLD == 0.5


def test_no_module_restates_the_paper_tuples():
    restated = [f'{osp.relpath(path, REPO)}:{line}' for path in _python_files()
                if not path.endswith(osp.join('bleedorigin', 'constants.py'))
                for line, value in _literal_tuples(path) if value in PAPER_TUPLES]
    assert not restated, restated
