"""Tiny data trees and hostile files for the fault-injection tests (issue 14).

Everything is made in the test's tmp_path: a data root with two patients and
three small clips written the way a third-party program following
DATA_FORMAT.md would (``json.dump`` + ``cv2.imwrite``), and helpers that break
one file of a copy in one way.
"""
import contextlib
import json
import os
import os.path as osp
import resource

import numpy as np
from hand_tree import H, W, write_clip_folder, write_labelme, write_splits  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def write_clip(root, patient, clip, num_frames=6, onset=3, video='frames', meta=None,
               annotations=None):
    """One clip folder (frames as PNG, or an mp4 when ``video='video.mp4'``)."""
    frames = [np.full((H, W, 3), 40 + 20 * t, np.uint8) for t in range(num_frames)]
    clip_dir = write_clip_folder(root, patient, clip, frames, onset, video, meta=meta,
                                 source='robustness-test')
    if annotations is None:
        annotations = {} if onset is None else {onset: [[4.5, 6.0]]}
    for index, points in annotations.items():
        write_labelme(clip_dir, index, [{'label': 'bleeding_source', 'points': [p],
                                         'group_id': None, 'shape_type': 'point'}
                                        for p in points])
    return clip_dir


def make_tree(root):
    """Two patients, three valid clips (two frame folders, one mp4); returns the root."""
    root = str(root)
    os.makedirs(root)
    write_splits(root, {'train': ['P01'], 'val': [], 'test': ['P02']})
    write_clip(root, 'P01', 'C1')
    write_clip(root, 'P01', 'C2', onset=None)
    write_clip(root, 'P02', 'C1', num_frames=5, onset=2, video='video.mp4')
    return root


def clip_json(root, patient='P01', clip='C1'):
    return osp.join(root, 'clips', patient, clip, 'clip.json')


def rewrite_meta(root, patient='P01', clip='C1', drop=(), **changes):
    """Change (or drop) fields of one clip.json."""
    path = clip_json(root, patient, clip)
    with open(path) as f:
        meta = json.load(f)
    meta.update(changes)
    for key in drop:
        meta.pop(key)
    with open(path, 'w') as f:
        json.dump(meta, f)


def deeply_nested(depth=10000):
    """A syntactically valid JSON document nested ``depth`` levels."""
    return '[' * depth + ']' * depth


def nested_object(depth=10000):
    return '{"a": ' * depth + '1' + '}' * depth


@contextlib.contextmanager
def heap_limit(extra_bytes=2 * 2 ** 30):
    """Cap this process's heap at its current size + ``extra_bytes`` (RLIMIT_DATA).

    A regression that allocates without bound then raises ``MemoryError`` in the
    test instead of driving the machine into the out-of-memory killer.
    """
    with open('/proc/self/status', encoding='ascii') as f:
        data_kb = next(int(line.split()[1]) for line in f if line.startswith('VmData:'))
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    limit = data_kb * 1024 + int(extra_bytes)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
