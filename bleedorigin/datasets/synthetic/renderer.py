"""Plan and render one synthetic ESD clip.

:func:`plan_clip` draws every random choice of a clip from its own RNG
(seeded from ``(seed, clip index)``): texture, camera path, sources, scenario
events. :class:`ClipRenderer` then renders frame ``t`` as

1. blood of every started source composited into the tissue texture (only
   inside the blood's bounding box),
2. the texture warped into the frame with the camera homography ``H[t]``,
3. blood highlights, fog (``obscure_view``), water (``water_flushing``),
   instruments (``instrument_interference``), glare (``light_reflection``),
   motion blur of fast shakes (``camera_jitter``),
4. colour grading, vignetting and the field-of-view mask, sensor noise,

and computes the exact ground truth: each source's frame position
``H[t] @ p`` and whether it is visible (started, inside the field of view and
not hidden by the instrument, water, glare or a covering pool).
"""
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional

import cv2
import numpy as np

from .bleeding import DARK_BLOOD, FRESH_BLOOD, BleedingSource
from .effects import FlushEvent, Glare, Haze, Instrument, color_lut, lens_map
from .motion import camera_trajectory, project_points
from .presets import SyntheticPreset
from .sites import SITES
from .texture import MucosaTexture, fractal_noise, render_mucosa

SCENARIOS = ('clear_view', 'obscure_view', 'camera_jitter', 'light_reflection',
             'water_flushing', 'instrument_interference')
TEXTURE_MARGIN = 1.6  # texture size / frame size (room for the camera to move)
ONSET_GUARD = (8, 12)  # frames before/after an onset kept free of flushes
PULSE_BLOOD_OPACITY = 0.93


@dataclass
class ClipPlan:
    """All random choices of one clip (see module docstring)."""

    clip_id: str
    patient_id: str
    index: int
    role: str
    site: str
    scenarios: List[str]
    num_frames: int
    onset_frame: Optional[int]
    second_onset: Optional[int]
    width: int
    height: int
    seed: int
    sources: List[BleedingSource] = field(default_factory=list)


def assign_roles(preset: SyntheticPreset, rng: np.random.Generator) -> List[str]:
    """Roles of all clips: ``negative``, ``positive``, ``two_source``, ``long`` (shuffled)."""
    n = preset.num_clips
    n_neg = max(1, int(round(preset.negative_fraction * n)))
    n_pos = n - n_neg
    # at least one of each kind when there are positive clips at all
    n_two = min(n_pos, max(1, int(round(preset.two_source_fraction * n_pos)))) if n_pos else 0
    n_long = min(n_pos - n_two, max(1, int(round(preset.long_fraction * n_pos))))
    roles = (['negative'] * n_neg + ['two_source'] * n_two + ['long'] * n_long +
             ['positive'] * (n_pos - n_two - n_long))
    rng.shuffle(roles)
    return roles


def sample_scenarios(rng: np.random.Generator) -> List[str]:
    if rng.random() < 0.3:
        return ['clear_view']
    others = list(SCENARIOS[1:])
    k = 1 if rng.random() < 0.6 else 2
    picked = rng.choice(len(others), size=k, replace=False)
    return [others[i] for i in sorted(picked)]


def plan_clip(preset: SyntheticPreset, seed: int, index: int, role: str, patient_id: str,
              clip_id: str, site: str) -> ClipPlan:
    """Draw the high-level plan of clip ``index`` (length, onset, scenarios)."""
    rng = np.random.default_rng([seed, index, 1])
    scenarios = sample_scenarios(rng)
    if preset.scenarios is not None:
        unknown = set(preset.scenarios) - set(SCENARIOS)
        if unknown:
            raise ValueError(f'preset {preset.name}: unknown scenarios {sorted(unknown)}')
        scenarios = list(preset.scenarios)
    onset = None
    num_frames = preset.detect_frames
    if role != 'negative':
        onset = int(rng.integers(preset.onset_range[0], preset.onset_range[1] + 1))
        if role == 'long':
            # skewed towards short tracks; the longest reach long_post_onset[1]
            lo, hi = preset.long_post_onset
            post = hi if rng.random() < 0.1 else int(round(lo + (hi - lo) * rng.random() ** 2))
            num_frames = max(num_frames, onset + post + 1)
    second = None
    if role == 'two_source':
        second = onset + int(rng.integers(5, 46))
        num_frames = max(num_frames, second + 10)
    return ClipPlan(clip_id=clip_id, patient_id=patient_id, index=index, role=role, site=site,
                    scenarios=scenarios, num_frames=num_frames, onset_frame=onset,
                    second_onset=second,
                    width=preset.width, height=preset.height, seed=seed)


