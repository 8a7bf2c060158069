"""Reader of the BleedOrigin-Bench on-disk format (``DATA_FORMAT.md``).

The one loader of the project: every dataset, tool and benchmark indexes a data
root through :class:`BenchIndex` and reads frames, annotations and dense ground
truth through :class:`ClipRecord`.

Layout::

    <data_root>/splits.json
    <data_root>/clips/<patient_id>/<clip_dir>/clip.json
                                             /frames/000000.jpg|png ...  or  video.mp4
                                             /annotations/000120.json   (LabelMe, point shapes)
                                             /dense_gt.json              (optional)

Indexing is cheap: frames are listed, not decoded (a frame's size is read from
its header), videos are opened for their metadata only. A clip that breaks the
format is skipped with a warning and reported in :attr:`BenchIndex.broken`
(``strict=True`` raises instead). Problems that concern the whole tree (a
missing or malformed ``splits.json``, a patient in two splits) always raise
:class:`BenchFormatError`. No path is ever followed out of the data root:
symlinked patient/clip folders, frames, videos or annotations that resolve
outside it are rejected, and ``imagePath``/``imageData`` of LabelMe files are
never used.
"""
from __future__ import annotations

import json
import math
import os
import os.path as osp
import re
import stat
import warnings
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence

import numpy as np

ID_PATTERN = re.compile(r'^[A-Za-z0-9_-]+$')
FRAME_NAME_PATTERN = re.compile(r'^(\d{6})\.(jpg|jpeg|png)$', re.IGNORECASE)
ANNOTATION_NAME_PATTERN = re.compile(r'^(\d{6})\.json$')
DIGITS_JSON_PATTERN = re.compile(r'^\d+\.json$')

SITES = ('gastric_antrum', 'gastric_body', 'duodenum', 'ascending_colon', 'esophagus',
         'sigmoid_colon', 'cardia', 'lesser_curvature')
SCENARIOS = ('clear_view', 'obscure_view', 'camera_jitter', 'light_reflection',
             'water_flushing', 'instrument_interference')
SOURCE_LABEL = 'bleeding_source'
KNOWN_CLIP_KEYS = ('clip_id', 'patient_id', 'fps', 'num_frames', 'width', 'height', 'video',
                   'onset_frame', 'site', 'scenarios', 'annotation_stride', 'source')
DEFAULT_ANNOTATION_STRIDE = 30
# Bounds on what a clip.json may claim, so that no claim can make a reader
# allocate without limit: 10 million frames is 46 hours at 60 fps, and 32768
# px is four times the width of 8K video.
MAX_NUM_FRAMES = 10_000_000
MAX_FRAME_SIDE = 32768
# JSON files larger than this are refused unread (a dense_gt.json of a
# 100,000-frame clip with ten sources is ~30 MB).
MAX_JSON_BYTES = 256 * 1024 * 1024
REQUIRED_CLIP_KEYS = ('clip_id', 'patient_id', 'fps', 'num_frames', 'width', 'height', 'video',
                      'onset_frame')


class BenchFormatError(ValueError):
    """A file of the data tree breaks ``DATA_FORMAT.md``.

    The message reads ``'<path>: <field> <problem>'`` with ``path`` relative to
    the data root, e.g. ``clips/P09/C004/clip.json: onset_frame 180 >=
    num_frames 150``.

    Args:
        path (str): File or folder the problem is in (relative to the data root
            where possible). If ``field`` and ``problem`` are omitted it is
            taken as the complete message.
        field (str, optional): The offending key or part of the file.
        problem (str, optional): What is wrong with it.
    """

    def __init__(self, path: str, field: Optional[str] = None, problem: Optional[str] = None):
        if field is None and problem is None:
            message = str(path)
        else:
            message = f'{path}: {field} {problem}' if field else f'{path}: {problem}'
        super().__init__(message)
        self.path = path
        self.field = field
        self.problem = problem


@dataclass
class SourcePoint:
    """One annotated bleeding source in one frame.

    Args:
        group_id (int): Identity of the source within its clip (LabelMe
            ``group_id``; ``null`` counts as 0).
        x (float): Column in original-frame pixels (origin at the top-left
            corner of the top-left pixel).
        y (float): Row in original-frame pixels.
    """

    group_id: int
    x: float
    y: float


@dataclass
class BrokenClip:
    """A clip skipped by :class:`BenchIndex`.

    Args:
        clip (str): The clip folder relative to the data root
            (``clips/P09/C004``).
        reason (str): The :class:`BenchFormatError` message.
    """

    clip: str
    reason: str


