"""Coarse-to-fine stage: sub-pixel refinement, occlusion handling, anchor re-detection."""
import copy

import cv2
import numpy as np
import pytest
import torch

from bleedorigin.models.trackers.flow_refiner import (
    AnchoredFlowRefiner,
    apply_affine,
    compose_affine,
    disc_offsets,
    fit_similarity,
)
from bleedorigin.registry import MODELS
from bleedorigin.utils import register_all_modules

register_all_modules()

SIZE = (256, 192)  # frames here are already at the working size (scale 1)


def texture(seed=0, size=(400, 320)):
    """Smooth random RGB texture (corner-rich at every LK pyramid level)."""
    rng = np.random.default_rng(seed)
    w, h = size
    layers = [cv2.resize(rng.random((h // s, w // s, 3)).astype(np.float32), (w, h),
                         interpolation=cv2.INTER_CUBIC) for s in (4, 8, 16)]
    img = sum(layers) / len(layers)
    return np.clip(255 * (img - img.min()) / (img.max() - img.min()), 0, 255).astype(np.uint8)


def view(tex, dx, dy, size=SIZE):
    """Crop of ``tex`` whose content is shifted by (dx, dy) (sub-pixel, bilinear)."""
    m = np.float32([[1, 0, dx - 60], [0, 1, dy - 60]])
    return cv2.warpAffine(tex, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def refiner(**kw):
    cfg = dict(work_size=SIZE, radius=16, grid_step=4, anchor_radius=24, anchor_grid_step=6)
    cfg.update(kw)
    return AnchoredFlowRefiner(**cfg)


def test_geometry_helpers():
    off = disc_offsets(8, 4)
    assert tuple(off[0]) == (0, 0) and (np.linalg.norm(off, axis=1) <= 8).all()
    m = np.array([[0.0, -1, 5], [1, 0, 2]])
    pts = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(apply_affine(m, pts), [[5, 3], [3, 2]])
    np.testing.assert_allclose(compose_affine(m, m)[:, :2], [[-1, 0], [0, -1]])
    src = np.random.default_rng(0).random((20, 2)) * 50
    dst = src * 1.1 + [3, -2]
    fit, count = fit_similarity(src, dst, 0.5, 6)
    assert count == 20
    np.testing.assert_allclose(fit, [[1.1, 0, 3], [0, 1.1, -2]], atol=1e-4)
    assert fit_similarity(src[:3], dst[:3], 0.5, 6) == (None, 0)


def test_refinement_recovers_a_known_subpixel_shift():
    tex = texture()
    ref = refiner()
    start = np.array([[120.0, 90.0], [60.3, 140.7]])
    ref.init(view(tex, 0, 0), start)
    points, reliability = ref.step(view(tex, 3.4, -2.7))
    np.testing.assert_allclose(points, start + [3.4, -2.7], atol=0.15)
    assert (reliability == 1.0).all()  # the anchor held


def test_original_pixels_are_scaled_to_the_working_size():
    tex = texture(1)
    ref = refiner(work_size=(128, 96))
    frame0, frame1 = view(tex, 0, 0), view(tex, 4.0, 2.0)  # 256x192 "original" frames
    ref.init(frame0, [[100.0, 100.0]])
    points, _ = ref.step(frame1)
    np.testing.assert_allclose(points[0], [104.0, 102.0], atol=0.4)


def test_occlusion_holds_then_anchor_redetects():
    """A grey occluder hides the whole neighbourhood for 5 frames while the view keeps
    moving; the point is held (reliability 0), then re-detected by the anchor."""
    tex = texture(2)
    ref = refiner()
    start = np.array([[128.0, 96.0]])
    ref.init(view(tex, 0, 0), start)
    for t in range(1, 16):
        frame = view(tex, 0.8 * t, 0.5 * t)
        occluded = 5 <= t < 10
        if occluded:
            frame = frame.copy()
            cv2.circle(frame, (int(128 + 0.8 * t), int(96 + 0.5 * t)), 45, (90, 90, 90), -1)
        points, reliability = ref.step(frame)
        if occluded:
            assert reliability[0] == 0.0
        elif t >= 11:
            assert reliability[0] == 1.0
            np.testing.assert_allclose(points[0], start[0] + [0.8 * t, 0.5 * t], atol=0.3)


def test_partial_occluder_is_rejected():
    """An instrument-like bar over part of the neighbourhood, moving against the tissue."""
    tex = texture(3)
    ref = refiner(radius=24, anchor_radius=40, anchor_grid_step=8)  # the default sizes
    start = np.array([[128.0, 96.0]])
    ref.init(view(tex, 0, 0), start)
    for t in range(1, 14):
        frame = view(tex, 1.0 * t, 0.0).copy()
        x = int(160 - 3 * t)  # crosses the point around t = 8
        cv2.rectangle(frame, (x, 40), (x + 8, 160), (200, 200, 210), -1)
        points, _ = ref.step(frame)
        np.testing.assert_allclose(points[0], start[0] + [1.0 * t, 0.0], atol=0.5)


def test_bad_input_is_rejected():
    ref = refiner()
    with pytest.raises(RuntimeError, match='init'):
        ref.step(np.zeros((192, 256, 3), np.uint8))
    with pytest.raises(ValueError, match='finite'):
        ref.init(np.zeros((192, 256, 3), np.uint8), [[np.nan, 1.0]])
    ref.init(np.zeros((192, 256, 3), np.uint8), [[10.0, 10.0]])
    with pytest.raises(ValueError, match='frame size changed'):
        ref.step(np.zeros((100, 256, 3), np.uint8))
    with pytest.raises(ValueError, match='HxWx3'):
        ref.step(np.zeros((192, 256), np.uint8))
    # a flat (textureless) frame: nothing to track, the point is held, never NaN
    points, reliability = ref.step(np.zeros((192, 256, 3), np.uint8))
    assert np.isfinite(points).all() and reliability[0] == 0.0


def tiny_coarse_to_fine(**overrides):
    cfg = dict(type='BleedTrackOn', teacher_forcing=0.0,
               encoder=dict(type='TrackEncoder', stem_channels=8, embed_dims=16),
               red_mask=dict(type='RedMask'), embed_dims=16, red_dims=4, num_heads=2,
               num_layers=1, window_radius=2, spatial_memory_size=3, context_memory_size=4,
               refresh_interval=0, input_size=(64, 48),
               refiner=dict(type='AnchoredFlowRefiner', work_size=SIZE, radius=16,
                            grid_step=4, anchor_radius=24, anchor_grid_step=6))
    cfg.update(overrides)
    return MODELS.build(cfg).eval()


def test_flow_prior_centres_the_network_window_and_network_takes_over_when_lost():
    torch.manual_seed(0)
    model = tiny_coarse_to_fine(fallback_confidence=-1.0)  # always confident enough
    seen = []
    original = model._track_step

    def spy(feat4, feat8, query_init, prev_points, spatial, context):
        seen.append(prev_points.clone())
        return original(feat4, feat8, query_init, prev_points, spatial, context)

    model._track_step = spy
    tex = texture(4)
    model.init(view(tex, 0, 0), [[128.0, 96.0]])
    points, _, confidence = model.step(view(tex, 2.0, 1.0))
    # the window was centred on the refined proposal (network input px: x 1/4 scale)
    np.testing.assert_allclose(seen[-1][0, 0].numpy(), [130.0 / 4, 97.0 / 4], atol=0.1)
    np.testing.assert_allclose(points[0], [130.0, 97.0], atol=0.2)  # flow prior kept
    assert confidence[0] == pytest.approx(1.0)
    # occlusion: the refiner loses the point, the network's point is used and the
    # refiner is moved there
    frame = view(tex, 4.0, 2.0).copy()
    cv2.circle(frame, (132, 98), 60, (90, 90, 90), -1)
    points, _, _ = model.step(frame)
    network_point = model.stream_state.points[0].numpy() * 4
    np.testing.assert_allclose(points[0], network_point, atol=1e-3)
    # the refiner of this stream (the model's own refiner keeps no stream)
    np.testing.assert_allclose(model.stream_state.refiner.original_points()[0], points[0],
                               atol=1e-3)
    assert len(model.refiner) == 0


def test_without_fallback_the_refiner_holds_the_point():
    model = tiny_coarse_to_fine(network_fallback=False)
    tex = texture(5)
    model.init(view(tex, 0, 0), [[128.0, 96.0]])
    frame = view(tex, 2.0, 1.0).copy()
    cv2.circle(frame, (130, 97), 60, (90, 90, 90), -1)
    points, _, _ = model.step(frame)
    np.testing.assert_allclose(points[0], [128.0, 96.0], atol=1e-4)


def test_predict_is_the_online_loop_in_original_pixels():
    model = tiny_coarse_to_fine()
    tex = texture(6)
    frames = np.stack([view(tex, 1.5 * t, 0.0) for t in range(5)])
    scale = (0.5, 0.5)  # dataset frames at half the original size
    sample = dict(query_points=np.array([[128.0, 96.0]], np.float32), scale=scale)
    inputs = torch.from_numpy(frames).permute(0, 3, 1, 2)[None]
    out = model(inputs, [sample], mode='predict')[0]
    assert out['pred_points'].shape == (5, 1, 2)
    expected = (np.array([128.0, 96.0]) + [1.5 * 4, 0.0]) / 0.5
    np.testing.assert_allclose(out['pred_points'][-1, 0], expected, atol=0.5)
    assert model.stream_state is None  # the stream was reset after the clip


def test_keyframe_update_follows_a_changing_appearance_with_bounded_state():
    """Blood-like red growing over the neighbourhood: the first anchor loses support,
    the current frame becomes the anchor, tracking stays on the tissue and the
    number of stored anchor frames stays bounded."""
    tex = texture(7)
    ref = refiner(radius=24, anchor_radius=40, anchor_grid_step=8, anchor_min_inliers=20,
                  rekey_fraction=0.5)
    start = np.array([[128.0, 96.0], [60.0, 60.0]])
    ref.init(view(tex, 0, 0), start)
    first_anchor = ref.anchor_ids.copy()
    for t in range(1, 40):
        frame = view(tex, 0.5 * t, 0.25 * t).astype(np.float32)
        # a stain spreading from the first point darkens and reddens the texture under it
        yy, xx = np.mgrid[:192, :256]
        stain = np.clip(1.0 - np.hypot(xx - 128 - 0.5 * t, yy - 96 - 0.25 * t) / (1 + t), 0, 1)
        frame = frame * (1 - 0.6 * stain[..., None]) + 0.6 * stain[..., None] * [150, 20, 20]
        points, _ = ref.step(frame.astype(np.uint8))
        assert len(ref.anchor_frames) <= len(start) + 1
    assert ref.anchor_ids[0] != first_anchor[0]  # re-keyed at least once
    np.testing.assert_allclose(points, start + [0.5 * 39, 0.25 * 39], atol=1.0)


def test_pseudo_label_tracking_uses_the_online_coarse_to_fine_loop():
    from bleedorigin.pseudo_labels.pipeline import track_points
    model = tiny_coarse_to_fine()
    tex = texture(8)
    frames = np.stack([view(tex, 1.0 * t, -0.5 * t) for t in range(6)])
    points = np.array([[100.0, 90.0], [150.0, 100.0]], np.float32)
    out = track_points(model, frames, points, refine=True)
    assert out.shape == (6, 2, 2)
    np.testing.assert_allclose(out[-1], points + [5.0, -2.5], atol=0.3)
    assert model.stream_state is None


def test_bad_tracking_input_gets_a_clear_error_or_visibility_zero():
    model = tiny_coarse_to_fine()
    tex = texture(9)
    frame = view(tex, 0, 0)
    with pytest.raises(ValueError, match='finite'):
        model.init(frame, [[np.nan, 10.0]])
    model.init(frame, [[128.0, 96.0], [300.0, -20.0]])  # the second point is off the frame
    points, visibility, _ = model.step(view(tex, 1.0, 0.0))
    assert np.isfinite(points).all() and not visibility[1]
    with pytest.raises(ValueError, match='frame size changed'):
        model.step(np.zeros((100, 100, 3), np.uint8))
    empty = torch.zeros((0, 3, 192, 256), dtype=torch.uint8)
    with pytest.raises(ValueError, match='zero-length clip'):
        model([empty], [dict(query_points=np.zeros((1, 2), np.float32), clip_id='c0')],
              mode='predict')


def test_refiner_thread_gives_the_points_of_the_serial_step():
    """The refiner's step runs beside the feature extraction (refiner_thread): same
    points, visibility and confidence as one after the other, frame by frame, also
    where the refiner loses the point and the network corrects it."""
    torch.manual_seed(0)
    threaded = tiny_coarse_to_fine(fallback_confidence=-1.0)
    serial = copy.deepcopy(threaded)
    serial.refiner_thread = False
    assert threaded.refiner_thread
    tex = texture(8)
    frames = [view(tex, 1.5 * t, 0.5 * t) for t in range(6)]
    occluded = frames[4].copy()
    cv2.circle(occluded, (134, 98), 60, (90, 90, 90), -1)
    frames[4] = occluded
    outputs = []
    for model in (threaded, serial):
        model.init(frames[0], [[128.0, 96.0], [90.0, 60.0]])
        outputs.append([model.step(f) for f in frames[1:]])
    for got, want in zip(*outputs):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


def test_refiner_thread_auto_follows_the_detectors_rule(monkeypatch):
    """'auto' runs the refiner in the side worker only when torch leaves a core free (the
    detector's stream_thread rule); any other setting than True, False, 'auto' is refused."""
    import bleedorigin.models.trackers.bleed_track_on as track_mod
    import bleedorigin.utils.side_thread as side

    submitted = []

    class Recording:
        def submit(self, fn, *args):
            submitted.append(fn)
            return side.side_pool().submit(fn, *args)

    monkeypatch.setattr(track_mod, 'side_pool', lambda: Recording())
    tex = texture(10)
    frames = [view(tex, 1.0 * t, 0.5 * t) for t in range(3)]
    for cores, expect in ((torch.get_num_threads() + 1, 2), (torch.get_num_threads(), 0)):
        monkeypatch.setattr(side, 'available_cores', lambda cores=cores: cores)
        submitted.clear()
        torch.manual_seed(0)
        model = tiny_coarse_to_fine(refiner_thread='auto')
        model.init(frames[0], [[128.0, 96.0]])
        for f in frames[1:]:
            model.step(f)
        assert len(submitted) == expect, cores
    with pytest.raises(ValueError, match="side thread setting must be True, False or 'auto'"):
        tiny_coarse_to_fine(refiner_thread='yes')


def test_a_failing_refiner_step_in_the_thread_raises_in_the_caller():
    model = tiny_coarse_to_fine()
    tex = texture(9)
    model.init(view(tex, 0, 0), [[128.0, 96.0]])

    def broken(frame):
        raise RuntimeError('refiner exploded')

    model.stream_state.refiner.step = broken
    with pytest.raises(RuntimeError, match='refiner exploded'):
        model.step(view(tex, 1.0, 0.0))
