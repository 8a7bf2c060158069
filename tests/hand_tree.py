"""Bench trees written by hand (json.dump + cv2), the way a third-party program following
DATA_FORMAT.md would: the pieces shared by the reader tests (test_datasets/test_bench.py) and
the fault-injection tests (test_robustness/robust_helpers.py). tests/ is on sys.path."""
import json
import os
import os.path as osp

import cv2
import numpy as np

W, H = 16, 12


def write_splits(root, splits):
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, 'splits.json'), 'w') as f:
        json.dump(splits, f)


def write_clip_folder(root, patient, clip, frames, onset, video='frames', ext='png',
                      meta=None, source='hand'):
    """clip.json and the frames (a PNG/JPG folder, or an mp4 when ``video`` names one) of
    one clip; ``frames`` are (H, W, 3) BGR arrays as cv2 writes them. Returns the folder."""
    clip_dir = osp.join(root, 'clips', patient, clip)
    os.makedirs(clip_dir)
    info = {'clip_id': f'{patient}_{clip}', 'patient_id': patient, 'fps': 30,
            'num_frames': len(frames), 'width': W, 'height': H, 'video': video,
            'onset_frame': onset, 'site': 'cardia', 'scenarios': ['clear_view'],
            'annotation_stride': 30, 'source': source}
    info.update(meta or {})
    with open(osp.join(clip_dir, 'clip.json'), 'w') as f:
        json.dump(info, f)
    if video == 'frames':
        os.makedirs(osp.join(clip_dir, 'frames'))
        for t, frame in enumerate(frames):
            cv2.imwrite(osp.join(clip_dir, 'frames', f'{t:06d}.{ext}'), frame)
    elif video is not None:
        writer = cv2.VideoWriter(osp.join(clip_dir, video), cv2.VideoWriter_fourcc(*'mp4v'),
                                 30, (W, H))
        for frame in frames:
            writer.write(np.ascontiguousarray(frame))
        writer.release()
    return clip_dir


def write_labelme(clip_dir, index, shapes, **fields):
    """annotations/<index>.json with LabelMe ``shapes`` (extra top-level ``fields`` allowed)."""
    os.makedirs(osp.join(clip_dir, 'annotations'), exist_ok=True)
    doc = {'version': '5.4.1', 'shapes': shapes, 'imagePath': None, 'imageData': None,
           'imageHeight': H, 'imageWidth': W}
    doc.update(fields)
    with open(osp.join(clip_dir, 'annotations', f'{index:06d}.json'), 'w') as f:
        json.dump(doc, f)
