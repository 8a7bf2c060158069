"""Geometric and photometric clip transforms that keep points recoverable.

Every geometric transform applies the same operation to all T frames of
``results['imgs']`` (T, H, W, 3), moves the points stored under
``point_keys`` with them, and composes its map into
``results['homography_matrix']`` (3, 3), the map from original-frame pixels to
current pixels. :func:`points_to_original` inverts it, so predictions made on
transformed frames are scored in original-frame pixels (the paper's Err<=d
thresholds are in original pixels). For resize-only pipelines
:func:`to_original` with ``results['scale_factor']`` does the same.

Point convention (DATA_FORMAT.md): x right, y down, origin at the top-left
corner of the top-left pixel; an image of width W spans ``[0, W]``. Points are
arrays of shape (..., 2); NaN marks an absent point and stays NaN.
"""
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from bleedorigin.registry import TRANSFORMS

INTERPOLATIONS = {
    'nearest': cv2.INTER_NEAREST,
    'bilinear': cv2.INTER_LINEAR,
    'bicubic': cv2.INTER_CUBIC,
    'area': cv2.INTER_AREA,
}
FLIP_DIRECTIONS = ('horizontal', 'vertical', 'diagonal')


def to_original(points: np.ndarray, scale_factor: Sequence[float]) -> np.ndarray:
    """Map points of a resized frame back to original-frame pixels.

    Args:
        points (np.ndarray): (..., 2) points (x, y) in resized pixels.
        scale_factor (Sequence[float]): (sx, sy) = resized / original size, as
            stored by :class:`ResizeClip`.

    Returns:
        np.ndarray: (..., 2) float64 points in original pixels.
    """
    sx, sy = float(scale_factor[0]), float(scale_factor[1])
    if sx <= 0 or sy <= 0:
        raise ValueError(f'scale_factor must be positive, got {tuple(scale_factor)}')
    return np.asarray(points, dtype=np.float64) / np.array([sx, sy])


