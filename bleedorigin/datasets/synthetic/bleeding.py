"""Bleeding model: blood emitted at a tissue-fixed source, drawn in texture space.

A :class:`BleedingSource` is a point of the tissue texture. From its onset the
blood geometry is a function of the bleed's *age* ``tau`` (frames since the
blood last started to accumulate):

- emission: a fresh bright-red drop at the source, radius ``r0`` at
  ``tau = 0`` (at least ``min_onset_radius`` reference px, so the onset frame
  shows real blood) growing quickly and pulsing with the heart beat;
- stream: blood flowing away from the source along a wandering "downhill"
  direction, its front advancing ``speed * tau ** 0.85``, widening downstream;
- pool: where the stream stops, a darker pool that keeps growing.

Water flushing washes the blood away: the age restarts near 0 and the earlier
geometry remains as a faint residue. Because the geometry lives in texture
coordinates it moves with the tissue, and so does the source point.
"""
from dataclasses import dataclass, field
from typing import List, Optional

import cv2
import numpy as np

FRESH_BLOOD = (205, 18, 30)  # RGB of fresh arterial/venous blood
DARK_BLOOD = (105, 6, 14)  # RGB of pooled, thick blood
SHIFT = 4  # fractional bits of cv2 drawing coordinates
SCALE = 1 << SHIFT


