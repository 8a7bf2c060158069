"""tools/analysis_tools/confirm_threshold_sweep.py on the tiny synthetic preset."""
import json
import os.path as osp

import pytest
from tiny_models import default_detector_on_tiny_data
from tool_loader import load_tool

from bleedorigin.models.detectors import BleedOriginDetector

TOOL = 'tools/analysis_tools/confirm_threshold_sweep.py'
# windows of 8 frames (the tiny clips hold 40), every window above eq. 2's threshold; the
# shipped refiner (R = 8) confirms by default
CONFIRMING = 'dict(onset_head=dict(window_size=8), conf_thr=0.0)'


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return default_detector_on_tiny_data(tmp_path_factory.mktemp('confirm'), CONFIRMING)


def sweep(tool, config, ckpt, root, out, *extra):
    return tool.main([config, f'run={ckpt}', '--positive', f'{root}:train', '--negative', root,
                      '--thresholds', '0.0', '0.5', '--out-dir', out, '--no-progress', *extra])


def test_sweep_counts_a_refiner_that_names_nothing_or_everything(tiny, tmp_path, monkeypatch,
                                                                  capsys):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    pos, neg = f'positive:{root}:train', f'negative:{root}'
    # a refiner that names no frame: no candidate is ever confirmed
    monkeypatch.setattr(BleedOriginDetector, 'refine_window',
                        lambda self, centre, read_frames: None)
    result = sweep(tool, config, ckpt, root, str(tmp_path / 'none'))
    printed = capsys.readouterr().out
    assert '**Errors**' in printed and '| confirmed, candidates > 0.5 |' in printed
    assert 'nan' not in printed
    assert tool.fmt(float('nan')) == tool.fmt(None) == 'n/a' and tool.fmt(97.5, 2) == '97.50'
    rules = result['checkpoints']['run']['rules']
    for thr in (0.0, 0.5):
        figures = rules[thr][pos]
        assert figures['missed'] == figures['num_positive'] >= 1
        assert figures['alarmed_negatives'] == 0 and rules[thr][neg]['alarms'] == 0
        assert figures['errors'] == figures['num_positive']
    # eq. 2 at conf_thr 0 raises an alarm on every clip (the refiner only moves onsets)
    assert rules['eq. 2 alarm'][pos]['miss_rate'] == 0
    assert rules['eq. 2 alarm'][neg]['alarms'] >= 1
    row = {r['rule']: r for r in result['summary']}
    assert row[0.0]['total'] == row[0.0]['errors']['run'] == (
        rules[0.0][pos]['errors'] + rules[0.0][neg]['errors'])
    # a refiner that names the centre of every window it is asked about: at threshold 0
    # every clip's first candidate is confirmed at its first window
    monkeypatch.setattr(BleedOriginDetector, 'refine_window',
                        lambda self, centre, read_frames: int(centre))
    every = sweep(tool, config, ckpt, root, str(tmp_path / 'every'))
    figures = every['checkpoints']['run']['rules'][0.0][pos]
    assert figures['missed'] == 0 and figures['latency_median'] is not None
    assert figures['alarmed_negatives'] == figures['num_negative']
    with open(osp.join(str(tmp_path / 'every'), 'confirm_sweep.json')) as f:
        assert set(json.load(f)['checkpoints']['run']['rules']) == {'eq. 2 alarm', '0.0',
                                                                     '0.5'}
    assert osp.getsize(osp.join(str(tmp_path / 'every'), 'confirm_sweep.png')) > 0
    # a second run reads the traces and the refiner's answers from the cache
    from bleedorigin.apis import onset_alarms
    monkeypatch.setattr(onset_alarms, 'trace_clip', lambda *a: pytest.fail('traced again'))
    monkeypatch.setattr(BleedOriginDetector, 'refine_window',
                        lambda *a: pytest.fail('asked again'))
    again = sweep(tool, config, ckpt, root, str(tmp_path / 'every'))
    assert json.dumps(again['summary']) == json.dumps(every['summary'])


def test_bad_arguments_are_named(tiny, tmp_path):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    with pytest.raises(SystemExit, match='expected ROOT:SPLIT'):
        tool.main([config, ckpt, '--positive', 'nosplit', '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match=r'must lie in \[0, 1\)'):
        tool.main([config, ckpt, '--positive', f'{root}:train', '--thresholds', '1.2',
                   '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='names must differ'):
        tool.main([config, f'a={ckpt}', f'a={ckpt}', '--positive', f'{root}:train',
                   '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='checkpoint file not found'):
        tool.main([config, 'a=missing.pth', '--positive', f'{root}:train',
                   '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='has no onset refiner'):
        tool.main([config, ckpt, '--positive', f'{root}:train', '--out-dir', str(tmp_path),
                   '--no-progress', '--cfg-options', 'model.onset_refiner=None',
                   'model.onset_refiner_checkpoint=None', 'model.onset_refine_confirm=False'])
