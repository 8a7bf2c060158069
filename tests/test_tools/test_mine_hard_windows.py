"""tools/analysis_tools/mine_hard_windows.py on the tiny synthetic preset, read back by
BleedOnsetDataset(hard_windows=...)."""
import json
import os.path as osp

import pytest
from tiny_models import default_detector_on_tiny_data
from tool_loader import load_tool

TOOL = 'tools/analysis_tools/mine_hard_windows.py'


@pytest.fixture(scope='module')
def tiny(tmp_path_factory):
    # windows of 8 frames: the tiny clips are shorter than 60
    return default_detector_on_tiny_data(tmp_path_factory.mktemp('mine'),
                                         'dict(onset_head=dict(window_size=8))')


def test_mines_negative_clips_and_feeds_the_dataset(tiny, tmp_path, monkeypatch, capsys):
    from bleedorigin.datasets import BleedOnsetDataset
    from bleedorigin.datasets.bench import BenchIndex

    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    out = str(tmp_path / 'hard.json')
    # S_conf is in (0, 1): a threshold below 0 records every frame a window ends on
    tool.main([config, ckpt, f'{root}:train,val,test', '--out', out, '--threshold', '-1'])
    assert 'negative clips' in capsys.readouterr().out
    with open(out) as f:
        mined = json.load(f)
    negatives = {f'{c.patient_id}/{c.clip_id}': c.num_frames for c in BenchIndex(root).clips
                 if c.onset_frame is None}
    assert negatives and set(mined['clips']) == set(negatives)
    for key, frames in mined['clips'].items():
        # no window before frame N - 1 = 7 (no warm-up windows in detect.py)
        assert frames == list(range(7, negatives[key]))
    assert mined['data_root'] == osp.realpath(root) and mined['threshold'] == -1
    # a rerun resumes: no clip is streamed again
    monkeypatch.setattr(tool, 'confident_frames', lambda *a: pytest.fail('mined again'))
    tool.main([config, ckpt, f'{root}:train,val,test', '--out', out, '--threshold', '-1'])
    monkeypatch.undo()
    # the dataset hands the frames of its negative clips to the sampler
    split = next(s for s, ps in BenchIndex(root).splits.items()
                 if any(k.split('/')[0] in ps for k in negatives))
    data = BleedOnsetDataset(root, split, input_size=(32, 24), cache_dir=str(tmp_path / 'c'),
                             cache_workers=1, hard_windows=out)
    for info in data.data_list:
        expected = mined['clips'].get(info['clip_id'], []) if info['onset_frame'] is None else []
        assert info['hard_frames'] == expected
    # a threshold above every S_conf records nothing
    empty = str(tmp_path / 'none.json')
    tool.main([config, ckpt, f'{root}:{split}', '--out', empty, '--threshold', '1'])
    with open(empty) as f:
        assert all(v == [] for v in json.load(f)['clips'].values())


def test_bad_root_is_named(tiny, tmp_path):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    with pytest.raises(SystemExit, match='ROOT:SPLIT'):
        tool.main([config, ckpt, root, '--out', str(tmp_path / 'x.json')])


def test_mines_positive_clips_and_feeds_the_dataset(tiny, tmp_path, monkeypatch, capsys):
    from bleedorigin.datasets import BleedOnsetDataset
    from bleedorigin.datasets.bench import BenchIndex

    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    clips = [c for c in BenchIndex(root).clips if c.onset_frame is not None]
    positives = {f'{c.patient_id}/{c.clip_id}': c for c in clips}
    # no confidence reaches 2: every positive clip is hard
    out = str(tmp_path / 'pos.json')
    tool.main([config, ckpt, f'{root}:train,val,test', '--positives', '--out', out,
               '--min-confidence', '2'])
    assert f'{len(clips)} positive clips, {len(clips)} hard' in capsys.readouterr().out
    with open(out) as f:
        mined = json.load(f)
    assert set(mined['positives']) == set(positives) and 'clips' not in mined
    for key, record in mined['positives'].items():
        clip = positives[key]
        assert record['onset'] == clip.onset_frame and record['hard'] is True
        assert 0 <= record['max_confidence'] <= 1
        if record['predicted'] is None:
            assert record['alarm'] is None
        else:
            # the first alarm comes no earlier than the first window (frame N - 1 = 7)
            assert 7 <= record['alarm'] < clip.num_frames
            assert 0 <= record['predicted'] <= record['alarm']
    # the records agree with the offline rule: hard = missed, > max_error off or unsure
    loose = str(tmp_path / 'loose.json')
    tool.main([config, ckpt, f'{root}:train,val,test', '--positives', '--out', loose,
               '--min-confidence', '-1', '--max-error', '1000'])
    with open(loose) as f:
        for record in json.load(f)['positives'].values():
            assert record['hard'] == (record['predicted'] is None)
    # a rerun with the same settings resumes; other settings mine again
    monkeypatch.setattr(tool, 'onset_record', lambda *a: pytest.fail('mined again'))
    tool.main([config, ckpt, f'{root}:train,val,test', '--positives', '--out', out,
               '--min-confidence', '2'])
    monkeypatch.undo()
    # the dataset repeats the hard clips of its split
    split = next(s for s, ps in BenchIndex(root).splits.items()
                 if any(k.split('/')[0] in ps for k in positives))
    data = BleedOnsetDataset(root, split, input_size=(32, 24), cache_dir=str(tmp_path / 'c'),
                             cache_workers=1, hard_positives=out, hard_positive_repeats=2)
    plain = BleedOnsetDataset(root, split, input_size=(32, 24), cache_dir=str(tmp_path / 'c'),
                              cache_workers=1)
    extra = sum(1 for info in plain.data_list if info['onset_frame'] is not None)
    assert extra and len(data.data_list) == len(plain.data_list) + 2 * extra


def test_positives_need_a_positive_clip(tiny, tmp_path):
    import sys
    sys.path.insert(0, osp.join(osp.dirname(osp.dirname(__file__)), 'test_datasets'))
    from detect_tree import make_detect_tree
    root = make_detect_tree(tmp_path / 'bench', num_frames=10, onsets={
        (p, 'C1'): None for p in ('P01', 'P02', 'P03', 'P04', 'P05')})
    _, ckpt, config = tiny
    with pytest.raises(SystemExit, match='holds no positive clip'):
        load_tool(TOOL).main([config, ckpt, f'{root}:train', '--positives',
                              '--out', str(tmp_path / 'x.json')])


def test_cfg_options_are_recorded_and_a_different_decision_mines_again(tiny, tmp_path,
                                                                      monkeypatch):
    root, ckpt, config = tiny
    tool = load_tool(TOOL)
    out = str(tmp_path / 'alone.json')
    args = [config, ckpt, f'{root}:train,val,test', '--out', out, '--threshold', '-1']
    tool.main(args + ['--cfg-options', 'model.onset_views=()'])
    with open(out) as f:
        assert json.load(f)['cfg_options'] == {'model.onset_views': []}
    # the same decision resumes; another decision (the config's mirror view) mines again
    monkeypatch.setattr(tool, 'confident_frames', lambda *a: pytest.fail('mined again'))
    tool.main(args + ['--cfg-options', 'model.onset_views=()'])
    with pytest.raises(pytest.fail.Exception, match='mined again'):
        tool.main(args)
    with pytest.raises(SystemExit, match='config file not found'):
        tool.main([str(tmp_path / 'nope.py')] + args[1:])
