"""Driver of the synthetic benchmark: plans all clips, renders them in parallel, writes
the BleedOrigin-Bench layout.

Determinism: the patient split, sites and clip roles come from ``seed``; each
clip draws everything else from its own RNG seeded with ``(seed, clip index)``,
so a clip's files do not depend on the number of workers or on which clips
were generated before (resume).

Atomicity: each clip is assembled in ``<root>/.partial/`` and renamed into
``clips/`` when complete (:func:`~bleedorigin.datasets.bench_writer.atomic_clip_dir`).
A rerun removes leftovers of an interrupted run, skips finished clips and
renders the rest. When every clip exists, ``<root>/.complete`` records the
preset, seed and counts; :func:`ensure_synthetic` checks it.
"""
import contextlib
import fcntl
import json
import multiprocessing as mp
import os
import os.path as osp
import time
from typing import Dict, List, Optional

import cv2
import numpy as np

from ...utils.io import write_json_atomic
from ..bench_writer import (
    atomic_clip_dir,
    clean_partial_clips,
    clip_path,
    write_clip_json,
    write_dense_gt,
    write_labelme,
    write_splits,
)
from .presets import SyntheticPreset, get_preset
from .renderer import ClipRenderer, assign_roles, plan_clip
from .sites import SITE_NAMES

GENERATOR_VERSION = 2
COMPLETE_MARKER = '.complete'
RUN_MARKER = '.synthetic_run.json'
LOCK_FILE = '.synthetic.lock'


def patient_layout(preset: SyntheticPreset, seed: int) -> dict:
    """Patients, their sites and the 4:1:1 patient split.

    Returns:
        dict: ``patients`` (list of ids), ``site`` (id -> site), ``splits``
        (``train``/``val``/``test`` -> ids).
    """
    rng = np.random.default_rng([seed, 0])
    n = preset.num_patients
    digits = max(2, len(str(n)))
    patients = [f'P{i + 1:0{digits}d}' for i in range(n)]
    sites = [SITE_NAMES[i % len(SITE_NAMES)] for i in range(n)]
    rng.shuffle(sites)
    order = rng.permutation(n)
    ratio = np.asarray(preset.split_ratio, np.float64)
    n_val = max(1, int(round(n * ratio[1] / ratio.sum())))
    n_test = max(1, int(round(n * ratio[2] / ratio.sum())))
    n_train = n - n_val - n_test
    if n_train < 1:
        raise ValueError(f'preset {preset.name}: {n} patients cannot be split '
                         f'{preset.split_ratio}')
    ids = [patients[i] for i in order]
    splits = {'train': sorted(ids[:n_train]), 'val': sorted(ids[n_train:n_train + n_val]),
              'test': sorted(ids[n_train + n_val:])}
    return {'patients': patients, 'site': dict(zip(patients, sites)), 'splits': splits}


def clip_specs(preset: SyntheticPreset, seed: int) -> List[dict]:
    """One spec per clip: index, patient, clip id, role and site."""
    layout = patient_layout(preset, seed)
    roles = assign_roles(preset, np.random.default_rng([seed, 1]))
    specs = []
    for p, patient_id in enumerate(layout['patients']):
        for c in range(preset.clips_per_patient):
            index = p * preset.clips_per_patient + c
            specs.append({'index': index, 'patient_id': patient_id,
                              'clip_id': f'{patient_id}_C{c + 1:02d}', 'role': roles[index],
                              'site': layout['site'][patient_id]})
    return specs


def clip_meta(plan, preset: SyntheticPreset, events: Optional[dict] = None) -> dict:
    """``clip.json`` content of a plan (``events``: scenario intervals, an extra key)."""
    return {'clip_id': plan.clip_id, 'patient_id': plan.patient_id, 'fps': preset.fps,
                'num_frames': plan.num_frames, 'width': plan.width, 'height': plan.height,
                'video': 'frames', 'onset_frame': plan.onset_frame, 'site': plan.site,
                'scenarios': list(plan.scenarios), 'annotation_stride': preset.annotation_stride,
                'source': 'synthetic',
                'generator': {'name': 'bleedorigin.synthetic', 'version': GENERATOR_VERSION,
                               'preset': preset.name, 'seed': plan.seed},
                'events': events or {}}