@dataclass
class ClipRecord:
    """Validated metadata and annotations of one clip.

    ``annotations`` maps a frame index to the sources visible in that frame;
    an empty list is a frame labelled "source invisible". Frames without an
    entry are unlabelled.
    """

    clip_id: str
    patient_id: str
    split: Optional[str]
    clip_dir: str
    fps: float
    num_frames: int
    width: int
    height: int
    video: str
    onset_frame: Optional[int]
    site: Optional[str]
    scenarios: List[str]
    annotation_stride: int
    source: str
    extra: Dict[str, Any] = field(default_factory=dict)
    annotations: Dict[int, List[SourcePoint]] = field(default_factory=dict)
    has_dense_gt: bool = False
    rel_dir: str = ''
    frame_files: Optional[List[str]] = field(default=None, repr=False)

    @property
    def annotated_frames(self) -> List[int]:
        """Sorted indices of the frames that have an annotation file."""
        return sorted(self.annotations)

    @property
    def is_positive(self) -> bool:
        """Whether bleeding starts in this clip (``onset_frame`` is set)."""
        return self.onset_frame is not None

    def sources_at(self, frame_index: int) -> Optional[List[SourcePoint]]:
        """The sources annotated at ``frame_index``; ``None`` if unlabelled."""
        return self.annotations.get(frame_index)

    def frame_path(self, frame_index: int) -> str:
        """Absolute path of one frame image (``video == 'frames'`` only)."""
        if self.video != 'frames' or self.frame_files is None:
            raise ValueError(f'{self.rel_dir}: video is {self.video!r}, frames have no files')
        self._check_index(frame_index)
        return osp.join(self.clip_dir, 'frames', self.frame_files[frame_index])

    def _check_index(self, frame_index: int) -> None:
        if not 0 <= int(frame_index) < self.num_frames:
            raise IndexError(f'{self.rel_dir}: frame {frame_index} outside '
                             f'[0, {self.num_frames})')

    def load_frames(self, indices: Optional[Iterable[int]] = None) -> np.ndarray:
        """Decode frames of the clip.

        Args:
            indices (Iterable[int], optional): Frame indices in the order
                wanted (repeats allowed). Default: every frame.

        Returns:
            np.ndarray: (T, H, W, 3) uint8 RGB frames, T = len(indices).
        """
        indices = list(range(self.num_frames)) if indices is None else [int(i) for i in indices]
        for index in indices:
            self._check_index(index)
        out = np.empty((len(indices), self.height, self.width, 3), dtype=np.uint8)
        if not indices:
            return out
        if self.video == 'frames':
            for slot, index in enumerate(indices):
                out[slot] = self._read_image(index)
        else:
            decoded = self._read_video(sorted(set(indices)))
            for slot, index in enumerate(indices):
                out[slot] = decoded[index]
        return out

    def _read_image(self, frame_index: int) -> np.ndarray:
        import cv2

        rel = f'{self.rel_dir}/frames/{self.frame_files[frame_index]}'
        bgr = cv2.imread(self.frame_path(frame_index), cv2.IMREAD_COLOR)
        if bgr is None:
            raise BenchFormatError(rel, 'image', 'cannot be decoded')
        if bgr.shape[:2] != (self.height, self.width):
            raise BenchFormatError(
                rel, 'size', f'{bgr.shape[1]}x{bgr.shape[0]} != clip.json width x height '
                f'{self.width}x{self.height}')
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def _read_video(self, wanted: Sequence[int]) -> Dict[int, np.ndarray]:
        """Decode the sorted unique ``wanted`` frames, seeking over long gaps."""
        import cv2

        rel = f'{self.rel_dir}/{self.video}'
        capture = cv2.VideoCapture(osp.join(self.clip_dir, self.video))
        if not capture.isOpened():
            raise BenchFormatError(rel, 'video', 'cannot be opened')
        decoded: Dict[int, np.ndarray] = {}
        position = 0
        try:
            for index in wanted:
                if index - position > 2 * max(int(self.fps), 1):
                    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
                    position = int(capture.get(cv2.CAP_PROP_POS_FRAMES))
                while position < index:
                    if not capture.grab():
                        raise BenchFormatError(rel, f'frame {position}', 'cannot be decoded')
                    position += 1
                ok, bgr = capture.read()
                if not ok or bgr is None:
                    raise BenchFormatError(rel, f'frame {index}', 'cannot be decoded')
                position += 1
                if bgr.shape[:2] != (self.height, self.width):
                    raise BenchFormatError(
                        rel, 'size', f'{bgr.shape[1]}x{bgr.shape[0]} != clip.json width x '
                        f'height {self.width}x{self.height}')
                decoded[index] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        finally:
            capture.release()
        return decoded

    def load_dense_gt(self) -> Optional[dict]:
        """Read and validate ``dense_gt.json``.

        Returns:
            dict | None: ``{'sources': [{'group_id', 'points', 'visible'}],
            'bleeding': [...]}`` with one entry per frame, or ``None`` if the
            clip has no dense ground truth.
        """
        if not self.has_dense_gt:
            return None
        rel = f'{self.rel_dir}/dense_gt.json'
        return validate_dense_gt(read_json(osp.join(self.clip_dir, 'dense_gt.json'), rel), rel,
                                 self.num_frames, self.width, self.height)

    def _frame_range(self, start: int, stop: Optional[int]) -> range:
        stop = self.num_frames if stop is None else int(stop)
        if not 0 <= int(start) <= stop <= self.num_frames:
            raise IndexError(f'{self.rel_dir}: frame range [{start}, {stop}) outside '
                             f'[0, {self.num_frames}]')
        return range(int(start), stop)

    def sparse_tracks(self, group_ids: Sequence[int], start: int = 0,
                      stop: Optional[int] = None) -> Dict[str, np.ndarray]:
        """The annotated points of sources ``group_ids`` on frames [start, stop) as arrays.

        Note:
            T = stop - start, K = len(group_ids).

        Args:
            group_ids (Sequence[int]): The sources, one column each, in this order.
            start (int): First frame. Defaults to 0.
            stop (int, optional): One past the last frame. Default: ``num_frames``.

        Returns:
            dict: ``points`` (T, K, 2) float64, NaN where the source is not
            annotated as visible; ``visible`` (T, K) bool, annotated there;
            ``labelled`` (T, K) bool, the frame has an annotation file (a
            labelled frame without the source says "invisible");
            ``group_ids`` (K,) int64.
        """
        frames = self._frame_range(start, stop)
        group_ids = [int(g) for g in group_ids]
        points = np.full((len(frames), len(group_ids), 2), np.nan, np.float64)
        visible = np.zeros((len(frames), len(group_ids)), bool)
        labelled = np.zeros((len(frames), len(group_ids)), bool)
        for frame, sources in self.annotations.items():
            if frame not in frames:
                continue
            by_group = {s.group_id: s for s in sources}
            row = frame - frames.start
            labelled[row] = True
            for k, group in enumerate(group_ids):
                if group in by_group:
                    points[row, k] = (by_group[group].x, by_group[group].y)
                    visible[row, k] = True
        return dict(points=points, visible=visible, labelled=labelled,
                    group_ids=np.array(group_ids, np.int64))

    def dense_tracks(self, group_ids: Optional[Sequence[int]] = None, start: int = 0,
                     stop: Optional[int] = None) -> Optional[Dict[str, np.ndarray]]:
        """``dense_gt.json`` on frames [start, stop) as arrays.

        Note:
            T = stop - start, K = number of sources.

        Args:
            group_ids (Sequence[int], optional): The sources, one column each, in
                this order (a group the file lacks gives an undefined column).
                Default: every source of the file, in file order.
            start (int): First frame. Defaults to 0.
            stop (int, optional): One past the last frame. Default: ``num_frames``.

        Returns:
            dict | None: ``points`` (T, K, 2) float64, NaN where the source does
            not exist; ``defined`` (T, K) bool, it exists there; ``visible``
            (T, K) bool, it exists and is visible; ``group_ids`` (K,) int64.
            ``None`` if the clip has no dense ground truth.
        """
        dense = self.load_dense_gt()
        if dense is None:
            return None
        frames = self._frame_range(start, stop)
        by_group = {int(s['group_id']): s for s in dense['sources']}
        if group_ids is None:
            group_ids = [int(s['group_id']) for s in dense['sources']]
        group_ids = [int(g) for g in group_ids]
        points = np.full((len(frames), len(group_ids), 2), np.nan, np.float64)
        visible = np.zeros((len(frames), len(group_ids)), bool)
        for k, group in enumerate(group_ids):
            source = by_group.get(group)
            if source is None:
                continue
            for row, frame in enumerate(frames):
                point = source['points'][frame]
                if point is not None:
                    points[row, k] = point
                    visible[row, k] = bool(source['visible'][frame])
        return dict(points=points, defined=np.isfinite(points).all(axis=-1), visible=visible,
                    group_ids=np.array(group_ids, np.int64))

    def onset_sources(self) -> List[SourcePoint]:
        """The ground-truth bleeding sources on the onset frame, sorted by group id.

        The annotation of the onset frame; without one, the sources that
        ``dense_gt.json`` defines there. Empty for a negative clip or when
        neither says where the source is. Every consumer of "where bleeding
        started" (the source metric, the benchmark, the priors, the tracking
        start of the evaluations) asks this method.
        """
        if self.onset_frame is None:
            return []
        annotated = self.annotations.get(self.onset_frame)
        if annotated:
            return sorted(annotated, key=lambda s: s.group_id)
        dense = self.dense_tracks(start=self.onset_frame, stop=self.onset_frame + 1)
        if dense is None:
            return []
        return sorted((SourcePoint(int(g), float(p[0]), float(p[1]))
                       for g, p, ok in zip(dense['group_ids'], dense['points'][0],
                                           dense['defined'][0]) if ok),
                      key=lambda s: s.group_id)


