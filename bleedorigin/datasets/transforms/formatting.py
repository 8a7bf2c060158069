"""Pack onset and source samples into model inputs and data samples."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement, InstanceData, PixelData
from mmpose.structures import PoseDataSample

from bleedorigin.registry import TRANSFORMS

from ...models.utils import ONSET_COLOUR_CHANNELS, ONSET_INPUT_CHANNELS


@TRANSFORMS.register_module()
class PackOnsetInputs(BaseTransform):
    """Onset sample -> ``inputs`` dict(rgb (T, C, h, w) uint8 (C = 4 with the pooled
    Red-Mask of ``onset_frame_input``, else 3), hsv (T, 3, h, w), flow
    (T, 2, h, w)) and a data sample with metainfo ``task='onset'``, ``clip_id``,
    ``num_frames`` (clip), ``segment_start``, ``window_start_min``, ``onset_index``
    (in segment frames), ``gt_onset`` (in clip frames) and ``clip`` (its ``ClipRecord``,
    from which the onset refiner reads frames; None without one). Of a training cache
    with the colour of each cell's Red-Mask maximum (7 channels) the first 4 are kept."""

    def transform(self, results: dict) -> dict:
        def chw(array):
            return torch.from_numpy(np.ascontiguousarray(array)).permute(0, 3, 1, 2).contiguous()

        frames = results['frames']
        if frames.shape[-1] == ONSET_COLOUR_CHANNELS:
            frames = frames[..., :ONSET_INPUT_CHANNELS]
        inputs = dict(rgb=chw(frames), hsv=chw(results['hsv']),
                      flow=chw(results['flow']))
        sample = BaseDataElement(metainfo=dict(
            task='onset', clip_id=results.get('clip_id'), num_frames=results['num_frames'],
            segment_start=results['segment_start'],
            window_start_min=results['window_start_min'],
            onset_index=results['onset_index'], gt_onset=results.get('onset_frame'),
            clip=results.get('clip'), colour_anchor=results.get('colour_anchor'),
            hue_steps=results.get('hue_steps', 0)))
        return dict(inputs=inputs, data_samples=sample)


@TRANSFORMS.register_module()
class PackSourceInputs(BaseTransform):
    """Source sample -> ``inputs`` (S, 6, H, W) float: [I_t, I_t - I_ref] per frame, with
    S = 2 (onset frame + pseudo-label frame) when a pseudo frame is loaded, else 1.

    The data sample has metainfo ``task='source'``, ``clip_id``, ``gt_point`` and
    ``gt_sources`` (every source of the onset frame; original pixels), ``ori_shape``,
    ``scale_factor`` and ``frame_samples``: one
    mmpose ``PoseDataSample`` per input frame with ``gt_fields.heatmaps`` and, for the
    real frame, ``gt_instances.transformed_keypoints`` (metainfo ``is_pseudo_label``).

    Args:
        with_reference (bool): Add the difference to the reference frame (6 channels)
            instead of RGB only (3 channels).
    """

    def __init__(self, with_reference: bool = True) -> None:
        self.with_reference = with_reference

    def _image(self, frame: np.ndarray, reference: np.ndarray) -> torch.Tensor:
        cur = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1).float() / 255.0
        if not self.with_reference:
            return cur
        ref = torch.from_numpy(np.ascontiguousarray(reference)).permute(2, 0, 1).float() / 255.0
        return torch.cat([cur, cur - ref])

    def transform(self, results: dict) -> dict:
        images = [self._image(results['current'], results['reference'])]
        frame_samples = []
        if results.get('gt_heatmap') is not None:
            real = PoseDataSample(metainfo=dict(is_pseudo_label=False))
            real.gt_fields = PixelData(heatmaps=torch.from_numpy(results['gt_heatmap']))
            real.gt_instances = InstanceData(transformed_keypoints=np.asarray(
                results['gt_point_input'], dtype=np.float32).reshape(1, 1, 2))
            frame_samples.append(real)
        if results.get('pseudo') is not None and results.get('pseudo_heatmap') is not None:
            images.append(self._image(results['pseudo'],
                                      results.get('reference_pseudo', results['reference'])))
            pseudo = PoseDataSample(metainfo=dict(is_pseudo_label=True))
            pseudo.gt_fields = PixelData(heatmaps=torch.from_numpy(results['pseudo_heatmap']))
            pseudo.gt_instances = InstanceData()
            frame_samples.append(pseudo)
        sample = BaseDataElement(metainfo=dict(
            task='source', clip_id=results.get('clip_id'), gt_point=results.get('gt_point'),
            gt_sources=results.get('gt_sources'),
            ori_shape=tuple(results['ori_shape']), scale_factor=results['scale_factor'],
            onset_frame=results.get('onset_frame')))
        sample.frame_samples = frame_samples
        return dict(inputs=torch.stack(images), data_samples=sample)
