"""Convert your own ESD recordings with LabelMe point labels into BleedOrigin-Bench.

Usage::

    python tools/dataset_converters/labelme2bench.py ONSETS.csv OUT_ROOT \
        --video-dir VIDEOS/ --labelme-dir LABELME/ [--storage frames|video] \
        [--image-ext jpg|png] [--seed 0] [--clip-length 150] [--onset-position 120] \
        [--annotation-stride 30] [--max-track-frames 0]

Inputs:

- ``VIDEOS/``: one video file per procedure (anything OpenCV reads: mp4, avi,
  ...).
- ``LABELME/<video stem>/``: LabelMe JSON files of annotated frames of that
  video, one per frame, with ``bleeding_source`` point shapes (``group_id``
  tells several sources apart; null counts as 0; a file without such a point
  labels the source invisible in that frame). The frame index is the last run
  of digits in the file name (``000123.json``, ``frame_123.json``,
  ``case7_000123.json`` -> 123), 0-based in the video. ``imagePath`` and
  ``imageData`` are ignored. Points are in pixels of the video frames.
- ``ONSETS.csv``: one row per bleeding event, with a header line. Columns:

  ``video,onset_frame[,site][,scenarios][,patient][,start_frame]``

  ``video`` is the file name inside ``VIDEOS/``; ``onset_frame`` the 0-based
  frame where the bleeding starts; ``site`` one of DATA_FORMAT.md's sites;
  ``scenarios`` DATA_FORMAT.md scenario names separated by ``;`` or ``|``;
  ``patient`` the patient id (default: the video's stem, so that every clip
  of one procedure lands in one split). A row with an empty ``onset_frame``
  and a ``start_frame`` cuts a negative clip (no bleeding starts in it) of
  ``--clip-length`` frames (fewer at the end of the video) from
  ``start_frame``, for false-alarm measurement.

What is written (the paper's protocol, section 3):

- per event a detection clip ``<stem>_D<k>`` of ``--clip-length`` (150)
  frames with the onset at frame ``--onset-position`` (120); near the start
  or end of the video the window is shifted/shortened and clip.json's
  ``onset_frame`` says where the onset lies;
- per event a tracking clip ``<stem>_T<k>`` from the onset up to the last
  LabelMe annotation at onset + k * ``--annotation-stride`` (30) frames that
  precedes the next event of the same video (``--max-track-frames`` caps it);
  events without an annotation after the onset get no tracking clip;
- LabelMe annotations inside each clip window, re-indexed to the clip;
- ``splits.json``: patients split 4:1:1 into train/val/test, shuffled
  deterministically with ``--seed``;
- clip.json keys of DATA_FORMAT.md plus ``clip_type`` (``detection`` or
  ``tracking``), ``source_video`` and ``source_start_frame``.

Every row, video and annotation is checked before anything is written; bad
input stops the conversion with ``file:line`` or file-and-field messages.
Each clip is written atomically (bleedorigin.datasets.bench_writer), and
clips that already exist in OUT_ROOT are kept, so an interrupted run resumes.
Check the result with ``tools/dataset_converters/check_dataset.py OUT_ROOT``.
"""
import argparse
import csv
import os
import os.path as osp
import re
import sys
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

from bleedorigin.datasets.bench import (
    SCENARIOS,
    SITES,
    BenchFormatError,
    SourcePoint,
    parse_labelme,
    read_json,
)
from bleedorigin.datasets.bench_writer import (
    atomic_clip_dir,
    clip_path,
    write_clip_json,
    write_labelme,
    write_splits,
)

ID_UNSAFE = re.compile(r'[^A-Za-z0-9_-]+')
LAST_DIGITS = re.compile(r'(\d+)(?!.*\d)')
SPLIT_RATIO = (4, 1, 1)


class ConversionError(ValueError):
    """Bad converter input; the message names the file (and line) and the field."""


@dataclass
class VideoInfo:
    """Metadata of one source video and its LabelMe annotations (video frame indices)."""

    path: str
    stem: str
    num_frames: int
    fps: float
    width: int
    height: int
    annotations: Dict[int, List[SourcePoint]] = field(default_factory=dict)


