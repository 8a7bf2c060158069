"""A tiny BleedOrigin-Bench tree for tracking tests: a textured scene translating
by a known velocity, one bleeding source moving with it, annotations every
``stride`` frames from the onset, dense ground truth on every frame."""
import os
import os.path as osp

import cv2
import numpy as np

from bleedorigin.datasets.bench_writer import (
    atomic_clip_dir,
    write_clip_json,
    write_dense_gt,
    write_labelme,
    write_splits,
)


def texture(rng, height, width):
    small = rng.integers(0, 255, (height // 4, width // 4, 3), dtype=np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC),
                            (0, 0), 1.0)


def make_track_tree(root, num_frames=40, onset=5, stride=10, width=96, height=80,
                    velocity=(1.0, 0.5), seed=0):
    """Write train/val/test patients P1/P2/P3 with one clip each; return the root."""
    rng = np.random.default_rng(seed)
    write_splits(root, dict(train=['P1'], val=['P2'], test=['P3']))
    for patient in ('P1', 'P2', 'P3'):
        big = texture(rng, height + 80, width + 80)
        source0 = np.array([width / 2 - 10, height / 2 - 5])
        points, visible = [], []
        with atomic_clip_dir(root, patient, f'{patient}_C1') as clip_dir:
            for t in range(num_frames):
                dx, dy = velocity[0] * t, velocity[1] * t
                x0, y0 = int(40 - round(dx)), int(40 - round(dy))
                frame = big[y0:y0 + height, x0:x0 + width]
                os.makedirs(osp.join(clip_dir, 'frames'), exist_ok=True)
                cv2.imwrite(osp.join(clip_dir, 'frames', f'{t:06d}.png'),
                            cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                p = source0 + np.array([round(dx), round(dy)])
                points.append(p.tolist() if t >= onset else None)
                visible.append(t >= onset)
                if t >= onset and (t - onset) % stride == 0:
                    write_labelme(osp.join(clip_dir, 'annotations', f'{t:06d}.json'),
                                  [(0, float(p[0]), float(p[1]))], width, height,
                                  f'../frames/{t:06d}.png')
            write_clip_json(clip_dir, dict(
                clip_id=f'{patient}_C1', patient_id=patient, fps=30, num_frames=num_frames,
                width=width, height=height, video='frames', onset_frame=onset,
                site='gastric_body', scenarios=['clear_view'], annotation_stride=stride,
                source='test'))
            write_dense_gt(clip_dir, dict(
                sources=[dict(group_id=0, points=points, visible=visible)],
                bleeding=[t >= onset for t in range(num_frames)]))
    return root

