"""Built-in synthetic ESD benchmark (the default dataset of the configs).

There is no public BleedOrigin-Bench, so the package renders its own
benchmark in the on-disk format of ``DATA_FORMAT.md``.
:func:`generate_benchmark` writes a tree; :func:`ensure_synthetic` generates
it on first use and recognises a complete tree by its ``.complete`` marker.

Clip design
-----------
- Every clip is one continuous stream at 780 x 670 px, 30 fps (``tiny``:
  260 x 224; all renderer sizes are defined at 780 px width and scaled).
- Patients are split 4:1:1 (``default``: 36 patients = 24/6/6); each patient
  has one of the 8 sites (palette, folds, vessels, granularity, gloss per site).
- Roles per clip (shuffled, fractions from the preset): ``negative`` (~15 %,
  ``onset_frame`` null, distractors and motion but no bleeding), ``positive``
  (one source), ``two_source`` (a second source, ``group_id`` 1, starts 5-45
  frames after the first) and ``long`` (extended for tracking).
- Positives: ``onset_frame`` uniform in ``onset_range`` (30..130 of the first
  150 frames, so a constant-position prior does not win). Detection clips have
  150 frames; ``long`` clips continue to ``onset + post`` with ``post`` in
  61..301 (skewed to shorter tracks, 10 % reach 301), so ``num_frames`` is
  150..~431.
- The onset is well defined: no blood from the source before
  ``onset_frame``; at ``onset_frame`` a fresh drop of radius >= 6 px (at 780 px)
  appears at the source, spreads into a puddle, streams "downhill" along a
  wandering direction within 10-40 frames and pools; spurting sources pulse.
  Pools cover the source at times; water flushing washes blood away and the
  source re-emits. No flush, instrument or glare hides the source at the onset.
- The source is a point of the tissue texture: it moves with the camera
  (drift, breathing, roll, zoom, perspective tilt, shake in ``camera_jitter``).
- Scenarios (``clip.json`` ``scenarios``, 1-2 per clip, 30 % ``clear_view``):
  ``obscure_view`` (drifting fog, defocus), ``camera_jitter`` (shake and motion
  blur), ``light_reflection`` (camera-fixed glare, flicker, flashes),
  ``water_flushing`` (jet, turbulent bright water, sparkles; washes blood),
  ``instrument_interference`` (striped sheath or metal forceps entering,
  hovering, retracting). Red distractors in every clip: old dark stains,
  coagulation marks, reddish hyperaemic tissue, sometimes old clotted blood.
- Annotations (LabelMe) at ``onset_frame`` and every ``annotation_stride``
  (30) frames after it; a frame whose source is hidden (pool, instrument,
  water, glare, outside the field of view) gets a file without a
  ``bleeding_source`` shape. ``dense_gt.json`` has every frame's exact point,
  visibility and bleeding flag. ``clip.json`` also carries ``generator``
  (preset, seed, version) and ``events`` (frame intervals of flushes,
  instruments and covered sources), extra keys that readers may ignore.

Rendering is vectorised numpy/OpenCV: one large texture per clip warped per
frame with ``cv2.warpPerspective``; blood is drawn in texture space inside
its bounding box and alpha-blended each frame.
"""
from .generator import ensure_synthetic, generate_benchmark
from .presets import PRESETS, SyntheticPreset, get_preset

__all__ = ['ensure_synthetic', 'generate_benchmark', 'PRESETS', 'SyntheticPreset', 'get_preset']