@dataclass
class BleedingSource:
    """One bleeding source of a clip.

    Args:
        group_id (int): LabelMe ``group_id`` of the source.
        position (np.ndarray): (2,) source position in texture px.
        onset_frame (int): First frame with blood from this source.
        r0 (float): Emission radius at the onset, texture px.
        direction (float): Mean flow direction in radians (texture space).
        speed (float): Stream growth speed, texture px per frame ** 0.85.
        max_length (float): Length at which the stream stops and pools.
        width (float): Stream width near the source, texture px.
        pool_rate (float): Pool radius growth per sqrt(frame).
        pulse_period (float): Heart-beat period in frames (spurting).
        pulse_amount (float): Relative radius modulation of the pulse.
        wander (np.ndarray): (3,) amplitude, wavelength, phase of the path's wander.
        glints (np.ndarray): (G, 2) positions of wet highlights along the stream as
            (fraction of length, lateral offset in widths).
        lobes (np.ndarray): (L, 3) side lobes that make the stream's edge irregular:
            (fraction of length, lateral offset in widths, radius in widths).
        pool_lobes (np.ndarray): (P, 3) blobs of the irregular pool: (angle,
            offset in pool radii, radius in pool radii).
        covers (list[tuple]): ``(start, end, radius)`` intervals in which a pool
            of blood covers the source.
    """

    group_id: int
    position: np.ndarray
    onset_frame: int
    r0: float
    direction: float
    speed: float
    max_length: float
    width: float
    pool_rate: float
    pulse_period: float
    pulse_amount: float
    wander: np.ndarray
    glints: np.ndarray
    lobes: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    pool_lobes: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    covers: List[tuple] = field(default_factory=list)

    @classmethod
    def sample(cls, rng: np.random.Generator, group_id: int, position, onset_frame: int,
               px: float, min_onset_radius: float = 6.0) -> 'BleedingSource':
        """Draw the parameters of a source.

        Args:
            rng (np.random.Generator): Random source of the clip.
            group_id (int): Source id.
            position: (x, y) in texture px.
            onset_frame (int): Onset frame of this source.
            px (float): Pixel scale (reference px -> texture px).
            min_onset_radius (float): Smallest emission radius at the onset in
                reference px (the onset must be visible).
        """
        spurting = rng.random() < 0.35
        return cls(group_id=group_id, position=np.asarray(position, np.float64),
                   onset_frame=int(onset_frame),
                   r0=max(3.0, rng.uniform(min_onset_radius, min_onset_radius + 4.0) * px),
                   direction=rng.uniform(0, 2 * np.pi),
                   speed=rng.uniform(4.0, 10.0) * px * (1.4 if spurting else 1.0),
                   max_length=rng.uniform(140, 420) * px,
                   width=rng.uniform(22, 60) * px,
                   pool_rate=rng.uniform(5.0, 10.0) * px,
                   pulse_period=rng.uniform(22, 34),
                   pulse_amount=rng.uniform(0.15, 0.35) if spurting else rng.uniform(0.0, 0.1),
                   wander=np.array([rng.uniform(0.3, 0.9), rng.uniform(40, 140) * px,
                                    rng.uniform(0, 2 * np.pi)]),
                   glints=np.stack([rng.uniform(0, 1, 6), rng.uniform(-0.3, 0.3, 6)], 1),
                   lobes=np.stack([rng.uniform(0, 1, 14), rng.uniform(-0.6, 0.6, 14),
                                   rng.uniform(0.3, 0.8, 14)], 1),
                   pool_lobes=np.stack([rng.uniform(0, 2 * np.pi, 5), rng.uniform(0.2, 0.8, 5),
                                        rng.uniform(0.5, 0.9, 5)], 1))

    def path(self, length: float, samples: int = 16) -> np.ndarray:
        """Stream centre line from the source, (samples, 2) texture px."""
        s = np.linspace(0.0, max(length, 1e-3), samples)
        amplitude, wavelength, phase = self.wander
        angle = self.direction + amplitude * np.sin(s / wavelength + phase)
        step = np.diff(s, prepend=0.0)
        return self.position + np.cumsum(np.stack([np.cos(angle), np.sin(angle)], 1) *
                                         step[:, None], 0)

    def extent(self) -> float:
        """Largest distance from the source the blood can reach, texture px."""
        return self.max_length + 3 * self.width + self.pool_rate * 25 + 4 * self.r0

    def draw(self, alpha: np.ndarray, thickness: np.ndarray, origin: np.ndarray, tau: float,
             frame_index: int, opacity: float = 1.0) -> None:
        """Draw the blood of age ``tau`` into ROI canvases (in place).

        Args:
            alpha (np.ndarray): (h, w) uint8 coverage canvas of the blood ROI.
            thickness (np.ndarray): (h, w) uint8 thickness canvas (255 = dark pool).
            origin (np.ndarray): (2,) texture position of the ROI's top-left pixel.
            tau (float): Age of the bleed in frames (>= 0).
            frame_index (int): Current frame (drives the pulse).
            opacity (float): Scale of the drawn coverage (residue after washing < 1).
        """
        pulse = 1.0 + self.pulse_amount * max(0.0, np.sin(2 * np.pi * frame_index /
                                                          self.pulse_period))
        a_val = int(255 * opacity)

        def pt(p):
            x, y = np.round((p - origin) * SCALE).astype(np.int64).tolist()
            return x, y

        def rad(r):
            return max(1, int(round(r * SCALE)))

        # the drop at the source spreads into a puddle over the first second
        emission = self.r0 * (1.0 + 2.0 * min(tau, 15.0) / 15.0 + 2.0 * min(tau, 45.0) / 45.0)
        emission *= pulse
        length = min(self.max_length, self.speed * tau ** 0.85)
        if length > self.r0:
            line = self.path(length)
            widths = self.width * (0.5 + 0.8 * np.sqrt(np.linspace(0, 1, len(line))))
            widths *= min(1.0, 0.35 + tau / 15.0)
            fixed = np.round((line - origin) * SCALE).astype(np.int64).tolist()
            thick_px = np.maximum(1, np.round(widths)).astype(np.int64).tolist()
            for k in range(len(line) - 1):
                a, b = tuple(fixed[k]), tuple(fixed[k + 1])
                cv2.line(alpha, a, b, a_val, thick_px[k], cv2.LINE_AA, SHIFT)
                cv2.line(thickness, a, b, int(90 + 100 * k / len(line)), thick_px[k],
                         cv2.LINE_AA, SHIFT)
            normal_angle = self.direction + np.pi / 2
            normal = np.array([np.cos(normal_angle), np.sin(normal_angle)])
            reach = length / self.max_length
            for frac, lateral, radius in self.lobes:
                if frac * self.max_length > length:
                    continue
                k = int(frac / reach * (len(line) - 1))
                centre = line[k] + normal * lateral * widths[k]
                cv2.circle(alpha, pt(centre), rad(radius * widths[k]), a_val, -1, cv2.LINE_AA,
                           SHIFT)
                cv2.circle(thickness, pt(centre), rad(radius * widths[k]), int(90 + 100 * frac),
                           -1, cv2.LINE_AA, SHIFT)
            stop_tau = (self.max_length / self.speed) ** (1 / 0.85)
            if tau > stop_tau:
                pool = self.width + self.pool_rate * np.sqrt(tau - stop_tau)
                axes = (rad(pool * 1.2), rad(pool * 0.8))
                angle = float(np.degrees(self.direction))
                cv2.ellipse(alpha, pt(line[-1]), axes, angle, 0, 360, a_val, -1, cv2.LINE_AA,
                            SHIFT)
                cv2.ellipse(thickness, pt(line[-1]), axes, angle, 0, 360, 230, -1, cv2.LINE_AA,
                            SHIFT)
                for lobe_angle, offset, size in self.pool_lobes:
                    centre = line[-1] + pool * offset * np.array([np.cos(lobe_angle),
                                                                  np.sin(lobe_angle)])
                    cv2.circle(alpha, pt(centre), rad(pool * size), a_val, -1, cv2.LINE_AA,
                               SHIFT)
                    cv2.circle(thickness, pt(centre), rad(pool * size), 200, -1, cv2.LINE_AA,
                               SHIFT)
        cv2.circle(alpha, pt(self.position), rad(emission), a_val, -1, cv2.LINE_AA, SHIFT)
        cv2.circle(thickness, pt(self.position), rad(emission), 40, -1, cv2.LINE_AA, SHIFT)
        for start, end, radius in self.covers:
            if start <= frame_index < end:
                ramp = min(1.0, (frame_index - start) / 8.0, (end - frame_index) / 8.0)
                cv2.circle(alpha, pt(self.position), rad(radius * max(ramp, 0.1)), 255, -1,
                           cv2.LINE_AA, SHIFT)
                cv2.circle(thickness, pt(self.position), rad(radius * max(ramp, 0.1)), 255, -1,
                           cv2.LINE_AA, SHIFT)

    def glint_points(self, tau: float) -> Optional[np.ndarray]:
        """Wet highlights on the blood at age ``tau``, (G, 2) texture px, or None."""
        length = min(self.max_length, self.speed * tau ** 0.85)
        points = [self.position + np.array([0.3, -0.3]) * self.r0]
        if length > self.r0:
            line = self.path(length)
            normal_angle = self.direction + np.pi / 2
            normal = np.array([np.cos(normal_angle), np.sin(normal_angle)])
            for frac, lateral in self.glints:
                k = int(frac * (len(line) - 1))
                points.append(line[k] + normal * lateral * self.width)
        return np.asarray(points)

    def covered(self, frame_index: int, threshold: float) -> bool:
        """Whether a blood pool covers the source (radius above ``threshold``)."""
        for start, end, radius in self.covers:
            if start <= frame_index < end:
                ramp = min(1.0, (frame_index - start) / 8.0, (end - frame_index) / 8.0)
                if radius * ramp > threshold:
                    return True
        return False
