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


# Keyword arguments of models whose default is a constant of the paper: a literal default
# equal to the constant restates it (and would drift from it); another literal (e.g.
# ``refresh_interval=0``, no refresh) is a different setting, not the paper's.
PAPER_DEFAULTS = {
    'window_size': 'WINDOW_SIZE',
    'refresh_interval': 'REFRESH_INTERVAL',
    'alpha': 'MDCFM_RGBHSV_THRESHOLD',
    'gamma': 'MDCFM_FLOW_THRESHOLD',
    'loss_heatmap_weight': 'SOURCE_LOSS_HEATMAP_WEIGHT',
    'loss_pseudo_weight': 'SOURCE_LOSS_PSEUDO_WEIGHT',
    'loss_point_weight': 'SOURCE_LOSS_POINT_WEIGHT',
}


def _literal_defaults(path):
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read(), path)
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        args = node.args
        positional = args.posonlyargs + args.args
        pairs = list(zip(positional[len(positional) - len(args.defaults):], args.defaults))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
        for arg, default in pairs:
            if arg.arg in PAPER_DEFAULTS and isinstance(default, ast.Constant) \
                    and isinstance(default.value, (int, float)) \
                    and not isinstance(default.value, bool) \
                    and default.value == getattr(constants, PAPER_DEFAULTS[arg.arg]):
                yield default.lineno, arg.arg, default.value


def test_literal_defaults_finds_a_restated_constant(tmp_path):
    path = tmp_path / 'model.py'
    path.write_text('def build(refresh_interval=60, *, alpha=0.5, window_size=None, x=60,\n'
                    '          gamma=0.7):\n'
                    '    pass\n\n\n'
                    'def no_refresh(frames, refresh_interval=0):\n'
                    '    pass\n')
    assert sorted(_literal_defaults(str(path))) == [(1, 'alpha', 0.5),
                                                     (1, 'refresh_interval', 60)]


def test_models_take_paper_defaults_from_constants():
    models = osp.join(REPO, 'bleedorigin', 'models')
    restated = [f'{osp.relpath(osp.join(root, name), REPO)}:{line} {arg}={value} '
                f'(use constants.{PAPER_DEFAULTS[arg]})'
                for root, _, files in os.walk(models) for name in files if name.endswith('.py')
                for line, arg, value in _literal_defaults(osp.join(root, name))]
    assert not restated, restated


def test_model_defaults_are_the_constants():
    import inspect

    from bleedorigin.models.heads.heatmap_point_head import HeatmapPointHead
    from bleedorigin.models.necks.mdcfm import MDCFM
    from bleedorigin.models.trackers.bleed_track_on import DEFAULT_LOSS_WEIGHTS, BleedTrackOn

    def defaults(cls):
        return {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()}

    assert defaults(BleedTrackOn)['refresh_interval'] == constants.REFRESH_INTERVAL == 60
    assert (defaults(MDCFM)['alpha'], defaults(MDCFM)['gamma']) == (0.5, 0.5)
    head = defaults(HeatmapPointHead)
    assert (head['loss_heatmap_weight'], head['loss_pseudo_weight'],
            head['loss_point_weight']) == (0.5, 0.5, 1.0)
    assert (DEFAULT_LOSS_WEIGHTS['gt'], DEFAULT_LOSS_WEIGHTS['pseudo']) == (0.6, 0.4)
