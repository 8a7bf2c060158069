"""Procedural mucosa texture of one clip (rendered once, warped per frame).

The texture is a tissue-fixed RGB image larger than the frame. It holds the
site's mucosa (low-frequency colour variation, folds, granularity, vessels), a
lumen shadow, the ESD dissection bed (pale bluish submucosa with fibres and a
whitish cut margin, where bleeding sources sit) and red distractors that are
present from the first frame: old dark stains, coagulation marks, reddish
hyperaemic tissue and, in some clips, old clotted blood. Everything is drawn
with vectorised numpy and OpenCV primitives.
"""
from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np

from .sites import SiteStyle


@dataclass
class MucosaTexture:
    """The tissue-fixed texture of one clip.

    Args:
        image (np.ndarray): (Th, Tw, 3) uint8 RGB.
        bed_center (tuple[float, float]): Dissection-bed centre (x, y) in texture px.
        bed_axes (tuple[float, float]): Bed half axes in texture px.
        bed_angle (float): Bed orientation in degrees.
        distractor_mask (np.ndarray): (Th, Tw) uint8, 255 where a red distractor is.
        distractors (list[str]): Kinds of distractors drawn.
    """

    image: np.ndarray
    bed_center: Tuple[float, float]
    bed_axes: Tuple[float, float]
    bed_angle: float
    distractor_mask: np.ndarray
    distractors: List[str]


def fractal_noise(rng: np.random.Generator, height: int, width: int,
                  cells: Tuple[int, ...] = (3, 6, 12, 24),
                  falloff: float = 0.55) -> np.ndarray:
    """Sum of bicubically upsampled random grids, normalised to zero mean, unit std.

    Args:
        rng (np.random.Generator): Random source.
        height (int): Output height.
        width (int): Output width.
        cells (tuple[int]): Grid cells along the longer side per octave.
        falloff (float): Amplitude ratio between consecutive octaves.

    Returns:
        np.ndarray: (height, width) float32.
    """
    out = np.zeros((height, width), np.float32)
    amplitude = 1.0
    longer = max(height, width)
    for n in cells:
        gh = max(2, int(round(n * height / longer)) + 2)
        gw = max(2, int(round(n * width / longer)) + 2)
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        out += amplitude * cv2.resize(grid, (width, height), interpolation=cv2.INTER_CUBIC)
        amplitude *= falloff
    out -= out.mean()
    out /= out.std() + 1e-6
    return out


def _blend(image: np.ndarray, color, weight: np.ndarray) -> None:
    """In place: image = image * (1 - weight) + color * weight; float32 image."""
    w = weight[..., None]
    image *= 1.0 - w
    image += w * np.asarray(color, np.float32)


def _random_curve(rng: np.random.Generator, start, angle: float, length: float, step: float,
                  wiggle: float) -> np.ndarray:
    n = max(2, int(length / step))
    turns = np.cumsum(rng.normal(0.0, wiggle, n))
    angles = angle + turns
    steps = np.stack([np.cos(angles), np.sin(angles)], 1) * step
    return np.asarray(start, np.float64) + np.concatenate([[[0.0, 0.0]], np.cumsum(steps, 0)])


def _draw_vessels(rng, canvas: np.ndarray, count: int, orientation, px: float) -> None:
    h, w = canvas.shape
    for _ in range(count):
        start = rng.uniform([0, 0], [w, h])
        angle = orientation + rng.normal(0, 0.25) if orientation is not None else \
            rng.uniform(0, 2 * np.pi)
        length = rng.uniform(80, 400) * px
        curve = _random_curve(rng, start, angle, length, 6 * px, 0.18)
        thickness = max(1, int(round(rng.uniform(0.8, 3.0) * px)))
        strength = int(rng.uniform(90, 230))
        cv2.polylines(canvas, [np.round(curve).astype(np.int32)], False, strength, thickness,
                      cv2.LINE_AA)
        for _ in range(rng.integers(0, 4)):  # branches
            k = rng.integers(0, len(curve))
            branch = _random_curve(rng, curve[k], angle + rng.choice([-1, 1]) * rng.uniform(
                0.5, 1.2), length * rng.uniform(0.2, 0.5), 5 * px, 0.25)
            cv2.polylines(canvas, [np.round(branch).astype(np.int32)], False,
                          int(strength * 0.7), max(1, thickness - 1), cv2.LINE_AA)


