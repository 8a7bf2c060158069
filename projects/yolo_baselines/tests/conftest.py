"""Shared set-up of the YOLO baseline tests: offline env, repo root importable, tiny bench."""
import os
import os.path as osp
import sys

os.environ['YOLO_OFFLINE'] = '1'
os.environ.setdefault('MPLBACKEND', 'Agg')

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..', '..'))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

TINY = {'width': 96, 'height': 80, 'num_frames': 12, 'stride': 4}


def write_tiny_clip(data_root, patient, clip_id, onset, source=(60.0, 30.0), seed=0):
    """A 12-frame clip whose bleeding source appears as a red disc at ``onset``."""
    from bleedorigin.datasets.bench_writer import atomic_clip_dir, write_clip_json, write_labelme

    width, height, num_frames = TINY['width'], TINY['height'], TINY['num_frames']
    rng = np.random.default_rng(seed)
    with atomic_clip_dir(data_root, patient, clip_id) as clip_dir:
        os.makedirs(osp.join(clip_dir, 'frames'))
        for t in range(num_frames):
            rgb = np.full((height, width, 3), (200, 150, 130), np.uint8)
            rgb = np.clip(rgb + rng.integers(-10, 10, rgb.shape), 0, 255).astype(np.uint8)
            if onset is not None and t >= onset:
                radius = 3 + (t - onset)
                cv2.circle(rgb, (int(source[0]), int(source[1])), radius, (170, 0, 0), -1)
            cv2.imwrite(osp.join(clip_dir, 'frames', f'{t:06d}.png'),
                        cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if onset is not None:
            for t in range(onset, num_frames, TINY['stride']):
                write_labelme(osp.join(clip_dir, 'annotations', f'{t:06d}.json'),
                              [(0, *source)], width, height, f'../frames/{t:06d}.png')
        write_clip_json(clip_dir, {
            'clip_id': clip_id, 'patient_id': patient, 'fps': 30, 'num_frames': num_frames,
            'width': width, 'height': height, 'video': 'frames', 'onset_frame': onset,
            'site': 'gastric_antrum',
            'scenarios': ['clear_view'], 'annotation_stride': TINY['stride'], 'source': 'test'})


def make_tiny_bench(data_root):
    """Train P1/P2, val P3, test P4: five positive clips and one negative clip."""
    from bleedorigin.datasets.bench_writer import write_splits

    write_splits(str(data_root), {'train': ['P1', 'P2'], 'val': ['P3'], 'test': ['P4']})
    write_tiny_clip(data_root, 'P1', 'P1_C1', onset=3, source=(60.0, 30.0), seed=1)
    write_tiny_clip(data_root, 'P1', 'P1_C2', onset=None, seed=2)
    write_tiny_clip(data_root, 'P2', 'P2_C1', onset=5, source=(30.0, 50.0), seed=3)
    write_tiny_clip(data_root, 'P3', 'P3_C1', onset=4, source=(40.0, 40.0), seed=4)
    write_tiny_clip(data_root, 'P4', 'P4_C1', onset=6, source=(70.0, 55.0), seed=5)
    write_tiny_clip(data_root, 'P4', 'P4_C2', onset=2, source=(20.0, 20.0), seed=6)
    return str(data_root)


@pytest.fixture
def tiny_bench(tmp_path):
    return make_tiny_bench(tmp_path / 'bench')
