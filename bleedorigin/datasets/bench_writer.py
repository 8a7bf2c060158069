"""Writers for the BleedOrigin-Bench on-disk format (``DATA_FORMAT.md``).

Every program that produces a benchmark tree (the synthetic generator,
``labelme2bench``) writes through these functions, so the files it leaves
behind are the ones :mod:`bleedorigin.datasets.bench` reads.

Writes are atomic: JSON files go through :func:`bleedorigin.utils.io.write_json_atomic`,
and a whole clip is assembled in a temporary directory that is renamed into
``clips/<patient>/<clip>`` only when it is complete (:func:`atomic_clip_dir`).
An interrupted program therefore never leaves a half-written clip inside
``clips/``; its leftovers sit in ``<data_root>/.partial/`` and are removed by
:func:`clean_partial_clips`.
"""
import contextlib
import os
import os.path as osp
import re
import shutil
import tempfile
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

from bleedorigin.utils.io import write_json_atomic  # also importable from here (old name)

ID_PATTERN = re.compile(r'^[A-Za-z0-9_-]+$')
SPLIT_NAMES = ('train', 'val', 'test')
CLIP_REQUIRED_KEYS = ('clip_id', 'patient_id', 'fps', 'num_frames', 'width', 'height', 'video',
                      'onset_frame', 'site', 'scenarios', 'annotation_stride', 'source')
SOURCE_LABEL = 'bleeding_source'
LABELME_VERSION = '5.4.1'
PARTIAL_DIR = '.partial'


def _check_id(value: str, what: str) -> None:
    if not isinstance(value, str) or not ID_PATTERN.match(value):
        raise ValueError(f'{what} {value!r} must match [A-Za-z0-9_-]+')


def write_splits(data_root: str, splits: Dict[str, List[str]]) -> str:
    """Write ``<data_root>/splits.json`` (patient-level split).

    Args:
        data_root (str): Benchmark root (created if missing).
        splits (dict[str, list[str]]): ``train``/``val``/``test`` -> patient ids.

    Returns:
        str: Path of the written file.

    Raises:
        ValueError: Unknown split name, malformed patient id or a patient listed twice.
    """
    seen: Dict[str, str] = {}
    for name, patients in splits.items():
        if name not in SPLIT_NAMES:
            raise ValueError(f'splits.json: split {name!r} is not one of {SPLIT_NAMES}')
        for patient_id in patients:
            _check_id(patient_id, f'splits.json: {name} patient_id')
            if patient_id in seen:
                raise ValueError(f'splits.json: patient {patient_id} is in both '
                                 f'{seen[patient_id]} and {name}')
            seen[patient_id] = name
    os.makedirs(data_root, exist_ok=True)
    path = osp.join(data_root, 'splits.json')
    write_json_atomic(path, {name: list(splits.get(name, [])) for name in SPLIT_NAMES})
    return path


def write_clip_json(clip_dir: str, meta: dict) -> str:
    """Write ``clip.json`` into ``clip_dir`` after checking the required fields.

    Args:
        clip_dir (str): The clip folder (or the temporary folder of
            :func:`atomic_clip_dir`).
        meta (dict): Clip metadata with every key of ``DATA_FORMAT.md``; extra
            keys are written unchanged.

    Returns:
        str: Path of the written file.
    """
    path = osp.join(clip_dir, 'clip.json')
    missing = [key for key in CLIP_REQUIRED_KEYS if key not in meta]
    if missing:
        raise ValueError(f'{path}: missing field(s) {", ".join(missing)}')
    _check_id(meta['clip_id'], f'{path}: clip_id')
    _check_id(meta['patient_id'], f'{path}: patient_id')
    num_frames = meta['num_frames']
    if not isinstance(num_frames, int) or num_frames <= 0:
        raise ValueError(f'{path}: num_frames {num_frames!r} must be a positive int')
    onset = meta['onset_frame']
    if onset is not None and not (isinstance(onset, int) and 0 <= onset < num_frames):
        raise ValueError(f'{path}: onset_frame {onset!r} must be null or in [0, {num_frames})')
    write_json_atomic(path, dict(meta))
    return path


