"""One preprocessing path of the onset branch: dataset (tools/test.py) == streaming
(tools/benchmark.py, BleedOriginNet, demo), and a pooled Red-Mask that sees a first drop."""
import numpy as np
import pytest
import torch
from detect_tree import make_detect_tree
from tiny_models import ONSET_SIZE, WINDOW
from tiny_models import tiny_detector as build_tiny_detector

import bleedorigin  # noqa: F401
from bleedorigin.apis import StreamDetector
from bleedorigin.datasets import BleedOnsetDataset
from bleedorigin.datasets.bench import BenchIndex
from bleedorigin.models.utils import onset_frame_input, red_mask, turn_hue
from bleedorigin.models.utils.onset_input import cell_max
from bleedorigin.registry import TRANSFORMS

TEST_PIPELINE = [dict(type='LoadOnsetClip'), dict(type='MultiDomainInputs'),
                 dict(type='PackOnsetInputs')]


def tiny_detector(red_pool, warmup=False):
    return build_tiny_detector(mdcfm_in_channels=7, mdg_in_channels=(4, 3, 2), red_domain=True,
                               state_loss_weight=1.0, state_run=2, onset_red_pool=red_pool,
                               warmup_windows=warmup)


def test_onset_frame_input_sees_a_first_drop():
    frame = np.full((96, 128, 3), (190, 120, 110), np.uint8)  # pink mucosa
    frame[50:52, 70:72] = (180, 10, 10)  # a 2 x 2 px drop of fresh blood
    out = onset_frame_input(frame, ONSET_SIZE, red_pool=4)
    assert out.shape == (24, 32, 4) and out.dtype == np.uint8
    # the drop's cell (4 x 4 px of the frame per cell here) holds the drop's Red-Mask
    cell_y, cell_x = 50 * 24 // 96, 70 * 32 // 128
    expected = red_mask(np.array([[[180, 10, 10]]], np.uint8))[0, 0]
    assert abs(out[cell_y, cell_x, 3] / 255.0 - expected) < 0.02
    mucosa = red_mask(np.array([[[190, 120, 110]]], np.uint8))[0, 0]
    assert (np.abs(out[..., 3] / 255.0 - mucosa) > 0.02).sum() == 1
    # an area resize to the grid dilutes it to a quarter of the cell
    area = onset_frame_input(frame, ONSET_SIZE, red_pool=1)
    assert area.shape == (24, 32, 3)
    assert red_mask(area)[cell_y, cell_x] - mucosa < 0.5 * (expected - mucosa)
    np.testing.assert_allclose(out[..., :3].astype(int), area.astype(int), atol=1)
    with pytest.raises(ValueError, match='uint8'):
        onset_frame_input(frame.astype(np.float32), ONSET_SIZE)


def test_cell_max_is_the_max_of_every_cell():
    values = np.zeros((8, 12), np.float32)
    values[5, 7] = 0.9  # cell (1, 1) of 4 x 4 cells
    values[0, 0] = 0.2  # cell (0, 0)
    values[3, 11] = -0.5  # negative values stay below the cell's zeros
    np.testing.assert_array_equal(cell_max(values, 4),
                                  np.array([[0.2, 0, 0], [0, 0.9, 0]], np.float32))
    rng = np.random.default_rng(0)
    values = rng.random((48, 64)).astype(np.float32)
    np.testing.assert_array_equal(cell_max(values, 4),
                                  values.reshape(12, 4, 16, 4).max(axis=(1, 3)))
    with pytest.raises(ValueError, match='not a whole number of 4x4 cells'):
        cell_max(values[:47], 4)


def test_color_jitter_scales_the_pooled_red_mask_like_rgb():
    import random

    rng = np.random.default_rng(0)
    # uniform 4 x 4 px cells: the pooled Red-Mask of a cell is that of its colour
    cells = rng.integers(70, 190, (3, 24, 32, 3), dtype=np.uint8)
    cells[..., 0] = np.maximum(cells[..., 0], 150)
    frames = np.kron(cells, np.ones((1, 4, 4, 1), np.uint8))
    inputs = np.stack([onset_frame_input(f, ONSET_SIZE) for f in frames])
    jitter = TRANSFORMS.build(dict(type='SequenceColorJitter', hue=0.0, prob=1.0,
                                   brightness=0.1, contrast=0.2, saturation=0.2))
    random.seed(3)
    out = jitter(dict(frames=inputs.copy()))['frames']
    assert out.shape == inputs.shape and not np.array_equal(out, inputs)
    # the jittered red channel is the Red-Mask of the jittered colours
    np.testing.assert_allclose(out[..., 3] / 255.0, red_mask(out[..., :3]), atol=3 / 255)


