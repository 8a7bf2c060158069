"""Train an ultralytics YOLO11/YOLO12 detector on a converted bench dataset, offline.

Models are built from their yaml (``yolo11n.yaml`` ... ``yolo12m.yaml``: random
initialisation, nothing to download) or from a user's local ``.pt`` file. Next
to ultralytics' own ``weights/best.pt`` the run directory gets
``weights/best_state.pth``/``last_state.pth`` (a plain state_dict, the model
yaml and the class names) that :mod:`yolo_baselines.predictor` loads with
``weights_only=True``, and ``run_meta.json`` describing the run.
"""
import json
import os
import os.path as osp
import re
from contextlib import contextmanager
from copy import deepcopy
from typing import Callable, Dict, Optional

import numpy as np
import torch

from bleedorigin.utils.io import write_json_atomic

from .offline import OFFLINE_TRAIN_ARGS, import_ultralytics

MODEL_NAME_PATTERN = re.compile(r'^yolo(11|12)([nsmlx])$')
# weights of ultralytics' box fitness over (precision, recall, mAP50, mAP50-95): the number
# that selects best.pt and that `patience` watches (ultralytics' own default: mAP50-95)
FITNESS_WEIGHTS = {'map50': (0.0, 0.0, 1.0, 0.0), 'map50-95': (0.0, 0.0, 0.0, 1.0)}


@contextmanager
def box_fitness(name: str):
    """Within the block, ultralytics' detection fitness is ``name`` of :data:`FITNESS_WEIGHTS`."""
    if name not in FITNESS_WEIGHTS:
        raise ValueError(f'fitness must be one of {sorted(FITNESS_WEIGHTS)}, got {name!r}')
    from ultralytics.utils.metrics import Metric

    weights = np.array(FITNESS_WEIGHTS[name])
    original = Metric.fitness

    def fitness(self) -> float:
        return float((np.nan_to_num(np.array(self.mean_results())) * weights).sum())

    Metric.fitness = fitness
    try:
        yield
    finally:
        Metric.fitness = original


def method_name(model_name: str) -> str:
    """Paper-style row name: ``yolo11n`` -> ``YOLOv11-n``; other names unchanged."""
    match = MODEL_NAME_PATTERN.match(model_name)
    return f'YOLOv{match.group(1)}-{match.group(2)}' if match else model_name


def resolve_model(model: str) -> str:
    """Check that a model argument can be used offline.

    Args:
        model (str): A model yaml shipped with ultralytics (``yolo11n.yaml``), a
            local yaml file, or a local ``.pt`` file.

    Returns:
        str: The model argument for ``ultralytics.YOLO``.
    """
    import_ultralytics()
    from ultralytics.nn.tasks import yaml_model_load

    if model.endswith(('.yaml', '.yml')):
        if osp.isfile(model):
            return model
        try:  # yolo11n.yaml -> cfg/models/11/yolo11.yaml at scale n
            yaml_model_load(model)
        except FileNotFoundError as err:
            raise FileNotFoundError(f'model {model}: no such ultralytics model yaml or local '
                                    'file') from err
        return model
    if model.endswith('.pt'):
        if not osp.isfile(model):
            raise FileNotFoundError(
                f'model {model}: .pt weights must be a local file (nothing is downloaded); use '
                f'{osp.splitext(osp.basename(model))[0]}.yaml to train from scratch')
        return model
    raise ValueError(f'model {model}: expected a model .yaml or a local .pt file')


def _state_payload(trainer, name: str, imgsz: int) -> dict:
    model = trainer.ema.ema if getattr(trainer, 'ema', None) is not None else trainer.model
    model = deepcopy(model).float()
    return {'state_dict': {k: v.detach().cpu() for k, v in model.state_dict().items()},
            'yaml': deepcopy(model.yaml), 'names': dict(model.names), 'name': name,
            'imgsz': imgsz, 'epoch': int(trainer.epoch) + 1}