class ClipRenderer:
    """Renders the frames and ground truth of one :class:`ClipPlan`.

    Args:
        plan (ClipPlan): The clip to render.
        preset (SyntheticPreset): Sizes and constants.
        min_onset_radius (float): Smallest blood radius at the onset frame in
            reference px.
        cover_threshold (float): A covering pool hides the source once its
            radius exceeds this many emission radii.
        flush_hide (float): Water opacity above which a point counts as hidden.
    """

    def __init__(self, plan: ClipPlan, preset: SyntheticPreset, min_onset_radius: float = 6.0,
                 cover_threshold: float = 1.8, flush_hide: float = 0.45):
        self.plan = plan
        self.flush_hide = flush_hide
        rng = np.random.default_rng([plan.seed, plan.index, 2])
        self.rng = rng
        w, h = plan.width, plan.height
        px = preset.pixel_scale
        self.px = px
        tw, th = int(w * TEXTURE_MARGIN), int(h * TEXTURE_MARGIN)
        style = SITES[plan.site]
        negative = plan.onset_frame is None
        stains = int(rng.integers(2, 7) + (2 if negative else 0))
        old_blood = rng.random() < (0.5 if negative else 0.3)
        self.texture: MucosaTexture = render_mucosa(rng, style, tw, th, px, stains, old_blood)
        T = plan.num_frames
        self.homographies = camera_trajectory(
            rng, T, (w, h), (tw, th), self.texture.bed_center,
            'camera_jitter' in plan.scenarios, px)
        self.lens, self.inside, self.cap = lens_map(rng, w, h)
        # colour grading is applied once to the texture and the blood colours
        self.lut = color_lut(rng)
        self.texture.image = cv2.LUT(self.texture.image, self.lut)
        self.noise = [np.clip(128 + rng.normal(0, 1.5, (h, w, 3)), 0, 255).astype(np.uint8)
                      for _ in range(3)]

        # scenario events
        self.instruments: List[Instrument] = []
        self.flushes: List[FlushEvent] = []
        self.glare: Optional[Glare] = None
        self.haze: Optional[Haze] = None
        onset = plan.onset_frame
        # rounds of flushing/instrument events: one per clip, or one per
        # preset.event_rate_frames frames of a long stream
        rounds = 1 if not preset.event_rate_frames else max(1, T // preset.event_rate_frames)
        if 'obscure_view' in plan.scenarios:
            self.haze = Haze.sample(rng, T, w, h)
        if 'light_reflection' in plan.scenarios:
            self.glare = Glare.sample(rng, T, w, h, px)
        if 'water_flushing' in plan.scenarios:
            for _ in range(sum(int(rng.integers(1, 4)) for _ in range(rounds))):
                duration = int(rng.integers(15, 41))
                start = int(rng.integers(0, max(1, T - 10)))
                if onset is not None and start < onset + ONSET_GUARD[1] and \
                        start + duration > onset - ONSET_GUARD[0]:
                    continue  # keep the onset itself unflushed
                target = rng.uniform([0.25 * w, 0.25 * h], [0.75 * w, 0.75 * h])
                self.flushes.append(FlushEvent.sample(rng, start, min(T, start + duration),
                                                      target, w, h, px))

        # sources: frame position at the onset inside the central region, preferring the
        # dissection bed and avoiding distractors
        if not negative:
            starts = [onset] + ([plan.second_onset] if plan.second_onset is not None else [])
            first_pos = None
            for k, start in enumerate(starts):
                pos = self._place_source(rng, start, first_pos)
                first_pos = pos if first_pos is None else first_pos
                source = BleedingSource.sample(rng, k, pos, start, px, min_onset_radius)
                if rng.random() < 0.3 and T - start > 40:
                    c0 = int(rng.integers(start + 20, T - 15))
                    source.covers.append((c0, c0 + int(rng.integers(15, 51)),
                                          source.r0 * rng.uniform(3.0, 5.0)))
                plan.sources.append(source)
            self.cover_threshold = cover_threshold
        if 'instrument_interference' in plan.scenarios:
            for _ in range(sum(int(rng.integers(1, 3)) for _ in range(rounds))):
                start = int(rng.integers(0, max(1, T - 30)))
                end = min(T, start + int(rng.integers(40, 121)))
                target = rng.uniform([0.3 * w, 0.3 * h], [0.7 * w, 0.7 * h])
                for _attempt in range(6):
                    tool = Instrument.sample(rng, start, end, target, w, h, px)
                    if not self._hides_onset(tool):
                        self.instruments.append(tool)
                        break
        self.roi = self._blood_roi()
        if self.roi is not None:
            x0, y0, x1, y1 = self.roi
            shape = (y1 - y0, x1 - x0)
            # tissue-fixed roughness: makes the blood's edge organic where it crosses 0.5
            cells = max(4, int(max(shape) / (10 * px)))
            self.edge_noise = fractal_noise(rng, shape[0], shape[1], (cells // 4, cells // 2,
                                                                      cells), 0.7) * 0.22
            var = 1.0 + 0.1 * fractal_noise(rng, shape[0], shape[1], (6, 12, 24))[..., None]
            # the tissue's relief shows through the blood film
            lum = self.texture.image[y0:y1, x0:x1].astype(np.float32).mean(2, keepdims=True)
            var = var * (0.75 + 0.5 * lum / max(float(lum.mean()), 1.0)).clip(0.6, 1.3)
            self.fresh = cv2.LUT(np.clip(np.asarray(FRESH_BLOOD, np.float32) * var, 0,
                                         255).astype(np.uint8), self.lut)
            self.dark = cv2.LUT(np.clip(np.asarray(DARK_BLOOD, np.float32) * var, 0,
                                        255).astype(np.uint8), self.lut)
        self.tau = self._blood_age()
        self.work = self.texture.image.copy()
        self.glare_overlay = None if self.glare is None else self.glare.overlay(h, w)

    # planning helpers -------------------------------------------------------------
    def _place_source(self, rng, start: int, near: Optional[np.ndarray]) -> np.ndarray:
        w, h = self.plan.width, self.plan.height
        inv = np.linalg.inv(self.homographies[start])
        th, tw = self.texture.distractor_mask.shape
        best, best_score = None, -np.inf
        for _ in range(24):
            if near is None:
                fp = np.array([w / 2, h / 2]) + rng.uniform(-1, 1, 2) * [0.3 * w, 0.3 * h]
                tp = project_points(inv, fp[None])[0]
            else:
                ang = rng.uniform(0, 2 * np.pi)
                tp = near + rng.uniform(40, 160) * self.px * np.array([np.cos(ang), np.sin(ang)])
                fp = project_points(self.homographies[start], tp[None])[0]
            x, y = int(round(tp[0])), int(round(tp[1]))
            if not (0 <= x < tw and 0 <= y < th):
                continue
            if not (0.15 * w < fp[0] < 0.85 * w and 0.15 * h < fp[1] < 0.85 * h):
                continue
            c, (a, b) = self.texture.bed_center, self.texture.bed_axes
            bed_d = np.hypot((tp[0] - c[0]) / a, (tp[1] - c[1]) / b)
            score = -abs(bed_d - 0.8) - 3.0 * (self.texture.distractor_mask[y, x] > 0) + \
                rng.uniform(0, 0.6)
            if score > best_score:
                best, best_score = tp, score
        if best is None:  # fall back to the frame centre at the onset
            best = project_points(inv, np.array([[w / 2, h / 2]]))[0]
        return best

    def _hides_onset(self, tool: Instrument) -> bool:
        for source in self.plan.sources:
            for t in range(source.onset_frame - 2, source.onset_frame + 4):
                if 0 <= t < self.plan.num_frames:
                    p = project_points(self.homographies[t], source.position[None])
                    if tool.occludes(t, p)[0]:
                        return True
        return False

    def _blood_roi(self):
        if not self.plan.sources:
            return None
        th, tw = self.texture.distractor_mask.shape
        canvas = np.zeros((th, tw), np.uint8)
        thick = np.zeros_like(canvas)
        T = self.plan.num_frames
        for source in self.plan.sources:
            for tau in (T - source.onset_frame, (T - source.onset_frame) // 2):
                source.draw(canvas, thick, np.zeros(2), float(tau), 0)
                cv2.circle(canvas, tuple(int(v) for v in source.position),
                           int(source.r0 * 6 + 4), 255, -1)
        ys, xs = np.nonzero(canvas)
        pad = int(8 * self.px) + 6
        return (max(0, xs.min() - pad), max(0, ys.min() - pad), min(tw, xs.max() + pad + 1),
                min(th, ys.max() + pad + 1))

    def _blood_age(self) -> Dict[int, np.ndarray]:
        """Per source: (2, T) age of the blood and of the washed-off residue per frame.

        Ages are -1 where there is none. A flush that ends after the onset washes
        the blood away: the age restarts at 0 and the old blood stays as a faint
        residue of its last age.
        """
        T = self.plan.num_frames
        flush_ends = {f.end - 1 for f in self.flushes}
        ages = {}
        for source in self.plan.sources:
            tau = np.full((2, T), -1.0)
            age, residue = 0.0, -1.0
            for t in range(source.onset_frame, T):
                tau[:, t] = (age, residue)
                age += 1.0
                if t in flush_ends and t > source.onset_frame:
                    age, residue = 0.0, max(residue, age)
            ages[source.group_id] = tau
        return ages

    # rendering ------------------------------------------------------------------------
    def _composite_blood(self, t: int) -> np.ndarray:
        tex = self.texture.image
        active = [s for s in self.plan.sources if self.tau[s.group_id][0, t] >= 0]
        if not active:
            return tex
        x0, y0, x1, y1 = self.roi
        alpha = np.zeros((y1 - y0, x1 - x0), np.uint8)
        thick = np.zeros_like(alpha)
        origin = np.array([x0, y0], np.float64)
        wash = max([f.strength(t) for f in self.flushes] + [0.0])
        for source in active:
            tau, residue = self.tau[source.group_id][:, t]
            if residue > 0:
                source.draw(alpha, thick, origin, residue, t, opacity=0.3)
            source.draw(alpha, thick, origin, tau, t,
                        opacity=1.0 - 0.6 * wash)
        sigma = 3.0 * self.px + 0.4
        a = cv2.GaussianBlur(alpha, (0, 0), sigma).astype(np.float32) * (1.0 / 255.0)
        # re-sharpen the merged blobs around a noisy level: organic, irregular edges
        # (noise fades out where there is no blood, so no speckles appear away from it)
        a = np.clip((a - 0.5 + self.edge_noise * np.minimum(a * 2.5, 1.0)) * 3.0 + 0.5, 0.0,
                    1.0)
        k = cv2.GaussianBlur(thick, (0, 0), 2 * sigma).astype(np.float32) / 255.0
        a *= PULSE_BLOOD_OPACITY * (0.72 + 0.28 * np.sqrt(k))  # thin films are translucent
        color = cv2.blendLinear(self.fresh, self.dark, 1.0 - k, k)
        # only the blood ROI of the working copy changes from frame to frame
        self.work[y0:y1, x0:x1] = cv2.blendLinear(tex[y0:y1, x0:x1], color, 1.0 - a, a)
        return self.work

    def source_state(self, t: int) -> List[tuple]:
        """Ground truth at frame ``t``: per source ``(group_id, point | None, visible)``."""
        states = []
        H = self.homographies[t]
        w, h = self.plan.width, self.plan.height
        for source in self.plan.sources:
            if t < source.onset_frame:
                states.append((source.group_id, None, False))
                continue
            p = project_points(H, source.position[None])[0]
            x, y = float(np.clip(p[0], 0, w)), float(np.clip(p[1], 0, h))
            xi, yi = int(min(w - 1, x)), int(min(h - 1, y))
            visible = bool(0 <= p[0] <= w and 0 <= p[1] <= h and self.inside[yi, xi])
            pts = np.array([[x, y]])
            if visible and any(tool.occludes(t, pts)[0] for tool in self.instruments):
                visible = False
            if visible and any(f.coverage(t, pts)[0] > self.flush_hide for f in self.flushes):
                visible = False
            if visible and self.glare is not None and self.glare.occludes(t, pts)[0]:
                visible = False
            if visible and source.covered(t, self.cover_threshold * source.r0):
                visible = False
            states.append((source.group_id, (x, y), visible))
        return states

    def render(self, t: int) -> np.ndarray:
        """Frame ``t`` as (H, W, 3) uint8 RGB."""
        w, h = self.plan.width, self.plan.height
        H = self.homographies[t]
        tex = self._composite_blood(t)
        frame = cv2.warpPerspective(tex, H, (w, h), flags=cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REFLECT_101)
        for source in self.plan.sources:  # wet highlights on fresh blood
            tau = self.tau[source.group_id][0, t]
            if tau >= 2:
                pts = project_points(H, source.glint_points(tau))
                for k, (x, y) in enumerate(pts):
                    axes = (max(1, int(round((2.5 + 1.5 * (k % 3)) * self.px))),
                            max(1, int(round(0.9 * self.px))))
                    cv2.ellipse(frame, (int(x), int(y)), axes, float(37 * k % 180), 0, 360,
                                (250, 232, 232), -1, cv2.LINE_AA)
        if self.haze is not None:
            self.haze.draw(frame, t)
        for flush in self.flushes:
            flush.draw(frame, t)
        for tool in self.instruments:
            tool.draw(frame, t)
        if self.glare is not None:
            self.glare.draw(frame, t, self.glare_overlay)
        if t > 0 and 'camera_jitter' in self.plan.scenarios:
            centre = np.array([[w / 2, h / 2]])
            inv = np.linalg.inv(H)
            c_tex = project_points(inv, centre)
            speed = np.linalg.norm(project_points(self.homographies[t - 1], c_tex) - centre)
            k = int(speed * 0.6)
            if k >= 2:
                frame = cv2.blur(frame, (k + 1, k + 1))
        frame = cv2.multiply(frame, self.lens, scale=1.0 / 255.0)
        if self.cap is not None:
            frame = cv2.add(frame, self.cap)
        frame = cv2.addWeighted(frame, 1.0, self.noise[t % 3], 1.0, -128.0)
        return frame

    def events(self) -> Dict[str, List[List[int]]]:
        """Frame intervals ``[start, end)`` of the scenario events (for clip.json)."""
        events = {}
        if self.flushes:
            events['water_flushing'] = [[f.start, f.end] for f in self.flushes]
        if self.instruments:
            events['instrument_interference'] = [[i.start, i.end] for i in self.instruments]
        covers = [[c[0], min(c[1], self.plan.num_frames)] for s in self.plan.sources
                  for c in s.covers]
        if covers:
            events['source_covered'] = covers
        return events

    def frames(self) -> Iterator[np.ndarray]:
        for t in range(self.plan.num_frames):
            yield self.render(t)
