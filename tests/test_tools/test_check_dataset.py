"""check_dataset.py on trees written by hand by "another program" (json.dump + cv2)."""
import json
import os
import os.path as osp
import runpy
import sys

import cv2
import numpy as np
import pytest
from tool_loader import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = 'tools/dataset_converters/check_dataset.py'
SCRIPT = osp.join(REPO, TOOL)
W, H = 16, 12


def make_clip(root, patient, clip, num_frames, onset, storage='png', site='duodenum',
              scenarios=('clear_view',), annotations=None, **extra):
    clip_dir = osp.join(root, 'clips', patient, clip)
    os.makedirs(clip_dir)
    meta = dict(clip_id=clip, patient_id=patient, fps=25, num_frames=num_frames, width=W,
                height=H, video='video.mp4' if storage == 'mp4' else 'frames',
                onset_frame=onset, site=site, scenarios=list(scenarios), annotation_stride=2,
                source='other_tool', **extra)
    with open(osp.join(clip_dir, 'clip.json'), 'w') as f:
        json.dump(meta, f, indent=4)
    frames = [np.full((H, W, 3), 20 * t, np.uint8) for t in range(num_frames)]
    if storage == 'mp4':
        writer = cv2.VideoWriter(osp.join(clip_dir, 'video.mp4'),
                                 cv2.VideoWriter_fourcc(*'mp4v'), 25, (W, H))
        for frame in frames:
            writer.write(frame)
        writer.release()
    else:
        os.makedirs(osp.join(clip_dir, 'frames'))
        for t, frame in enumerate(frames):
            cv2.imwrite(osp.join(clip_dir, 'frames', f'{t:06d}.{storage}'), frame)
    for index, points in (annotations or {}).items():
        os.makedirs(osp.join(clip_dir, 'annotations'), exist_ok=True)
        shapes = [{'label': 'bleeding_source', 'points': [p], 'group_id': None,
                   'shape_type': 'point', 'flags': {}} for p in points]
        shapes.append({'label': 'gauze', 'points': [[1, 1], [5, 5]], 'shape_type': 'rectangle'})
        with open(osp.join(clip_dir, 'annotations', f'{index:06d}.json'), 'w') as f:
            json.dump({'version': '5.0.1', 'flags': {}, 'shapes': shapes, 'imagePath': None,
                       'imageData': None, 'imageHeight': H, 'imageWidth': W}, f)
    return clip_dir


@pytest.fixture
def foreign_tree(tmp_path):
    root = str(tmp_path / 'foreign')
    os.makedirs(root)
    with open(osp.join(root, 'splits.json'), 'w') as f:
        json.dump({'train': ['A1', 'A2'], 'val': ['B1'], 'test': ['C1']}, f)
    make_clip(root, 'A1', 'c1', 6, 2, storage='png', annotations={2: [[3, 4]], 4: []},
              hospital='X', scenarios=('water_flushing', 'camera_jitter'))
    make_clip(root, 'A1', 'c2', 5, None, storage='jpg', site='cardia')
    make_clip(root, 'A2', 'c3', 8, 4, storage='mp4', annotations={4: [[15.5, 11.0]], 6: [[8, 8]]})
    make_clip(root, 'B1', 'c4', 4, 1, storage='png', annotations={1: [[0, 0]]})
    make_clip(root, 'C1', 'c5', 4, 0, storage='mp4', site='esophagus', annotations={0: [[1, 1]]})
    return root


def test_json_summary_of_a_foreign_tree(foreign_tree, capsys):
    with open(osp.join(foreign_tree, 'splits.json'), 'w') as f:
        json.dump({'train': ['A1', 'A2'], 'val': ['B1', 'B2'], 'test': ['C1']}, f)
    code = load_tool(TOOL).main([foreign_tree, '--json'])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1  # B2 is listed in splits.json but has no clip: a problem (issue 14)
    assert summary['clips'] == 5 and summary['broken'] == []
    assert summary['splits'] == {'train': 3, 'val': 1, 'test': 1}
    assert summary['annotated_frames'] == 6
    assert summary['visible_annotations'] == 5 and summary['invisible_annotations'] == 1
    assert summary['frames'] == 6 + 5 + 8 + 4 + 4
    assert summary['positives'] == 4 and summary['negatives'] == 1
    assert summary['sites'] == {'cardia': 1, 'duodenum': 3, 'esophagus': 1}
    assert summary['scenarios'] == {'camera_jitter': 1, 'clear_view': 4, 'water_flushing': 1}
    assert summary['storage'] == {'frames': 3, 'video': 2}
    assert summary['per_split']['train']['frames'] == 19
    assert summary['patients'] == {'train': 2, 'val': 2, 'test': 1}
    assert summary['patients_without_clips'] == ['B2']