def test_red_colour_is_the_colour_of_each_cells_red_max():
    frame = np.full((8, 8, 3), (190, 120, 110), np.uint8)  # 2 x 2 cells of 4 x 4 px
    frame[1, 2] = (180, 10, 10)   # cell (0, 0): fresh blood
    frame[2, 3] = (150, 60, 60)   # cell (0, 0): paler red, not the max
    frame[6, 5] = (120, 10, 20)   # cell (1, 1): dark blood
    out = onset_frame_input(frame, (2, 2), red_pool=4, red_colour=True)
    assert out.shape == (2, 2, 7) and out.dtype == np.uint8
    np.testing.assert_array_equal(out[..., :4], onset_frame_input(frame, (2, 2), red_pool=4))
    assert tuple(out[0, 0, 4:]) == (180, 10, 10)
    assert tuple(out[1, 1, 4:]) == (120, 10, 20)
    assert tuple(out[0, 1, 4:]) == (190, 120, 110)  # mucosa only
    # the Red-Mask channel is the Red-Mask of that colour
    np.testing.assert_array_equal(out[..., 3], np.rint(red_mask(out[..., 4:]) * 255))
    with pytest.raises(ValueError, match='red_colour needs red_pool > 1'):
        onset_frame_input(frame, (2, 2), red_pool=1, red_colour=True)


@pytest.mark.parametrize('hue', [-16.0, 20.0])
def test_color_jitter_turns_the_red_mask_with_the_red_colour(hue):
    rng = np.random.default_rng(1)
    # uniform 4 x 4 px cells: turning the frame turns every cell's colour exactly
    cells = rng.integers(40, 200, (2, 24, 32, 3), dtype=np.uint8)
    cells[..., 0] = np.maximum(cells[..., 0], 120)
    frames = np.kron(cells, np.ones((1, 4, 4, 1), np.uint8))
    cached = np.stack([onset_frame_input(f, ONSET_SIZE, red_colour=True) for f in frames])
    jitter = TRANSFORMS.build(dict(type='SequenceColorJitter', hue=abs(hue), prob=1.0))
    out = jitter._apply(cached, 1.0, 1.0, 1.0, hue)
    steps = int(round(hue / 2))
    turned = np.stack([onset_frame_input(turn_hue(f, steps), ONSET_SIZE) for f in frames])
    # within one grey level: OpenCV's HSV round trip rounds a few pixels of a 32-px row
    # and of a 128-px row differently
    np.testing.assert_allclose(out[..., :4].astype(int), turned.astype(int), atol=1)
    # the channel left as rendered is far from the turned video's (what 4 channels get)
    assert np.abs(cached[..., 3].astype(int) - turned[..., 3]).mean() > 5
    old = jitter._apply(cached[..., :4], 1.0, 1.0, 1.0, hue)
    np.testing.assert_array_equal(old[..., 3], cached[..., 3])
    # brightness, contrast and saturation: the colours change like the frame
    out = jitter._apply(cached, 1.1, 0.8, 1.2, 0.0)
    np.testing.assert_allclose(out[..., 3] / 255.0, red_mask(out[..., :3]), atol=2 / 255)


def test_color_jitter_rounds_only_when_asked():
    image = np.empty((1, 4, 4, 3), np.uint8)
    image[...] = (110, 100, 90)  # mean and grey 100: saturation x1.06 gives 110.6 and 89.4
    truncating = TRANSFORMS.build(dict(type='SequenceColorJitter'))
    rounding = TRANSFORMS.build(dict(type='SequenceColorJitter', rounding=True))
    assert tuple(truncating._apply(image, 1.0, 1.0, 1.06, 0.0)[0, 0, 0]) == (110, 100, 89)
    assert tuple(rounding._apply(image, 1.0, 1.0, 1.06, 0.0)[0, 0, 0]) == (111, 100, 89)
    rng = np.random.default_rng(2)
    frames = rng.integers(0, 256, (2, 6, 8, 3), dtype=np.uint8)
    np.testing.assert_array_equal(rounding._apply(frames, 1.0, 1.0, 1.0, 0.0), frames)