def render_clip(data_root: str, spec: dict, preset: SyntheticPreset, seed: int) -> dict:
    """Render one clip into ``clips/<patient>/<clip>`` (atomically); skip it if it exists.

    Returns:
        dict: ``clip``, ``skipped``, ``frames``, ``positive``, ``annotations``.
    """
    final_dir = clip_path(data_root, spec['patient_id'], spec['clip_id'])
    if osp.isfile(osp.join(final_dir, 'clip.json')):
        meta = json.load(open(osp.join(final_dir, 'clip.json')))
        return {'clip': spec['clip_id'], 'skipped': True, 'frames': meta['num_frames'],
                    'positive': meta['onset_frame'] is not None, 'annotations': 0}
    plan = plan_clip(preset, seed, spec['index'], spec['role'], spec['patient_id'],
                     spec['clip_id'], spec['site'])
    renderer = ClipRenderer(plan, preset)
    T, w, h = plan.num_frames, plan.width, plan.height
    annotated = set()
    if plan.onset_frame is not None:
        annotated = set(range(plan.onset_frame, T, preset.annotation_stride))
    dense_points = {s.group_id: [] for s in plan.sources}
    dense_visible = {s.group_id: [] for s in plan.sources}
    bleeding = []
    params = [cv2.IMWRITE_JPEG_QUALITY, preset.jpeg_quality]
    with atomic_clip_dir(data_root, spec['patient_id'], spec['clip_id']) as tmp_dir:
        os.makedirs(osp.join(tmp_dir, 'frames'))
        for t in range(T):
            frame = renderer.render(t)
            ok, buf = cv2.imencode('.jpg', cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), params)
            if not ok:
                raise RuntimeError(f'{final_dir}: JPEG encoding of frame {t} failed')
            with open(osp.join(tmp_dir, 'frames', f'{t:06d}.jpg'), 'wb') as f:
                f.write(buf.tobytes())
            states = renderer.source_state(t)
            for group_id, point, visible in states:
                dense_points[group_id].append(None if point is None else list(point))
                dense_visible[group_id].append(visible)
            bleeding.append(any(point is not None for _, point, _ in states))
            if t in annotated:
                sources = [(g, p[0], p[1]) for g, p, v in states if v]
                write_labelme(osp.join(tmp_dir, 'annotations', f'{t:06d}.json'), sources, w, h,
                              f'../frames/{t:06d}.jpg')
        if plan.sources:
            write_dense_gt(tmp_dir, {
                'sources': [{'group_id': g, 'points': dense_points[g], 'visible': dense_visible[g]}
                         for g in sorted(dense_points)], 'bleeding': bleeding})
        write_clip_json(tmp_dir, clip_meta(plan, preset, renderer.events()))
    return {'clip': spec['clip_id'], 'skipped': False, 'frames': T,
                'positive': plan.onset_frame is not None, 'annotations': len(annotated)}


def _worker_init() -> None:
    cv2.setNumThreads(1)


def _render_job(args) -> dict:
    return render_clip(*args)


def _check_run_marker(root: str, preset: SyntheticPreset, seed: int) -> None:
    """Refuse to mix two presets/seeds in one folder."""
    for name in (RUN_MARKER, COMPLETE_MARKER):
        path = osp.join(root, name)
        if osp.isfile(path):
            with open(path) as f:
                info = json.load(f)
            if info.get('preset') != preset.name or info.get('seed') != seed:
                raise ValueError(
                    f'{path}: folder holds preset {info.get("preset")!r} seed '
                    f'{info.get("seed")!r}, not preset {preset.name!r} seed {seed}; '
                    'use another folder or delete it')


@contextlib.contextmanager
def _exclusive(root: str):
    """Hold an exclusive file lock on ``<root>/.synthetic.lock`` (one writer per tree)."""
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, LOCK_FILE), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def generate_benchmark(out_dir: str, preset='default', seed: int = 0,
                       workers: Optional[int] = None, progress: bool = True) -> dict:
    """Render the synthetic benchmark into ``out_dir`` (resuming an earlier run).

    Another process generating the same folder is waited for (file lock), so
    two writers never interleave.

    Args:
        out_dir (str): Data root to write.
        preset (str | SyntheticPreset | dict): Preset (see :mod:`.presets`).
        seed (int): Seed of the whole benchmark.
        workers (int, optional): Processes; default: number of CPUs.
        progress (bool): Show a progress bar and print a summary line.

    Returns:
        dict: Summary with ``preset``, ``seed``, ``clips``, ``positives``,
        ``negatives``, ``frames``, ``annotations``, ``generated``, ``skipped``,
        ``splits`` (patients per split), ``seconds``.
    """
    preset = get_preset(preset)
    with _exclusive(out_dir):
        return _generate(out_dir, preset, seed, workers, progress)