@dataclass
class Event:
    """One CSV row: a bleeding onset (or a negative window) in one video."""

    line: int
    video: str
    onset_frame: Optional[int]
    site: Optional[str]
    scenarios: List[str]
    patient: str
    start_frame: Optional[int]


@dataclass
class ClipPlan:
    """A clip to cut: frames [start, start + num_frames) of ``video``."""

    clip_id: str
    patient: str
    video: str
    start: int
    num_frames: int
    onset_frame: Optional[int]  # in clip frames
    clip_type: str
    site: Optional[str]
    scenarios: List[str]
    annotation_frames: List[int] = field(default_factory=list)  # video frame indices


def safe_id(text: str) -> str:
    """Turn a file stem into an id matching ``[A-Za-z0-9_-]+``."""
    cleaned = ID_UNSAFE.sub('_', text).strip('_')
    if not cleaned:
        raise ConversionError(f'{text!r}: cannot derive an id of [A-Za-z0-9_-] characters')
    return cleaned


def read_events(csv_path: str) -> List[Event]:
    """Parse and check the onset CSV (errors name ``file:line``)."""
    if not osp.isfile(csv_path):
        raise ConversionError(f'{csv_path}: CSV file not found')
    try:
        return _read_events(csv_path)
    except UnicodeDecodeError as exc:
        raise ConversionError(f'{csv_path}: not UTF-8 text ({exc.reason} at byte '
                              f'{exc.start})') from None
    except csv.Error as exc:
        raise ConversionError(f'{csv_path}: malformed CSV ({exc})') from None


def _read_events(csv_path: str) -> List[Event]:
    with open(csv_path, newline='', encoding='utf-8-sig') as f:
        reader = csv.DictReader(f)
        header = [h.strip() for h in (reader.fieldnames or [])]
        for column in ('video', 'onset_frame'):
            if column not in header:
                raise ConversionError(f'{csv_path}:1: header must contain {column!r} '
                                      f'(got {header})')
        events = []
        for row in reader:
            line = reader.line_num
            row = {(k or '').strip(): (v or '').strip() for k, v in row.items()
                   if not isinstance(v, list)}
            where = f'{csv_path}:{line}'
            if not any(row.values()):
                continue
            video = row.get('video', '')
            if not video or osp.basename(video) != video:
                raise ConversionError(f'{where}: video {video!r} must be a file name in '
                                      '--video-dir')
            onset = _parse_frame(row.get('onset_frame', ''), where, 'onset_frame')
            start = _parse_frame(row.get('start_frame', ''), where, 'start_frame')
            if onset is None and start is None:
                raise ConversionError(f'{where}: onset_frame empty; a negative clip needs '
                                      'start_frame')
            site = row.get('site') or None
            if site is not None and site not in SITES:
                raise ConversionError(f'{where}: site {site!r} is not one of {", ".join(SITES)}')
            scenarios = [s for s in re.split(r'[;|]', row.get('scenarios', '')) if s.strip()]
            scenarios = [s.strip() for s in scenarios]
            for scenario in scenarios:
                if scenario not in SCENARIOS:
                    raise ConversionError(f'{where}: scenario {scenario!r} is not one of '
                                          f'{", ".join(SCENARIOS)}')
            patient = row.get('patient') or safe_id(osp.splitext(video)[0])
            if not re.fullmatch(r'[A-Za-z0-9_-]+', patient):
                raise ConversionError(f'{where}: patient {patient!r} must match [A-Za-z0-9_-]+')
            events.append(Event(line, video, onset, site, scenarios, patient, start))
    if not events:
        raise ConversionError(f'{csv_path}: no rows')
    return events


def _parse_frame(text: str, where: str, name: str) -> Optional[int]:
    if text == '':
        return None
    try:
        value = int(text)
    except ValueError:
        raise ConversionError(f'{where}: {name} {text!r} is not an integer') from None
    if value < 0:
        raise ConversionError(f'{where}: {name} {value} < 0')
    return value


