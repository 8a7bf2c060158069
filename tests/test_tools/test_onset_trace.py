"""tools/analysis_tools/onset_trace.py on the tiny synthetic preset."""
import json
import os.path as osp

import pytest
from tiny_models import ALWAYS_FIRING, default_detector_on_tiny_data
from tool_loader import load_tool

from bleedorigin.constants import MDCFM_FLOW_THRESHOLD, MDCFM_RGBHSV_THRESHOLD

TOOL = 'tools/analysis_tools/onset_trace.py'


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    return default_detector_on_tiny_data(tmp_path_factory.mktemp('trace'), ALWAYS_FIRING)


def positive_clip(root):
    from bleedorigin.datasets.bench import BenchIndex
    return next(c for c in BenchIndex(root, 'train').clips if c.onset_frame is not None)


def test_table_json_and_plot_per_decision_and_clip(tiny, tmp_path, capsys):
    root, ckpt, config = tiny
    clip = positive_clip(root)
    out = str(tmp_path / 'trace')
    result = load_tool(TOOL).main([
        config, ckpt, '--compare', f'again={ckpt}', '--video-alone', '--clips',
        f'{root}:train:{clip.patient_id}/{clip.clip_id}', '--out-dir', out, '--no-progress'])
    printed = capsys.readouterr().out
    names = ['ours', 'again', 'ours (video alone)', 'again (video alone)']
    assert [d['name'] for d in result['decisions']] == names
    assert [d['onset_views'] for d in result['decisions']] == [['horizontal']] * 2 + [[]] * 2
    assert len(result['rows']) == 4 and '| ours (video alone) |' in printed
    assert '| bleeding frames into memory |' in printed
    key = f'{root}:train:{clip.patient_id}/{clip.clip_id}'
    rows = {r['decision']: r for r in result['rows']}
    for name in names:
        trace = result['traces'][f'{name}|{key}']
        assert trace['num_frames'] == clip.num_frames == len(trace['confidence'])
        # no window before frame 7; with every window confident the alarm comes at once
        assert trace['confidence'][:7] == [None] * 7 and trace['first_alert'] == 7
        row = rows[name]
        assert row['gt_onset'] == clip.onset_frame
        # eq. 1's gate per frame; the row counts the bleeding frames that entered the memory
        gates = trace['clean_view']
        assert gates[0] is None and all(isinstance(g, bool) for g in gates[1:])
        # ... and it is eq. 1 of the two confidences recorded beside it
        appearance, motion = trace['rgbhsv_confidence'], trace['motion_confidence']
        assert gates[1:] == [a < MDCFM_RGBHSV_THRESHOLD and m < MDCFM_FLOW_THRESHOLD
                             for a, m in zip(appearance[1:], motion[1:])]
        assert row['bleeding_gated'] == clip.num_frames - clip.onset_frame - 1
        assert row['bleeding_into_memory'] == sum(gates[clip.onset_frame + 1:])
        assert row['error'] == row['onset'] - clip.onset_frame
        assert row['max_conf'] == max(c for c in trace['confidence'] if c is not None)
    # the same checkpoint twice is the same trace; the video alone is another one
    assert result['traces'][f'ours|{key}'] == result['traces'][f'again|{key}']
    assert result['traces'][f'ours|{key}'] != result['traces'][f'ours (video alone)|{key}']
    with open(osp.join(out, 'onset_trace.json')) as f:
        assert json.load(f)['rows'] == json.loads(json.dumps(result['rows']))
    assert osp.getsize(osp.join(out, 'onset_trace.png')) > 0


def test_a_split_without_ids_is_subsampled(tiny, tmp_path):
    root, ckpt, config = tiny
    result = load_tool(TOOL).main([config, ckpt, '--clips', f'{root}:train', '--max-clips',
                                   '2', '--out-dir', str(tmp_path), '--no-progress'])
    assert len(result['clips']) == 2 and len(result['rows']) == 2


def test_bad_arguments_are_named(tiny, tmp_path):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    common = ['--out-dir', str(tmp_path), '--no-progress']
    with pytest.raises(SystemExit, match="no clip 'P99/nope' in the train split"):
        tool.main([config, ckpt, '--clips', f'{root}:train:P99/nope'] + common)
    with pytest.raises(SystemExit, match='expected ROOT:SPLIT'):
        tool.main([config, ckpt, '--clips', 'nosplit'] + common)
    with pytest.raises(SystemExit, match='splits.json missing'):
        tool.main([config, ckpt, '--clips', f'{tmp_path}:test'] + common)
    with pytest.raises(SystemExit, match='expected NAME=CKPT'):
        tool.main([config, ckpt, '--compare', ckpt, '--clips', f'{root}:train'] + common)
    with pytest.raises(SystemExit, match="decision 'other'"):
        tool.main([config, ckpt, '--compare', 'other=missing.pth', '--clips',
                   f'{root}:train'] + common)


def test_only_wrong_keeps_the_misses_and_false_alarms(tiny, tmp_path, capsys):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    # every window confident: eq. 2 fires at frame 7 on every clip, so each negative clip
    # is a false alarm and each positive clip is off by |onset estimate - onset|
    args = [config, ckpt, '--clips', f'{root}:train', '--clips', f'{root}:test', '--max-clips',
            '0', '--no-progress']
    everything = tool.main(args + ['--out-dir', str(tmp_path / 'all')])
    capsys.readouterr()
    wrong = tool.main(args + ['--out-dir', str(tmp_path / 'wrong'), '--only-wrong', '0'])
    printed = capsys.readouterr().out
    expected = [r['clip'] for r in everything['rows'] if tool.is_wrong(r, 0)]
    assert wrong['shown'] == expected and len(wrong['rows']) == len(everything['rows'])
    # the tiny test split is one negative clip: traced, and its alarm is a false one
    negatives = [r for r in everything['rows'] if r['gt_onset'] is None]
    assert len(negatives) == 1 and negatives[0]['clip'] in wrong['shown']
    assert f'{len(expected)} of {len(everything["clips"])} clips' in printed
    assert printed.count('| ours |') == len(expected)
    # hand-made rows: a miss, a late onset, a false alarm, a quiet negative, an exact one
    rows = [dict(gt_onset=10, onset=None, error=None), dict(gt_onset=10, onset=13, error=3),
            dict(gt_onset=None, onset=4, error=None), dict(gt_onset=None, onset=None,
                                                           error=None),
            dict(gt_onset=10, onset=10, error=0)]
    assert [tool.is_wrong(r, 2) for r in rows] == [True, True, True, False, False]
    assert tool.is_wrong(rows[1], 3) is False


def test_agreeing_onset_triangles_stack_instead_of_hiding_each_other():
    tool = load_tool('tools/analysis_tools/onset_trace.py')
    assert tool.stack_levels([12, 12, None, 30, 12]) == [0, 1, None, 0, 2]
    assert tool.stack_levels([]) == []