def test_broken_clips_reported_and_exit_nonzero(foreign_tree, capsys):
    make_clip(foreign_tree, 'B1', 'bad1', 4, 9)  # onset out of range
    bad2 = make_clip(foreign_tree, 'C1', 'bad2', 4, 1, annotations={1: [[17, 3]]})
    os.remove(osp.join(bad2, 'frames', '000003.png'))  # also a missing frame: first error wins
    bad3 = make_clip(foreign_tree, 'A2', 'bad3', 4, 1)
    with open(osp.join(bad3, 'clip.json'), 'w') as f:
        f.write('{not json')
    tool = load_tool(TOOL)
    code = tool.main([foreign_tree, '--json'])
    summary = json.loads(capsys.readouterr().out)
    assert code == 1
    assert summary['clips'] == 5
    assert {b['clip'] for b in summary['broken']} == {
        'clips/A2/bad3', 'clips/B1/bad1', 'clips/C1/bad2'}
    reasons = {b['clip']: b['reason'] for b in summary['broken']}
    assert reasons['clips/B1/bad1'] == 'clips/B1/bad1/clip.json: onset_frame 9 >= num_frames 4'
    assert 'JSON malformed' in reasons['clips/A2/bad3']
    assert 'frames 1 of num_frames 4 missing' in reasons['clips/C1/bad2']
    # human summary lists them too
    assert tool.main([foreign_tree]) == 1
    text = capsys.readouterr().out
    assert 'broken clips (3):' in text and 'clips/B1/bad1/clip.json: onset_frame 9' in text
    assert '5 valid clips, 3 broken' in text
    # strict stops at the first one
    assert tool.main([foreign_tree, '--strict']) == 1
    assert 'clips/A2/bad3/clip.json: JSON malformed' in capsys.readouterr().err


def test_patient_in_two_splits_is_a_tree_error(foreign_tree, capsys):
    with open(osp.join(foreign_tree, 'splits.json'), 'w') as f:
        json.dump({'train': ['A1', 'A2'], 'val': ['B1'], 'test': ['C1', 'A2']}, f)
    code = load_tool(TOOL).main([foreign_tree, '--json'])
    summary = json.loads(capsys.readouterr().out)
    assert code == 2
    assert summary['error'] == "splits.json: patient A2 is in both 'train' and 'test'"
    assert summary['broken'][0]['clip'] == 'splits.json'


def test_cli_human_summary(foreign_tree, capsys, monkeypatch):
    # run as a script (``__main__``) in-process: a subprocess would re-import torch
    monkeypatch.setattr(sys, 'argv', [SCRIPT, foreign_tree])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(SCRIPT, run_name='__main__')
    assert info.value.code == 0
    stdout = capsys.readouterr().out
    lines = stdout.splitlines()
    assert lines[-1] == '5 valid clips, 0 broken'
    train = next(line for line in lines if line.startswith('train'))
    assert train.split() == ['train', '2', '3', '19', '2', '1', '4']
    assert 'annotated frames: 6 (5 with a visible source, 1 labelled invisible)' in stdout


def test_decode_finds_corrupt_frames(foreign_tree, capsys):
    path = osp.join(foreign_tree, 'clips', 'B1', 'c4', 'frames', '000002.png')
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:  # header and IDAT start kept: the size is readable, pixels gone
        f.write(data[:data.index(b'IDAT') + 8])
    tool = load_tool(TOOL)
    assert tool.main([foreign_tree, '--json']) == 0  # listing (headers only) cannot see it
    capsys.readouterr()
    assert tool.main([foreign_tree, '--json', '--decode']) == 1
    summary = json.loads(capsys.readouterr().out)
    assert summary['clips'] == 4 and summary['splits']['val'] == 0
    assert summary['broken'] == [{'clip': 'clips/B1/c4', 'reason':
                                  'clips/B1/c4/frames/000002.png: image cannot be decoded'}]