def test_pack_onset_inputs_drops_the_red_colour():
    frames = np.zeros((3, 6, 8, 7), np.uint8)
    frames[..., 4:] = 9
    packed = TRANSFORMS.build(dict(type='PackOnsetInputs'))(dict(
        frames=frames, hsv=np.zeros((3, 6, 8, 3), np.float32),
        flow=np.zeros((3, 6, 8, 2), np.float32), num_frames=3, segment_start=0,
        window_start_min=0, onset_index=None))
    assert packed['inputs']['rgb'].shape == (3, 4, 6, 8)
    assert int(packed['inputs']['rgb'].max()) == 0


def _offline_features(model, item):
    """The offline path on one dataset item: its (T, D) frame features and prediction."""
    data = model.data_preprocessor(dict(inputs=[item['inputs']],
                                        data_samples=[item['data_samples']]))
    with torch.no_grad():
        feats, _ = model.extract_frame_features(**data['inputs'][0])
    return feats, model(**data, mode='predict')[0]


@pytest.mark.parametrize('red_pool,warmup', [(4, False), (1, False), (4, True)])
def test_dataset_and_streaming_give_the_same_features_and_onsets(tmp_path, red_pool, warmup):
    root = make_detect_tree(tmp_path / 'bench')
    dataset = BleedOnsetDataset(root, 'train', input_size=ONSET_SIZE, red_pool=red_pool,
                                cache_dir=str(tmp_path / 'cache'), cache_workers=1,
                                pipeline=TEST_PIPELINE, test_mode=True)
    clips = {f'{c.patient_id}/{c.clip_id}': c for c in BenchIndex(root, 'train').clips}
    torch.manual_seed(0)
    model = tiny_detector(red_pool, warmup).eval()
    with torch.no_grad():
        # a confident head: eq. 2 fires, the onset depends on every feature
        model.onset_head.fc2.bias[1] = 3.0
        model.state_fc.bias[0] = 0.5
    onsets = []
    for index in range(len(dataset)):
        item = dataset[index]
        meta = item['data_samples'].metainfo
        offline_feats, result = _offline_features(model, item)
        offline = result.pred_onset
        stream = StreamDetector(model)
        stream_feats = []
        for frame in clips[meta['clip_id']].load_frames():
            state = stream.step(frame)
            stream_feats.append(stream.state.feats[-1])
        torch.testing.assert_close(torch.stack(stream_feats), offline_feats,
                                   atol=1e-4, rtol=1e-4)
        assert state['onset_frame'] == offline
        assert state['state_onset_frame'] == result.pred_onset_state
        onsets.append((offline, result.pred_onset_state))
    assert any(o is not None for o, _ in onsets) and any(o is not None for _, o in onsets)
    # the state decoder as the prediction: both paths switch together
    model.onset_decoder = 'state'
    item = dataset[0]
    data = model.data_preprocessor(dict(inputs=[item['inputs']],
                                        data_samples=[item['data_samples']]))
    result = model(**data, mode='predict')[0]
    assert result.pred_onset == result.pred_onset_state == onsets[0][1]
    stream.reset()
    for frame in clips[item['data_samples'].metainfo['clip_id']].load_frames():
        state = stream.step(frame)
    assert state['onset_frame'] == onsets[0][1] and state['window_onset_frame'] == onsets[0][0]


def test_red_pool_mismatch_is_an_error():
    model = tiny_detector(red_pool=0)
    rgb = torch.zeros(2, 4, 24, 32)
    with pytest.raises(ValueError, match='onset_red_pool'):
        model._with_red(rgb)
    model = tiny_detector(red_pool=4)
    with pytest.raises(ValueError, match='onset_red_pool'):
        model._with_red(rgb[:, :3])