def apply_homography(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Apply a (3, 3) projective map to (..., 2) points (NaN stays NaN)."""
    points = np.asarray(points, dtype=np.float64)
    if points.shape[-1] != 2:
        raise ValueError(f'points must have shape (..., 2), got {points.shape}')
    flat = points.reshape(-1, 2)
    homogeneous = np.concatenate([flat, np.ones((len(flat), 1))], axis=1) @ np.asarray(
        matrix, dtype=np.float64).T
    return (homogeneous[:, :2] / homogeneous[:, 2:3]).reshape(points.shape)


def points_to_original(points: np.ndarray, homography_matrix: np.ndarray) -> np.ndarray:
    """Map points of transformed frames back to original-frame pixels.

    Args:
        points (np.ndarray): (..., 2) points in current pixels.
        homography_matrix (np.ndarray): (3, 3) original -> current map
            (``results['homography_matrix']``).

    Returns:
        np.ndarray: (..., 2) float64 points in original pixels.
    """
    return apply_homography(points, np.linalg.inv(np.asarray(homography_matrix, np.float64)))


class _PointTransform(BaseTransform):
    """Shared handling of ``imgs``, point keys and the homography matrix."""

    def __init__(self, point_keys: Sequence[str] = ('points',),
                 visible_key: Optional[str] = 'points_visible'):
        self.point_keys = tuple(point_keys)
        self.visible_key = visible_key

    @staticmethod
    def _imgs(results: dict, name: str) -> np.ndarray:
        imgs = results.get('imgs')
        if not isinstance(imgs, np.ndarray) or imgs.ndim != 4:
            shape = getattr(imgs, 'shape', None)
            raise KeyError(f'{name}: results["imgs"] must be a (T, H, W, C) array, got {shape} '
                           '(put LoadClipFrames before it)')
        return imgs

    def _move_points(self, results: dict, matrix: np.ndarray) -> None:
        for key in self.point_keys:
            if results.get(key) is not None:
                points = np.asarray(results[key])
                results[key] = apply_homography(points, matrix).astype(
                    points.dtype if np.issubdtype(points.dtype, np.floating) else np.float32)
        current = results.get('homography_matrix')
        current = np.eye(3) if current is None else np.asarray(current, np.float64)
        results['homography_matrix'] = matrix @ current

    def _hide_outside(self, results: dict, width: int, height: int) -> None:
        """Mark points that left the frame as invisible (if visibility is kept)."""
        if self.visible_key is None or results.get(self.visible_key) is None:
            return
        visible = np.asarray(results[self.visible_key], dtype=bool).copy()
        for key in self.point_keys:
            if results.get(key) is None:
                continue
            points = np.asarray(results[key], dtype=np.float64)
            if points.shape[:-1] != visible.shape:
                continue
            with np.errstate(invalid='ignore'):
                inside = ((points[..., 0] >= 0) & (points[..., 0] <= width)
                          & (points[..., 1] >= 0) & (points[..., 1] <= height))
            visible &= inside
        results[self.visible_key] = visible


@TRANSFORMS.register_module()
class ResizeClip(_PointTransform):
    """Resize every frame of a clip to one size, scaling points with it.

    Required keys: imgs (T, H, W, C). Modified keys: imgs, img_shape,
    scale_factor (cumulative (sx, sy) = new / original), homography_matrix,
    and the ``point_keys`` entries.

    Args:
        scale (tuple[int, int], optional): Target (width, height). With
            ``keep_ratio`` the frame is scaled to fit inside it.
        scale_factor (float, optional): Alternative to ``scale``: resize by
            this factor.
        keep_ratio (bool): Keep the aspect ratio. Default: False.
        interpolation (str): One of nearest, bilinear, bicubic, area.
            Default: 'bilinear'.
        point_keys (Sequence[str]): Keys of (..., 2) point arrays to rescale.
            Default: ('points',).
    """

    def __init__(self, scale: Optional[Tuple[int, int]] = None,
                 scale_factor: Optional[float] = None, keep_ratio: bool = False,
                 interpolation: str = 'bilinear', point_keys: Sequence[str] = ('points',)):
        super().__init__(point_keys, None)
        if (scale is None) == (scale_factor is None):
            raise ValueError('ResizeClip: give exactly one of scale=(w, h) and scale_factor')
        if scale is not None and (len(scale) != 2 or min(scale) <= 0):
            raise ValueError(f'ResizeClip: scale must be (width, height) > 0, got {scale}')
        if scale_factor is not None and scale_factor <= 0:
            raise ValueError(f'ResizeClip: scale_factor must be > 0, got {scale_factor}')
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f'ResizeClip: interpolation {interpolation!r} not in '
                             f'{sorted(INTERPOLATIONS)}')
        self.scale = None if scale is None else (int(scale[0]), int(scale[1]))
        self.scale_factor = scale_factor
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation

    def _target_size(self, width: int, height: int) -> Tuple[int, int]:
        if self.scale_factor is not None:
            factor_w = factor_h = self.scale_factor
        elif self.keep_ratio:
            factor_w = factor_h = min(self.scale[0] / width, self.scale[1] / height)
        else:
            return self.scale
        return max(1, int(round(width * factor_w))), max(1, int(round(height * factor_h)))

    def transform(self, results: dict) -> dict:
        imgs = self._imgs(results, 'ResizeClip')
        height, width = imgs.shape[1:3]
        new_w, new_h = self._target_size(width, height)
        sx, sy = new_w / width, new_h / height
        if (new_w, new_h) != (width, height):
            flag = INTERPOLATIONS[self.interpolation]
            imgs = np.stack([cv2.resize(frame, (new_w, new_h), interpolation=flag)
                             for frame in imgs]).reshape(len(imgs), new_h, new_w, -1)
        results['imgs'] = imgs
        results['img_shape'] = (new_h, new_w)
        previous = results.get('scale_factor', (1.0, 1.0))
        results['scale_factor'] = (float(previous[0]) * sx, float(previous[1]) * sy)
        self._move_points(results, np.diag([sx, sy, 1.0]))
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(scale={self.scale}, scale_factor='
                f'{self.scale_factor}, keep_ratio={self.keep_ratio}, '
                f'interpolation={self.interpolation!r})')


@TRANSFORMS.register_module()
class RandomCropClip(_PointTransform):
    """Crop the same random window from every frame of a clip.

    Required keys: imgs. Modified keys: imgs, img_shape, homography_matrix,
    the ``point_keys`` entries (shifted by the crop origin) and, if present,
    ``visible_key`` (points that fall outside the crop become invisible).
    Added key: crop_bbox (x0, y0, x1, y1) in pixels of the input.

    Args:
        crop_size (tuple[int, int], optional): (width, height) of the crop,
            clipped to the frame. Default: drawn from ``crop_ratio_range``.
        crop_ratio_range (tuple[float, float]): Range of the crop side as a
            fraction of the frame side (same fraction for both sides, keeping
            the aspect ratio). Default: (0.7, 1.0).
        keep_points_inside (bool): Choose the window so that all visible
            points stay inside it when possible (a crop must not cut the
            bleeding source out of a training sample). Default: True.
        prob (float): Probability of cropping. Default: 1.0.
        point_keys (Sequence[str]): Keys of (..., 2) point arrays.
        visible_key (str, optional): Key of the visibility flags.
    """

    def __init__(self, crop_size: Optional[Tuple[int, int]] = None,
                 crop_ratio_range: Tuple[float, float] = (0.7, 1.0),
                 keep_points_inside: bool = True, prob: float = 1.0,
                 point_keys: Sequence[str] = ('points',),
                 visible_key: Optional[str] = 'points_visible'):
        super().__init__(point_keys, visible_key)
        if crop_size is not None and (len(crop_size) != 2 or min(crop_size) <= 0):
            raise ValueError(f'RandomCropClip: crop_size must be (width, height) > 0, '
                             f'got {crop_size}')
        low, high = crop_ratio_range
        if not 0 < low <= high <= 1:
            raise ValueError(f'RandomCropClip: crop_ratio_range must satisfy 0 < low <= high '
                             f'<= 1, got {crop_ratio_range}')
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomCropClip: prob must be in [0, 1], got {prob}')
        self.crop_size = crop_size
        self.crop_ratio_range = (float(low), float(high))
        self.keep_points_inside = keep_points_inside
        self.prob = prob

    def _points_span(self, results: dict) -> Optional[Tuple[float, float, float, float]]:
        chunks = []
        visible = results.get(self.visible_key) if self.visible_key else None
        for key in self.point_keys:
            if results.get(key) is None:
                continue
            points = np.asarray(results[key], dtype=np.float64)
            if visible is not None and np.shape(visible) == points.shape[:-1]:
                points = points[np.asarray(visible, bool)]
            points = points.reshape(-1, 2)
            chunks.append(points[np.isfinite(points).all(axis=1)])
        points = np.concatenate(chunks) if chunks else np.zeros((0, 2))
        if len(points) == 0:
            return None
        return points[:, 0].min(), points[:, 1].min(), points[:, 0].max(), points[:, 1].max()

    @staticmethod
    def _offset(size: int, crop: int, low: float, high: float) -> int:
        """Random origin in [0, size - crop], inside [ceil(high) - crop, floor(low)] if possible."""
        start, stop = 0, size - crop
        if np.isfinite(low):
            lo, hi = max(start, int(np.ceil(high)) - crop), min(stop, int(np.floor(low)))
            if lo <= hi:
                start, stop = lo, hi
        return int(np.random.randint(start, stop + 1))

    def transform(self, results: dict) -> dict:
        imgs = self._imgs(results, 'RandomCropClip')
        if np.random.rand() >= self.prob:
            return results
        height, width = imgs.shape[1:3]
        if self.crop_size is not None:
            crop_w, crop_h = min(self.crop_size[0], width), min(self.crop_size[1], height)
        else:
            ratio = np.random.uniform(*self.crop_ratio_range)
            crop_w = max(1, int(round(width * ratio)))
            crop_h = max(1, int(round(height * ratio)))
        span = self._points_span(results) if self.keep_points_inside else None
        if span is None:
            span = (np.nan, np.nan, np.nan, np.nan)
        x0 = self._offset(width, crop_w, span[0], span[2])
        y0 = self._offset(height, crop_h, span[1], span[3])
        results['imgs'] = np.ascontiguousarray(imgs[:, y0:y0 + crop_h, x0:x0 + crop_w])
        results['img_shape'] = (crop_h, crop_w)
        results['crop_bbox'] = np.array([x0, y0, x0 + crop_w, y0 + crop_h])
        self._move_points(results, np.array([[1.0, 0, -x0], [0, 1.0, -y0], [0, 0, 1.0]]))
        self._hide_outside(results, crop_w, crop_h)
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, crop_ratio_range='
                f'{self.crop_ratio_range}, keep_points_inside={self.keep_points_inside}, '
                f'prob={self.prob})')


@TRANSFORMS.register_module()
class RandomFlipClip(_PointTransform):
    """Flip every frame of a clip the same way, mirroring the points.

    Required keys: imgs. Modified keys: imgs, homography_matrix and the
    ``point_keys`` entries. Added keys: flip (bool), flip_direction.

    Args:
        prob (float): Probability of flipping. Default: 0.5.
        direction (str | Sequence[str]): 'horizontal', 'vertical' or
            'diagonal', or several of them to choose from uniformly.
            Default: 'horizontal'.
        point_keys (Sequence[str]): Keys of (..., 2) point arrays.
    """

    def __init__(self, prob: float = 0.5,
                 direction: Union[str, Sequence[str]] = 'horizontal',
                 point_keys: Sequence[str] = ('points',)):
        super().__init__(point_keys, None)
        directions = [direction] if isinstance(direction, str) else list(direction)
        for name in directions:
            if name not in FLIP_DIRECTIONS:
                raise ValueError(f'RandomFlipClip: direction {name!r} not in {FLIP_DIRECTIONS}')
        if not directions:
            raise ValueError('RandomFlipClip: direction must name at least one direction')
        if not 0 <= prob <= 1:
            raise ValueError(f'RandomFlipClip: prob must be in [0, 1], got {prob}')
        self.prob = prob
        self.directions = directions

    def transform(self, results: dict) -> dict:
        imgs = self._imgs(results, 'RandomFlipClip')
        if np.random.rand() >= self.prob:
            results['flip'] = False
            results['flip_direction'] = None
            return results
        direction = self.directions[np.random.randint(len(self.directions))]
        height, width = imgs.shape[1:3]
        matrix = np.eye(3)
        if direction in ('horizontal', 'diagonal'):
            imgs = imgs[:, :, ::-1]
            matrix = np.array([[-1.0, 0, width], [0, 1.0, 0], [0, 0, 1.0]]) @ matrix
        if direction in ('vertical', 'diagonal'):
            imgs = imgs[:, ::-1]
            matrix = np.array([[1.0, 0, 0], [0, -1.0, height], [0, 0, 1.0]]) @ matrix
        results['imgs'] = np.ascontiguousarray(imgs)
        results['flip'] = True
        results['flip_direction'] = direction
        self._move_points(results, matrix)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(prob={self.prob}, direction={self.directions})'


@TRANSFORMS.register_module()
class ColorJitterClip(BaseTransform):
    """Photometric jitter with one random draw for all frames of a clip.

    Temporal cues (frame differences, optical flow) survive because every
    frame gets the same brightness, contrast, saturation and hue change.
    The hue range is small by default: redness is the cue for bleeding.

    Required keys: imgs (T, H, W, 3) RGB, uint8 or float in 0-255.
    Modified keys: imgs (same dtype).

    Args:
        brightness (float): Brightness factor drawn from [1 - b, 1 + b].
            Default: 0.2.
        contrast (float): Contrast factor drawn from [1 - c, 1 + c] around the
            clip's mean grey level. Default: 0.2.
        saturation (float): Saturation factor from [1 - s, 1 + s].
            Default: 0.2.
        hue (float): Hue shift drawn from [-h, h] turns (0.5 = 180 degrees).
            Default: 0.02.
        prob (float): Probability of jittering. Default: 1.0.
    """

    def __init__(self, brightness: float = 0.2, contrast: float = 0.2,
                 saturation: float = 0.2, hue: float = 0.02, prob: float = 1.0):
        for name, value in (('brightness', brightness), ('contrast', contrast),
                            ('saturation', saturation)):
            if not 0 <= value < 1:
                raise ValueError(f'ColorJitterClip: {name} must be in [0, 1), got {value}')
        if not 0 <= hue <= 0.5:
            raise ValueError(f'ColorJitterClip: hue must be in [0, 0.5], got {hue}')
        if not 0 <= prob <= 1:
            raise ValueError(f'ColorJitterClip: prob must be in [0, 1], got {prob}')
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.prob = prob

    @staticmethod
    def jitter(imgs: np.ndarray, brightness: float, contrast: float, saturation: float,
               hue: float) -> np.ndarray:
        """Apply given factors to (T, H, W, 3) RGB frames (pure function).

        Args:
            imgs (np.ndarray): (T, H, W, 3) RGB in 0-255.
            brightness (float): Multiplicative factor (1 = unchanged).
            contrast (float): Factor around the clip's mean grey (1 = unchanged).
            saturation (float): Factor towards per-pixel grey (1 = unchanged).
            hue (float): Hue shift in turns (0 = unchanged).

        Returns:
            np.ndarray: (T, H, W, 3) in the dtype of ``imgs``.
        """
        out = imgs.astype(np.float32) * brightness
        grey_weights = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        if contrast != 1:
            mean = float((np.clip(out, 0, 255) @ grey_weights).mean())
            out = (out - mean) * contrast + mean
        if saturation != 1:
            grey = (out @ grey_weights)[..., None]
            out = (out - grey) * saturation + grey
        out = np.clip(out, 0, 255)
        if hue != 0:
            t, h, w, _ = out.shape
            hsv = cv2.cvtColor((out / 255.0).reshape(t * h, w, 3), cv2.COLOR_RGB2HSV)
            hsv[..., 0] = np.mod(hsv[..., 0] + hue * 360.0, 360.0)
            out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).reshape(t, h, w, 3) * 255.0
            out = np.clip(out, 0, 255)
        if np.issubdtype(imgs.dtype, np.integer):
            return np.round(out).astype(imgs.dtype)
        return out.astype(imgs.dtype)

    def transform(self, results: dict) -> dict:
        imgs = results.get('imgs')
        if not isinstance(imgs, np.ndarray) or imgs.ndim != 4 or imgs.shape[-1] != 3:
            raise KeyError('ColorJitterClip: results["imgs"] must be a (T, H, W, 3) RGB array, '
                           f'got {getattr(imgs, "shape", None)}')
        if np.random.rand() >= self.prob:
            return results
        factors = {
            'brightness': np.random.uniform(1 - self.brightness, 1 + self.brightness),
            'contrast': np.random.uniform(1 - self.contrast, 1 + self.contrast),
            'saturation': np.random.uniform(1 - self.saturation, 1 + self.saturation),
            'hue': np.random.uniform(-self.hue, self.hue)}
        results['imgs'] = self.jitter(imgs, **factors)
        results['color_jitter'] = factors
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(brightness={self.brightness}, contrast='
                f'{self.contrast}, saturation={self.saturation}, hue={self.hue}, '
                f'prob={self.prob})')
