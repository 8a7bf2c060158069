"""Contact sheet of a synthetic benchmark tree: sample frames in a labelled grid.

Panels (read from the written tree, so it shows exactly what models see):
clean view before the onset, the onset frame, onset + 40 frames, water
flushing, instrument interference, obscure view, light reflection and a
negative clip. The source point is marked with a thin green ring on the onset
panels so the subtle onset can be found.
"""
import json
import os
import os.path as osp
from typing import List, Optional, Tuple

import cv2
import numpy as np

PANEL_SIZE = (390, 335)  # half of 780 x 670


def _clips(data_root: str) -> List[Tuple[str, dict]]:
    clips = []
    root = osp.join(data_root, 'clips')
    for patient in sorted(os.listdir(root)):
        for clip in sorted(os.listdir(osp.join(root, patient))):
            path = osp.join(root, patient, clip, 'clip.json')
            if osp.isfile(path):
                with open(path) as f:
                    clips.append((osp.dirname(path), json.load(f)))
    return clips


def _annotation(clip_dir: str, frame: int) -> List[Tuple[float, float]]:
    path = osp.join(clip_dir, 'annotations', f'{frame:06d}.json')
    if not osp.isfile(path):
        return []
    with open(path) as f:
        doc = json.load(f)
    return [tuple(s['points'][0]) for s in doc['shapes'] if s.get('label') == 'bleeding_source']


def _panel(clip_dir: str, meta: dict, frame: int, title: str,
           mark: Optional[List[Tuple[float, float]]] = None) -> np.ndarray:
    frame = int(np.clip(frame, 0, meta['num_frames'] - 1))
    image = cv2.imread(osp.join(clip_dir, 'frames', f'{frame:06d}.jpg'))
    if image is None:
        raise FileNotFoundError(f'{clip_dir}/frames/{frame:06d}.jpg: cannot be read')
    for x, y in mark or []:
        cv2.circle(image, (int(round(x)), int(round(y))), int(0.03 * image.shape[1]),
                   (0, 255, 0), 2, cv2.LINE_AA)
    panel = cv2.resize(image, PANEL_SIZE, interpolation=cv2.INTER_AREA)
    label = f'{title}  ({meta["clip_id"]} f{frame}, {meta["site"]})'
    cv2.rectangle(panel, (0, 0), (PANEL_SIZE[0], 22), (0, 0, 0), -1)
    cv2.putText(panel, label, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (255, 255, 255), 1,
                cv2.LINE_AA)
    return panel


def _event_frame(meta: dict, scenario: str) -> Optional[int]:
    intervals = meta.get('events', {}).get(scenario)
    if intervals:
        start, end = intervals[0]
        return (start + end) // 2
    return None


def save_contact_sheet(data_root: str, out_path: str) -> str:
    """Save an 8-panel contact sheet (2 rows x 4 columns, BGR PNG) of ``data_root``.

    Returns:
        str: ``out_path``.
    """
    clips = _clips(data_root)
    if not clips:
        raise ValueError(f'{data_root}: no clips to show')
    panels = []
    used = set()

    def pick(candidates):
        """First candidate of a clip and site not shown yet (else of a clip not shown)."""
        sites = {meta['site'] for _, meta in clips if meta['clip_id'] in used}
        for fresh_site in (True, False):
            for clip_dir, meta in candidates:
                if meta['clip_id'] not in used and (not fresh_site or meta['site'] not in sites):
                    used.add(meta['clip_id'])
                    return clip_dir, meta
        return None

    clear = [c for c in clips if c[1]['onset_frame'] is not None and
             c[1]['onset_frame'] >= 40 and c[1]['num_frames'] > c[1]['onset_frame'] + 40]
    clear.sort(key=lambda c: c[1]['scenarios'] != ['clear_view'])
    chosen = pick(clear)
    if chosen:
        clip_dir, meta = chosen
        onset = meta['onset_frame']
        points = _annotation(clip_dir, onset)
        panels.append(_panel(clip_dir, meta, onset - 1, 'clean (onset-1)'))
        panels.append(_panel(clip_dir, meta, onset, 'onset', points))
        panels.append(_panel(clip_dir, meta, onset + 40, 'onset+40'))
    for scenario, title in (('water_flushing', 'water flushing'),
                            ('instrument_interference', 'instrument'),
                            ('obscure_view', 'obscure view'),
                            ('light_reflection', 'light reflection')):
        chosen = pick([c for c in clips if scenario in c[1]['scenarios']])
        if chosen:
            clip_dir, meta = chosen
            frame = _event_frame(meta, scenario)
            if frame is None:
                frame = meta['onset_frame'] + 20 if meta['onset_frame'] is not None else \
                    meta['num_frames'] // 2
            panels.append(_panel(clip_dir, meta, frame, title))
    chosen = pick([c for c in clips if c[1]['onset_frame'] is None])
    if chosen:
        clip_dir, meta = chosen
        panels.append(_panel(clip_dir, meta, meta['num_frames'] // 2, 'negative (no bleeding)'))
    while len(panels) % 4:
        panels.append(np.zeros_like(panels[0]))
    rows = [np.concatenate(panels[i:i + 4], 1) for i in range(0, len(panels), 4)]
    sheet = np.concatenate(rows, 0)
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    if not cv2.imwrite(out_path, sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f'{out_path}: cannot write the contact sheet')
    return out_path