def test_warmup_windows_fire_on_a_clip_shorter_than_the_window(tmp_path):
    """A window ends at every frame (frame 0 repeated before it), offline and streaming
    with the same S_conf per window: a clip shorter than N can fire; without warm-up
    the stream never completes a window."""
    root = make_detect_tree(tmp_path / 'bench')
    clip = BenchIndex(root, 'train').clips[0]
    frames = clip.load_frames(range(WINDOW - 2))  # 6 frames < N = 8
    torch.manual_seed(0)
    model = tiny_detector(4, warmup=True).eval()
    with torch.no_grad():
        model.onset_head.fc2.bias[1] = 3.0
    pipeline = [TRANSFORMS.build(t) for t in TEST_PIPELINE[1:]]
    results = dict(frames=np.stack([onset_frame_input(f, ONSET_SIZE, 4) for f in frames]),
                   segment_start=0, window_start_min=0, onset_index=None, onset_frame=None,
                   clip_id='short', num_frames=len(frames), ori_shape=frames[0].shape[:2])
    for t in pipeline:
        results = t(results)
    data = model.data_preprocessor(dict(inputs=[results['inputs']],
                                        data_samples=[results['data_samples']]))
    with torch.no_grad():
        feats, _ = model.extract_frame_features(**data['inputs'][0])
        starts = model._clip_windows(feats.shape[0])
        assert starts == list(range(-(WINDOW - 1), len(frames) - WINDOW + 1))
        _, conf = model.onset_head.predict(model._windows(feats, starts))
    offline = model(**data, mode='predict')[0].pred_onset
    assert offline is not None and 0 <= offline < len(frames)
    stream = StreamDetector(model)
    stream_conf = []
    for frame in frames:
        state = stream.step(frame)
        stream_conf.append(state['confidence'])
    torch.testing.assert_close(torch.tensor(stream_conf), conf, atol=1e-4, rtol=1e-4)
    assert state['onset_frame'] == offline
    # the deprecated stream on the model runs the same online step
    with pytest.warns(DeprecationWarning):
        model.reset_stream()
        shim = [model.stream_step(frame) for frame in frames]
    assert [s['confidence'] for s in shim] == stream_conf
    assert shim[-1]['onset_frame'] == offline
    model.warmup_windows = False
    stream.reset()
    for frame in frames:
        state = stream.step(frame)
    assert state['onset_frame'] is None and state['confidence'] == 0.0
    # warm-up windows need warmup_min_frames real frames: none ends before frame 3 here,
    # offline and streaming alike; a clip shorter than that has no window at all
    model.warmup_windows, model.warmup_min_frames = True, 4
    with torch.no_grad():
        starts = model._clip_windows(feats.shape[0])
    assert starts == list(range(4 - WINDOW, len(frames) - WINDOW + 1))
    stream.reset()
    late = [stream.step(frame) for frame in frames]
    assert [s['confidence'] for s in late[:3]] == [0.0] * 3
    torch.testing.assert_close(torch.tensor([s['confidence'] for s in late[3:]]), conf[3:],
                               atol=1e-4, rtol=1e-4)
    assert late[-1]['onset_frame'] == model(**data, mode='predict')[0].pred_onset
    model.warmup_min_frames = len(frames) + 1
    short = model(**data, mode='predict')[0]
    assert short.pred_onset is None and short.max_confidence == 0.0
    stream.reset()
    assert all(stream.step(frame)['onset_frame'] is None for frame in frames)


def _refiner_case(tmp_path, **detector):
    """The hand-made bench's train clips as an onset dataset, the clips by id, and a tiny
    detector with a tiny onset refiner (R = 2; ``detector``: more of its arguments)."""
    root = make_detect_tree(tmp_path / 'bench')
    dataset = BleedOnsetDataset(root, 'train', input_size=ONSET_SIZE, red_pool=4,
                                cache_dir=str(tmp_path / 'cache'), cache_workers=1,
                                pipeline=TEST_PIPELINE, test_mode=True)
    clips = {f'{c.patient_id}/{c.clip_id}': c for c in BenchIndex(root, 'train').clips}
    torch.manual_seed(0)
    model = build_tiny_detector(
        mdcfm_in_channels=7, mdg_in_channels=(4, 3, 2), red_domain=True, onset_red_pool=4,
        warmup_windows=True,
        onset_refiner=dict(type='OnsetRefiner', radius=2, crop=16, channels=(8, 8),
                           temporal_channels=8),
        onset_refine_size=(48, 40), **detector).eval()
    return dataset, clips, model


def _offline_and_streamed(dataset, clips, model):
    """Per dataset item: the offline prediction and the stream's state after every frame."""
    for index in range(len(dataset)):
        item = dataset[index]
        meta = item['data_samples'].metainfo
        data = model.data_preprocessor(dict(inputs=[item['inputs']],
                                            data_samples=[item['data_samples']]))
        result = model(**data, mode='predict')[0]
        stream = StreamDetector(model)
        yield result, [stream.step(frame) for frame in clips[meta['clip_id']].load_frames()]


