"""Dense synthetic point tracks for pretraining the tracker (the role of Kubric MOVi-E).

Each sample is a short video built from textured layers: a background
layer under a smooth random affine camera motion plus an elastic (sinusoidal)
tissue deformation, and a few textured foreground objects with their own
affine motion that occlude it, under global lighting changes and noise.
Textures are procedural (multi-scale coloured noise, blobs, vessel-like
strokes) and, optionally, random crops of frames from a BleedOrigin-Bench
split (``texture_root``), which puts the pretraining in the target domain
while the motion, and therefore every point's position and visibility at
every frame, stays known exactly. Generated on the fly, deterministic per
``(seed, index)``.
"""
import math
from typing import List, Optional, Tuple

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from bleedorigin.registry import DATASETS


def procedural_texture(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random tissue-like RGB texture (H, W, 3) uint8."""
    out = np.zeros((height, width, 3), np.float32)
    for scale in (4, 8, 16, 32, 64):
        small = rng.standard_normal((max(2, height // scale), max(2, width // scale), 3))
        out += cv2.resize(small.astype(np.float32), (width, height),
                          interpolation=cv2.INTER_CUBIC) * (scale / 32.0) ** 0.5
    out = (out - out.mean()) / (out.std() + 1e-6)
    base = rng.uniform(0.25, 0.85, size=3)
    if rng.random() < 0.6:  # mucosa-like palette: red dominant
        base = np.array([rng.uniform(0.55, 0.9), rng.uniform(0.2, 0.5), rng.uniform(0.2, 0.5)])
    img = base[None, None] + out * rng.uniform(0.06, 0.18, size=3)
    for _ in range(rng.integers(3, 12)):  # blobs and vessel-like strokes
        colour = tuple(float(c) for c in rng.uniform(0, 1, size=3))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), int(rng.integers(2, 14)), colour, -1, cv2.LINE_AA)
        else:
            pts = np.cumsum(rng.normal(0, 8, size=(6, 2)), axis=0) + (x, y)
            cv2.polylines(img, [pts.astype(np.int32)], False, colour,
                          int(rng.integers(1, 4)), cv2.LINE_AA)
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.3, 1.2))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def _affine(angle: float, scale: float, tx: float, ty: float, cx: float, cy: float) -> np.ndarray:
    """2x3 matrix: rotate/scale about (cx, cy), then translate."""
    c, s = math.cos(angle) * scale, math.sin(angle) * scale
    return np.array([[c, -s, cx - c * cx + s * cy + tx],
                     [s, c, cy - s * cx - c * cy + ty]], np.float64)


def _smooth_path(rng: np.random.Generator, num_frames: int, magnitude: float) -> np.ndarray:
    """Random smooth 1-D trajectory (T,) starting at 0, with occasional jitter."""
    velocity = np.cumsum(rng.normal(0, magnitude * 0.3, size=num_frames))
    velocity = velocity * 0.5 + rng.normal(0, magnitude, size=1)
    path = np.cumsum(velocity) - velocity[0]
    if rng.random() < 0.3:  # camera jitter
        jumps = rng.random(num_frames) < 0.2
        path = path + rng.normal(0, magnitude * 1.5, size=num_frames) * jumps
    path[0] = 0.0
    return path


class _Layer:
    """A textured layer with per-frame forward maps texture -> frame."""

    def __init__(self, texture, mask, matrices, elastic):
        self.texture = texture  # (h, w, 3) uint8
        self.mask = mask  # (h, w) float32 alpha or None (opaque, full)
        self.matrices = matrices  # list of (2, 3) forward affine per frame
        self.elastic = elastic  # (amplitude, k (2,), phase (T,)) or None

    def _displacement(self, u: np.ndarray, t: int) -> np.ndarray:
        amp, k, phase = self.elastic
        arg = u @ k + phase[t]
        return np.stack([amp * np.sin(arg), amp * np.cos(arg * 0.7 + 1.0)], axis=-1)

    def forward_points(self, u: np.ndarray, t: int) -> np.ndarray:
        """Texture coordinates (N, 2) -> frame coordinates at frame t."""
        v = u + self._displacement(u, t) if self.elastic is not None else u
        m = self.matrices[t]
        return v @ m[:, :2].T + m[:, 2]

    def render(self, t: int, height: int, width: int) -> Tuple[np.ndarray, np.ndarray]:
        """Warp the layer into frame t -> (image (H, W, 3) float32, alpha (H, W))."""
        m = np.vstack([self.matrices[t], [0, 0, 1]])
        inv = np.linalg.inv(m)[:2]
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
        pix = np.stack([xs, ys], -1)
        v = pix @ inv[:, :2].T.astype(np.float32) + inv[:, 2].astype(np.float32)
        u = v
        if self.elastic is not None:  # invert u + d(u) = v by fixed-point iteration
            for _ in range(4):
                u = v - self._displacement(u, t).astype(np.float32)
        map_x = (u[..., 0] - 0.5).astype(np.float32)
        map_y = (u[..., 1] - 0.5).astype(np.float32)
        img = cv2.remap(self.texture, map_x, map_y, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT101).astype(np.float32)
        if self.mask is None:
            return img, np.ones((height, width), np.float32)
        alpha = cv2.remap(self.mask, map_x, map_y, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return img, alpha


@DATASETS.register_module()
class PointTrackSynthDataset(Dataset):
    """On-the-fly dense synthetic point tracks for tracker pretraining.

    Note:
        T: ``num_frames``, K: ``num_points``, H, W: ``image_size`` reversed.

    Args:
        num_samples (int): Samples per epoch. Defaults to 2000.
        num_frames (int): T. Defaults to 24.
        num_points (int): K query points (visible at frame 0). Defaults to 24.
        image_size (tuple[int, int]): (W, H), the tracker's input size.
        max_translation (float): Scale of per-frame camera speed, pixels.
        num_objects (tuple[int, int]): Range of foreground objects.
        object_point_ratio (float): Share of queries placed on objects.
        texture_root (str, optional): A BleedOrigin-Bench root whose frames
            serve as extra textures (read through ``BenchIndex``).
        texture_split (str): Split of ``texture_root`` to use. Defaults to ``train``.
        texture_ratio (float): Probability of a bench-frame background.
        seed (int): Base seed; sample i uses ``seed * 1_000_003 + i``.
    """

    def __init__(self, num_samples: int = 2000, num_frames: int = 24, num_points: int = 24,
                 image_size: Tuple[int, int] = (256, 192), max_translation: float = 2.5,
                 num_objects: Tuple[int, int] = (0, 3), object_point_ratio: float = 0.2,
                 texture_root: Optional[str] = None, texture_split: str = 'train',
                 texture_ratio: float = 0.5, seed: int = 0):
        if num_frames < 2 or num_points < 1:
            raise ValueError('num_frames must be >= 2 and num_points >= 1')
        self.num_samples = num_samples
        self.num_frames = num_frames
        self.num_points = num_points
        self.image_size = tuple(image_size)
        self.max_translation = max_translation
        self.num_objects = num_objects
        self.object_point_ratio = object_point_ratio
        self.texture_ratio = texture_ratio if texture_root else 0.0
        self.seed = seed
        self.metainfo = dict(task='point_track_pretrain')
        self._texture_clips: List = []
        if texture_root:
            from .bench import BenchIndex
            self._texture_clips = BenchIndex(texture_root, split=texture_split).clips
            if not self._texture_clips:
                raise ValueError(f'{texture_root}: no clips in split {texture_split!r} '
                                 'to use as textures')

    def __len__(self) -> int:
        return self.num_samples

    def _bench_texture(self, rng, height, width) -> Optional[np.ndarray]:
        clip = self._texture_clips[int(rng.integers(len(self._texture_clips)))]
        frame = clip.load_frames([int(rng.integers(clip.num_frames))])[0]
        # keep roughly the tracker's view scale: full frame to input size, slightly zoomed
        zoom = rng.uniform(1.0, 1.5)
        fh, fw = frame.shape[:2]
        ch, cw = int(fh / zoom), int(fw / zoom)
        y0, x0 = int(rng.integers(0, fh - ch + 1)), int(rng.integers(0, fw - cw + 1))
        crop = frame[y0:y0 + ch, x0:x0 + cw]
        return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)

    def _camera_matrices(self, rng, width, height, magnitude, rotation, zoom):
        t = self.num_frames
        tx, ty = _smooth_path(rng, t, magnitude), _smooth_path(rng, t, magnitude)
        ang = _smooth_path(rng, t, rotation)
        sc = 1.0 + _smooth_path(rng, t, zoom)
        return [_affine(ang[i], max(sc[i], 0.5), tx[i], ty[i], width / 2, height / 2)
                for i in range(t)]

    def generate(self, index: int) -> dict:
        """Build sample ``index``: frames (T, H, W, 3) uint8, tracks (T, K, 2), visible (T, K)."""
        rng = np.random.default_rng(self.seed * 1_000_003 + index)
        width, height = self.image_size
        t_len = self.num_frames
        pad = 48  # texture margin so the camera never sees past the texture edge
        if self._texture_clips and rng.random() < self.texture_ratio:
            bg_tex = self._bench_texture(rng, height + 2 * pad, width + 2 * pad)
        else:
            bg_tex = procedural_texture(rng, height + 2 * pad, width + 2 * pad)
        shift = _affine(0, 1, -pad, -pad, 0, 0)
        cam = self._camera_matrices(rng, width, height, self.max_translation, 0.004, 0.004)
        bg_mats = [_compose(c, shift) for c in cam]
        elastic = None
        if rng.random() < 0.7:
            k = rng.normal(0, 2 * math.pi / rng.uniform(60, 160), size=2)
            phase = np.cumsum(rng.normal(0, 0.15, size=t_len))
            elastic = (rng.uniform(0.5, 4.0), k, phase)
        layers = [_Layer(bg_tex, None, bg_mats, elastic)]
        for _ in range(int(rng.integers(self.num_objects[0], self.num_objects[1] + 1))):
            size = int(rng.integers(30, 90))
            tex = procedural_texture(rng, size, size)
            mask = np.zeros((size, size), np.float32)
            axes = (int(rng.integers(size // 4, size // 2)),
                    int(rng.integers(size // 4, size // 2)))
            cv2.ellipse(mask, (size // 2, size // 2), axes, float(rng.uniform(0, 180)), 0, 360,
                        1.0, -1, cv2.LINE_AA)
            x0 = rng.uniform(-size / 2, width - size / 2)
            y0 = rng.uniform(-size / 2, height - size / 2)
            own = self._camera_matrices(rng, size, size, self.max_translation * 2, 0.03, 0.01)
            mats = [_compose(_affine(0, 1, x0, y0, 0, 0), m) for m in own]
            layers.append(_Layer(tex, mask, mats, None))

        frames = np.zeros((t_len, height, width, 3), np.float32)
        alphas = []
        for t in range(t_len):
            canvas = np.zeros((height, width, 3), np.float32)
            frame_alphas = []
            for layer in layers:
                img, alpha = layer.render(t, height, width)
                canvas = canvas * (1 - alpha[..., None]) + img * alpha[..., None]
                frame_alphas.append(alpha)
            alphas.append(frame_alphas)
            frames[t] = canvas
        # lighting changes, specular highlights and sensor noise
        gains = 1.0 + np.cumsum(rng.normal(0, 0.02, size=(t_len, 1, 1, 3)), axis=0)
        frames = frames * np.clip(gains, 0.6, 1.4)
        if rng.random() < 0.4:
            for t in range(t_len):
                x, y = rng.uniform(0, width), rng.uniform(0, height)
                cv2.circle(frames[t], (int(x), int(y)), int(rng.integers(3, 10)),
                           (255, 255, 255), -1, cv2.LINE_AA)
        frames = frames + rng.normal(0, rng.uniform(0, 4), size=frames.shape)
        frames = np.clip(frames, 0, 255).astype(np.uint8)

        tracks, visible = self._sample_tracks(rng, layers, alphas, width, height)
        return dict(frames=frames, tracks=tracks, visible=visible)

    def _sample_tracks(self, rng, layers, alphas, width, height):
        """Query points visible at frame 0 and their positions/visibility on every frame."""
        k = self.num_points
        t_len = self.num_frames
        tracks = np.zeros((t_len, k, 2), np.float32)
        visible = np.zeros((t_len, k), bool)
        chosen = 0
        attempts = 0
        while chosen < k and attempts < 50:
            attempts += 1
            layer_id = 0
            if len(layers) > 1 and rng.random() < self.object_point_ratio:
                layer_id = int(rng.integers(1, len(layers)))
            layer = layers[layer_id]
            h, w = layer.texture.shape[:2]
            u = rng.uniform([0, 0], [w, h], size=(4 * k, 2))
            pos = np.stack([layer.forward_points(u, t) for t in range(t_len)])  # (T, N, 2)
            vis = np.ones(pos.shape[:2], bool)
            for t in range(t_len):
                inside = (pos[t, :, 0] >= 0) & (pos[t, :, 0] < width) & \
                    (pos[t, :, 1] >= 0) & (pos[t, :, 1] < height)
                vis[t] &= inside
                xi = np.clip(pos[t, :, 0].astype(int), 0, width - 1)
                yi = np.clip(pos[t, :, 1].astype(int), 0, height - 1)
                if layer.mask is not None:
                    vis[t] &= alphas[t][layer_id][yi, xi] > 0.5
                for above in range(layer_id + 1, len(layers)):
                    vis[t] &= alphas[t][above][yi, xi] < 0.5
            ok = np.flatnonzero(vis[0])
            take = ok[:k - chosen]
            tracks[:, chosen:chosen + len(take)] = pos[:, take]
            visible[:, chosen:chosen + len(take)] = vis[:, take]
            chosen += len(take)
        if chosen < k:
            raise RuntimeError(f'sample could not place {k} visible query points')
        return tracks, visible

    def __getitem__(self, index: int) -> dict:
        sample = self.generate(index)
        frames = torch.from_numpy(sample['frames']).permute(0, 3, 1, 2).contiguous()
        k = self.num_points
        data_sample = dict(
            query_points=sample['tracks'][0], target_points=sample['tracks'],
            target_visible=sample['visible'], target_valid=np.ones_like(sample['visible']),
            is_pseudo=np.zeros(k, bool), scale=(1.0, 1.0), sample_index=index)
        return dict(inputs=frames, data_samples=data_sample)


def _compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """outer o inner for 2x3 affine matrices."""
    a = np.vstack([outer, [0, 0, 1]])
    b = np.vstack([inner, [0, 0, 1]])
    return (a @ b)[:2]