def probe_video(path: str, where: str) -> Tuple[int, float, int, int]:
    """(num_frames, fps, width, height) of a video, from its metadata."""
    if not osp.isfile(path):
        raise ConversionError(f'{where}: video {path} not found')
    capture = cv2.VideoCapture(path)
    try:
        if not capture.isOpened():
            raise ConversionError(f'{where}: video {path} cannot be opened')
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        fps = float(capture.get(cv2.CAP_PROP_FPS)) or 30.0
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        capture.release()
    if count <= 0 or width <= 0 or height <= 0:
        raise ConversionError(f'{where}: video {path} reports no frames')
    return count, fps, width, height


def read_video_annotations(labelme_dir: str, video: VideoInfo) -> Dict[int, List[SourcePoint]]:
    """LabelMe files of one video, keyed by video frame index."""
    folder = osp.join(labelme_dir, video.stem)
    annotations: Dict[int, List[SourcePoint]] = {}
    if not osp.isdir(folder):
        return annotations
    for name in sorted(os.listdir(folder)):
        if not name.lower().endswith('.json'):
            continue
        path = osp.join(folder, name)
        match = LAST_DIGITS.search(osp.splitext(name)[0])
        if match is None:
            raise ConversionError(f'{path}: file name has no frame index digits')
        index = int(match.group(1))
        if index >= video.num_frames:
            raise ConversionError(f'{path}: frame index {index} >= video length '
                                  f'{video.num_frames} of {video.path}')
        if index in annotations:
            raise ConversionError(f'{path}: frame {index} annotated by two files')
        try:  # read_json: any unreadable or malformed file is one named error
            annotations[index] = parse_labelme(read_json(path, path), path, video.width,
                                               video.height)
        except BenchFormatError as exc:
            raise ConversionError(str(exc)) from None
    return annotations


def plan_clips(events: Sequence[Event], videos: Dict[str, VideoInfo], csv_path: str,
               clip_length: int, onset_position: int, stride: int,
               max_track_frames: int) -> Tuple[List[ClipPlan], List[str]]:
    """Cut detection, tracking and negative clips the way the paper does.

    Returns:
        tuple: The clip plans and human-readable notes (shifted windows,
        events without a tracking clip, ...).
    """
    plans: List[ClipPlan] = []
    notes: List[str] = []
    by_video: Dict[str, List[Event]] = {}
    for event in events:
        by_video.setdefault(event.video, []).append(event)
    for name, video_events in by_video.items():
        video = videos[name]
        onsets = sorted(e.onset_frame for e in video_events if e.onset_frame is not None)
        k_det = k_neg = 0
        for event in video_events:
            where = f'{csv_path}:{event.line}'
            if event.onset_frame is None:
                start = event.start_frame
                if start >= video.num_frames:
                    raise ConversionError(f'{where}: start_frame {start} >= video length '
                                          f'{video.num_frames} of {video.path}')
                length = min(clip_length, video.num_frames - start)
                if length < clip_length:
                    notes.append(f'{where}: negative clip shortened to {length} frames by the '
                                 'end of the video')
                bleeding = [o for o in onsets if start <= o < start + length]
                if bleeding:
                    raise ConversionError(f'{where}: negative clip from {start} contains the '
                                          f'onset at frame {bleeding[0]}')
                k_neg += 1
                plans.append(ClipPlan(f'{video.stem}_N{k_neg}', event.patient, name, start,
                                      length, None, 'detection', event.site, event.scenarios,
                                      []))
                continue
            onset = event.onset_frame
            if onset >= video.num_frames:
                raise ConversionError(f'{where}: onset_frame {onset} >= video length '
                                      f'{video.num_frames} of {video.path}')
            k_det += 1
            start = min(max(0, onset - onset_position), max(0, video.num_frames - clip_length))
            length = min(clip_length, video.num_frames - start)
            if onset - start != onset_position:
                notes.append(f'{where}: detection clip shifted, onset at clip frame '
                             f'{onset - start} instead of {onset_position}')
            if onset not in video.annotations or not video.annotations[onset]:
                notes.append(f'{where}: no bleeding_source annotation at the onset frame '
                             f'{onset}')
            next_onset = min([o for o in onsets if o > onset], default=video.num_frames)
            # Only this event's labels: earlier events' tracking labels would put a visible
            # source before the onset.
            own = [f for f in sorted(video.annotations) if onset <= f < next_onset]
            plans.append(ClipPlan(f'{video.stem}_D{k_det}', event.patient, name, start, length,
                                  onset - start, 'detection', event.site, event.scenarios,
                                  [f for f in own if f < start + length]))
            last = onset
            frame = onset + stride
            while frame < next_onset and frame in video.annotations:
                if max_track_frames and frame - onset + 1 > max_track_frames:
                    break
                last = frame
                frame += stride
            if last == onset:
                notes.append(f'{where}: no annotation at onset + {stride}, no tracking clip')
                continue
            plans.append(ClipPlan(f'{video.stem}_T{k_det}', event.patient, name, onset,
                                  last - onset + 1, 0, 'tracking', event.site, event.scenarios,
                                  [f for f in own if f <= last]))
    return plans, notes


