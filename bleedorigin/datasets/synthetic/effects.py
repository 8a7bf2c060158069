"""Camera-side effects of the synthetic endoscope, applied in frame space.

- :func:`lens_map`: the octagonal (or circular) field of view with vignetting.
- :class:`Instrument`: an ESD knife or forceps with a striped sheath entering
  from the border, moving towards the bed, hovering and retracting
  (``instrument_interference``).
- :class:`FlushEvent`: a water jet with turbulent, bright, blurred water and
  sparkles over part of the view; it washes blood away (``water_flushing``).
- :class:`Glare`: camera-fixed specular reflections and flicker of the light
  source (``light_reflection``).
- :class:`Haze`: drifting fog/smoke and defocus (``obscure_view``).

Every effect reports whether it hides a frame point (``occludes``) so the
ground-truth visibility is exact.
"""
import functools
from dataclasses import dataclass
from typing import Optional

import cv2
import numpy as np

from .texture import fractal_noise


def lens_map(rng: np.random.Generator, width: int, height: int) -> tuple:
    """Field-of-view mask and vignetting of the endoscope.

    Args:
        rng (np.random.Generator): Random source of the clip.
        width (int): W.
        height (int): H.

    Returns:
        tuple: ``(lens, inside, cap)``: (H, W, 3) uint8 multiplier (255 =
        unchanged), (H, W) bool field-of-view mask eroded by a small margin (a
        point is only in view if it is inside) and the (H, W, 3) uint8 additive
        glow of a transparent distal cap at the border (or None).
    """
    mask = np.zeros((height, width), np.uint8)
    if rng.random() < 0.8:
        cut = rng.uniform(0.14, 0.2) * min(width, height)
        inset = rng.uniform(0.0, 0.02) * width
        x0, x1, y0, y1 = inset, width - 1 - inset, 0, height - 1
        poly = np.array([[x0 + cut, y0], [x1 - cut, y0], [x1, y0 + cut], [x1, y1 - cut],
                         [x1 - cut, y1], [x0 + cut, y1], [x0, y1 - cut], [x0, y0 + cut]])
        cv2.fillConvexPoly(mask, np.round(poly).astype(np.int32), 255, cv2.LINE_AA)
    else:
        radius = rng.uniform(0.5, 0.56) * width
        cv2.circle(mask, (width // 2, height // 2), int(radius), 255, -1, cv2.LINE_AA)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx = width / 2 + rng.uniform(-0.08, 0.08) * width
    cy = height / 2 + rng.uniform(-0.08, 0.08) * height
    r = np.sqrt(((xx - cx) / (0.5 * width)) ** 2 + ((yy - cy) / (0.5 * height)) ** 2)
    vignette = 1.0 - rng.uniform(0.15, 0.4) * np.clip(r, 0, 1.5) ** rng.uniform(1.8, 3.0)
    cap = None
    if rng.random() < 0.7:
        # transparent distal cap: a greyish translucent ring at the border of the view
        inner = rng.uniform(0.82, 0.95)
        ring = np.clip((r - inner) / 0.08, 0, 1) * np.clip((1.25 - r) / 0.1, 0, 1)
        ring *= 0.6 + 0.4 * np.clip(fractal_noise(rng, height, width, (2, 4)), -1, 1)
        vignette = vignette * (1 - 0.45 * ring)
        cap = np.clip(ring[..., None] * rng.uniform(40, 90) * np.array([1.0, 1.0, 1.05]), 0,
                      255)
        cap = (cap * (mask[..., None] / 255.0)).astype(np.uint8)
    lens = (np.clip(vignette, 0.05, 1.0) * mask.astype(np.float32)).astype(np.uint8)
    margin = max(3, int(0.006 * width))
    inside = cv2.erode(mask, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) > 127
    return np.repeat(lens[..., None], 3, 2), inside, cap


def color_lut(rng: np.random.Generator) -> np.ndarray:
    """Per-clip colour grading as a (256, 1, 3) uint8 LUT (white balance, contrast, gamma)."""
    x = np.arange(256, dtype=np.float32) / 255.0
    gains = np.array([1.0, rng.uniform(0.92, 1.06), rng.uniform(0.9, 1.1)], np.float32)
    gamma = rng.uniform(0.85, 1.15)
    contrast = rng.uniform(0.1, 0.35)
    curve = x ** gamma
    curve = curve + contrast * (curve - 0.5) * (1 - np.abs(2 * curve - 1))
    lut = np.clip(curve[:, None] * gains[None] * 255.0, 0, 255).astype(np.uint8)
    return lut[:, None, :]


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ab = b - a
    t = np.clip(((points - a) @ ab) / max(ab @ ab, 1e-9), 0, 1)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


@dataclass
class Instrument:
    """An instrument visible during ``[start, end)``.

    Args:
        start (int): First frame.
        end (int): Frame after the last one.
        entry (np.ndarray): (2,) frame point outside the view where the shaft enters.
        target (np.ndarray): (2,) frame point the tip moves to.
        width (float): Shaft width in px.
        kind (str): ``'sheath'`` (striped cap/sheath) or ``'forceps'`` (metal).
        wobble (np.ndarray): (2,) hover amplitude (px) and period (frames).
        colors (np.ndarray): (2, 3) stripe colours (RGB).
    """

    start: int
    end: int
    entry: np.ndarray
    target: np.ndarray
    width: float
    kind: str
    wobble: np.ndarray
    colors: np.ndarray

    @classmethod
    def sample(cls, rng: np.random.Generator, start: int, end: int, target, width: int,
               height: int, px: float) -> 'Instrument':
        side = rng.integers(0, 4)
        along = rng.uniform(0.2, 0.8)
        entry = {0: (along * width, -0.15 * height), 1: (1.15 * width, along * height),
                 2: (along * width, 1.15 * height), 3: (-0.15 * width, along * height)}[side]
        kind = 'sheath' if rng.random() < 0.6 else 'forceps'
        colors = (np.array([[228, 232, 232], [60, 150, 160]]) if kind == 'sheath' else
                  np.array([[165, 170, 176], [120, 124, 130]]))
        return cls(start=int(start), end=int(end), entry=np.asarray(entry, np.float64),
                   target=np.asarray(target, np.float64),
                   width=rng.uniform(55, 110) * px if kind == 'sheath' else
                   rng.uniform(22, 40) * px,
                   kind=kind, wobble=np.array([rng.uniform(5, 25) * px, rng.uniform(20, 60)]),
                   colors=colors.astype(np.float64) + rng.normal(0, 8, (2, 3)))

    def tip(self, t: int):
        """Tip position at frame ``t`` or None when the instrument is not in the view."""
        if not self.start <= t < self.end:
            return None
        duration = self.end - self.start
        ramp = min(1.0, (t - self.start) / 12.0, (self.end - 1 - t) / 12.0)
        ramp = 0.5 - 0.5 * np.cos(np.pi * max(ramp, 0.0))
        amp, period = self.wobble
        hover = amp * np.array([np.sin(2 * np.pi * t / period),
                                np.cos(2 * np.pi * t / (1.3 * period) + duration)])
        return self.entry + (self.target + hover - self.entry) * ramp

    def occludes(self, t: int, points: np.ndarray) -> np.ndarray:
        """(K,) bool: which frame points the instrument hides at frame ``t``."""
        tip = self.tip(t)
        if tip is None:
            return np.zeros(len(points), bool)
        return _segment_distance(points, self.entry, tip) < 0.5 * self.width + 2

    def draw(self, frame: np.ndarray, t: int) -> None:
        """Draw the instrument into the (H, W, 3) uint8 RGB frame in place."""
        tip = self.tip(t)
        if tip is None:
            return
        axis = tip - self.entry
        length = np.linalg.norm(axis)
        if length < 1:
            return
        u = axis / length
        n = np.array([-u[1], u[0]])
        half = 0.5 * self.width
        stripe = max(self.width * 0.45, 8.0)
        num = int(length / stripe) + 1
        for k in range(num):  # stripes from the tip backwards
            s0 = length - k * stripe
            s1 = max(0.0, s0 - stripe)
            c = self.colors[k % 2] if self.kind == 'sheath' else self.colors[0]
            a, b = self.entry + u * s0, self.entry + u * s1
            poly = np.array([a + n * half, a - n * half, b - n * half, b + n * half])
            cv2.fillConvexPoly(frame, np.round(poly * 16).astype(np.int32),
                               tuple(float(v) for v in c), cv2.LINE_AA, 4)
        # cylinder shading: dark edges and a specular line along the shaft
        for offset, color, thick in ((0.85, (30, 30, 34), 0.18), (-0.85, (40, 40, 44), 0.18),
                                     (0.3, (250, 252, 252), 0.08)):
            a = self.entry + n * half * offset
            b = tip + n * half * offset
            cv2.line(frame, tuple(np.round(a * 16).astype(int)), tuple(np.round(b * 16).astype(
                int)), color, max(1, int(self.width * thick)), cv2.LINE_AA, 4)
        cv2.circle(frame, tuple(np.round(tip * 16).astype(int)), int(half * 16),
                   tuple(float(v) for v in self.colors[0] * 0.8), -1, cv2.LINE_AA, 4)
        if self.kind == 'forceps':  # metal jaws
            for sign in (-1, 1):
                jaw = tip + u * half * 1.6 + n * sign * half * 0.5
                cv2.line(frame, tuple(np.round(tip * 16).astype(int)),
                         tuple(np.round(jaw * 16).astype(int)), (190, 195, 200),
                         max(2, int(half * 0.5)), cv2.LINE_AA, 4)


@functools.lru_cache(maxsize=8)
def _soft_blob(size: int) -> np.ndarray:
    """(size, size) float32 radial falloff 1 -> 0 (cached; treat as read-only)."""
    yy, xx = np.mgrid[-1:1:size * 1j, -1:1:size * 1j]
    return np.clip(1.0 - (xx ** 2 + yy ** 2), 0, 1).astype(np.float32) ** 1.5


@dataclass
class FlushEvent:
    """Water flushing during ``[start, end)``.

    Args:
        start (int): First frame.
        end (int): Frame after the last one.
        entry (np.ndarray): (2,) frame point where the jet enters.
        target (np.ndarray): (2,) centre of the turbulent water.
        radius (float): Radius of the turbulent area in px.
        seed (int): Seed of the per-frame sparkle pattern.
    """

    start: int
    end: int
    entry: np.ndarray
    target: np.ndarray
    radius: float
    seed: int

    @classmethod
    def sample(cls, rng: np.random.Generator, start: int, end: int, target, width: int,
               height: int, px: float) -> 'FlushEvent':
        side = rng.integers(0, 4)
        along = rng.uniform(0.2, 0.8)
        entry = {0: (along * width, 0), 1: (width, along * height), 2: (along * width, height),
                 3: (0, along * height)}[side]
        return cls(start=int(start), end=int(end), entry=np.asarray(entry, np.float64),
                   target=np.asarray(target, np.float64), radius=rng.uniform(140, 260) * px,
                   seed=int(rng.integers(0, 2 ** 31)))

    def strength(self, t: int) -> float:
        if not self.start <= t < self.end:
            return 0.0
        ramp = min(1.0, (t - self.start) / 5.0, (self.end - 1 - t) / 8.0)
        return float(max(ramp, 0.15))

    def _center(self, t: int) -> np.ndarray:
        return self.target + 0.15 * self.radius * np.array(
            [np.sin(t / 3.1 + self.seed % 7), np.cos(t / 2.3 + self.seed % 5)])

    def coverage(self, t: int, points: np.ndarray) -> np.ndarray:
        """(K,) water opacity at frame points (0 = clear)."""
        w = self.strength(t)
        if w == 0:
            return np.zeros(len(points))
        d = np.linalg.norm(points - self._center(t), axis=1) / self.radius
        return w * 0.85 * np.clip(1.0 - d ** 2, 0, 1) ** 1.5

    def draw(self, frame: np.ndarray, t: int) -> None:
        w = self.strength(t)
        if w == 0:
            return
        h, wd = frame.shape[:2]
        c = self._center(t)
        r = int(self.radius)
        x0, y0 = int(max(0, c[0] - r)), int(max(0, c[1] - r))
        x1, y1 = int(min(wd, c[0] + r)), int(min(h, c[1] + r))
        if x1 > x0 + 4 and y1 > y0 + 4:
            roi = frame[y0:y1, x0:x1]
            small = cv2.resize(roi, (max(1, (x1 - x0) // 6), max(1, (y1 - y0) // 6)),
                               interpolation=cv2.INTER_AREA)
            blurred = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
            blob = _soft_blob(2 * r)
            by0, bx0 = int(y0 - (c[1] - r)), int(x0 - (c[0] - r))
            m = blob[by0:by0 + (y1 - y0), bx0:bx0 + (x1 - x0)] * (0.85 * w)
            water = blurred.astype(np.float32) * 0.75 + np.array([70, 78, 80], np.float32)
            m3 = m[..., None]
            roi[:] = np.clip(roi * (1 - m3) + water * m3, 0, 255).astype(np.uint8)
        rng = np.random.default_rng([self.seed, t])
        overlay = frame.copy()
        spread = rng.normal(0, 6, 2)
        cv2.line(overlay, tuple(int(v) for v in self.entry), tuple(int(v) for v in c + spread),
                 (235, 240, 245), max(3, int(self.radius * 0.12)), cv2.LINE_AA)
        n = int(60 * w)
        pts = c + rng.normal(0, 0.45 * self.radius, (n, 2))
        for (x, y), s in zip(pts.astype(int), rng.uniform(1, 4, n)):
            cv2.circle(overlay, (int(x), int(y)), int(s), (255, 255, 255), -1, cv2.LINE_AA)
        for _ in range(3):  # rainbow fringes of light refracted by the water
            p = c + rng.normal(0, 0.4 * self.radius, 2)
            q = p + rng.normal(0, 0.3 * self.radius, 2)
            cv2.line(overlay, tuple(int(v) for v in p), tuple(int(v) for v in q),
                     tuple(int(v) for v in rng.integers(80, 255, 3)), 2, cv2.LINE_AA)
        cv2.addWeighted(overlay, 0.55 * w, frame, 1 - 0.55 * w, 0, dst=frame)


@dataclass
class Glare:
    """Camera-fixed reflections of the light source.

    Args:
        centers (np.ndarray): (G, 2) frame centres of the reflections.
        axes (np.ndarray): (G, 2) half axes in px.
        angles (np.ndarray): (G,) orientations in degrees.
        flicker (np.ndarray): (T,) brightness factor per frame.
    """

    centers: np.ndarray
    axes: np.ndarray
    angles: np.ndarray
    flicker: np.ndarray

    @classmethod
    def sample(cls, rng: np.random.Generator, num_frames: int, width: int, height: int,
               px: float) -> 'Glare':
        g = int(rng.integers(2, 5))
        ang = rng.uniform(0, 2 * np.pi, g)
        rad = rng.uniform(0.3, 0.45, g)
        centers = np.stack([width / 2 + rad * width * np.cos(ang),
                            height / 2 + rad * height * np.sin(ang)], 1)
        axes = np.stack([rng.uniform(25, 90, g), rng.uniform(4, 14, g)], 1) * px
        angles = np.degrees(ang) + 90 + rng.normal(0, 15, g)
        t = np.arange(num_frames)
        flicker = 0.75 + 0.25 * np.sin(2 * np.pi * t / rng.uniform(15, 60) + rng.uniform(0, 6))
        flashes = rng.random(num_frames) < 0.03
        flicker = np.where(flashes, 1.4, flicker)
        return cls(centers=centers, axes=axes, angles=angles, flicker=flicker)

    def occludes(self, t: int, points: np.ndarray) -> np.ndarray:
        hidden = np.zeros(len(points), bool)
        for c, (a, b), ang in zip(self.centers, self.axes, self.angles):
            th = np.radians(ang)
            d = points - c
            u = d[:, 0] * np.cos(th) + d[:, 1] * np.sin(th)
            v = -d[:, 0] * np.sin(th) + d[:, 1] * np.cos(th)
            hidden |= (u / a) ** 2 + (v / b) ** 2 < 0.8
        return hidden

    def overlay(self, height: int, width: int) -> np.ndarray:
        """(H, W, 3) uint8 brightness added by the reflections at full flicker."""
        overlay = np.zeros((height, width), np.uint8)
        for c, (a, b), ang in zip(self.centers, self.axes, self.angles):
            cv2.ellipse(overlay, (int(c[0]), int(c[1])), (int(a), int(b)), float(ang), 0, 360,
                        255, -1, cv2.LINE_AA)
            cv2.ellipse(overlay, (int(c[0]), int(c[1])), (int(2 * a), int(3 * b)), float(ang),
                        0, 360, 90, -1, cv2.LINE_AA)
        overlay = cv2.GaussianBlur(overlay, (0, 0), 2 + 0.01 * width)
        return cv2.merge([overlay] * 3)

    def draw(self, frame: np.ndarray, t: int, overlay: np.ndarray) -> None:
        """Add the reflections (``overlay`` from :meth:`overlay`) to the frame in place."""
        gain = min(1.0, float(self.flicker[t]))
        cv2.scaleAdd(overlay, gain, frame, dst=frame)
        if self.flicker[t] > 1.0:  # flash: over-exposure of the whole view
            cv2.convertScaleAbs(frame, dst=frame, alpha=float(self.flicker[t]) * 0.9, beta=10)


@dataclass
class Haze:
    """Drifting fog/smoke with defocus.

    Args:
        fog (np.ndarray): (h, w) float32 low-resolution fog density larger than
            the frame at 1/4 scale.
        strength (float): Maximum fog opacity.
        color (np.ndarray): (3,) fog colour.
        velocity (np.ndarray): (2,) drift in low-res px per frame.
        blur (int): Defocus down-scale factor.
    """

    fog: np.ndarray
    strength: float
    color: np.ndarray
    velocity: np.ndarray
    blur: int
    _color_image: Optional[np.ndarray] = None

    @classmethod
    def sample(cls, rng: np.random.Generator, num_frames: int, width: int,
               height: int) -> 'Haze':
        velocity = rng.uniform(-0.5, 0.5, 2)
        margin = np.abs(velocity) * num_frames + 2
        h = int(height / 4 + margin[1])
        w = int(width / 4 + margin[0])
        fog = np.clip(0.55 + 0.35 * fractal_noise(rng, h, w, (3, 6, 12)), 0, 1)
        return cls(fog=fog.astype(np.float32), strength=rng.uniform(0.3, 0.6),
                   color=np.array([rng.uniform(170, 220), rng.uniform(140, 180),
                                   rng.uniform(140, 180)], np.float32),
                   velocity=velocity, blur=int(rng.integers(3, 7)))

    def draw(self, frame: np.ndarray, t: int) -> None:
        h, w = frame.shape[:2]
        hs, ws = h // 4, w // 4
        ox = int(abs(self.velocity[0]) * t) if self.velocity[0] > 0 else \
            int(self.fog.shape[1] - ws - 1 - abs(self.velocity[0]) * t)
        oy = int(abs(self.velocity[1]) * t) if self.velocity[1] > 0 else \
            int(self.fog.shape[0] - hs - 1 - abs(self.velocity[1]) * t)
        ox = int(np.clip(ox, 0, self.fog.shape[1] - ws))
        oy = int(np.clip(oy, 0, self.fog.shape[0] - hs))
        fog = cv2.resize(self.fog[oy:oy + hs, ox:ox + ws], (w, h)) * self.strength
        small = cv2.resize(frame, (w // self.blur, h // self.blur), interpolation=cv2.INTER_AREA)
        blurred = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        cv2.addWeighted(frame, 0.35, blurred, 0.65, 0, dst=frame)
        if self._color_image is None or self._color_image.shape != frame.shape:
            self._color_image = np.empty_like(frame)
            self._color_image[:] = self.color.astype(np.uint8)
        frame[:] = cv2.blendLinear(frame, self._color_image, 1.0 - fog, fog)