def _generate(out_dir: str, preset: SyntheticPreset, seed: int, workers: Optional[int],
              progress: bool) -> dict:
    """Body of :func:`generate_benchmark`; the caller holds the folder's lock."""
    _check_run_marker(out_dir, preset, seed)
    write_json_atomic(osp.join(out_dir, RUN_MARKER),
                      {'preset': preset.name, 'seed': seed, 'version': GENERATOR_VERSION})
    start = time.time()
    layout = patient_layout(preset, seed)
    write_splits(out_dir, layout['splits'])
    clean_partial_clips(out_dir)
    specs = clip_specs(preset, seed)
    jobs = [(out_dir, spec, preset, seed) for spec in specs]
    workers = workers or os.cpu_count() or 1
    results = []
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(jobs), desc=f'synthetic {preset.name}', unit='clip')
    if workers <= 1:
        _worker_init()
        for job in jobs:
            results.append(_render_job(job))
            if bar is not None:
                bar.update(1)
    else:
        ctx = mp.get_context('fork' if 'fork' in mp.get_all_start_methods() else 'spawn')
        with ctx.Pool(workers, initializer=_worker_init) as pool:
            for result in pool.imap_unordered(_render_job, jobs, chunksize=1):
                results.append(result)
                if bar is not None:
                    bar.update(1)
    if bar is not None:
        bar.close()
    summary = {
        'preset': preset.name, 'seed': seed, 'version': GENERATOR_VERSION, 'clips': len(results),
        'positives': sum(r['positive'] for r in results),
        'negatives': sum(not r['positive'] for r in results),
        'frames': sum(r['frames'] for r in results),
        'annotations': sum(r['annotations'] for r in results),
        'generated': sum(not r['skipped'] for r in results),
        'skipped': sum(r['skipped'] for r in results),
        'splits': {k: len(v) for k, v in layout['splits'].items()},
        'width': preset.width, 'height': preset.height,
        'seconds': round(time.time() - start, 1)}
    write_json_atomic(osp.join(out_dir, COMPLETE_MARKER), summary)
    if progress:
        print(f'synthetic {preset.name} seed {seed}: {summary["clips"]} clips '
              f'({summary["positives"]} positive, {summary["negatives"]} negative), '
              f'{summary["frames"]} frames, {summary["generated"]} generated, '
              f'{summary["skipped"]} already present, {summary["seconds"]} s -> {out_dir}')
    return summary


def read_complete_marker(data_root: str) -> Optional[dict]:
    """The ``.complete`` summary of a finished tree, or None."""
    path = osp.join(data_root, COMPLETE_MARKER)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def ensure_synthetic(data_root: str = 'data/synthetic', preset='default', seed: int = 0,
                     workers: Optional[int] = None, progress: bool = True) -> Dict:
    """Make sure ``data_root`` holds the complete synthetic benchmark; generate it if not.

    Safe to call from several processes at once: a file lock lets one of them
    generate while the others wait.

    Args:
        data_root (str): Data root.
        preset (str | SyntheticPreset | dict): Preset name or preset.
        seed (int): Seed.
        workers (int, optional): Processes for generation.
        progress (bool): Show progress.

    Returns:
        dict: The ``.complete`` summary.
    """
    preset_obj = get_preset(preset)
    marker = read_complete_marker(data_root)
    if marker is not None:
        _check_run_marker(data_root, preset_obj, seed)
        return marker
    with _exclusive(data_root):
        marker = read_complete_marker(data_root)
        if marker is not None:  # another process finished it while we waited
            _check_run_marker(data_root, preset_obj, seed)
            return marker
        return _generate(data_root, preset_obj, seed, workers, progress)