def _noisy_blob(rng, shape, center, axes, angle_deg, roughness: float = 0.25,
                points: int = 48) -> np.ndarray:
    """Filled irregular ellipse as (N, 2) int32 polygon."""
    t = np.linspace(0, 2 * np.pi, points, endpoint=False)
    radius = 1.0 + roughness * np.convolve(
        np.tile(rng.standard_normal(points), 3), np.ones(5) / 5, 'same')[points:2 * points]
    a = np.deg2rad(angle_deg)
    x = axes[0] * radius * np.cos(t)
    y = axes[1] * radius * np.sin(t)
    xr = center[0] + x * np.cos(a) - y * np.sin(a)
    yr = center[1] + x * np.sin(a) + y * np.cos(a)
    return np.round(np.stack([xr, yr], 1)).astype(np.int32)


def _paint_roi(image: np.ndarray, mask: np.ndarray, poly: np.ndarray, color, alpha: float,
               sigma: float) -> None:
    """Blend a soft-edged filled polygon into ``image`` working only on its bounding box."""
    h, w = mask.shape
    pad = int(3 * sigma) + 2
    x0, y0 = np.maximum(poly.min(0) - pad, 0)
    x1, y1 = np.minimum(poly.max(0) + pad + 1, [w, h])
    if x1 <= x0 or y1 <= y0:
        return
    layer = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(layer, [poly - [x0, y0]], 255, cv2.LINE_AA)
    mask[y0:y1, x0:x1] |= layer
    soft = cv2.GaussianBlur(layer, (0, 0), sigma).astype(np.float32) / 255.0
    _blend(image[y0:y1, x0:x1], color, soft * alpha)


def _fold_field(rng, style: SiteStyle, h: int, w: int, px: float, warp: np.ndarray):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    period = style.fold_period * px * rng.uniform(0.8, 1.25)
    if style.fold == 'rings':
        cx = rng.uniform(-0.5, 1.5) * w
        cy = rng.uniform(-0.5, 1.5) * h
        phase = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2)
    else:
        angle = (style.vessel_orientation if style.vessel_orientation is not None
                 else rng.uniform(0, np.pi)) + rng.normal(0, 0.2)
        phase = xx * np.cos(angle) + yy * np.sin(angle)
    wobble = 1.6 if style.fold == 'rugae' else 1.0
    field = np.sin(2 * np.pi * phase / period + wobble * 3.0 * warp)
    # sharpen crests: folds are ridges with broad valleys
    return np.sign(field) * np.abs(field) ** 0.6