def test_onset_refiner_is_the_same_offline_and_streaming(tmp_path):
    """The refiner reads the clip's frames offline (``metainfo['clip']``) and the
    buffered stream frames online: the same refined onset on every clip."""
    dataset, clips, model = _refiner_case(tmp_path)
    with torch.no_grad():
        model.onset_head.fc2.bias[1] = 3.0  # eq. 2 fires
        model.onset_refiner.none_fc.bias[0] = -5.0  # the refiner always names a candidate
    moved = 0
    for result, states in _offline_and_streamed(dataset, clips, model):
        state = states[-1]
        assert result.pred_onset_coarse is not None
        assert state['coarse_onset_frame'] == result.pred_onset_coarse
        assert state['onset_frame'] == result.pred_onset
        assert state['onset_refined']
        assert abs(result.pred_onset - result.pred_onset_coarse) <= 2
        moved += result.pred_onset != result.pred_onset_coarse
    assert moved  # the refiner's answer, not eq. 2's, is reported
    # the refiner moves the onset frame only: S_conf, hence every alarm and its time, is
    # the same without it (alarms per hour and alert latency do not change)
    frames = clips[dataset[0]['data_samples'].metainfo['clip_id']].load_frames()
    with_refiner = [StreamDetector(model)]
    states = [with_refiner[0].step(f) for f in frames]
    refiner, model.onset_refiner = model.onset_refiner, None
    plain = StreamDetector(model)
    plain_states = [plain.step(f) for f in frames]
    model.onset_refiner = refiner
    assert [s['confidence'] for s in states] == [s['confidence'] for s in plain_states]
    assert [s['onset_frame'] is None for s in states] == [
        s['onset_frame'] is None for s in plain_states]
    assert [s['coarse_onset_frame'] for s in states] == [s['onset_frame'] for s in plain_states]
    # without the clip's frames the offline path cannot refine: one clear error
    item = dataset[0]
    item['data_samples'].set_metainfo(dict(clip=None))
    data = model.data_preprocessor(dict(inputs=[item['inputs']],
                                        data_samples=[item['data_samples']]))
    with pytest.raises(ValueError, match="needs the clip's frames"):
        model(**data, mode='predict')


def test_building_the_refiner_leaves_the_detectors_random_stream_alone():
    """A seed trains the same detector with or without the (frozen, loaded) refiner: its
    construction draws from a forked random stream."""
    def build(refiner):
        torch.manual_seed(0)
        model = build_tiny_detector(onset_refiner=dict(
            type='OnsetRefiner', radius=2, crop=16, channels=(8, 8), temporal_channels=8)
            if refiner else None)
        return model, torch.rand(4)
    with_refiner, draw_with = build(True)
    without, draw_without = build(False)
    assert torch.equal(draw_with, draw_without)  # the training's next draws
    weights = without.state_dict()
    assert all(torch.equal(v, weights[k]) for k, v in with_refiner.state_dict().items()
               if not k.startswith('onset_refiner.'))
    assert any(k.startswith('onset_refiner.') for k in with_refiner.state_dict())


def test_refiner_search_windows_are_the_same_offline_and_streaming(tmp_path):
    """``onset_refine_search``: when the refiner names no frame around eq. 2's onset, the
    windows shifted by j (2R + 1) are tried in order; offline and in the stream the same
    onset, and the stream calls its answer final only once no earlier window can come."""
    with pytest.raises(ValueError, match='distinct non-zero integer window shifts'):
        build_tiny_detector(onset_refine_search=(1, 0))
    with pytest.raises(ValueError, match='distinct non-zero integer window shifts'):
        build_tiny_detector(onset_refine_search=(1, 1))
    dataset, clips, model = _refiner_case(tmp_path, onset_refine_search=(1, -1))
    with torch.no_grad():
        model.onset_head.fc2.bias[1] = 3.0  # eq. 2 fires
    # a refiner that names nothing around theta and candidate 1 of any other window
    seen = {}
    windows = model.refine_windows

    def record_windows(onset, last_frame=None):
        seen['theta'] = onset
        centres = windows(onset, last_frame)
        seen['centres'] = list(centres)
        seen['asked'] = 0
        return centres

    def refine(x):
        centre = seen['centres'][seen['asked']]
        seen['asked'] += 1
        return (None, 0.9) if centre == seen['theta'] else (1, 0.9)

    model.refine_windows = record_windows
    model.onset_refiner.refine = refine
    assert windows(20) == [20, 25, 15] and windows(20, last_frame=26) == [20, 15]
    assert windows(4) == [4, 9]  # the window before would start before frame 0
    shifts, provisional = set(), 0
    for result, states in _offline_and_streamed(dataset, clips, model):
        theta, last = result.pred_onset_coarse, len(states) - 1
        assert states[-1]['coarse_onset_frame'] == theta
        assert states[-1]['onset_frame'] == result.pred_onset
        # + 1: the window after theta names 2R + 1 - R + 1 frames on; - 1: the one before
        expected = (theta + 4 if theta + 7 <= last else theta - 6 if theta >= 7 else theta)
        assert result.pred_onset == expected
        shifts.add(expected - theta)
        if theta + 7 <= last and states[theta + 2]['coarse_onset_frame'] == theta:
            # at theta + R only the windows at theta (and before) are in: not final yet
            assert not states[theta + 2]['onset_refined']
            assert states[theta + 7]['onset_refined']
            provisional += 1
    assert 4 in shifts and provisional  # the search moved some onset


