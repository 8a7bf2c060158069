"""tools/analysis_tools/alarm_gate_sweep.py on the tiny synthetic preset."""
import json
import os.path as osp

import pytest
from tiny_models import ALWAYS_FIRING, default_detector_on_tiny_data
from tool_loader import load_tool

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
CONFIG = osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect.py')
TOOL = 'tools/analysis_tools/alarm_gate_sweep.py'


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return default_detector_on_tiny_data(tmp_path_factory.mktemp('gate'), ALWAYS_FIRING)


def traces_of(out):
    """The cached traces of a sweep, without the detector signature stored beside them."""
    with open(osp.join(out, 'trace.json')) as f:
        traces = json.load(f)
    assert set(traces.pop('__detector__')) == {'config', 'checkpoint', 'cfg_options'}
    return traces


def test_sweep_tables_json_plot_and_resume(tiny, tmp_path, monkeypatch, capsys):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    out = str(tmp_path / 'sweep')
    args = [config, ckpt, '--positive', f'{root}:train', '--negative', root, '--gates', '1',
            '3', '--out-dir', out, '--no-progress']
    result = tool.main(args)
    printed = capsys.readouterr().out
    assert '| K | Acc±0 |' in printed and 'false alarms / hour' in printed
    assert tool.fmt(float('nan')) == tool.fmt(None) == 'n/a'
    pos, neg = f'positive:{root}:train', f'negative:{root}'
    for gate in (1, 3):
        figures = result['gates'][gate]
        assert 0 <= figures[pos]['acc_8'] <= 100 and figures[pos]['num_positive'] >= 1
        assert figures[neg]['alarms'] >= 0 and figures[neg]['minutes'] > 0
    # every window is confident: eq. 2 alarms at the first window of every watch (frame
    # 7, then 8 frames after each dismissal: 7 + 8 + 7 frames per alarm after the first)
    neg_frames = sum(len(v['conf']) for v in traces_of(out).values() if v['onset'] is None)
    assert result['gates'][1][neg]['alarms'] >= 1
    assert result['gates'][1][pos]['miss_rate'] == 0
    # K = 3 delays each alarm by two windows: fewer alarms, each two frames later
    assert 1 <= result['gates'][3][neg]['alarms'] <= result['gates'][1][neg]['alarms']
    assert result['gates'][3][pos]['latency_median'] == (
        result['gates'][1][pos]['latency_median'] + 2)
    assert neg_frames > 0
    with open(osp.join(out, 'alarm_gate.json')) as f:
        assert set(json.load(f)['gates']) == {'1', '3'}
    assert osp.getsize(osp.join(out, 'alarm_gate.png')) > 0
    # only the negative clips of a stream root are traced as negative video
    with open(osp.join(out, 'trace.json')) as f:
        traces = json.load(f)
    assert all(v['onset'] is None for k, v in traces.items() if k.startswith('negative:'))
    # a second run reads every trace from the cache
    from bleedorigin.apis import onset_alarms
    monkeypatch.setattr(onset_alarms, 'trace_clip', lambda *a: pytest.fail('traced again'))
    again = tool.main(args)
    assert json.dumps(again['gates']) == json.dumps(result['gates'])


def test_bad_arguments_are_named(tiny, tmp_path):
    root, ckpt, _ = tiny
    tool = load_tool(TOOL)
    with pytest.raises(SystemExit, match='expected ROOT:SPLIT'):
        tool.main([CONFIG, ckpt, '--positive', 'nosplit', '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='splits.json missing'):
        tool.main([CONFIG, ckpt, '--negative', str(tmp_path), '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='at least one'):
        tool.main([CONFIG, ckpt, '--out-dir', str(tmp_path)])


def test_cfg_options_turn_the_flip_view_off(tiny, tmp_path, capsys):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    common = [config, ckpt, '--positive', f'{root}:train', '--gates', '1', '--no-progress']
    with_view = tool.main(common + ['--out-dir', str(tmp_path / 'views')])
    assert with_view['onset_views'] == ['horizontal'] and 'flip views: horizontal' in (
        capsys.readouterr().out)
    alone = tool.main(common + ['--out-dir', str(tmp_path / 'alone'),
                                '--cfg-options', 'model.onset_views=()'])
    assert alone['onset_views'] == [] and alone['cfg_options'] == {'model.onset_views': ()}
    assert 'flip views: none' in capsys.readouterr().out
    # each view is traced: the combined trace is not the video's alone
    views, alone_traces = traces_of(str(tmp_path / 'views')), traces_of(str(tmp_path / 'alone'))
    assert views != alone_traces
    # the cache of one decision is not reused for another one in the same folder
    again = tool.main(common + ['--out-dir', str(tmp_path / 'views'),
                                '--cfg-options', 'model.onset_views=()'])
    assert 'tracing again' in capsys.readouterr().out
    assert json.dumps(again['gates']) == json.dumps(alone['gates'])