def split_patients(patients: Sequence[str], seed: int) -> Dict[str, List[str]]:
    """Deterministic patient-level 4:1:1 split (every split non-empty from 3 patients)."""
    order = sorted(set(patients))
    np.random.RandomState(seed).shuffle(order)
    total = len(order)
    share = sum(SPLIT_RATIO)
    n_val = int(round(total * SPLIT_RATIO[1] / share))
    n_test = int(round(total * SPLIT_RATIO[2] / share))
    if total >= 3:
        n_val, n_test = max(n_val, 1), max(n_test, 1)
    n_train = total - n_val - n_test
    return {'train': sorted(order[:n_train]), 'val': sorted(order[n_train:n_train + n_val]),
            'test': sorted(order[n_train + n_val:])}


def write_clip(out_root: str, plan: ClipPlan, video: VideoInfo, storage: str, image_ext: str,
               stride: int) -> None:
    """Decode the clip window of the source video and write it as one clip."""
    where = f'{video.path} frames {plan.start}-{plan.start + plan.num_frames - 1}'
    capture = cv2.VideoCapture(video.path)
    if not capture.isOpened():
        raise ConversionError(f'{video.path}: cannot be opened')
    with atomic_clip_dir(out_root, plan.patient, plan.clip_id) as tmp_dir:
        writer = None
        try:
            capture.set(cv2.CAP_PROP_POS_FRAMES, plan.start)
            if storage == 'frames':
                os.makedirs(osp.join(tmp_dir, 'frames'))
            else:
                writer = cv2.VideoWriter(osp.join(tmp_dir, 'video.mp4'),
                                         cv2.VideoWriter_fourcc(*'mp4v'), video.fps,
                                         (video.width, video.height))
                if not writer.isOpened():
                    raise ConversionError(f'{tmp_dir}/video.mp4: cannot open an mp4 writer')
            for t in range(plan.num_frames):
                ok, bgr = capture.read()
                if not ok:
                    raise ConversionError(f'{where}: frame {plan.start + t} cannot be decoded')
                if writer is not None:
                    writer.write(bgr)
                elif not cv2.imwrite(osp.join(tmp_dir, 'frames', f'{t:06d}.{image_ext}'), bgr):
                    raise ConversionError(f'{tmp_dir}: cannot write frame {t}')
        finally:
            capture.release()
            if writer is not None:
                writer.release()
        for frame in plan.annotation_frames:
            t = frame - plan.start
            sources = video.annotations[frame]
            image_path = (f'../frames/{t:06d}.{image_ext}' if storage == 'frames'
                          else '../video.mp4')
            write_labelme(osp.join(tmp_dir, 'annotations', f'{t:06d}.json'),
                          [(s.group_id, s.x, s.y) for s in sources], video.width, video.height,
                          image_path)
        write_clip_json(tmp_dir, {
            'clip_id': plan.clip_id,
            'patient_id': plan.patient,
            'fps': video.fps,
            'num_frames': plan.num_frames,
            'width': video.width,
            'height': video.height,
            'video': 'frames' if storage == 'frames' else 'video.mp4',
            'onset_frame': plan.onset_frame,
            'site': plan.site,
            'scenarios': plan.scenarios,
            'annotation_stride': stride,
            'source': 'labelme',
            'clip_type': plan.clip_type,
            'source_video': osp.basename(video.path),
            'source_start_frame': plan.start,
        })


