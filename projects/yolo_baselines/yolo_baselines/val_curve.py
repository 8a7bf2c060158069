"""Training curves of a YOLO run: ultralytics mAP50 per epoch plus onset/source metrics.

During training, :class:`BenchValCallback` scores the EMA model every
``interval`` epochs on (a subsample of) the validation clips of the bench with
the rule of paper 5.3.3 and the shared metric code (:func:`yolo_metrics`), and
appends one JSON line per evaluation to ``<run>/bench_val.jsonl``. After (or
during) training, :func:`read_results_csv`, :func:`read_bench_val` and
:func:`plot_training_curves` turn ``results.csv`` and that file into a PNG.
"""
import csv
import json
import os
import os.path as osp
from copy import deepcopy
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .evaluation import yolo_metrics
from .onset import TABLE_THRESHOLD
from .predictor import BestBoxPredictor

BENCH_VAL_FILE = 'bench_val.jsonl'
MAP50_COLUMN = 'metrics/mAP50(B)'
MAP5095_COLUMN = 'metrics/mAP50-95(B)'
# curve keys (flat metric names of yolo_metrics at the table threshold)
CURVE_KEYS = (('onset', 'acc_8', 'onset Acc±8 (%)'), ('onset', 'miss_rate', 'onset miss (%)'),
              ('onset', 'false_alarm_rate', 'false alarm (%)'),
              ('source', 'err_le_100', 'source Err≤100 (%)'))


def read_results_csv(path: str) -> Dict[str, np.ndarray]:
    """Columns of an ultralytics ``results.csv`` (names stripped, values as float arrays).

    Raises:
        FileNotFoundError: No such file.
        ValueError: No ``epoch`` or mAP50 column, or no rows.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no ultralytics results.csv')
    with open(path, newline='') as f:
        rows = [{(k or '').strip(): (v or '').strip() for k, v in row.items()}
                for row in csv.DictReader(f)]
    if not rows:
        raise ValueError(f'{path}: no epochs recorded yet')
    for column in ('epoch', MAP50_COLUMN):
        if column not in rows[0]:
            raise ValueError(f'{path}: column {column!r} missing (columns: {sorted(rows[0])})')
    out = {}
    for column in rows[0]:
        try:
            out[column] = np.array([float(r[column]) for r in rows])
        except ValueError:
            continue  # a non-numeric column: not a curve
    return out


def read_bench_val(path: str) -> List[dict]:
    """Records of ``bench_val.jsonl`` sorted by epoch (a later record of an epoch wins)."""
    if not osp.isfile(path):
        return []
    by_epoch = {}
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{line_no}: not JSON ({err})') from err
            if 'epoch' not in record or 'metrics' not in record:
                raise ValueError(f'{path}:{line_no}: record needs "epoch" and "metrics"')
            by_epoch[int(record['epoch'])] = record
    return [by_epoch[e] for e in sorted(by_epoch)]


def read_run_chain(run_dirs: str) -> Tuple[Dict[str, np.ndarray], List[dict], List[int]]:
    """``results.csv`` columns and bench records of a run, or of stages trained one after
    the other (``"RUN1+RUN2"``: RUN2 started from RUN1's last weights, a new schedule).

    Epochs of a later stage are numbered on from the earlier stage's last epoch.

    Returns:
        tuple: the concatenated columns (columns of every stage), the bench records with
        their epochs renumbered, and the last epoch of every stage but the last (where
        a new schedule starts).
    """
    columns: Dict[str, list] = {}
    records: List[dict] = []
    restarts: List[int] = []
    offset = 0
    for stage, run_dir in enumerate(d for d in run_dirs.split('+') if d):
        if stage:
            restarts.append(offset)
        results = read_results_csv(osp.join(run_dir, 'results.csv'))
        epochs = results['epoch'] + offset
        for name, values in results.items():
            columns.setdefault(name, []).append(epochs if name == 'epoch' else values)
        for record in read_bench_val(osp.join(run_dir, BENCH_VAL_FILE)):
            records.append(dict(record, epoch=int(record['epoch']) + offset))
        offset = int(epochs[-1])
    if not columns:
        raise ValueError(f'{run_dirs!r}: no run directory')
    stages = len(restarts) + 1
    merged = {k: np.concatenate(v) for k, v in columns.items() if len(v) == stages}
    return merged, records, restarts


def summarise_run(run_dir: str) -> dict:
    """Best and last epoch of a run's ``results.csv`` (mAP50) and its bench records (a
    ``"RUN1+RUN2"`` chain of stages counts its epochs and time over all stages)."""
    results, records, restarts = read_run_chain(run_dir)
    map50 = results[MAP50_COLUMN]
    best = int(np.argmax(map50))
    summary = {'epochs': int(results['epoch'][-1]), 'best_epoch': int(results['epoch'][best]),
               'best_map50': float(map50[best]), 'last_map50': float(map50[-1])}
    if restarts:
        summary['restarts_after_epoch'] = restarts
    if 'time' in results:
        # ultralytics' time column is cumulative within a stage
        ends = [i - 1 for i in range(1, len(results['epoch']))
                if results['time'][i] < results['time'][i - 1]] + [len(results['time']) - 1]
        summary['train_seconds'] = float(sum(results['time'][i] for i in ends))
    if records:
        summary['bench_val'] = records[-1]
    return summary


def plot_training_curves(runs: Dict[str, str], out: str, title: Optional[str] = None) -> str:
    """One PNG: validation mAP50 per epoch (left) and onset/source metrics (right) per run.

    Args:
        runs (dict): Label -> run directory (``results.csv``, optional ``bench_val.jsonl``),
            or a ``"RUN1+RUN2"`` chain of stages (:func:`read_run_chain`; a dotted line
            marks where a stage restarted the schedule).
        out (str): PNG path (written atomically).
        title (str, optional): Figure title.

    Returns:
        str: ``out``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if not runs:
        raise ValueError('no runs to plot')
    fig, (ax_map, ax_bench) = plt.subplots(1, 2, figsize=(11, 4))
    styles = ('-', '--', ':', '-.')
    for i, (label, run_dir) in enumerate(runs.items()):
        results, records, restarts = read_run_chain(run_dir)
        line, = ax_map.plot(results['epoch'], results[MAP50_COLUMN], marker='.',
                            label=f'{label} mAP50')
        for epoch in restarts:
            ax_map.axvline(epoch + 0.5, ls=':', lw=1, color=line.get_color())
        if MAP5095_COLUMN in results:
            ax_map.plot(results['epoch'], results[MAP5095_COLUMN], ls=':',
                        color=line.get_color(), label=f'{label} mAP50-95')
        for j, (task, name, text) in enumerate(CURVE_KEYS):
            points = [(r['epoch'], r['metrics'].get(f'{task}/{name}')) for r in records]
            points = [(e, v) for e, v in points if v is not None]
            if points:
                ax_bench.plot(*zip(*points), ls=styles[i % len(styles)], marker='o',
                              color=f'C{j}', label=f'{label} {text}')
    ax_map.set_xlabel('epoch')
    ax_map.set_ylabel('validation mAP')
    ax_map.set_ylim(bottom=0)
    ax_map.grid(alpha=0.3)
    ax_map.legend(fontsize=8)
    ax_bench.set_xlabel('epoch')
    ax_bench.set_ylabel(f'% on validation clips (confidence {TABLE_THRESHOLD:g})')
    ax_bench.set_ylim(-2, 102)
    ax_bench.grid(alpha=0.3)
    if ax_bench.lines:
        ax_bench.legend(fontsize=7)
    else:
        ax_bench.text(0.5, 0.5, 'no onset/source evaluation recorded', ha='center',
                      transform=ax_bench.transAxes)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = f'{out}.tmp.png'
    fig.savefig(tmp, dpi=90)
    plt.close(fig)
    os.replace(tmp, out)
    return out