def labelme_document(sources: Iterable[Tuple[Optional[int], float, float]], width: int,
                     height: int, image_path: str) -> dict:
    """Build a LabelMe 5.x document with one ``bleeding_source`` point per source.

    Args:
        sources (Iterable[tuple]): ``(group_id, x, y)`` in original-frame pixels;
            empty for a frame in which the source is not visible.
        width (int): Image width in pixels.
        height (int): Image height in pixels.
        image_path (str): Value of ``imagePath`` (informative only).

    Returns:
        dict: The LabelMe document.
    """
    shapes = []
    for group_id, x, y in sources:
        if not (0 <= x <= width and 0 <= y <= height):
            raise ValueError(f'{image_path}: bleeding_source ({x:.1f}, {y:.1f}) is outside '
                             f'the {width}x{height} image')
        shapes.append({'label': SOURCE_LABEL, 'points': [[round(float(x), 2), round(float(y), 2)]],
                           'group_id': None if group_id is None else int(group_id),
                           'shape_type': 'point', 'flags': {}, 'description': ''})
    return {'version': LABELME_VERSION, 'flags': {}, 'shapes': shapes, 'imagePath': image_path,
                'imageData': None, 'imageHeight': int(height), 'imageWidth': int(width)}


def write_labelme(path: str, sources: Sequence[Tuple[Optional[int], float, float]], width: int,
                  height: int, image_path: str) -> str:
    """Write one LabelMe annotation file (see :func:`labelme_document`).

    Args:
        path (str): Destination, ``<clip>/annotations/NNNNNN.json``; its folder
            is created if missing.
        sources (Sequence[tuple]): ``(group_id, x, y)`` per visible source.
        width (int): Image width.
        height (int): Image height.
        image_path (str): ``imagePath`` value, e.g. ``'../frames/000120.jpg'``.

    Returns:
        str: ``path``.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    write_json_atomic(path, labelme_document(sources, width, height, image_path))
    return path


def write_dense_gt(clip_dir: str, dense: dict) -> str:
    """Write ``dense_gt.json`` after checking that every per-frame list has one length.

    Args:
        clip_dir (str): The clip folder.
        dense (dict): ``{'sources': [{'group_id', 'points', 'visible'}], 'bleeding': [...]}``
            with one entry per frame in ``points``, ``visible`` and ``bleeding``.

    Returns:
        str: Path of the written file.
    """
    path = osp.join(clip_dir, 'dense_gt.json')
    if 'sources' not in dense or 'bleeding' not in dense:
        raise ValueError(f'{path}: needs the fields sources and bleeding')
    num_frames = len(dense['bleeding'])
    sources = []
    for i, source in enumerate(dense['sources']):
        for key in ('points', 'visible'):
            if len(source[key]) != num_frames:
                raise ValueError(f'{path}: sources[{i}].{key} has {len(source[key])} entries, '
                                 f'bleeding has {num_frames}')
        points = [None if p is None else [round(float(p[0]), 2), round(float(p[1]), 2)]
                  for p in source['points']]
        sources.append({'group_id': source.get('group_id', i), 'points': points,
                            'visible': [bool(v) for v in source['visible']]})
    write_json_atomic(path, {'sources': sources, 'bleeding': [bool(b) for b in dense['bleeding']]})
    return path


def clip_path(data_root: str, patient_id: str, clip_id: str) -> str:
    """Return ``<data_root>/clips/<patient_id>/<clip_id>``."""
    return osp.join(data_root, 'clips', patient_id, clip_id)


def clean_partial_clips(data_root: str) -> int:
    """Remove the leftovers of interrupted :func:`atomic_clip_dir` blocks.

    Only call this when no other writer is working on ``data_root``.

    Returns:
        int: Number of removed temporary clip folders.
    """
    partial_root = osp.join(data_root, PARTIAL_DIR)
    if not osp.isdir(partial_root):
        return 0
    removed = len(os.listdir(partial_root))
    shutil.rmtree(partial_root, ignore_errors=True)
    return removed


@contextlib.contextmanager
def atomic_clip_dir(data_root: str, patient_id: str, clip_id: str) -> Iterator[str]:
    """Assemble a clip in a temporary folder and publish it only on success.

    The temporary folder lives in ``<data_root>/.partial/`` (same file system,
    outside ``clips/`` so readers never see it). When the ``with`` block ends
    without an exception it is renamed to ``clips/<patient_id>/<clip_id>``;
    otherwise it is deleted.

    Args:
        data_root (str): Benchmark root.
        patient_id (str): Patient id (``[A-Za-z0-9_-]+``).
        clip_id (str): Clip id (``[A-Za-z0-9_-]+``).

    Yields:
        str: The temporary clip folder to write into.

    Raises:
        FileExistsError: The final clip folder already exists.
    """
    _check_id(patient_id, 'patient_id')
    _check_id(clip_id, 'clip_id')
    final_dir = clip_path(data_root, patient_id, clip_id)
    if osp.exists(final_dir):
        raise FileExistsError(f'{final_dir}: clip folder already exists')
    partial_root = osp.join(data_root, PARTIAL_DIR)
    os.makedirs(partial_root, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=f'{patient_id}__{clip_id}.', dir=partial_root)
    try:
        yield tmp_dir
        os.makedirs(osp.dirname(final_dir), exist_ok=True)
        os.rename(tmp_dir, final_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
