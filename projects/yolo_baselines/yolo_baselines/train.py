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
from copy import deepcopy
from typing import Optional

import torch

from .offline import OFFLINE_TRAIN_ARGS, import_ultralytics

MODEL_NAME_PATTERN = re.compile(r'^yolo(11|12)([nsmlx])$')


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
               patience: int = 100, extra_args: Optional[dict] = None) -> str:
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

    Returns:
        str: The run directory.
    """
    ul = import_ultralytics()
    model = resolve_model(model)
    name = osp.splitext(osp.basename(model))[0]
    run_dir = osp.join(osp.abspath(work_dir), run_name)
    weights_dir = osp.join(run_dir, 'weights')
    yolo = ul.YOLO(model, task='detect')

    def save_safe_state(trainer):
        os.makedirs(weights_dir, exist_ok=True)
        payload = _state_payload(trainer, name, imgsz)
        torch.save(payload, osp.join(weights_dir, 'last_state.pth'))
        if trainer.best_fitness is None or trainer.fitness == trainer.best_fitness:
            torch.save(payload, osp.join(weights_dir, 'best_state.pth'))

    yolo.add_callback('on_model_save', save_safe_state)
    args = dict(data=data_yaml, epochs=int(epochs), imgsz=int(imgsz), batch=int(batch),
                device='cpu', workers=int(workers), project=osp.abspath(work_dir),
                name=run_name, exist_ok=True, seed=int(seed), patience=int(patience),
                verbose=False, **OFFLINE_TRAIN_ARGS)
    args.update(extra_args or {})
    for key, value in OFFLINE_TRAIN_ARGS.items():
        if args[key] != value:
            raise ValueError(f'{key}={args[key]} would download files; it must stay {value}')
    yolo.train(**args)
    meta = {'name': name, 'method': method_name(name), 'model': model, 'data': data_yaml,
            'imgsz': imgsz, 'epochs': epochs, 'batch': batch, 'seed': seed}
    with open(osp.join(run_dir, 'run_meta.json'), 'w') as f:
        json.dump(meta, f, indent=2)
    print(f'{method_name(name)} trained for {epochs} epochs -> {run_dir}')
    return run_dir