def test_colour_anchor_turns_the_same_frames_offline_and_streaming(tmp_path):
    """With a colour anchor that turns the hand-made clips (the first clip's mucosa 20
    degrees from the reference, the others 10 to 30), the dataset cache, the offline
    refiner and the stream read the same turned frames: the same features, eq. 2 onsets
    and refined onsets; the features are not those of the unturned video."""
    from bleedorigin.models.utils import anchor_steps, mucosa_hue

    root = make_detect_tree(tmp_path / 'bench')
    clips = {f'{c.patient_id}/{c.clip_id}': c for c in BenchIndex(root, 'train').clips}
    first = next(iter(clips.values())).load_frames([0])[0]
    anchor = dict(reference=mucosa_hue(first) + 20.0, dead_zone=4.0, max_turn=30.0)
    dataset = BleedOnsetDataset(root, 'train', input_size=ONSET_SIZE, red_pool=4,
                                cache_dir=str(tmp_path / 'cache'), cache_workers=1,
                                pipeline=TEST_PIPELINE, test_mode=True, colour_anchor=anchor)
    plain = BleedOnsetDataset(root, 'train', input_size=ONSET_SIZE, red_pool=4,
                              cache_dir=str(tmp_path / 'cache'), cache_workers=1,
                              pipeline=TEST_PIPELINE, test_mode=True)
    # two caches side by side: the clip's turn is in the file name ...
    assert dataset.get_data_info(0)['cache_path'] != plain.get_data_info(0)['cache_path']
    assert '_onsetin32x24p4h+' in dataset.get_data_info(0)['cache_path']
    # ... and a clip the anchor leaves alone (inside the dead zone) shares the plain cache
    wide = BleedOnsetDataset(root, 'train', input_size=ONSET_SIZE, red_pool=4,
                             cache_dir=str(tmp_path / 'cache'), cache_workers=1,
                             pipeline=TEST_PIPELINE, test_mode=True,
                             colour_anchor=dict(anchor, dead_zone=40.0))
    assert [wide.get_data_info(i)['cache_path'] for i in range(len(wide))] == [
        plain.get_data_info(i)['cache_path'] for i in range(len(plain))]
    assert not np.array_equal(np.load(dataset.get_data_info(0)['cache_path']),
                              np.load(plain.get_data_info(0)['cache_path']))
    torch.manual_seed(0)
    model = build_tiny_detector(
        mdcfm_in_channels=7, mdg_in_channels=(4, 3, 2), red_domain=True, onset_red_pool=4,
        warmup_windows=True, colour_anchor=anchor,
        onset_refiner=dict(type='OnsetRefiner', radius=2, crop=16, channels=(8, 8),
                           temporal_channels=8),
        onset_refine_size=(48, 40)).eval()
    with torch.no_grad():
        model.onset_head.fc2.bias[1] = 3.0  # eq. 2 fires
        model.onset_refiner.none_fc.bias[0] = -5.0  # the refiner names a candidate
    for index in range(len(dataset)):
        item = dataset[index]
        meta = item['data_samples'].metainfo
        offline_feats, result = _offline_features(model, item)
        stream = StreamDetector(model)
        feats, states = [], []
        frames = clips[meta['clip_id']].load_frames()
        for frame in frames:
            states.append(stream.step(frame))
            feats.append(stream.state.feats[-1])
        steps = stream.state.anchor.steps
        assert steps == anchor_steps(frames[0], **anchor) and 5 <= steps <= 15
        torch.testing.assert_close(torch.stack(feats), offline_feats, atol=1e-4, rtol=1e-4)
        assert states[-1]['coarse_onset_frame'] == result.pred_onset_coarse is not None
        assert states[-1]['onset_frame'] == result.pred_onset
        # the unturned clip gives other features
        item = plain[index]
        data = model.data_preprocessor(dict(inputs=[item['inputs']],
                                            data_samples=[item['data_samples']]))
        with torch.no_grad():
            plain_feats, _ = model.extract_frame_features(**data['inputs'][0])
        assert (plain_feats - offline_feats).abs().max() > 1e-3
    # a model whose anchor differs from the dataset's: one clear error, not a silent answer
    item = plain[0]
    data = model.data_preprocessor(dict(inputs=[item['inputs']],
                                        data_samples=[item['data_samples']]))
    with pytest.raises(ValueError, match="cached with colour_anchor=None but the model's is"):
        model(**data, mode='predict')