def read_json(path: str, rel: Optional[str] = None, top_level: Optional[type] = dict,
              max_bytes: Optional[int] = None) -> Any:
    """Read one JSON file of the data tree; every failure is a :class:`BenchFormatError`.

    The one JSON reader of the project's data files (clip.json, splits.json,
    LabelMe annotations, dense_gt.json, pseudo labels): whatever the file holds
    (nothing, binary data, invalid UTF-8, a syntax error, nesting deep enough to
    exhaust the parser's recursion, a 5,000-digit number, gigabytes), the
    caller gets one error naming the file, never a traceback from ``json``.

    Args:
        path (str): File to read.
        rel (str, optional): Its name in messages (relative to the data root).
            Default: ``path``.
        top_level (type, optional): Type the document must have (``dict`` by
            default: every format of DATA_FORMAT.md is an object); ``None``
            accepts any JSON value.
        max_bytes (int, optional): Refuse larger files without reading them.
            Default: :data:`MAX_JSON_BYTES`.

    Returns:
        Any: The parsed document.

    Raises:
        BenchFormatError: ``'<rel>: missing'``, ``'<rel>: unreadable (...)'``,
            ``'<rel>: JSON malformed (...)'`` or ``'<rel>: top level is not an
            object'``.
    """
    rel = path if rel is None else rel
    limit = MAX_JSON_BYTES if max_bytes is None else int(max_bytes)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):  # a FIFO would block the reader forever
            kind = 'a directory' if stat.S_ISDIR(info.st_mode) else 'a device, FIFO or socket'
            raise BenchFormatError(rel, '', f'is not a regular file ({kind})')
        if info.st_size > limit:
            raise BenchFormatError(rel, '', f'too large ({info.st_size} bytes > {limit}); '
                                   'not read')
        with open(path, 'rb') as f:
            data = f.read(info.st_size + 1)  # not read(limit): that allocates the limit
            if len(data) > info.st_size:  # growing while we read it
                data += f.read(limit + 1 - len(data))
        if len(data) > limit:
            raise BenchFormatError(rel, '', f'too large (> {limit} bytes); not read')
        obj = json.loads(data.decode('utf-8'))
    except BenchFormatError:
        raise
    except FileNotFoundError:
        raise BenchFormatError(rel, '', 'missing') from None
    except UnicodeDecodeError as exc:
        raise BenchFormatError(rel, 'JSON', f'malformed (not UTF-8: {exc.reason} at byte '
                               f'{exc.start})') from None
    except json.JSONDecodeError as exc:
        raise BenchFormatError(rel, 'JSON', f'malformed ({exc})') from None
    except RecursionError:
        raise BenchFormatError(rel, 'JSON', 'malformed (nested too deeply to parse)') from None
    except (ValueError, TypeError, OverflowError) as exc:
        # e.g. an integer literal longer than Python's int_max_str_digits
        raise BenchFormatError(rel, 'JSON', f'malformed ({str(exc).splitlines()[0]})') from None
    except MemoryError:
        raise BenchFormatError(rel, 'JSON', 'malformed (too large to parse)') from None
    except OSError as exc:
        raise BenchFormatError(rel, '', f'unreadable ({exc.strerror or exc})') from None
    if top_level is not None and not isinstance(obj, top_level):
        what = 'an object' if top_level is dict else f'a {top_level.__name__}'
        raise BenchFormatError(rel, 'top level', f'is not {what} (got {type(obj).__name__})')
    return obj