def convert(csv_path: str, out_root: str, video_dir: str, labelme_dir: str,
            storage: str = 'frames', image_ext: str = 'jpg', seed: int = 0,
            clip_length: int = 150, onset_position: int = 120, annotation_stride: int = 30,
            max_track_frames: int = 0) -> dict:
    """Run the conversion (see the module docstring).

    Returns:
        dict: ``{'written': int, 'kept': int, 'clips': list[str], 'splits': dict,
        'notes': list[str]}``.
    """
    if not 0 <= onset_position < clip_length:
        raise ConversionError(f'--onset-position {onset_position} must be in '
                              f'[0, --clip-length {clip_length})')
    if annotation_stride <= 0:
        raise ConversionError(f'--annotation-stride {annotation_stride} must be > 0')
    events = read_events(csv_path)
    videos: Dict[str, VideoInfo] = {}
    stems: Dict[str, str] = {}
    patient_of_video: Dict[str, str] = {}
    for event in events:
        where = f'{csv_path}:{event.line}'
        if patient_of_video.setdefault(event.video, event.patient) != event.patient:
            raise ConversionError(f'{where}: video {event.video} already belongs to patient '
                                  f'{patient_of_video[event.video]}')
        if event.video in videos:
            continue
        path = osp.join(video_dir, event.video)
        num_frames, fps, width, height = probe_video(path, where)
        stem = safe_id(osp.splitext(event.video)[0])
        if stem in stems:
            raise ConversionError(f'{where}: videos {stems[stem]} and {event.video} give the '
                                  f'same clip id prefix {stem!r}')
        stems[stem] = event.video
        video = VideoInfo(path, stem, num_frames, fps, width, height)
        video.annotations = read_video_annotations(labelme_dir, video)
        videos[event.video] = video
    plans, notes = plan_clips(events, videos, csv_path, clip_length, onset_position,
                              annotation_stride, max_track_frames)
    splits = split_patients([p.patient for p in plans], seed)
    os.makedirs(out_root, exist_ok=True)
    write_splits(out_root, splits)
    written = kept = 0
    for plan in tqdm(plans, desc='labelme2bench', unit='clip'):
        if osp.isdir(clip_path(out_root, plan.patient, plan.clip_id)):
            kept += 1
            continue
        write_clip(out_root, plan, videos[plan.video], storage, image_ext, annotation_stride)
        written += 1
    return {'written': written, 'kept': kept, 'clips': [p.clip_id for p in plans],
            'splits': splits, 'notes': notes}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Cut BleedOrigin-Bench clips from videos, LabelMe points and an onset CSV')
    parser.add_argument('csv', help='CSV with video,onset_frame[,site,scenarios,patient,'
                        'start_frame]')
    parser.add_argument('out_root', help='output data root')
    parser.add_argument('--video-dir', required=True, help='folder of the source videos')
    parser.add_argument('--labelme-dir', required=True,
                        help='folder with one sub-folder of LabelMe JSON files per video stem')
    parser.add_argument('--storage', choices=['frames', 'video'], default='frames',
                        help='write frames/ images or one video.mp4 per clip')
    parser.add_argument('--image-ext', choices=['jpg', 'png'], default='jpg')
    parser.add_argument('--seed', type=int, default=0, help='seed of the patient split')
    parser.add_argument('--clip-length', type=int, default=150)
    parser.add_argument('--onset-position', type=int, default=120)
    parser.add_argument('--annotation-stride', type=int, default=30)
    parser.add_argument('--max-track-frames', type=int, default=0,
                        help='cap tracking clips at this many frames (0: no cap)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        result = convert(args.csv, args.out_root, args.video_dir, args.labelme_dir,
                         storage=args.storage, image_ext=args.image_ext, seed=args.seed,
                         clip_length=args.clip_length, onset_position=args.onset_position,
                         annotation_stride=args.annotation_stride,
                         max_track_frames=args.max_track_frames)
    except ConversionError as error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    for note in result['notes']:
        print(f'note: {note}')
    sizes = ', '.join(f'{k} {len(v)}' for k, v in result['splits'].items())
    print(f'labelme2bench: {len(result["clips"])} clips ({result["written"]} written, '
          f'{result["kept"]} already present) in {args.out_root}; patients: {sizes}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
