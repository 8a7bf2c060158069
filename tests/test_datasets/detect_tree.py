"""A tiny BleedOrigin-Bench tree for the detector tests, written with bench_writer."""
import os.path as osp

import cv2
import numpy as np

from bleedorigin.datasets.bench_writer import (
    atomic_clip_dir,
    write_clip_json,
    write_labelme,
    write_splits,
)

WIDTH, HEIGHT = 96, 80


def render_clip(num_frames, onset, source, seed):
    """Textured frames drifting slowly; a red spot grows at ``source`` from ``onset``."""
    rng = np.random.default_rng(seed)
    texture = cv2.resize(rng.integers(90, 200, (12, 14, 3), dtype=np.uint8),
                         (WIDTH + 8, HEIGHT + 8), interpolation=cv2.INTER_CUBIC)
    texture[..., 0] = np.clip(texture[..., 0].astype(int) + 40, 0, 255)
    frames = []
    for t in range(num_frames):
        dx = int(4 + 3 * np.sin(t / 7))
        frame = texture[4:4 + HEIGHT, dx:dx + WIDTH].copy()
        if onset is not None and t >= onset:
            radius = 2 + (t - onset) // 2
            cv2.circle(frame, (int(source[0]), int(source[1])), radius, (170, 5, 5), -1)
        frames.append(frame)
    return frames


def make_detect_tree(root, num_frames=40, onsets=None):
    """Write 3 train, 1 val and 1 test patient; returns the data root.

    Args:
        onsets (dict, optional): ``{(patient, clip): onset or None}``.
    """
    onsets = onsets or {('P01', 'C1'): 20, ('P01', 'C2'): None, ('P02', 'C1'): 25,
                        ('P03', 'C1'): 12, ('P04', 'C1'): 22, ('P04', 'C2'): None,
                        ('P05', 'C1'): 18}
    root = str(root)
    write_splits(root, dict(train=['P01', 'P02', 'P03'], val=['P04'], test=['P05']))
    for seed, ((patient, clip), onset) in enumerate(sorted(onsets.items())):
        source = (30 + 7 * seed, 25 + 5 * seed)
        clip = f'{patient}_{clip}'  # clip ids are unique across patients
        with atomic_clip_dir(root, patient, clip) as clip_dir:
            for t, frame in enumerate(render_clip(num_frames, onset, source, seed)):
                path = osp.join(clip_dir, 'frames', f'{t:06d}.png')
                import os
                os.makedirs(osp.dirname(path), exist_ok=True)
                cv2.imwrite(path, cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
            if onset is not None:
                write_labelme(osp.join(clip_dir, 'annotations', f'{onset:06d}.json'),
                              [(0, source[0], source[1])], WIDTH, HEIGHT,
                              f'../frames/{onset:06d}.png')
            write_clip_json(clip_dir, dict(
                clip_id=clip, patient_id=patient, fps=30, num_frames=num_frames, width=WIDTH,
                height=HEIGHT, video='frames', onset_frame=onset, site='gastric_antrum',
                scenarios=['clear_view'], annotation_stride=30, source='test'))
    return root