def test_refiner_cascade_is_the_same_offline_and_streaming(tmp_path):
    """``onset_refine_confirm``: every window above ``onset_candidate_thr`` proposes its
    onset, the refiner confirms. A refiner that names a frame only in windows centred at
    frame 12 or later: offline and in the stream the same onset, named by such a window,
    the alarm raised at the frame that window's last frame arrives; a refiner that names
    nothing raises no alarm on either path; bad settings are rejected."""
    refiner = dict(type='OnsetRefiner', radius=2, crop=16, channels=(8, 8),
                   temporal_channels=8)
    assert not build_tiny_detector(onset_refine_confirm=True).onset_refine_confirm  # no refiner
    for bad, match in [(dict(onset_refine_confirm=True, onset_decoder='state',
                             state_loss_weight=1.0, onset_refiner=refiner),
                        "needs onset_decoder='window'"),
                       (dict(onset_candidate_thr=0.3), 'needs onset_refine_confirm=True'),
                       (dict(onset_refine_confirm=True, onset_confirm=2,
                             onset_refiner=refiner), 'onset_confirm must be 1'),
                       (dict(onset_candidate_thr=0.3, onset_refiner=refiner),
                        'needs onset_refine_confirm=True'),
                       (dict(onset_refine_confirm=True, onset_candidate_thr=1.5,
                             onset_refiner=refiner), r'must be in \[0, 1\)')]:
        with pytest.raises(ValueError, match=match):
            build_tiny_detector(**bad)
    assert build_tiny_detector(onset_refine_confirm=True, onset_refiner=refiner,
                               conf_thr=0.4).onset_candidate_thr == 0.4  # eq. 2's default
    dataset, clips, model = _refiner_case(tmp_path, onset_refine_search=(1, ),
                                          onset_refine_confirm=True, onset_candidate_thr=0.3)
    with torch.no_grad():
        model.onset_head.fc2.bias[1] = 3.0  # every window is a candidate
    centres = {}
    refine_window = model.refine_window

    def named_late(centre, read_frames):
        centres[centre] = centres.get(centre, 0) + 1
        return centre + 1 if centre >= 12 else None

    model.refine_window = named_late
    alarms = 0
    for result, states in _offline_and_streamed(dataset, clips, model):
        last = len(states) - 1
        first = next((i for i, s in enumerate(states) if s['onset_frame'] is not None), None)
        assert states[-1]['onset_frame'] == result.pred_onset
        assert states[-1]['coarse_onset_frame'] == result.pred_onset_coarse
        if result.pred_onset is None:
            assert first is None
            continue
        alarms += 1
        # named by a window centred at 12 or later, at the frame its last frame arrived
        centre = result.pred_onset - 1
        assert centre >= 12 and first == centre + 2 <= last
        assert centre in (result.pred_onset_coarse, result.pred_onset_coarse + 5)
        assert states[first]['onset_refined'] and not states[first - 1]['onset_refined']
        assert all(s['onset_frame'] == result.pred_onset for s in states[first:])
    assert alarms and max(centres.values()) >= 1
    model.refine_window = lambda centre, read_frames: None
    for result, states in _offline_and_streamed(dataset, clips, model):
        assert result.pred_onset is None and result.pred_onset_coarse is None
        assert all(s['onset_frame'] is None for s in states)
    model.refine_window = refine_window
