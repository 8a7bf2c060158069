import os
import os.path as osp

import numpy as np
import pytest

from projects.yolo_baselines.yolo_baselines.dataset_adapter import (
    AdapterParams,
    build_yolo_dataset,
    point_to_box,
    sample_frames,
    subsample_clips,
)


def _labels(dataset_dir, split):
    label_dir = osp.join(dataset_dir, 'labels', split)
    out = {}
    for name in sorted(os.listdir(label_dir)):
        with open(osp.join(label_dir, name)) as f:
            out[name[:-4]] = [list(map(float, line.split())) for line in f if line.strip()]
    return out


def test_point_to_box_clips_to_image():
    cx, cy, w, h = point_to_box(50, 40, 20, 100, 80)
    assert (cx, cy, w, h) == pytest.approx((0.5, 0.5, 0.2, 0.25))
    # a point near the corner gives a box cut at the border, centred inside it
    cx, cy, w, h = point_to_box(2, 2, 20, 100, 80)
    assert (cx * 100, cy * 80, w * 100, h * 80) == pytest.approx((6, 6, 12, 12))
    with pytest.raises(ValueError, match='outside'):
        point_to_box(150, 40, 4, 100, 80)


def test_sample_frames_positives_and_negatives(tiny_bench):
    from bleedorigin.datasets.bench import BenchIndex

    clips = {c.clip_id: c for c in BenchIndex(tiny_bench).clips}
    rng = np.random.default_rng(0)
    frames = dict(sample_frames(clips['P1_C1'], 2, rng))
    # onset 3 and annotations every 4 frames: 3, 7, 11 positives; 2 negatives before 3
    assert [f for f, s in frames.items() if s] == [3, 7, 11]
    negatives = [f for f, s in frames.items() if not s]
    assert len(negatives) == 2 and all(f < 3 for f in negatives)
    negative_clip = dict(sample_frames(clips['P1_C2'], 3, rng))
    assert len(negative_clip) == 3 and not any(negative_clip.values())
    assert len(subsample_clips(list(clips.values()), 2)) == 2


def test_build_dataset_labels_and_cache(tiny_bench, tmp_path):
    cache = tmp_path / 'cache'
    params = AdapterParams(box_size=16, negatives_per_clip=1)
    yaml_path = build_yolo_dataset(tiny_bench, str(cache), params)
    dataset_dir = osp.dirname(yaml_path)
    with open(yaml_path) as f:
        text = f.read()
    assert f'path: {dataset_dir}' in text and 'bleeding_source' in text
    labels = _labels(dataset_dir, 'train')
    # P1_C1 onset frame 3, source (60, 30) in a 96x80 frame, 16 px box
    assert labels['P1__P1_C1__000003'] == [pytest.approx([0, 60 / 96, 30 / 80, 16 / 96, 16 / 80],
                                                         abs=1e-5)]
    # train: P1_C1 3 positives + 1 negative, P1_C2 1 negative, P2_C1 2 positives + 1 negative
    assert len(labels) == 8 and sum(bool(v) for v in labels.values()) == 5
    assert len(_labels(dataset_dir, 'val')) == 3
    images = os.listdir(osp.join(dataset_dir, 'images', 'train'))
    assert sorted(i[:-4] for i in images) == sorted(labels)
    # cached: same key, nothing rewritten, no temporary folder left behind
    stamp = os.stat(osp.join(dataset_dir, 'manifest.json')).st_mtime_ns
    assert build_yolo_dataset(tiny_bench, str(cache), params) == yaml_path
    assert os.stat(osp.join(dataset_dir, 'manifest.json')).st_mtime_ns == stamp
    assert [d for d in os.listdir(cache) if d.startswith('.')] == []
    # another parameter -> another dataset
    other = build_yolo_dataset(tiny_bench, str(cache), AdapterParams(box_size=24))
    assert other != yaml_path


def test_build_dataset_rejects_empty_split(tiny_bench, tmp_path):
    from bleedorigin.datasets.bench_writer import write_splits

    write_splits(tiny_bench, {'train': ['P1', 'P2'], 'val': [], 'test': ['P3', 'P4']})
    with pytest.raises(ValueError, match="split 'val' has no valid clips"):
        build_yolo_dataset(tiny_bench, str(tmp_path / 'cache'))