def train_yolo(model: str, data_yaml: str, work_dir: str, run_name: str, epochs: int,
               imgsz: int = 640, batch: int = 16, seed: int = 0, workers: int = 0,
               patience: int = 100, extra_args: Optional[dict] = None, resume: bool = False,
               time: Optional[float] = None, bench_eval: Optional[dict] = None,
               callbacks: Optional[Dict[str, Callable]] = None,
               fitness: str = 'map50-95') -> str:
    """Train one YOLO variant on CPU without network access.

    Args:
        model (str): Model yaml name (``yolo11n.yaml``) or local ``.pt`` path.
        data_yaml (str): ultralytics ``data.yaml`` (from :func:`build_yolo_dataset`).
        work_dir (str): Parent folder of the run.
        run_name (str): Run folder name under ``work_dir``.
        epochs (int): Training epochs (paper: 200).
        imgsz (int): Input size (paper: 640).
        batch (int): Batch size (paper: 16).
        seed (int): Random seed.
        workers (int): Data-loader workers (0 keeps CPU usage predictable).
        patience (int): Early-stopping patience in epochs.
        extra_args (dict, optional): Further ``YOLO.train`` overrides.
        resume (bool): Continue the run from its ``weights/last.pt`` (ultralytics
            ``resume``: epoch, optimizer, EMA and schedule restored; ``patience``,
            ``time``, ``workers`` and ``batch`` may change). Without a ``last.pt``
            a new run starts; a finished run (patience, epochs or ``time`` reached)
            cannot be resumed (RuntimeError naming the way to continue it from its
            weights as a new run). Default: False.
        time (float, optional): Wall-clock budget in hours (ultralytics ``time``:
            the epoch count is fitted to the budget and the schedule follows).
        bench_eval (dict, optional): ``BenchValCallback`` arguments (``data_root``,
            ``split``, ``interval``, ``max_clips``): onset/source metrics on the
            validation clips every few epochs, appended to ``bench_val.jsonl``.
        callbacks (dict, optional): Further ultralytics callbacks, event -> callable.
        fitness (str): What selects ``best.pt`` and what ``patience`` watches on the
            validation set: ``'map50-95'`` (ultralytics' default) or ``'map50'``.

    Returns:
        str: The run directory.
    """
    ul = import_ultralytics()
    model = resolve_model(model)
    name = osp.splitext(osp.basename(model))[0]
    run_dir = osp.join(osp.abspath(work_dir), run_name)
    weights_dir = osp.join(run_dir, 'weights')
    last_pt = osp.join(weights_dir, 'last.pt')
    if resume and _run_finished(run_dir):
        # ultralytics strips the optimizer from a finished run's last.pt: it cannot resume
        raise RuntimeError(
            f'{run_dir} has finished ({_read_meta(run_dir).get("stopped_by", "done")}); '
            'ultralytics cannot resume a finished run. To train it further start a new run '
            f'from its weights: --cfg-options model={last_pt} --name {run_name}_more')
    resuming = bool(resume) and osp.isfile(last_pt)
    if resume and not resuming:
        print(f'{run_dir}: nothing to resume (no weights/last.pt yet): new run')
    # last.pt is the pickle ultralytics wrote for this very run (not third-party weights)
    yolo = ul.YOLO(last_pt if resuming else model, task='detect')
    if model.endswith('.pt'):  # weights to start from: name the run after their model yaml
        yaml_file = (getattr(yolo.model, 'yaml', None) or {}).get('yaml_file')
        if yaml_file:
            name = osp.splitext(osp.basename(yaml_file))[0]

    def save_safe_state(trainer):
        os.makedirs(weights_dir, exist_ok=True)
        payload = _state_payload(trainer, name, imgsz)
        torch.save(payload, osp.join(weights_dir, 'last_state.pth'))
        if trainer.best_fitness is None or trainer.fitness == trainer.best_fitness:
            torch.save(payload, osp.join(weights_dir, 'best_state.pth'))

    yolo.add_callback('on_model_save', save_safe_state)
    if bench_eval:
        from .val_curve import BenchValCallback
        BenchValCallback(run_dir, imgsz=imgsz, **bench_eval).register(yolo)
    for event, callback in (callbacks or {}).items():
        yolo.add_callback(event, callback)
    args = dict(data=data_yaml, epochs=int(epochs), imgsz=int(imgsz), batch=int(batch),
                device='cpu', workers=int(workers), project=osp.abspath(work_dir),
                name=run_name, exist_ok=True, seed=int(seed), patience=int(patience),
                verbose=False, **OFFLINE_TRAIN_ARGS)
    args.update(extra_args or {})
    if time is not None:
        if time <= 0:
            raise ValueError(f'time must be > 0 hours, got {time}')
        args['time'] = float(time)
    if resuming:
        args['resume'] = last_pt
    for key, value in OFFLINE_TRAIN_ARGS.items():
        if args[key] != value:
            raise ValueError(f'{key}={args[key]} would download files; it must stay {value}')
    meta = {'name': name, 'method': method_name(name), 'model': model, 'data': data_yaml,
            'imgsz': imgsz, 'epochs': epochs, 'batch': batch, 'seed': seed,
            'patience': patience, 'fitness': fitness, 'time_hours': time, 'finished': False}
    # written before training too, so that an unfinished run's best_state.pth is usable
    write_json_atomic(osp.join(run_dir, 'run_meta.json'), meta, indent=2, make_dirs=True)
    with box_fitness(fitness):
        yolo.train(**args)
    trainer = yolo.trainer
    stopper = getattr(trainer, 'stopper', None)
    epochs_run = int(getattr(trainer, 'epoch', -1)) + 1
    early = bool(stopper is not None and epochs_run - stopper.best_epoch >= stopper.patience)
    meta.update({
        'epochs_run': epochs_run,
        'early_stopped': early,
        # patience: converged on validation; time: the session's budget ended it (continue
        # with model=<run>/weights/last.pt, see the README); epochs: the epoch cap
        'stopped_by': 'patience' if early else 'time' if time else 'epochs',
        'best_epoch': None if stopper is None else int(stopper.best_epoch),  # 1-based
        'best_fitness': (None if getattr(trainer, 'best_fitness', None) is None
                         else float(trainer.best_fitness)),
        'finished': True})
    write_json_atomic(osp.join(run_dir, 'run_meta.json'), meta, indent=2)
    print(f'{method_name(name)} trained for {meta["epochs_run"]} epochs -> {run_dir}')
    return run_dir


def _read_meta(run_dir: str) -> dict:
    meta_path = osp.join(run_dir, 'run_meta.json')
    if not osp.isfile(meta_path):
        return {}
    with open(meta_path) as f:
        return json.load(f)


def _run_finished(run_dir: str) -> bool:
    return bool(_read_meta(run_dir).get('finished', False))
