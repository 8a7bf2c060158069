"""Best-box inference of an ultralytics YOLO detection model on RGB frames.

Onset and source only need the highest-confidence candidate of each frame,
which non-maximum suppression never removes, so inference stops at the raw
head output: letterbox (as ultralytics' predictor), one forward pass per batch
of frames, arg-max over candidates, box centre mapped back to frame pixels.

Weights come from a run directory written by :func:`yolo_baselines.train.train_yolo`
(``weights/best_state.pth``: a plain state_dict plus the model yaml, loaded with
``weights_only=True``) or from a user's local ultralytics ``.pt`` file.
"""
import json
import os.path as osp
import warnings
from typing import Tuple

import cv2
import numpy as np
import torch

from bleedorigin.utils import load_checkpoint_safely

from .offline import import_ultralytics

LETTERBOX_PAD_VALUE = 114


def load_run_model(weights: str) -> Tuple[torch.nn.Module, dict]:
    """Build a YOLO detection model from a run directory or a local ``.pt`` file.

    Args:
        weights (str): A run directory (``run_meta.json`` + ``weights/best_state.pth``),
            a shipped ``checkpoints/yolo*.pth`` (``state_dict`` + ``meta``, float16),
            a ``*_state.pth`` file written by our trainer, or a local ultralytics ``.pt``.

    Returns:
        tuple: ``(model, meta)``; model in eval mode on CPU, meta with
        ``name`` (e.g. 'yolo11n'), ``imgsz`` and ``names``.
    """
    import_ultralytics()
    from ultralytics.nn.tasks import DetectionModel

    meta = {}
    if osp.isdir(weights):
        meta_path = osp.join(weights, 'run_meta.json')
        if not osp.isfile(meta_path):
            raise FileNotFoundError(f'{meta_path}: not a YOLO run directory of yolo_baselines '
                                    '(run_meta.json missing; train with tools/train_yolo.py)')
        with open(meta_path) as f:
            meta = json.load(f)
        state_path = osp.join(weights, 'weights', 'best_state.pth')
        if not osp.isfile(state_path):
            state_path = osp.join(weights, 'weights', 'last_state.pth')
        weights = state_path
    if not osp.isfile(weights):
        raise FileNotFoundError(f'{weights}: YOLO weights not found')
    if weights.endswith('.pt'):
        warnings.warn(f'{weights}: an ultralytics .pt file is a pickle that ultralytics loads '
                      'itself; only use weights from a source you trust.')
        from ultralytics import YOLO
        model = YOLO(weights, task='detect').model
        meta.setdefault('name', osp.splitext(osp.basename(weights))[0])
        meta.setdefault('names', dict(model.names))
    else:
        checkpoint = load_checkpoint_safely(weights)
        if isinstance(checkpoint.get('meta'), dict) and 'yaml' in checkpoint['meta']:
            # a shipped checkpoint (checkpoints/yolo11n.pth): the zoo's {'state_dict', 'meta'}
            checkpoint = {**checkpoint['meta'], 'state_dict': checkpoint['state_dict']}
        for field in ('state_dict', 'yaml', 'names'):
            if field not in checkpoint:
                raise KeyError(f'{weights}: field {field!r} missing (not a yolo_baselines '
                               'state file)')
        names = {int(k): v for k, v in checkpoint['names'].items()}
        model = DetectionModel(cfg=dict(checkpoint['yaml']), nc=len(names), verbose=False)
        model.load_state_dict(checkpoint['state_dict'])
        model.names = names
        meta.setdefault('name', checkpoint.get('name', 'yolo'))
        meta.setdefault('imgsz', checkpoint.get('imgsz', 640))
        meta['names'] = names
    model = model.float().eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, meta


def letterbox(rgb: np.ndarray, imgsz: int, stride: int = 32) -> Tuple[np.ndarray, float,
                                                                       Tuple[float, float]]:
    """Resize the long side to ``imgsz`` and pad to a multiple of ``stride``.

    Args:
        rgb (np.ndarray): (H, W, 3) uint8 frame.

    Returns:
        tuple: padded image (H', W', 3), scale r, padding (left, top) in pixels.
    """
    height, width = rgb.shape[:2]
    r = imgsz / max(height, width)
    new_w, new_h = max(1, round(width * r)), max(1, round(height * r))
    out_w = int(np.ceil(new_w / stride) * stride)
    out_h = int(np.ceil(new_h / stride) * stride)
    resized = cv2.resize(rgb, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    left, top = (out_w - new_w) // 2, (out_h - new_h) // 2
    padded = np.full((out_h, out_w, 3), LETTERBOX_PAD_VALUE, dtype=np.uint8)
    padded[top:top + new_h, left:left + new_w] = resized
    return padded, r, (float(left), float(top))


class BestBoxPredictor:
    """Best detection (confidence and box centre) of each frame.

    Args:
        model (nn.Module): ultralytics ``DetectionModel`` in eval mode.
        imgsz (int): Inference size of the long side. Default: 640.
        batch_size (int): Frames per forward pass. Default: 8.
    """

    def __init__(self, model: torch.nn.Module, imgsz: int = 640, batch_size: int = 8):
        self.model = model
        self.imgsz = int(imgsz)
        self.batch_size = int(batch_size)
        self.stride = int(max(int(model.stride.max()), 32)) if hasattr(model, 'stride') else 32
        head = model.model[-1] if hasattr(model, 'model') else None
        self.end2end = bool(getattr(head, 'end2end', False))

    @torch.no_grad()
    def __call__(self, frames: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Run on frames of one size.

        Args:
            frames (np.ndarray): (T, H, W, 3) uint8 RGB frames.

        Returns:
            tuple: confidences (T,) float32 and centres (T, 2) float32 (x, y) in frame pixels.
        """
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f'frames must be (T, H, W, 3) uint8 RGB, got {frames.shape} '
                             f'{frames.dtype}')
        confidences = np.zeros(len(frames), dtype=np.float32)
        centres = np.zeros((len(frames), 2), dtype=np.float32)
        for start in range(0, len(frames), self.batch_size):
            batch = frames[start:start + self.batch_size]
            boxed = [letterbox(f, self.imgsz, self.stride) for f in batch]
            x = torch.from_numpy(np.stack([b[0] for b in boxed])).permute(0, 3, 1, 2)
            x = x.float().div_(255.0)  # (B, 3, H', W')
            out = self.model(x)
            if isinstance(out, list | tuple):
                out = out[0]
            if self.end2end:
                # (B, max_det, 6): x1, y1, x2, y2, score, class -> centre and score
                scores = out[:, :, 4]
                cx, cy = (out[:, :, 0] + out[:, :, 2]) / 2, (out[:, :, 1] + out[:, :, 3]) / 2
            else:
                # (B, 4 + nc, A): boxes (cx, cy, w, h) in letterboxed pixels, class scores
                scores = out[:, 4:, :].max(dim=1)[0]  # (B, A)
                cx, cy = out[:, 0, :], out[:, 1, :]
            best = scores.argmax(dim=1)  # (B,)
            for i, (_, r, (left, top)) in enumerate(boxed):
                a = int(best[i])
                confidences[start + i] = float(scores[i, a])
                centres[start + i, 0] = (float(cx[i, a]) - left) / r
                centres[start + i, 1] = (float(cy[i, a]) - top) / r
        height, width = frames.shape[1:3]
        np.clip(centres[:, 0], 0, width, out=centres[:, 0])
        np.clip(centres[:, 1], 0, height, out=centres[:, 1])
        return confidences, centres
