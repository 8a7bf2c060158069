"""Pseudo-label files are validated before they are trusted (issue 14)."""
import json
import os
import os.path as osp
import sys

import pytest
from robust_helpers import REPO, deeply_nested
from tool_loader import load_tool

from bleedorigin.datasets.bench import BenchIndex
from bleedorigin.pseudo_labels import (
    PseudoLabelError,
    PseudoLabelParams,
    check_pseudo_label_file,
    generate_clip,
    pseudo_label_path,
    read_pseudo_labels,
)

sys.path.insert(0, osp.join(REPO, 'tests', 'test_datasets'))
from track_tree import make_track_tree  # noqa: E402

PARAMS = PseudoLabelParams(span=10, radius=40, min_confidence=0.5, max_points=4)


@pytest.fixture(scope='module')
def tracker():
    from bleedorigin.registry import MODELS
    from bleedorigin.utils import register_all_modules

    register_all_modules()
    return MODELS.build(dict(
        type='BleedTrackOn', encoder=dict(type='TrackEncoder', stem_channels=4, embed_dims=8),
        red_mask=None, embed_dims=8, num_heads=1, num_layers=1, window_radius=1,
        input_size=(64, 48))).eval()


@pytest.fixture
def clip(tmp_path):
    root = make_track_tree(str(tmp_path / 'bench'), num_frames=30, stride=10, width=96,
                           height=80)
    return BenchIndex(root, 'train').clips[0]  # segments start at 5 and 15


def valid_doc(start=5, span=10, trajectory=None):
    trajectory = trajectory or [[30.0, 30.0]] * (span + 1)
    return dict(version=1, start_frame=start, end_frame=start + span, params={}, sources=[
        dict(group_id=0, points=[dict(confidence=0.9, match_end=[30, 30],
                                      trajectory=trajectory)])])


def write(clip, start, content):
    path = pseudo_label_path(clip.clip_dir, start)
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(content if isinstance(content, str) else json.dumps(content))
    return path


CORRUPT = {
    'half-written': (lambda: json.dumps(valid_doc())[:120],
                     "pseudo_labels/000005.json: JSON malformed (Expecting ',' delimiter"),
    'deeply-nested': (deeply_nested, 'pseudo_labels/000005.json: JSON malformed (nested too '
                                     'deeply to parse)'),
    'top-level-list': (lambda: '[]', 'pseudo_labels/000005.json: top level is not an object '
                                     '(got list)'),
    'other-segment': (lambda: valid_doc(start=7), 'pseudo_labels/000005.json: start_frame 7 '
                                                  '!= 5 of the file name'),
    'other-span': (lambda: valid_doc(span=8), 'pseudo_labels/000005.json: end_frame 13 != 15 '
                                              '(another span)'),
    'sources-not-objects': (lambda: dict(valid_doc(), sources=[1]),
                            'pseudo_labels/000005.json: sources[0] must be an object'),
    'short-trajectory': (lambda: valid_doc(trajectory=[[1, 2]] * 3),
                         'pseudo_labels/000005.json: sources[0].points[0].trajectory shape '
                         '(3,) != (11, 2) numbers'),
    'string-frame': (lambda: dict(valid_doc(), start_frame='5'),
                     "pseudo_labels/000005.json: start_frame 5 is not a frame index"),
}


@pytest.mark.parametrize('kind', sorted(CORRUPT))
def test_corrupt_file_is_named_regenerated_and_counted(clip, tracker, kind):
    content, reason = CORRUPT[kind]
    path = write(clip, 5, content())
    problem = check_pseudo_label_file(clip, 5, 15)
    assert problem.startswith(f'{clip.rel_dir}/{reason}'), problem
    with pytest.raises(PseudoLabelError) as info:
        read_pseudo_labels(clip, 5, 15)
    assert str(info.value) == problem
    stats = generate_clip(tracker, clip, PARAMS)
    assert (stats['segments'], stats['corrupt'], stats['skipped']) == (2, 1, 0)
    assert check_pseudo_label_file(clip, 5, 15) == ''
    assert read_pseudo_labels(clip, 5, 15)['start_frame'] == 5
    again = generate_clip(tracker, clip, PARAMS)
    assert again == dict(segments=0, skipped=2, corrupt=0, points=0)
    assert not [n for n in os.listdir(osp.dirname(path)) if n.startswith('.tmp')]


def test_symlinked_file_is_replaced_not_written_through(clip, tracker, tmp_path):
    target = tmp_path / 'elsewhere.json'
    target.write_text(json.dumps(valid_doc()))
    path = pseudo_label_path(clip.clip_dir, 5)
    os.makedirs(osp.dirname(path))
    os.symlink(target, path)
    assert check_pseudo_label_file(clip, 5) == (f'{clip.rel_dir}/pseudo_labels/000005.json: is '
                                                'a symlink (never followed)')
    stats = generate_clip(tracker, clip, PARAMS)
    assert (stats['segments'], stats['corrupt']) == (2, 1)
    assert not osp.islink(path) and check_pseudo_label_file(clip, 5, 15) == ''
    assert json.loads(target.read_text()) == valid_doc()  # the link's target is untouched


def test_interrupted_generation_resumes_without_half_files(clip, tracker, monkeypatch):
    """Killed during the second segment: the first is kept, nothing half-written remains."""
    import bleedorigin.pseudo_labels.pipeline as pipeline

    original = pipeline.generate_segment
    calls = []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, 'generate_segment', dying)
    with pytest.raises(KeyboardInterrupt):
        generate_clip(tracker, clip, PARAMS)
    monkeypatch.setattr(pipeline, 'generate_segment', original)
    folder = osp.join(clip.clip_dir, 'pseudo_labels')
    assert sorted(os.listdir(folder)) == ['000005.json']
    stats = generate_clip(tracker, clip, PARAMS)
    assert (stats['segments'], stats['skipped'], stats['corrupt']) == (1, 1, 0)


def test_check_dataset_reports_invalid_pseudo_labels(clip, capsys):
    write(clip, 5, valid_doc())
    write(clip, 15, json.dumps(valid_doc(start=15))[:80])
    folder = osp.dirname(pseudo_label_path(clip.clip_dir, 5))
    with open(osp.join(folder, '.tmp-abc.json'), 'w') as f:
        f.write('{"half')
    with open(osp.join(folder, '15.json'), 'w') as f:
        f.write('{}')
    tool = load_tool('tools/dataset_converters/check_dataset.py')
    root = osp.dirname(osp.dirname(osp.dirname(clip.clip_dir)))
    code = tool.main([root, '--json'])
    report = json.loads(capsys.readouterr().out)['pseudo_labels']
    assert code == 1
    assert report['clips'] == 1 and report['files'] == 3 and report['valid'] == 1
    assert report['temporary_files'] == 1
    assert [p['file'] for p in report['invalid']] == [f'{clip.rel_dir}/pseudo_labels/000015.json',
                                                      f'{clip.rel_dir}/pseudo_labels/15.json']
    assert report['invalid'][0]['reason'].startswith(
        f'{clip.rel_dir}/pseudo_labels/000015.json: JSON malformed')
    assert report['invalid'][1]['reason'] == (f'{clip.rel_dir}/pseudo_labels/15.json: file name '
                                              'is not a 6-digit start frame')
    assert tool.main([root]) == 1
    assert 'pseudo labels: 3 files in 1 clips, 2 invalid' in capsys.readouterr().out