def _short(value: Any, limit: int = 60) -> str:
    """``repr(value)`` cut to ``limit`` characters, for messages about hostile values."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):  # an int too long to print, a deep structure
        text = f'<{type(value).__name__}>'
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def _check_inside(path: str, root_real: str, rel: str, what: str) -> None:
    """Refuse ``path`` if it resolves (through symlinks) outside the root."""
    real = osp.realpath(path)
    if real != root_real and not real.startswith(root_real + os.sep):
        raise BenchFormatError(rel, what, 'resolves outside the data root (symlink refused)')


def _point_inside(x: float, y: float, width: int, height: int) -> bool:
    return 0.0 <= x <= width and 0.0 <= y <= height


def validate_dense_gt(dense: Any, rel: str, num_frames: int, width: int,
                      height: int) -> dict:
    """Check the structure of a parsed ``dense_gt.json`` and return it.

    Args:
        dense (Any): The parsed JSON.
        rel (str): Its path, for messages.
        num_frames (int): Frames of the clip; every list has this length.
        width (int): Frame width; points must lie inside the image.
        height (int): Frame height.

    Returns:
        dict: ``dense`` with ``group_id`` null normalised to 0.
    """
    if not isinstance(dense, dict):
        raise BenchFormatError(rel, 'top level', 'is not an object')
    sources = dense.get('sources')
    if not isinstance(sources, list):
        raise BenchFormatError(rel, 'sources', 'missing or not a list')
    for k, source in enumerate(sources):
        key = f'sources[{k}]'
        if not isinstance(source, dict):
            raise BenchFormatError(rel, key, 'is not an object')
        group_id = source.get('group_id')
        if group_id is None:
            source['group_id'] = 0
        elif not _is_int(group_id):
            raise BenchFormatError(rel, f'{key}.group_id', f'{_short(group_id)} is not an integer')
        points, visible = source.get('points'), source.get('visible')
        if not isinstance(points, list) or len(points) != num_frames:
            raise BenchFormatError(rel, f'{key}.points',
                                   f'must be a list of num_frames {num_frames} entries')
        if not isinstance(visible, list) or len(visible) != num_frames:
            raise BenchFormatError(rel, f'{key}.visible',
                                   f'must be a list of num_frames {num_frames} entries')
        for t, point in enumerate(points):
            if point is None:
                continue
            if (not isinstance(point, list | tuple) or len(point) != 2
                    or not all(_is_number(v) for v in point)):
                raise BenchFormatError(rel, f'{key}.points[{t}]', f'{_short(point)} is not [x, y]')
        for t, flag in enumerate(visible):
            if not isinstance(flag, bool):
                raise BenchFormatError(rel, f'{key}.visible[{t}]', f'{_short(flag)} is not a bool')
    bleeding = dense.get('bleeding')
    if bleeding is not None:
        if not isinstance(bleeding, list) or len(bleeding) != num_frames:
            raise BenchFormatError(rel, 'bleeding',
                                   f'must be a list of num_frames {num_frames} entries')
    return dense


def parse_labelme(obj: Any, rel: str, width: int, height: int) -> List[SourcePoint]:
    """Extract the bleeding-source points of one parsed LabelMe file.

    Args:
        obj (Any): The parsed JSON.
        rel (str): Its path, for messages.
        width (int): Frame width; points must lie in ``[0, width]``.
        height (int): Frame height; points must lie in ``[0, height]``.

    Returns:
        list[SourcePoint]: The sources, sorted by ``group_id``; empty if the
        frame has no ``bleeding_source`` point (labelled invisible).
    """
    if not isinstance(obj, dict):
        raise BenchFormatError(rel, 'top level', 'is not an object')
    for key, expected in (('imageWidth', width), ('imageHeight', height)):
        value = obj.get(key)
        if value is not None and (not _is_number(value) or int(value) != expected):
            raise BenchFormatError(rel, key, f'{_short(value)} != clip.json size {width}x{height}')
    shapes = obj.get('shapes')
    if not isinstance(shapes, list):
        raise BenchFormatError(rel, 'shapes', 'missing or not a list')
    sources: Dict[int, SourcePoint] = {}
    for k, shape in enumerate(shapes):
        if not isinstance(shape, dict):
            raise BenchFormatError(rel, f'shapes[{k}]', 'is not an object')
        if shape.get('label') != SOURCE_LABEL:
            continue
        points = shape.get('points')
        shape_type = shape.get('shape_type')
        if shape_type is None and isinstance(points, list) and len(points) == 1:
            shape_type = 'point'
        if shape_type != 'point':
            continue
        if (not isinstance(points, list) or len(points) != 1
                or not isinstance(points[0], list | tuple) or len(points[0]) != 2
                or not all(_is_number(v) for v in points[0])):
            raise BenchFormatError(rel, f'shapes[{k}].points', f'{_short(points)} is not [[x, y]]')
        x, y = float(points[0][0]), float(points[0][1])
        if not _point_inside(x, y, width, height):
            raise BenchFormatError(rel, f'shapes[{k}].points',
                                   f'({x:g}, {y:g}) outside the image {width}x{height}')
        group_id = shape.get('group_id')
        if group_id is None:
            group_id = 0
        elif not _is_int(group_id):
            raise BenchFormatError(rel, f'shapes[{k}].group_id',
                                   f'{_short(group_id)} is not an integer')
        if group_id in sources:
            raise BenchFormatError(rel, f'shapes[{k}].group_id',
                                   f'{group_id} appears twice in one frame')
        sources[group_id] = SourcePoint(int(group_id), x, y)
    return [sources[g] for g in sorted(sources)]


def read_splits(data_root: str) -> Dict[str, List[str]]:
    """Read and validate ``splits.json`` (errors concern the whole tree).

    Returns:
        dict[str, list[str]]: Split name -> patient ids.
    """
    splits = read_json(osp.join(data_root, 'splits.json'), 'splits.json')
    owner: Dict[str, str] = {}
    for split, patients in splits.items():
        if not isinstance(patients, list):
            raise BenchFormatError('splits.json', split, 'is not a list of patient ids')
        for patient in patients:
            if not isinstance(patient, str) or not ID_PATTERN.match(patient):
                raise BenchFormatError('splits.json', split,
                                       f'patient id {_short(patient)} does not match '
                                       '[A-Za-z0-9_-]+')
            if patient in owner:
                where = (f'both {owner[patient]!r} and {split!r}' if owner[patient] != split
                         else f'{split!r} twice')
                raise BenchFormatError('splits.json', f'patient {patient}', f'is in {where}')
            owner[patient] = split
    return splits


class BenchIndex:
    """Index of a BleedOrigin-Bench data root.

    Args:
        data_root (str): Folder holding ``splits.json`` and ``clips/``.
        split (str, optional): Keep only the clips of this split (``train``,
            ``val``, ``test``). Default: every clip of every split.
        strict (bool): Raise :class:`BenchFormatError` on the first broken
            clip instead of skipping it. Default: False.

    Attributes:
        clips (list[ClipRecord]): Valid clips, sorted by patient and clip.
        broken (list[BrokenClip]): Skipped clips with their reasons.
        splits (dict[str, list[str]]): The content of ``splits.json``.
    """

    def __init__(self, data_root: str, split: Optional[str] = None, strict: bool = False):
        self.data_root = osp.abspath(data_root)
        self.split = split
        self.strict = strict
        if not osp.isdir(self.data_root):
            raise BenchFormatError(data_root, '', 'data root is not a directory')
        self._root_real = osp.realpath(self.data_root)
        self.splits = read_splits(self.data_root)
        if split is not None and split not in self.splits:
            raise BenchFormatError('splits.json', split,
                                   f'split not found (have {sorted(self.splits)})')
        self.patient_split = {p: s for s, ps in self.splits.items() for p in ps}
        self.clips: List[ClipRecord] = []
        self.broken: List[BrokenClip] = []
        self._index()

    def __len__(self) -> int:
        return len(self.clips)

    def __iter__(self):
        return iter(self.clips)

    def __getitem__(self, index: int) -> ClipRecord:
        return self.clips[index]

    def _fail(self, rel_dir: str, error: BenchFormatError) -> None:
        if self.strict:
            raise error
        self.broken.append(BrokenClip(rel_dir, str(error)))
        warnings.warn(f'skipping broken clip: {error}', stacklevel=3)

    def _index(self) -> None:
        clips_root = osp.join(self.data_root, 'clips')
        if not osp.isdir(clips_root):
            raise BenchFormatError('clips', '', 'folder missing')
        _check_inside(clips_root, self._root_real, 'clips', 'folder')
        seen_ids: Dict[str, str] = {}
        for patient in sorted(os.listdir(clips_root)):
            patient_dir = osp.join(clips_root, patient)
            rel_patient = f'clips/{patient}'
            if not osp.isdir(patient_dir):
                continue
            if self.split is not None and self.patient_split.get(patient) != self.split:
                continue
            try:
                if not ID_PATTERN.match(patient):
                    raise BenchFormatError(rel_patient, 'patient folder',
                                           'name does not match [A-Za-z0-9_-]+')
                _check_inside(patient_dir, self._root_real, rel_patient, 'patient folder')
            except BenchFormatError as error:
                self._fail(rel_patient, error)
                continue
            for clip_name in sorted(os.listdir(patient_dir)):
                clip_dir = osp.join(patient_dir, clip_name)
                if not osp.isdir(clip_dir):
                    continue
                rel_dir = f'{rel_patient}/{clip_name}'
                try:
                    record = self._read_clip(patient, clip_name, clip_dir, rel_dir)
                    if record.clip_id in seen_ids:
                        raise BenchFormatError(
                            f'{rel_dir}/clip.json', 'clip_id',
                            f'{record.clip_id!r} already used by {seen_ids[record.clip_id]}')
                except BenchFormatError as error:
                    self._fail(rel_dir, error)
                    continue
                seen_ids[record.clip_id] = rel_dir
                self.clips.append(record)
        if self.broken:
            warnings.warn(f'{self.data_root}: skipped {len(self.broken)} broken clip(s), '
                          f'kept {len(self.clips)}', stacklevel=2)

    def _read_clip(self, patient: str, clip_name: str, clip_dir: str,
                   rel_dir: str) -> ClipRecord:
        if not ID_PATTERN.match(clip_name):
            raise BenchFormatError(rel_dir, 'clip folder', 'name does not match [A-Za-z0-9_-]+')
        _check_inside(clip_dir, self._root_real, rel_dir, 'clip folder')
        rel_json = f'{rel_dir}/clip.json'
        json_path = osp.join(clip_dir, 'clip.json')
        if osp.lexists(json_path):
            _check_inside(json_path, self._root_real, rel_json, 'file')
        meta = read_json(json_path, rel_json)
        missing = [key for key in REQUIRED_CLIP_KEYS if key not in meta]
        if missing:  # all of them at once, not one per run of the checker
            raise BenchFormatError(rel_json, ', '.join(missing), 'missing')
        clip_id, patient_id = meta['clip_id'], meta['patient_id']
        for key, value in (('clip_id', clip_id), ('patient_id', patient_id)):
            if not isinstance(value, str) or not ID_PATTERN.match(value):
                raise BenchFormatError(rel_json, key,
                                       f'{_short(value)} does not match [A-Za-z0-9_-]+')
        if patient_id != patient:
            raise BenchFormatError(rel_json, 'patient_id',
                                   f'{_short(patient_id)} != patient folder {_short(patient)}')
        if patient not in self.patient_split:
            raise BenchFormatError(rel_json, 'patient_id',
                                   f'{patient!r} is not listed in splits.json')
        for key, bound in (('num_frames', MAX_NUM_FRAMES), ('width', MAX_FRAME_SIDE),
                           ('height', MAX_FRAME_SIDE)):
            if not _is_int(meta[key]) or meta[key] <= 0:
                raise BenchFormatError(rel_json, key, f'{_short(meta[key])} is not a positive '
                                       'integer')
            if meta[key] > bound:
                raise BenchFormatError(rel_json, key, f'{meta[key]} exceeds the limit {bound} '
                                       '(refused unread, not allocated)')
        if not _is_number(meta['fps']) or meta['fps'] <= 0:
            raise BenchFormatError(rel_json, 'fps',
                                   f'{_short(meta["fps"])} is not a positive number')
        num_frames, width, height = meta['num_frames'], meta['width'], meta['height']
        onset = meta['onset_frame']
        if onset is not None:
            if not _is_int(onset):
                raise BenchFormatError(rel_json, 'onset_frame',
                                       f'{_short(onset)} is not an integer')
            if onset < 0:
                raise BenchFormatError(rel_json, 'onset_frame', f'{onset} < 0')
            if onset >= num_frames:
                raise BenchFormatError(rel_json, 'onset_frame',
                                       f'{onset} >= num_frames {num_frames}')
        site = meta.get('site')
        if site is not None and site not in SITES:
            raise BenchFormatError(rel_json, 'site',
                                   f'{_short(site)} is not one of {", ".join(SITES)}')
        scenarios = meta.get('scenarios', [])
        if scenarios is None:
            scenarios = []
        if not isinstance(scenarios, list):
            raise BenchFormatError(rel_json, 'scenarios', 'is not a list')
        for scenario in scenarios:
            if scenario not in SCENARIOS:
                raise BenchFormatError(rel_json, 'scenarios',
                                       f'{_short(scenario)} is not one of {", ".join(SCENARIOS)}')
        stride = meta.get('annotation_stride', DEFAULT_ANNOTATION_STRIDE)
        if not _is_int(stride) or stride <= 0:
            raise BenchFormatError(rel_json, 'annotation_stride',
                                   f'{_short(stride)} is not a positive integer')
        source = meta.get('source', '')
        if source is not None and not isinstance(source, str):
            raise BenchFormatError(rel_json, 'source', f'{_short(source)} is not a string')
        video = meta['video']
        frame_files = None
        if video == 'frames':
            frame_files = self._list_frames(clip_dir, rel_dir, num_frames, width, height)
        else:
            self._check_video(clip_dir, rel_dir, rel_json, video, num_frames, width, height)
        annotations = self._read_annotations(clip_dir, rel_dir, num_frames, width, height)
        dense_path = osp.join(clip_dir, 'dense_gt.json')
        has_dense = osp.lexists(dense_path)
        if has_dense:
            rel_dense = f'{rel_dir}/dense_gt.json'
            _check_inside(dense_path, self._root_real, rel_dense, 'file')
            validate_dense_gt(read_json(dense_path, rel_dense), rel_dense, num_frames,
                              width, height)
        return ClipRecord(
            clip_id=clip_id,
            patient_id=patient_id,
            split=self.patient_split[patient],
            clip_dir=clip_dir,
            fps=float(meta['fps']),
            num_frames=num_frames,
            width=width,
            height=height,
            video=video,
            onset_frame=onset,
            site=site,
            scenarios=list(scenarios),
            annotation_stride=stride,
            source=source or '',
            extra={k: v for k, v in meta.items() if k not in KNOWN_CLIP_KEYS},
            annotations=annotations,
            has_dense_gt=has_dense,
            rel_dir=rel_dir,
            frame_files=frame_files)

    def _list_frames(self, clip_dir: str, rel_dir: str, num_frames: int, width: int,
                     height: int) -> List[str]:
        frames_dir = osp.join(clip_dir, 'frames')
        rel_frames = f'{rel_dir}/frames'
        if not osp.isdir(frames_dir):
            raise BenchFormatError(rel_frames, '', 'folder missing (clip.json video is "frames")')
        _check_inside(frames_dir, self._root_real, rel_frames, 'folder')
        files: Dict[int, str] = {}
        with os.scandir(frames_dir) as entries:
            for entry in entries:
                match = FRAME_NAME_PATTERN.match(entry.name)
                if match is None:
                    continue
                index = int(match.group(1))
                rel = f'{rel_frames}/{entry.name}'
                if index in files:
                    raise BenchFormatError(rel, 'frame', f'{index} has two files '
                                           f'({files[index]}, {entry.name})')
                if entry.is_symlink():
                    _check_inside(entry.path, self._root_real, rel, 'file')
                if not entry.is_file() or entry.stat().st_size == 0:
                    raise BenchFormatError(rel, 'frame', 'is empty or not a regular file')
                files[index] = entry.name
        # Bounded by the files present, never by what clip.json claims (#14: a claim of
        # 10^12 frames used to build a list of every missing index).
        inside = sum(1 for i in files if i < num_frames)
        if inside < num_frames:
            first_missing = next(i for i in range(len(files) + 1) if i not in files)
            raise BenchFormatError(rel_frames, 'frames',
                                   f'{num_frames - inside} of num_frames {num_frames} missing '
                                   f'(first: {first_missing:06d})')
        if len(files) != num_frames:
            extra = min(i for i in files if i >= num_frames)
            raise BenchFormatError(rel_frames, 'frames',
                                   f'{len(files)} files but num_frames {num_frames} '
                                   f'(first extra: {extra:06d})')
        names = [files[i] for i in range(num_frames)]
        # Every frame's size from its header (no pixel decoding): mixed sizes are
        # found without --decode.
        for name in names:
            size = _image_size(osp.join(frames_dir, name))
            if size is None:
                raise BenchFormatError(f'{rel_frames}/{name}', 'image', 'cannot be decoded')
            if size != (width, height):
                raise BenchFormatError(f'{rel_frames}/{name}', 'size',
                                       f'{size[0]}x{size[1]} != clip.json width x height '
                                       f'{width}x{height}')
        return names

    def _check_video(self, clip_dir: str, rel_dir: str, rel_json: str, video: Any,
                     num_frames: int, width: int, height: int) -> None:
        if (not isinstance(video, str) or not video or video in ('.', '..')
                or '/' in video or '\\' in video):
            raise BenchFormatError(rel_json, 'video',
                                   f'{_short(video)} is neither "frames" nor a file name in the '
                                   'clip folder')
        path = osp.join(clip_dir, video)
        rel = f'{rel_dir}/{video}'
        if not osp.isfile(path):
            raise BenchFormatError(rel, 'video', 'file missing')
        _check_inside(path, self._root_real, rel, 'video')
        import cv2

        capture = cv2.VideoCapture(path)
        try:
            if not capture.isOpened():
                raise BenchFormatError(rel, 'video', 'cannot be opened')
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
                    int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        finally:
            capture.release()
        if count != num_frames:
            raise BenchFormatError(rel, 'frame count', f'{count} != num_frames {num_frames}')
        if size != (width, height):
            raise BenchFormatError(rel, 'size', f'{size[0]}x{size[1]} != clip.json width x '
                                   f'height {width}x{height}')

    def _read_annotations(self, clip_dir: str, rel_dir: str, num_frames: int, width: int,
                          height: int) -> Dict[int, List[SourcePoint]]:
        ann_dir = osp.join(clip_dir, 'annotations')
        rel_ann = f'{rel_dir}/annotations'
        annotations: Dict[int, List[SourcePoint]] = {}
        if not osp.isdir(ann_dir):
            return annotations
        _check_inside(ann_dir, self._root_real, rel_ann, 'folder')
        for name in sorted(os.listdir(ann_dir)):
            rel = f'{rel_ann}/{name}'
            match = ANNOTATION_NAME_PATTERN.match(name)
            if match is None:
                if DIGITS_JSON_PATTERN.match(name):
                    raise BenchFormatError(rel, 'file name', 'is not a 6-digit frame index')
                continue  # not a LabelMe frame annotation (e.g. pseudo-label files)
            index = int(match.group(1))
            if index >= num_frames:
                raise BenchFormatError(rel, 'frame index', f'{index} >= num_frames {num_frames}')
            path = osp.join(ann_dir, name)
            _check_inside(path, self._root_real, rel, 'file')
            annotations[index] = parse_labelme(read_json(path, rel), rel, width, height)
        return annotations


_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
# JPEG start-of-frame markers (baseline, progressive, lossless, ...): not DHT,
# JPG or DAC (0xC4, 0xC8, 0xCC).
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                       0xCE, 0xCF})


def _header_size(head: bytes) -> Optional[tuple]:
    """(width, height) parsed from the first bytes of a PNG or JPEG file, or None."""
    if head.startswith(_PNG_SIGNATURE) and head[12:16] == b'IHDR' and len(head) >= 24:
        return int.from_bytes(head[16:20], 'big'), int.from_bytes(head[20:24], 'big')
    if not head.startswith(b'\xff\xd8'):
        return None
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        length = int.from_bytes(head[pos + 2:pos + 4], 'big')
        if marker in _JPEG_SOF:
            if pos + 9 > len(head):
                return None
            return (int.from_bytes(head[pos + 7:pos + 9], 'big'),
                    int.from_bytes(head[pos + 5:pos + 7], 'big'))
        if length < 2 or marker == 0xDA:  # start of scan before any frame header
            return None
        pos += 2 + length
    return None


def _image_size(path: str) -> Optional[tuple]:
    """(width, height) from the image header, without decoding the pixels.

    PNG and JPEG headers are parsed directly (about 20 us a frame); other
    formats, or a JPEG whose frame header lies beyond the first 64 KiB, go
    through Pillow's header parser. ``None`` if the header cannot be parsed.
    Never falls back to decoding the whole image (a hostile header could claim
    a gigapixel image).
    """
    try:
        with open(path, 'rb') as f:
            head = f.read(4096)
            size = _header_size(head)
            if size is None and head.startswith(b'\xff\xd8'):  # large EXIF/ICC segments
                size = _header_size(head + f.read(65536 - len(head)))
    except OSError:
        return None
    if size is not None:
        return size if size[0] > 0 and size[1] > 0 else None
    try:
        from PIL import Image
    except ImportError:  # pragma: no cover - Pillow is a runtime requirement
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')  # DecompressionBombWarning: we only read the size
            with Image.open(path) as image:
                return image.size
    except Exception:  # noqa: BLE001 - any header failure means "unreadable"
        return None
