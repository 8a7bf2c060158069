"""Draw test predictions to image files (``tools/test.py --show-dir``)."""
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import numpy as np
from mmengine.hooks import Hook

from bleedorigin.registry import HOOKS

GT_COLOR = (255, 128, 0)     # BGR blue, as the paper's figures draw the ground truth
PRED_COLOR = (0, 200, 0)     # BGR green for predictions


@HOOKS.register_module()
class PointVisualizationHook(Hook):
    """Write one PNG per test sample: the source point on its frame, or the onset timeline.

    Source samples are drawn on the network input frame (the first three
    channels of ``inputs``) with the ground truth in blue, the prediction in
    green and the pixel error in original-frame units. Onset samples become a
    timeline strip with the ground-truth and predicted onset frames.

    Args:
        enable (bool): Draw at all. Defaults to False.
        out_dir (str, optional): Output folder; relative paths are taken inside
            the runner's work dir. Required when enabled.
        max_samples (int): Stop after this many images. Defaults to 500.
    """

    priority = 'LOW'

    def __init__(self, enable: bool = False, out_dir: Optional[str] = None,
                 max_samples: int = 500) -> None:
        if enable and not out_dir:
            raise ValueError('PointVisualizationHook: out_dir is required when enable=True')
        self.enable = enable
        self.out_dir = out_dir
        self.max_samples = max_samples
        self._written = 0

    def before_test(self, runner) -> None:
        if self.enable and not osp.isabs(self.out_dir):
            self.out_dir = osp.join(runner.work_dir, self.out_dir)
        if self.enable:
            os.makedirs(self.out_dir, exist_ok=True)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict = None,
                        outputs: Optional[Sequence] = None) -> None:
        if not self.enable or not outputs or self._written >= self.max_samples:
            return
        for index, output in enumerate(outputs):
            task = output.metainfo.get('task')
            name = f"{batch_idx:05d}_{index}_{output.metainfo.get('clip_id') or 'sample'}_{task}"
            if task == 'source' and getattr(output, 'pred_point', None) is not None:
                image = draw_source_prediction(
                    _input_frame(data_batch['inputs'][index]),
                    data_batch['data_samples'][index].metainfo['scale_factor'],
                    output.pred_point, getattr(output, 'gt_point', None))
            elif task == 'onset' and hasattr(output, 'num_frames'):
                image = draw_onset_timeline(output.num_frames, output.get('pred_onset'),
                                            output.get('gt_onset'))
            else:
                continue
            cv2.imwrite(osp.join(self.out_dir, f'{name}.png'), image)
            self._written += 1


def _input_frame(inputs) -> np.ndarray:
    """First frame of a network input (S, C, H, W) or (C, H, W) in [0, 1] -> HxWx3 BGR."""
    array = inputs.detach().cpu().numpy() if hasattr(inputs, 'detach') else np.asarray(inputs)
    if array.ndim == 4:
        array = array[0]
    rgb = np.clip(array[:3].transpose(1, 2, 0), 0.0, 1.0)
    return cv2.cvtColor((rgb * 255).astype(np.uint8), cv2.COLOR_RGB2BGR)


def draw_source_prediction(image_bgr: np.ndarray, scale_factor: Sequence[float],
                           pred_point: Sequence[float],
                           gt_point: Optional[Sequence[float]] = None) -> np.ndarray:
    """Draw predicted (and GT) points given in original-frame pixels on a resized frame."""
    image = image_bgr.copy()
    sx, sy = float(scale_factor[0]), float(scale_factor[1])

    def to_input(point):
        return int(round(point[0] * sx)), int(round(point[1] * sy))

    text = 'pred'
    if gt_point is not None:
        cv2.circle(image, to_input(gt_point), 6, GT_COLOR, 2, cv2.LINE_AA)
        error = float(np.hypot(pred_point[0] - gt_point[0], pred_point[1] - gt_point[1]))
        text = f'error {error:.1f} px'
    cv2.drawMarker(image, to_input(pred_point), PRED_COLOR, cv2.MARKER_CROSS, 14, 2)
    cv2.putText(image, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
    return image


def draw_onset_timeline(num_frames: int, pred_onset: Optional[int], gt_onset: Optional[int],
                        px_per_frame: int = 4, height: int = 48) -> np.ndarray:
    """A strip with one column block per frame, GT onset in blue, prediction in green."""
    width = max(int(num_frames), 1) * px_per_frame
    strip = np.full((height, width, 3), 40, np.uint8)
    for frame, color, top in ((gt_onset, GT_COLOR, 0), (pred_onset, PRED_COLOR, height // 2)):
        if frame is not None and 0 <= frame < num_frames:
            x0 = int(frame) * px_per_frame
            strip[top:top + height // 2, x0:x0 + px_per_frame] = color
    label = f'gt {gt_onset}  pred {pred_onset}'
    cv2.putText(strip, label, (4, height - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1,
                cv2.LINE_AA)
    return strip
