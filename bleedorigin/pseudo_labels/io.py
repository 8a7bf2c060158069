"""Pseudo-label files: ``clips/<P>/<C>/pseudo_labels/<start:06d>.json``.

One file per annotated segment [t, t + 30] (written by
``tools/gen_pseudo_labels.py``)::

    {
      "version": 1,
      "start_frame": 120, "end_frame": 150,
      "params": {"radius": 50, "min_confidence": 0.7, "matcher": "sift", ...},
      "sources": [
        {"group_id": 0,
         "points": [{"confidence": 0.83,          # stage-1 ratio-test confidence
                     "match_end": [x, y],         # P*_{t+30}
                     "trajectory": [[x, y], ...]  # T* for frames t..t+30 (31 entries)
                    }, ...]}
      ]
    }

Coordinates are original-frame pixels (corner origin), like the annotations.
A segment with no kept match is still written (empty ``points``) so that a
resumed run skips it.
"""
import json
import os.path as osp
from typing import Optional

import numpy as np

PSEUDO_DIR = 'pseudo_labels'
VERSION = 1


class PseudoLabelError(ValueError):
    """A pseudo-label file is malformed (message names file and field)."""


def pseudo_label_path(clip_dir: str, start_frame: int) -> str:
    """Path of the pseudo-label file of the segment starting at ``start_frame``."""
    return osp.join(clip_dir, PSEUDO_DIR, f'{int(start_frame):06d}.json')


def validate_pseudo_labels(obj, rel: str, width: int, height: int) -> dict:
    """Check a decoded pseudo-label document; raise :class:`PseudoLabelError`."""
    if not isinstance(obj, dict):
        raise PseudoLabelError(f'{rel}: top level must be an object')
    for key in ('start_frame', 'end_frame', 'sources'):
        if key not in obj:
            raise PseudoLabelError(f'{rel}: {key} missing')
    length = int(obj['end_frame']) - int(obj['start_frame']) + 1
    if length < 2:
        raise PseudoLabelError(f'{rel}: end_frame must exceed start_frame')
    if not isinstance(obj['sources'], list):
        raise PseudoLabelError(f'{rel}: sources must be a list')
    for i, source in enumerate(obj['sources']):
        for j, point in enumerate(source.get('points', [])):
            traj = np.asarray(point.get('trajectory'), dtype=np.float64)
            field = f'sources[{i}].points[{j}].trajectory'
            if traj.shape != (length, 2):
                raise PseudoLabelError(f'{rel}: {field} shape {traj.shape} != ({length}, 2)')
            if not np.isfinite(traj).all():
                raise PseudoLabelError(f'{rel}: {field} not finite')
            if (traj[:, 0] < -width).any() or (traj[:, 0] > 2 * width).any() or \
                    (traj[:, 1] < -height).any() or (traj[:, 1] > 2 * height).any():
                raise PseudoLabelError(f'{rel}: {field} far outside the {width}x{height} frame')
    return obj


def read_pseudo_labels(clip, start_frame: int) -> Optional[dict]:
    """Pseudo labels of ``clip`` (a ``ClipRecord``) for the segment at ``start_frame``.

    Returns:
        dict | None: the validated document, or None if the file does not exist.
    """
    path = pseudo_label_path(clip.clip_dir, start_frame)
    if not osp.isfile(path) or osp.islink(path):
        return None
    rel = f'{clip.rel_dir}/{PSEUDO_DIR}/{int(start_frame):06d}.json'
    try:
        with open(path, encoding='utf-8') as f:
            obj = json.load(f)
    except json.JSONDecodeError as err:
        raise PseudoLabelError(f'{rel}: malformed JSON ({err})') from err
    return validate_pseudo_labels(obj, rel, clip.width, clip.height)
