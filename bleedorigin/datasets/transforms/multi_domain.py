"""The one set of data transforms: onset/source loading, augmentation of onset, source and
tracking samples, multi-domain inputs (RGB, HSV, DIS flow)."""
import random
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from bleedorigin.constants import WINDOW_SIZE
from bleedorigin.registry import TRANSFORMS

from ...models.utils import (
    ONSET_COLOUR_CHANNELS,
    ONSET_INPUT_CHANNELS,
    red_mask,
    rgb_to_hsv01,
    sequence_flow,
    turn_hue,
)


@TRANSFORMS.register_module()
class LoadOnsetClip(BaseTransform):
    """Load every cached onset input of a clip (evaluation: windows slide over all of it).

    Adds ``frames`` (T, h, w, C) uint8 (``onset_frame_input`` of every frame),
    ``segment_start`` 0, ``window_start_min`` 0 and ``onset_index`` (onset within the
    loaded frames, None for negative clips).
    """

    def transform(self, results: dict) -> dict:
        frames = np.load(results['cache_path'], mmap_mode='r')
        results['frames'] = np.ascontiguousarray(frames)
        results['segment_start'] = 0
        results['window_start_min'] = 0
        results['onset_index'] = results.get('onset_frame')
        return results


@TRANSFORMS.register_module()
class SampleOnsetSegment(BaseTransform):
    """Draw a training segment holding ``num_windows`` windows (stride ``window_stride``).

    The segment is ``context_frames`` frames of memory context followed by the
    windows. With probability ``positive_fraction`` (positive clips only) the
    onset falls inside the first window at a uniformly random position -- the
    equivalent of the paper's random discard of the first 0-N frames -- otherwise
    the windows are placed before the onset (or after it, when there is no room
    before) or anywhere in a negative clip.

    Args:
        window_size (int): N (paper: 60).
        num_windows (int): Windows per segment.
        window_stride (int): Frames between consecutive windows.
        context_frames (int): Frames before the first window (memory context).
        positive_fraction (float): Share of segments that contain the onset.
        warmup_fraction (float): Share of segments that are the *start of a stream*
            (for a detector with ``warmup_windows``): the segment begins at a random
            frame c (on positive clips 0 to N - 1 frames before the onset, so onsets
            early in a stream and clips shorter than N are seen), its first frame has
            no predecessor (as frame 0 of a stream) and its windows include warm-up
            windows starting up to N - 1 frames before it. 0: none (older configs).
        speeds (Sequence[int]): Frame steps drawn uniformly per segment (2: every
            second frame, blood spreads and the camera moves twice as fast): onset
            timing and dynamics other than the renderer's. (1,): no change.
        hard_fraction (float): On a negative clip with mined ``hard_frames`` (the end
            frames of windows a detector was confident on, ``BleedOnsetDataset``'s
            ``hard_windows``), the share of segments placed so that one of their windows,
            drawn at random, ends on a hard frame (at speed 1). 0: never (older configs).
    """

    def __init__(self, window_size: int = WINDOW_SIZE, num_windows: int = 5, window_stride: int = 5,
                 context_frames: int = 10, positive_fraction: float = 0.5,
                 warmup_fraction: float = 0.0, speeds: Sequence[int] = (1,),
                 hard_fraction: float = 0.0) -> None:
        for name, value in (('warmup_fraction', warmup_fraction),
                            ('hard_fraction', hard_fraction)):
            if not 0 <= value <= 1:
                raise ValueError(f'SampleOnsetSegment: {name} must be in [0, 1], got {value}')
        self.hard_fraction = float(hard_fraction)
        if not speeds or any(int(v) < 1 for v in speeds):
            raise ValueError(f'SampleOnsetSegment: speeds must be steps >= 1, got {speeds}')
        self.warmup_fraction = float(warmup_fraction)
        self.speeds = tuple(int(v) for v in speeds)
        self.window_size = window_size
        self.num_windows = num_windows
        self.window_stride = window_stride
        self.context_frames = context_frames
        self.positive_fraction = positive_fraction

    def _segment_start(self, num_frames: int, onset: Optional[int], length: int) -> int:
        last = max(num_frames - length, 0)
        span = self.window_size + (self.num_windows - 1) * self.window_stride
        if onset is not None and random.random() < self.positive_fraction:
            offset = random.randrange(self.window_size)
            return int(np.clip(onset - offset - self.context_frames, 0, last))
        if onset is None:
            return random.randint(0, last)
        before = onset - span - self.context_frames  # last start whose windows end before g
        if before >= 0 and (random.random() < 0.7 or onset + 1 > last):
            return random.randint(0, min(before, last))
        return random.randint(min(onset + 1, last), last)

    def _warmup_start(self, num_frames: int, onset: Optional[int], length: int) -> int:
        """Clip frame that plays frame 0 of a stream."""
        last = max(num_frames - length, 0)
        if onset is None:
            return random.randint(0, last)
        # the onset 0 .. N-1 frames into the stream (clipped to the clip)
        return int(np.clip(onset - random.randrange(self.window_size), 0, last))

    def _hard_start(self, num_frames: int, hard_frame: int, length: int) -> int:
        """Start of a segment one of whose windows (drawn at random) ends on
        ``hard_frame``, clipped to the clip."""
        last = max(num_frames - length, 0)
        k = random.randrange(self.num_windows)
        end_offset = self.context_frames + k * self.window_stride + self.window_size - 1
        return int(np.clip(hard_frame - end_offset, 0, last))

    def transform(self, results: dict) -> dict:
        frames = np.load(results['cache_path'], mmap_mode='r')
        onset = results.get('onset_frame')
        length = self.context_frames + self.window_size + \
            (self.num_windows - 1) * self.window_stride
        hard = results.get('hard_frames') or []
        # a hard segment: a negative clip at speed 1, no warm-up, one window on a hard frame
        use_hard = onset is None and bool(hard) and random.random() < self.hard_fraction
        step = 1 if use_hard else random.choice(self.speeds)
        if step > 1 and frames.shape[0] >= length * step:
            # every step-th frame (phase drawn at random): a faster clip
            phase = random.randrange(step)
            frames = frames[phase::step]
            # first kept frame at or after the onset (<= 0: bleeding from the start)
            onset = None if onset is None else -(-(onset - phase) // step)
            onset = None if onset is not None and onset >= frames.shape[0] else onset
        num_frames = frames.shape[0]
        if not use_hard and random.random() < self.warmup_fraction:
            # num_windows windows, the first one starting up to N - 1 frames before the
            # stream; the segment ends with the last window
            first = random.randint(-(self.window_size - 1), 0)
            length = min(first + self.window_size
                         + (self.num_windows - 1) * self.window_stride, num_frames)
            start = self._warmup_start(num_frames, onset, length)
            results['window_start_min'] = first
        else:
            length = min(length, num_frames)
            start = (self._hard_start(num_frames, random.choice(hard), length) if use_hard
                     else self._segment_start(num_frames, onset, length))
            # a segment at the very start of the clip has no context before its first
            # window, exactly as evaluation sees the first window of a clip
            results['window_start_min'] = 0 if start == 0 else min(
                self.context_frames, max(length - self.window_size, 0))
        results['frames'] = np.ascontiguousarray(frames[start:start + length])
        # (with step > 1, segment_start and onset_index count kept frames)
        results['segment_start'] = start
        results['onset_index'] = None if onset is None else onset - start
        return results


@TRANSFORMS.register_module()
class SequenceColorJitter(BaseTransform):
    """Same random brightness/contrast/saturation/hue change for every frame of a sample.

    Applies to ``frames`` (T, h, w, 3) and, for source samples, to ``current``,
    ``reference`` and ``pseudo``. Onset inputs with the pooled Red-Mask (4 channels) get
    it scaled by the contrast and saturation factors; training caches that hold the RGB
    of each cell's Red-Mask maximum (7 channels, ``BleedOnsetDataset(red_colour=True)``)
    get that colour changed like the frame and the Red-Mask recomputed from it, so a hue
    turn moves the Red-Mask channel as it does on a turned video.

    Args:
        brightness (float): Max relative brightness change.
        contrast (float): Max relative contrast change.
        saturation (float): Max relative saturation change.
        hue (float): Max hue shift in degrees (OpenCV half-degrees are handled).
        prob (float): Probability of jittering.
        rounding (bool): Round the changed colours to the nearest grey level. Defaults to
            False: truncate, as every detector shipped before ``detect_hue.py`` was trained
            (they reproduce bit for bit only so).
    """

    KEYS = ('frames', 'current', 'reference', 'reference_pseudo', 'pseudo')

    def __init__(self, brightness: float = 0.25, contrast: float = 0.25,
                 saturation: float = 0.25, hue: float = 6.0, prob: float = 0.8,
                 rounding: bool = False) -> None:
        self.rounding = bool(rounding)
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue
        self.prob = prob

    def _apply(self, images: np.ndarray, b: float, c: float, s: float, h: float) -> np.ndarray:
        channels = images.shape[-1]
        if channels == ONSET_INPUT_CHANNELS:
            # onset inputs: RGB + pooled Red-Mask max(R - max(G, B), 0), which the
            # contrast and saturation changes below scale by c * s (the brightness
            # offset cancels in R - max(G, B)); a hue turn is not modelled
            out = np.empty_like(images)
            out[..., :3] = self._apply_rgb(images[..., :3], b, c, s, h)
            out[..., 3] = np.clip(images[..., 3].astype(np.float32) * (c * s), 0, 255
                                  ).round().astype(np.uint8)
            return out
        if channels == ONSET_COLOUR_CHANNELS:
            # a training cache with the RGB of each cell's Red-Mask max: that colour
            # gets the frame's change (the contrast pivots on the frame's mean, the
            # mean of the cell averages) and the Red-Mask channel is recomputed from it
            rgb = images[..., :3]
            mean = self._frame_means(rgb)
            out = np.empty_like(images)
            out[..., :3] = self._apply_rgb(rgb, b, c, s, h, mean=mean)
            out[..., 4:] = self._apply_rgb(images[..., 4:], b, c, s, h, mean=mean)
            out[..., 3] = np.rint(red_mask(out[..., 4:]) * 255.0).astype(np.uint8)
            return out
        return self._apply_rgb(images, b, c, s, h)

    @staticmethod
    def _frame_means(images: np.ndarray) -> np.ndarray:
        """Mean grey level of every (h, w, 3) image of ``images``: (N, 1, 1, 1) float32,
        the pivot of the contrast change."""
        flat = images.reshape((-1,) + images.shape[-3:]).astype(np.float32)
        return flat.mean(axis=(1, 2, 3), keepdims=True)

    def _apply_rgb(self, images: np.ndarray, b: float, c: float, s: float, h: float,
                   mean: Optional[np.ndarray] = None) -> np.ndarray:
        """Jitter (..., h, w, 3) uint8 images; the contrast pivots on ``mean`` (default:
        each image's own mean, :meth:`_frame_means`)."""
        flat = images.reshape((-1,) + images.shape[-3:]).astype(np.float32)
        if mean is None:
            mean = self._frame_means(images)
        flat = (flat - mean) * c + mean * b
        grey = flat.mean(axis=3, keepdims=True)
        flat = (flat - grey) * s + grey
        if self.rounding:
            flat = np.rint(flat)
        flat = np.clip(flat, 0, 255).astype(np.uint8)
        if h:
            flat = np.stack([turn_hue(img, int(round(h / 2))) for img in flat])
        return flat.reshape(images.shape)

    def transform(self, results: dict) -> dict:
        if random.random() >= self.prob:
            return results
        b = 1 + random.uniform(-self.brightness, self.brightness)
        c = 1 + random.uniform(-self.contrast, self.contrast)
        s = 1 + random.uniform(-self.saturation, self.saturation)
        h = random.uniform(-self.hue, self.hue)
        for key in self.KEYS:
            if results.get(key) is not None:
                results[key] = self._apply(results[key], b, c, s, h)
        return results


@TRANSFORMS.register_module()
class SequenceRandomFlip(BaseTransform):
    """Flip all frames of a sample (and its points) horizontally and/or vertically.

    Points (``gt_point_input``, ``pseudo_point_input``: one (x, y); ``track_points``:
    (T, K, 2) tracks; input pixels) move with the image: x -> W - x.

    Args:
        prob (float): Probability of each flip direction.
        directions (Sequence[str]): Which flips may happen: ``'horizontal'``
            and/or ``'vertical'``. Defaults to both.
    """

    KEYS = ('frames', 'current', 'reference', 'reference_pseudo', 'pseudo')
    POINT_KEYS = ('gt_point_input', 'pseudo_point_input', 'track_points')
    AXES = dict(horizontal=-2, vertical=-3)  # width, height of (..., H, W, 3)

    def __init__(self, prob: float = 0.5,
                 directions: Sequence[str] = ('horizontal', 'vertical')) -> None:
        unknown = set(directions) - set(self.AXES)
        if unknown or not directions:
            raise ValueError(f'SequenceRandomFlip: directions must be a non-empty subset of '
                             f'{tuple(self.AXES)}, got {tuple(directions)}')
        self.prob = prob
        self.directions = tuple(d for d in self.AXES if d in directions)

    def transform(self, results: dict) -> dict:
        for direction in self.directions:
            axis = self.AXES[direction]
            if random.random() >= self.prob:
                continue
            size = None
            for key in self.KEYS:
                if results.get(key) is not None:
                    size = results[key].shape[axis]
                    results[key] = np.ascontiguousarray(np.flip(results[key], axis=axis))
            for key in self.POINT_KEYS:
                point = results.get(key)
                if point is not None and size is not None:
                    point = np.asarray(point)
                    point = point.copy() if point.dtype.kind == 'f' else point.astype(np.float64)
                    coord = 0 if axis == -2 else 1
                    point[..., coord] = size - point[..., coord]
                    results[key] = point
        return results


@TRANSFORMS.register_module()
class SequenceGainJitter(BaseTransform):
    """Per-channel gain, a brightness offset and a gain drift over time, one draw per
    sample, on ``frames`` (T, h, w, 3) uint8 (the tracker's photometric augmentation:
    light that changes during a clip).

    ``frame_t = clip(frame_t * gain * (1 + drift * t / (T - 1)) + bias, 0, 255)``.

    Args:
        gain (tuple[float, float]): Range of the per-channel gain. Defaults to (0.75, 1.25).
        bias (tuple[float, float]): Range of the offset (grey levels). Defaults to (-20, 20).
        drift (float): Max relative gain change from the first to the last frame.
            Defaults to 0.1.
        prob (float): Probability of jittering. Defaults to 1.
    """

    def __init__(self, gain: Tuple[float, float] = (0.75, 1.25),
                 bias: Tuple[float, float] = (-20.0, 20.0), drift: float = 0.1,
                 prob: float = 1.0) -> None:
        if not 0 <= gain[0] <= gain[1] or bias[0] > bias[1] or drift < 0:
            raise ValueError(f'SequenceGainJitter: need 0 <= gain[0] <= gain[1], '
                             f'bias[0] <= bias[1], drift >= 0; got gain={gain}, bias={bias}, '
                             f'drift={drift}')
        self.gain, self.bias, self.drift, self.prob = tuple(gain), tuple(bias), drift, prob

    def transform(self, results: dict) -> dict:
        frames = results.get('frames')
        if frames is None or random.random() >= self.prob:
            return results
        gain = np.array([random.uniform(*self.gain) for _ in range(3)])
        bias = random.uniform(*self.bias)
        end = random.uniform(-self.drift, self.drift)
        drift = np.linspace(0, end, len(frames))[:, None, None, None]  # (T, 1, 1, 1)
        results['frames'] = np.clip(frames.astype(np.float32) * gain * (1 + drift) + bias,
                                    0, 255).astype(np.uint8)
        return results


@TRANSFORMS.register_module()
class SequenceTimeReverse(BaseTransform):
    """Play a tracking sample backwards: ``frames``, ``track_points`` (T, K, 2),
    ``track_visible`` and ``track_valid`` (T, K) reversed in time.

    Only when the first query is labelled and visible on the last frame (it becomes
    the query frame) and the sample has at most ``max_length`` frames (a short clip
    ends on an annotated frame; a long one does not).

    Args:
        prob (float): Probability of reversing. Defaults to 0.3.
        max_length (int, optional): Longest sample reversed. Default: any.
    """

    KEYS = ('frames', 'track_points', 'track_visible', 'track_valid')

    def __init__(self, prob: float = 0.3, max_length: Optional[int] = None) -> None:
        self.prob = prob
        self.max_length = max_length

    def transform(self, results: dict) -> dict:
        if random.random() >= self.prob:
            return results
        visible, valid = results['track_visible'], results['track_valid']
        if not visible.shape[1] or not (valid[-1, 0] and visible[-1, 0]):
            return results
        if self.max_length is not None and len(results['frames']) > self.max_length:
            return results
        for key in self.KEYS:
            results[key] = np.ascontiguousarray(results[key][::-1])
        return results


@TRANSFORMS.register_module()
class MultiDomainInputs(BaseTransform):
    """The domains of MDCFM/MDG: HSV and DIS optical flow of ``frames`` (T, h, w, 3|4;
    a fourth channel, the pooled Red-Mask of ``onset_frame_input``, is ignored here).

    Adds ``hsv`` (T, h, w, 3) float32 in [0, 1], ``flow`` (T, h, w, 2) float32 (entry t
    is the flow t-1 -> t, zero at t = 0) and ``red`` (T, h, w) float32, the fixed
    Red-Mask.
    """

    def transform(self, results: dict) -> dict:
        frames = results['frames'][..., :3]  # onset inputs may carry a 4th (red) channel
        results['hsv'] = rgb_to_hsv01(frames)
        results['flow'] = sequence_flow(frames)
        results['red'] = red_mask(frames)
        return results


@TRANSFORMS.register_module()
class LoadSourceFrames(BaseTransform):
    """Load the cached onset/reference/pseudo frames of a source sample.

    Adds ``current``, ``reference``, ``pseudo`` (H, W, 3) uint8, ``gt_point_input`` and
    ``pseudo_point_input`` (x, y) in input pixels (pseudo is None when unavailable
    or ``with_pseudo=False``) and ``scale_factor`` (sx, sy) = input / original.

    Args:
        with_pseudo (bool): Load the pseudo-label frame (training).
    """

    def __init__(self, with_pseudo: bool = True) -> None:
        self.with_pseudo = with_pseudo

    def transform(self, results: dict) -> dict:
        with np.load(results['cache_path']) as cache:
            results['current'] = cache['current']
            results['reference'] = cache['reference']
            # caches written before motion compensation have one reference only
            results['reference_pseudo'] = (cache['reference_pseudo'] if 'reference_pseudo'
                                           in cache.files else cache['reference'])
            pseudo_point = cache['pseudo_point']
            pseudo = cache['pseudo'] if self.with_pseudo else None
        height, width = results['ori_shape']
        in_h, in_w = results['current'].shape[:2]
        scale = np.array([in_w / width, in_h / height])
        results['scale_factor'] = (float(scale[0]), float(scale[1]))
        results['gt_point_input'] = np.asarray(results['gt_point'], dtype=np.float64) * scale
        results['pseudo'] = None
        results['pseudo_point_input'] = None
        if pseudo is not None and np.isfinite(pseudo_point).all():
            results['pseudo'] = pseudo
            results['pseudo_point_input'] = pseudo_point * scale
        return results


@TRANSFORMS.register_module()
class SourceRandomAffine(BaseTransform):
    """Random scale and shift (same for all frames of a source sample), points follow.

    Args:
        scale_range (tuple): Min and max zoom.
        max_shift (float): Max shift as a fraction of the image size.
        prob (float): Probability of applying it.
    """

    KEYS = ('current', 'reference', 'reference_pseudo', 'pseudo')
    POINT_KEYS = ('gt_point_input', 'pseudo_point_input')

    def __init__(self, scale_range: Tuple[float, float] = (0.8, 1.25), max_shift: float = 0.1,
                 prob: float = 0.7) -> None:
        self.scale_range = scale_range
        self.max_shift = max_shift
        self.prob = prob

    def transform(self, results: dict) -> dict:
        if random.random() >= self.prob:
            return results
        height, width = results['current'].shape[:2]
        scale = random.uniform(*self.scale_range)
        tx = random.uniform(-self.max_shift, self.max_shift) * width
        ty = random.uniform(-self.max_shift, self.max_shift) * height
        matrix = np.array([[scale, 0, (1 - scale) * width / 2 + tx],
                           [0, scale, (1 - scale) * height / 2 + ty]], dtype=np.float64)
        for key in self.KEYS:
            if results.get(key) is not None:
                results[key] = cv2.warpAffine(results[key], matrix, (width, height),
                                              flags=cv2.INTER_LINEAR,
                                              borderMode=cv2.BORDER_REFLECT_101)
        for key in self.POINT_KEYS:
            point = results.get(key)
            if point is not None:
                moved = matrix @ np.array([point[0], point[1], 1.0])
                inside = 0 <= moved[0] < width and 0 <= moved[1] < height
                results[key] = moved if inside else None
        if results.get('gt_point_input') is None:
            raise _OutOfView()
        return results

    def __call__(self, results: dict) -> Optional[dict]:
        backup = {k: results.get(k) for k in self.KEYS + self.POINT_KEYS}
        try:
            return self.transform(results)
        except _OutOfView:
            results.update(backup)  # keep the un-augmented sample rather than lose the point
            return results


class _OutOfView(Exception):
    pass