def render_mucosa(rng: np.random.Generator, style: SiteStyle, width: int, height: int,
                  px: float, stain_count: int, old_blood: bool) -> MucosaTexture:
    """Render the tissue texture of one clip.

    Args:
        rng (np.random.Generator): Random source of the clip.
        style (SiteStyle): Site statistics.
        width (int): Texture width (Tw).
        height (int): Texture height (Th).
        px (float): Pixel scale (reference px -> texture px).
        stain_count (int): Number of red distractors (stains, marks, reddish tissue).
        old_blood (bool): Also draw an old clotted blood streak (static distractor).

    Returns:
        MucosaTexture: The texture and where its bed and distractors are.
    """
    h, w = height, width
    low = fractal_noise(rng, h, w, (2, 4, 8))
    mid = fractal_noise(rng, h, w, (12, 24, 48))
    jitter = rng.normal(0, 8, 3)
    saturation = rng.uniform(1.1, 1.45)

    def saturate(color):
        color = np.asarray(color, np.float32)
        return np.clip(color.mean() + (color - color.mean()) * saturation, 0, 255)

    base = saturate(np.clip(np.asarray(style.base, np.float32) + jitter, 0, 255))
    image = np.empty((h, w, 3), np.float32)
    image[:] = base
    _blend(image, saturate(style.secondary), np.clip(0.5 + 0.35 * low, 0, 1))

    # folds: brightness ridges with darker valleys
    folds = _fold_field(rng, style, h, w, px, low) if style.fold != 'smooth' else None
    # large-scale illumination: near tissue bright, far tissue dark
    light = fractal_noise(rng, h, w, (2, 3))
    shade = 1.0 + 0.05 * mid + 0.18 * light
    if folds is not None:
        shade += 0.6 * style.fold_strength * folds * rng.uniform(0.6, 1.1) * (
            0.6 + 0.4 * np.tanh(1.5 + low))
    # fine granularity (villi, areae gastricae)
    grain_cells = max(16, int(w / (6 * px)))
    grain = fractal_noise(rng, h, w, (grain_cells, grain_cells * 2), 0.6)
    shade += style.grain * grain
    # lumen: a dark, reddish-brown depth shadow somewhere towards the texture border
    lx, ly = rng.uniform(0.1, 0.9) * w, rng.choice([rng.uniform(0, 0.25), rng.uniform(0.75, 1)]) * h
    if rng.random() < 0.5:
        lx, ly = ly * w / h, lx * h / w
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    lumen_r = rng.uniform(0.12, 0.25) * w
    lumen = np.exp(-((xx - lx) ** 2 + (yy - ly) ** 2) / (2 * lumen_r ** 2)) * rng.uniform(0.4, 0.8)
    shade *= 1.0 - lumen * (1.0 + 0.3 * low).clip(0.5, 1.5)
    # shadows of the wet red tissue turn deep red rather than brown: green and
    # blue fall faster than red
    shade = shade.clip(0.12, 1.6)[..., None]
    image *= shade ** np.array([1.0, 1.6, 1.5], np.float32)

    # vessels
    vessels = np.zeros((h, w), np.uint8)
    count = int(style.vessel_density * h * w / 1e5 * rng.uniform(0.6, 1.4))
    _draw_vessels(rng, vessels, count, style.vessel_orientation, px)
    vessels = cv2.GaussianBlur(vessels, (0, 0), 0.8 * px + 0.3)
    _blend(image, style.vessel, vessels.astype(np.float32) / 255.0 * rng.uniform(0.45, 0.75))

    # ESD dissection bed: bluish-white submucosa with fibres, whitish cut margin
    bed_center = (rng.uniform(0.35, 0.65) * w, rng.uniform(0.35, 0.65) * h)
    bed_axes = (rng.uniform(60, 150) * px, rng.uniform(45, 110) * px)
    bed_angle = rng.uniform(0, 180)
    bed_poly = _noisy_blob(rng, (h, w), bed_center, bed_axes, bed_angle, 0.18)
    bed = np.zeros((h, w), np.uint8)
    cv2.fillPoly(bed, [bed_poly], 255, cv2.LINE_AA)
    margin = np.zeros((h, w), np.uint8)
    cv2.polylines(margin, [bed_poly], True, 255, max(2, int(9 * px)), cv2.LINE_AA)
    bed_soft = cv2.GaussianBlur(bed, (0, 0), 3 * px).astype(np.float32) / 255.0
    # submucosa: whitish-pink, bluish where dye was injected
    sub_color = np.array([rng.uniform(200, 235), rng.uniform(170, 205), rng.uniform(175, 215)],
                         np.float32)
    sub = np.empty_like(image)
    sub[:] = sub_color
    sub *= (1.0 + 0.12 * mid + 0.06 * grain)[..., None]
    fibres = np.zeros((h, w), np.uint8)
    for _ in range(int(60 * rng.uniform(0.6, 1.5))):
        start = np.asarray(bed_center) + rng.normal(0, 0.6, 2) * np.asarray(bed_axes)
        curve = _random_curve(rng, start, np.deg2rad(bed_angle) + rng.normal(0, 0.5),
                              rng.uniform(20, 90) * px, 3 * px, 0.2)
        cv2.polylines(fibres, [np.round(curve).astype(np.int32)], False,
                      int(rng.uniform(120, 255)), max(1, int(px)), cv2.LINE_AA)
    fib = fibres.astype(np.float32)[..., None] / 255.0
    sub = sub * (1 - 0.35 * fib) + 0.35 * fib * np.array([245, 240, 240], np.float32)
    # fine red capillaries and pinpoint spots inside the bed
    caps = np.zeros((h, w), np.uint8)
    _draw_vessels(rng, caps, int(rng.uniform(6, 18)), None, 0.5 * px)
    caps = cv2.bitwise_and(caps, bed)
    _blend(sub, (170, 60, 70), caps.astype(np.float32) / 255.0 * 0.5)
    bed_soft *= rng.uniform(0.6, 0.95)
    image = image * (1 - bed_soft[..., None]) + sub * bed_soft[..., None]
    margin_soft = cv2.GaussianBlur(margin, (0, 0), 2 * px).astype(np.float32) / 255.0
    _blend(image, (236, 220, 214), margin_soft * rng.uniform(0.4, 0.7))

    # red distractors, present from the first frame
    distractor_mask = np.zeros((h, w), np.uint8)
    kinds = []
    for _ in range(stain_count):
        kind = rng.choice(['old_stain', 'coagulation', 'reddish_tissue', 'old_stain'])
        kinds.append(str(kind))
        center = rng.uniform([0.1 * w, 0.1 * h], [0.9 * w, 0.9 * h])
        if kind == 'old_stain':
            axes = rng.uniform(8, 45, 2) * px
            color, alpha = (rng.uniform(95, 140), rng.uniform(18, 40), rng.uniform(20, 40)), 0.85
        elif kind == 'coagulation':
            axes = rng.uniform(4, 14, 2) * px
            color, alpha = (rng.uniform(45, 80), rng.uniform(28, 40), rng.uniform(20, 32)), 0.9
        else:
            axes = rng.uniform(30, 90, 2) * px
            color, alpha = (rng.uniform(200, 235), rng.uniform(55, 85), rng.uniform(60, 85)), 0.6
        poly = _noisy_blob(rng, (h, w), center, axes, rng.uniform(0, 180), 0.3)
        sigma = 1.5 * px + (4 * px if kind == 'reddish_tissue' else 0)
        _paint_roi(image, distractor_mask, poly, color, alpha, sigma)
    if old_blood:
        kinds.append('old_blood')
        start = rng.uniform([0.15 * w, 0.15 * h], [0.85 * w, 0.85 * h])
        curve = _random_curve(rng, start, rng.uniform(0, 2 * np.pi), rng.uniform(60, 200) * px,
                              4 * px, 0.08)
        layer = np.zeros((h, w), np.uint8)
        cv2.polylines(layer, [np.round(curve).astype(np.int32)], False, 255,
                      max(2, int(rng.uniform(6, 16) * px)), cv2.LINE_AA)
        cv2.circle(layer, tuple(int(v) for v in curve[-1]), int(rng.uniform(12, 30) * px), 255,
                   -1, cv2.LINE_AA)
        distractor_mask |= layer
        soft = cv2.GaussianBlur(layer, (0, 0), 1.5 * px).astype(np.float32) / 255.0
        _blend(image, (rng.uniform(100, 150), rng.uniform(10, 25), rng.uniform(15, 28)), soft * 0.9)

    # specular glints of the wet surface (tissue-fixed; camera-fixed glare is an effect)
    glints = fractal_noise(rng, h, w, (int(w / (14 * px)), int(w / (7 * px))), 0.7)
    if folds is not None:
        glints += 0.9 * folds
    threshold = 3.9 - 0.3 * style.gloss
    spec = np.clip((glints - threshold) * 2.5, 0, 1)
    # broad wet sheen on the crests of the light field
    sheen = np.clip((light + 0.4 * mid - 1.7) * 0.5, 0, 0.35)
    _blend(image, (250, 236, 232), sheen)
    angle = rng.uniform(0, 180)
    length = max(3, int(9 * px)) | 1
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2] = 1.0 / length
    rot = cv2.getRotationMatrix2D((length / 2 - 0.5, length / 2 - 0.5), angle, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (length, length))
    spec = cv2.filter2D(spec, -1, kernel / max(kernel.sum(), 1e-6))
    _blend(image, (252, 250, 246), np.clip(spec * 3.0, 0, 1))
    return MucosaTexture(image=np.clip(image, 0, 255).astype(np.uint8), bed_center=bed_center,
                         bed_axes=bed_axes, bed_angle=bed_angle,
                         distractor_mask=distractor_mask, distractors=kinds)