def _clip_detections(predictor: BestBoxPredictor, clips: Sequence,
                     chunk: int = 32) -> List[Dict[str, np.ndarray]]:
    detections = []
    for clip in clips:
        conf, cen = [], []
        for start in range(0, clip.num_frames, chunk):
            c, p = predictor(clip.load_frames(range(start, min(start + chunk,
                                                               clip.num_frames))))
            conf.append(c)
            cen.append(p)
        detections.append({'confidences': np.concatenate(conf),
                           'centres': np.concatenate(cen)})
    return detections


class BenchValCallback:
    """ultralytics callback: onset/source metrics on validation clips every few epochs.

    Register :meth:`mark_trained` on ``on_train_epoch_end`` and the instance on
    ``on_fit_epoch_end`` (:meth:`register` does both); the final validation of
    ``best.pt``, which ultralytics reports as one more ``on_fit_epoch_end``, is skipped.

    Args:
        run_dir (str): The run folder (``bench_val.jsonl`` is appended there).
        data_root (str): Bench data root.
        split (str): Split of the clips. Default: ``'val'``.
        imgsz (int): Inference size (the training size).
        interval (int): Evaluate every ``interval`` epochs (and at the last one).
        max_clips (int, optional): Evenly spaced subsample of the split's clips.
    """

    def __init__(self, run_dir: str, data_root: str, imgsz: int, split: str = 'val',
                 interval: int = 5, max_clips: Optional[int] = None) -> None:
        from bleedorigin.datasets.bench import BenchIndex
        from bleedorigin.evaluation.clips import subsample

        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.path = osp.join(run_dir, BENCH_VAL_FILE)
        self.imgsz = int(imgsz)
        self.interval = int(interval)
        self.clips = subsample(BenchIndex(data_root, split=split).clips, max_clips)
        if not self.clips:
            raise ValueError(f'{data_root}: split {split!r} has no clips to evaluate')
        self._trained_epoch = None

    def register(self, yolo) -> None:
        """Add both callbacks to an ``ultralytics.YOLO`` model."""
        yolo.add_callback('on_train_epoch_end', self.mark_trained)
        yolo.add_callback('on_fit_epoch_end', self)

    def mark_trained(self, trainer) -> None:
        self._trained_epoch = int(trainer.epoch)

    def __call__(self, trainer) -> None:
        if self._trained_epoch is None or int(trainer.epoch) != self._trained_epoch:
            return  # not the end of a trained epoch (ultralytics' final validation)
        epoch = int(trainer.epoch) + 1
        last = epoch >= int(trainer.epochs) or bool(getattr(trainer, 'stop', False))
        if epoch % self.interval and not last:
            return
        model = trainer.ema.ema if getattr(trainer, 'ema', None) is not None else trainer.model
        model = deepcopy(model).float().eval()
        metrics = self.evaluate(model)
        os.makedirs(osp.dirname(self.path), exist_ok=True)
        with open(self.path, 'a') as f:
            f.write(json.dumps({'epoch': epoch, 'clips': len(self.clips),
                                'metrics': metrics}) + '\n')

    def evaluate(self, model) -> Dict[str, float]:
        """Metrics of ``model`` at the table threshold (``onset/...``, ``source/...``)."""
        import torch

        with torch.no_grad():
            detections = _clip_detections(BestBoxPredictor(model, self.imgsz), self.clips)
        flat = yolo_metrics('val', self.clips, detections)
        return {key.replace('/val/', '/'): float(value) for key, value in flat.items()
                if key.startswith(('onset/val/', 'source/val/'))}
