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
import math
import os.path as osp
from typing import Optional

import numpy as np

from bleedorigin.datasets.bench import BenchFormatError, read_json

PSEUDO_DIR = 'pseudo_labels'
VERSION = 1


class PseudoLabelError(BenchFormatError):
    """A pseudo-label file is malformed (message names file and field)."""


def pseudo_label_path(clip_dir: str, start_frame: int) -> str:
    """Path of the pseudo-label file of the segment starting at ``start_frame``."""
    return osp.join(clip_dir, PSEUDO_DIR, f'{int(start_frame):06d}.json')


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_pseudo_labels(obj, rel: str, width: int, height: int,
                           start_frame: Optional[int] = None,
                           end_frame: Optional[int] = None) -> dict:
    """Check a decoded pseudo-label document; raise :class:`PseudoLabelError`.

    Every field is type-checked before it is used, so that any document,
    however hostile, gives a :class:`PseudoLabelError` naming the file and the
    field, never a ``TypeError`` from inside the check.

    Args:
        obj: The decoded JSON.
        rel (str): The file, for messages.
        width (int): Frame width; trajectories must stay near the frame.
        height (int): Frame height.
        start_frame (int, optional): The segment the file name promises; a
            document for another segment is refused.
        end_frame (int, optional): Expected ``end_frame`` (start + span).
    """
    if not isinstance(obj, dict):
        raise PseudoLabelError(f'{rel}: top level must be an object')
    for key in ('start_frame', 'end_frame', 'sources'):
        if key not in obj:
            raise PseudoLabelError(f'{rel}: {key} missing')
    for key in ('start_frame', 'end_frame'):
        if not _is_int(obj[key]) or obj[key] < 0:
            raise PseudoLabelError(f'{rel}: {key} {str(obj[key])[:40]} is not a frame index')
    if start_frame is not None and obj['start_frame'] != int(start_frame):
        raise PseudoLabelError(f'{rel}: start_frame {obj["start_frame"]} != {int(start_frame)} '
                               'of the file name')
    if end_frame is not None and obj['end_frame'] != int(end_frame):
        raise PseudoLabelError(f'{rel}: end_frame {obj["end_frame"]} != {int(end_frame)} '
                               '(another span)')
    length = obj['end_frame'] - obj['start_frame'] + 1
    if length < 2:
        raise PseudoLabelError(f'{rel}: end_frame must exceed start_frame')
    if not isinstance(obj['sources'], list):
        raise PseudoLabelError(f'{rel}: sources must be a list')
    for i, source in enumerate(obj['sources']):
        if not isinstance(source, dict):
            raise PseudoLabelError(f'{rel}: sources[{i}] must be an object')
        points = source.get('points', [])
        if not isinstance(points, list):
            raise PseudoLabelError(f'{rel}: sources[{i}].points must be a list')
        for j, point in enumerate(points):
            field = f'sources[{i}].points[{j}]'
            if not isinstance(point, dict):
                raise PseudoLabelError(f'{rel}: {field} must be an object')
            traj = point.get('trajectory')
            if (not isinstance(traj, list) or len(traj) != length
                    or not all(isinstance(p, list) and len(p) == 2 and all(
                        isinstance(v, int | float) and not isinstance(v, bool) for v in p)
                        for p in traj)):
                shape = (len(traj), ) if isinstance(traj, list) else type(traj).__name__
                raise PseudoLabelError(f'{rel}: {field}.trajectory shape {shape} != '
                                       f'({length}, 2) numbers')
            traj = np.asarray(traj, dtype=np.float64)
            if not np.isfinite(traj).all():
                raise PseudoLabelError(f'{rel}: {field}.trajectory not finite')
            if (traj[:, 0] < -width).any() or (traj[:, 0] > 2 * width).any() or \
                    (traj[:, 1] < -height).any() or (traj[:, 1] > 2 * height).any():
                raise PseudoLabelError(f'{rel}: {field}.trajectory far outside the '
                                       f'{width}x{height} frame')
            confidence = point.get('confidence', 1.0)
            if (not isinstance(confidence, int | float) or isinstance(confidence, bool)
                    or not math.isfinite(confidence)):
                raise PseudoLabelError(f'{rel}: {field}.confidence is not a finite number')
    return obj


def read_pseudo_labels(clip, start_frame: int, end_frame: Optional[int] = None) -> Optional[dict]:
    """Pseudo labels of ``clip`` (a ``ClipRecord``) for the segment at ``start_frame``.

    Args:
        clip (ClipRecord): The clip.
        start_frame (int): First frame of the segment (the file name).
        end_frame (int, optional): Expected last frame; a file written for
            another span is refused.

    Returns:
        dict | None: the validated document, or None if there is no regular
        file (a symlink is never followed; :func:`check_pseudo_label_file`
        reports it).

    Raises:
        PseudoLabelError: naming the file, for any unreadable, malformed or
            inconsistent file.
    """
    path = pseudo_label_path(clip.clip_dir, start_frame)
    rel = f'{clip.rel_dir}/{PSEUDO_DIR}/{int(start_frame):06d}.json'
    if osp.islink(path) or not osp.lexists(path):
        return None
    try:
        obj = read_json(path, rel)
    except BenchFormatError as err:
        raise PseudoLabelError(str(err)) from None
    doc = validate_pseudo_labels(obj, rel, clip.width, clip.height, start_frame=start_frame,
                                 end_frame=end_frame)
    if doc['end_frame'] >= clip.num_frames:
        raise PseudoLabelError(f'{rel}: end_frame {doc["end_frame"]} >= num_frames '
                               f'{clip.num_frames}')
    return doc


def check_pseudo_label_file(clip, start_frame: int, end_frame: Optional[int] = None) -> str:
    """State of one pseudo-label file before it is trusted.

    Returns:
        str: ``''`` if the file exists and is valid, ``'missing'`` if there is
        no file, otherwise the reason it cannot be trusted (one line naming the
        file: malformed, written for another segment, a symlink, ...).
    """
    path = pseudo_label_path(clip.clip_dir, start_frame)
    rel = f'{clip.rel_dir}/{PSEUDO_DIR}/{int(start_frame):06d}.json'
    if osp.islink(path):
        return f'{rel}: is a symlink (never followed)'
    if not osp.lexists(path):
        return 'missing'
    try:
        read_pseudo_labels(clip, start_frame, end_frame)
    except PseudoLabelError as err:
        return str(err)
    return ''
