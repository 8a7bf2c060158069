import json
import os.path as osp
import sys

import numpy as np
import pytest

from bleedorigin.datasets.bench import BenchIndex
from bleedorigin.pseudo_labels import (
    PseudoLabelError,
    PseudoLabelParams,
    clip_segments,
    generate_clip,
    pseudo_label_path,
    read_pseudo_labels,
)
from bleedorigin.registry import MODELS
from bleedorigin.utils import register_all_modules

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', 'test_datasets'))
from track_tree import make_track_tree  # noqa: E402

register_all_modules()


def test_generate_writes_resumable_valid_files(tmp_path):
    root = make_track_tree(str(tmp_path / 'bench'), num_frames=30, stride=10, width=160,
                           height=128)
    clip = BenchIndex(root, 'train').clips[0]
    params = PseudoLabelParams(span=10, radius=40, min_confidence=0.5, max_points=8)
    assert clip_segments(clip, 10) == [5, 15]
    tracker = MODELS.build(dict(
        type='BleedTrackOn', encoder=dict(type='TrackEncoder', stem_channels=4, embed_dims=8),
        red_mask=None, embed_dims=8, num_heads=1, num_layers=1, window_radius=1,
        input_size=(64, 48))).eval()
    stats = generate_clip(tracker, clip, params)
    assert stats['segments'] == 2 and stats['skipped'] == 0
    doc = read_pseudo_labels(clip, 5)
    assert doc['start_frame'] == 5 and doc['end_frame'] == 15
    for point in doc['sources'][0]['points']:
        traj = np.asarray(point['trajectory'])
        assert traj.shape == (11, 2)
        assert point['confidence'] > 0.5
        source = clip.sources_at(5)[0]
        assert np.linalg.norm(traj[0] - [source.x, source.y]) <= 40
    again = generate_clip(tracker, clip, params)
    assert again == dict(segments=0, skipped=2, corrupt=0, points=0)


def test_malformed_pseudo_labels_rejected(tmp_path):
    root = make_track_tree(str(tmp_path / 'bench'), num_frames=20)
    clip = BenchIndex(root, 'train').clips[0]
    path = pseudo_label_path(clip.clip_dir, 5)
    import os
    os.makedirs(osp.dirname(path))
    with open(path, 'w') as f:
        json.dump(dict(start_frame=5, end_frame=15, sources=[
            dict(group_id=0, points=[dict(trajectory=[[1, 2]] * 3)])]), f)
    with pytest.raises(PseudoLabelError, match=r'000005.json: sources\[0\].points\[0\]'):
        read_pseudo_labels(clip, 5)
