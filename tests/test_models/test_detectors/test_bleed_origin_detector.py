import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement, InstanceData, PixelData
from mmpose.structures import PoseDataSample
from tiny_models import CODEC, ONSET_SIZE, SOURCE_SIZE, WINDOW  # noqa: F401
from tiny_models import tiny_detector as build_tiny_detector

import bleedorigin  # noqa: F401
from bleedorigin.apis import StreamDetector
from bleedorigin.models.utils import rgb_to_hsv01, sequence_flow
from bleedorigin.registry import MODELS


def tiny_detector(use_memory=True, mdg_in_channels=(3, 3, 2), **kwargs):
    return build_tiny_detector(mdg_in_channels=mdg_in_channels, use_memory=use_memory, **kwargs)


def onset_item(num_frames=14, onset=9, seed=0):
    rng = np.random.default_rng(seed)
    frames = np.repeat(rng.integers(80, 180, (1, 24, 32, 3), dtype=np.uint8), num_frames, 0)
    if onset is not None:
        frames[onset:, 8:14, 10:16] = (200, 10, 10)
    inputs = dict(rgb=torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous(),
                  hsv=torch.from_numpy(rgb_to_hsv01(frames)).permute(0, 3, 1, 2),
                  flow=torch.from_numpy(sequence_flow(frames)).permute(0, 3, 1, 2))
    sample = BaseDataElement(metainfo=dict(
        task='onset', clip_id=f'c{seed}', num_frames=num_frames, segment_start=0,
        window_start_min=0, onset_index=onset, gt_onset=onset))
    return inputs, sample


def source_item():
    image = torch.rand(2, 6, 40, 48)
    real = PoseDataSample(metainfo=dict(is_pseudo_label=False))
    real.gt_fields = PixelData(heatmaps=torch.zeros(1, 40, 48))
    real.gt_fields.heatmaps[0, 20, 30] = 1.0
    real.gt_instances = InstanceData(transformed_keypoints=np.array([[[30.0, 20.0]]]))
    pseudo = PoseDataSample(metainfo=dict(is_pseudo_label=True))
    pseudo.gt_fields = PixelData(heatmaps=torch.zeros(1, 40, 48))
    pseudo.gt_instances = InstanceData()
    sample = BaseDataElement(metainfo=dict(task='source', clip_id='s', gt_point=[60.0, 40.0],
                                           gt_sources=[[60.0, 40.0], [10.0, 70.0]],
                                           ori_shape=(80, 96), scale_factor=(0.5, 0.5)))
    sample.frame_samples = [real, pseudo]
    return image, sample


@pytest.mark.parametrize('use_memory', [True, False])
def test_detector_loss_predict_tensor(use_memory):
    torch.manual_seed(0)
    model = tiny_detector(use_memory)
    items = [onset_item(), onset_item(onset=None, seed=1), source_item()]
    data = model.data_preprocessor(dict(inputs=[i for i, _ in items],
                                        data_samples=[s for _, s in items]), True)
    losses = model(**data, mode='loss')
    for key in ('loss_onset_conf', 'loss_onset_theta', 'loss_onset_loc', 'loss_mdcfm',
                'loss_heatmap', 'loss_pseudo', 'loss_point'):
        assert torch.isfinite(losses[key]), key
    sum(losses.values()).backward()
    model.eval()
    results = model(**data, mode='predict')
    assert results[0].gt_onset == 9 and results[0].num_frames == 14
    assert results[0].pred_onset is None or 0 <= results[0].pred_onset < 14
    assert results[1].gt_onset is None
    # source: argmax in input pixels / scale 0.5 -> original pixels inside the frame
    assert 0 <= results[2].pred_point[0] < 96 and 0 <= results[2].pred_point[1] < 80
    assert results[2].gt_sources == [[60.0, 40.0], [10.0, 70.0]]  # PointMetric scores the nearest
    outputs = model(**data, mode='tensor')
    assert outputs[0][0].shape == (14 - WINDOW + 1, WINDOW)
    assert outputs[2].shape == (2, 1, 40, 48)


def test_detector_rejects_unknown_task():
    model = tiny_detector()
    image, sample = source_item()
    sample.set_metainfo(dict(task='segmentation'))
    with pytest.raises(ValueError, match='neither'):
        model(inputs=[image], data_samples=[sample], mode='loss')


def confident_detector(**kwargs):
    """The tiny detector (seed 0) with a head confident on every window: eq. 2 fires."""
    torch.manual_seed(0)
    model = tiny_detector(**kwargs).eval()
    with torch.no_grad():
        model.onset_head.fc2.bias[1] = 10.0
    return model


def offline_onset(model, inputs, sample):
    data = model.data_preprocessor(dict(inputs=[inputs], data_samples=[sample]))
    return model(**data, mode='predict')[0].pred_onset


def test_streaming_matches_offline_and_is_bounded():
    model = confident_detector()
    inputs, sample = onset_item(num_frames=14, onset=9)
    offline = offline_onset(model, inputs, sample)
    frames = inputs['rgb'].permute(0, 2, 3, 1).numpy()
    stream = StreamDetector(model)
    states = [stream.step(np.ascontiguousarray(
        np.kron(f, np.ones((2, 2, 1), dtype=np.uint8)))) for f in frames]
    assert [s['frame_index'] for s in states] == list(range(14))
    assert all(s['onset_frame'] is None for s in states[:WINDOW - 1])
    assert states[-1]['onset_frame'] is not None
    assert abs(states[-1]['onset_frame'] - offline) <= 2  # resize round trip only
    assert len(stream.state.feats) == WINDOW
    assert len(stream.state.memory) <= 2
    x, y, score = stream.locate_source(np.zeros((48, 64, 3), dtype=np.uint8))
    assert 0 <= x < 64 and 0 <= y < 48 and np.isfinite(score)
    with pytest.raises(ValueError, match='uint8'):
        stream.step(np.zeros((10, 10, 3), dtype=np.float32))
    # the deprecated stream on the model is the same step
    model.reset_stream()
    with pytest.warns(DeprecationWarning, match='StreamDetector'):
        legacy = [model.stream_step(np.ascontiguousarray(
            np.kron(f, np.ones((2, 2, 1), dtype=np.uint8)))) for f in frames]
    assert legacy == states


def test_stream_state_for_model_follows_the_model():
    """``OnsetStreamState.for_model`` (the one factory of ``StreamDetector.reset`` and the
    deprecated stream on the model): the MDCFM's memory size and stride, the window and the
    source buffer of the model."""
    from bleedorigin.models.utils import OnsetStreamState
    model = confident_detector()
    model.mdcfm.memory_stride = 3
    state = OnsetStreamState.for_model(model)
    assert state.memory.size == model.mdcfm.memory_size and state.memory.stride == 3
    assert state.feats.maxlen == model.window_size
    assert state.frames.maxlen == model.reference_offset + model.window_size + 1
    assert len(state.views) == len(model.onset_views)
    assert StreamDetector(model).state.memory.stride == 3


@pytest.mark.parametrize('confirm', [1, 3, 7, 8])
def test_alarm_gate_is_the_same_offline_and_streaming(confirm):
    # every window confident: 14 frames give 14 - WINDOW + 1 = 7 windows, the first
    # ending at frame WINDOW - 1; the gate announces the onset at the confirm-th one
    model = confident_detector(onset_confirm=confirm)
    inputs, sample = onset_item(num_frames=14, onset=9)
    offline = offline_onset(model, inputs, sample)
    frames = inputs['rgb'].permute(0, 2, 3, 1).numpy()
    stream = StreamDetector(model)
    onsets = [stream.step(np.ascontiguousarray(f))['onset_frame'] for f in frames]
    first = next((t for t, o in enumerate(onsets) if o is not None), None)
    if confirm > 14 - WINDOW + 1:
        assert offline is None and first is None
    else:
        assert first == WINDOW - 1 + confirm - 1
        assert onsets[-1] == offline
        # the gate delays the announcement, not the onset eq. 2 finds over the clip
        assert offline == offline_onset(confident_detector(), inputs, sample)


def test_alarm_gate_rejects_zero():
    with pytest.raises(ValueError, match='onset_confirm must be >= 1'):
        tiny_detector(onset_confirm=0)


def overfit_state(model, data, steps=30, before_step=None):
    """Adam steps on one batch; the per-frame state loss of each step."""
    optim = torch.optim.Adam(model.parameters(), lr=3e-3)
    history = []
    for _ in range(steps):
        if before_step is not None:
            before_step()
        losses = model(**data, mode='loss')
        optim.zero_grad()
        sum(losses.values()).backward()
        optim.step()
        history.append(float(losses['loss_onset_state']))
    return history


def test_red_domain_state_loss_and_teacher_memory():
    torch.manual_seed(0)
    model = tiny_detector(mdg_in_channels=(4, 3, 2), red_domain=True, state_loss_weight=1.0,
                          teacher_memory=1.0, mdcfm_appearance_horizon=2)
    items = [onset_item(), onset_item(onset=None, seed=1)]
    data = model.data_preprocessor(dict(inputs=[i for i, _ in items],
                                        data_samples=[s for _, s in items]), True)
    history = overfit_state(model, data)
    # the per-frame bleeding state is learnt on a tiny overfit
    assert history[-1] < 0.5 * history[0]
    model.eval()
    frames = items[0][0]['rgb'].permute(0, 2, 3, 1).numpy()
    states = [model.stream_step(np.ascontiguousarray(f)) for f in frames]
    assert states[-1]['frame_index'] == 13


def test_red_domain_needs_four_rgb_channels():
    with pytest.raises(ValueError, match=r'in_channels\[0\] == 4'):
        MODELS.build(dict(
            type='BleedOriginDetector', mdcfm=dict(type='MDCFM', channels=4),
            mdg=dict(type='MDGNeck', channels=4, out_channels=8),
            onset_head=dict(type='OnsetHead', in_channels=16, window_size=WINDOW,
                            num_layers=1, num_heads=4, ffn_channels=16),
            encoder=dict(type='SmallCNNEncoder', in_channels=6, stage_channels=(8, 8, 8)),
            source_head=dict(type='HeatmapPointHead', in_channels=8, image_channels=6,
                             decoder=CODEC),
            frame_embed_dims=16, red_domain=True))


def test_mdcfm_targets_horizon_weights():
    from bleedorigin.models.necks import mdcfm_targets

    flow = torch.zeros(8, 2, 4, 4)
    flow[5] = 1.0  # one moving pair (mean magnitude sqrt(2) > 0.5)
    appearance, motion, weight = mdcfm_targets(flow, 3, 0.5, appearance_horizon=2)
    # pair t shows blood once t - 1 >= 3; supervised while t - 1 < 3 + 2
    assert appearance.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert weight.tolist() == [1, 1, 1, 1, 1, 1, 0, 0]
    assert motion.tolist() == [0, 0, 0, 0, 0, 1, 0, 0]
    appearance, _, weight = mdcfm_targets(flow, None, 0.5, appearance_horizon=2)
    assert appearance.sum() == 0 and weight.sum() == 8


def streamed_windows(model, frames):
    stream = StreamDetector(model)
    states = [stream.step(np.ascontiguousarray(f)) for f in frames]
    return states, stream


@pytest.mark.parametrize('views,reduce,theta', [(('horizontal',), 'mean', 'confident'),
                                                (('vertical',), 'min', 'mean'),
                                                (('horizontal', 'both'), 'mean', 'confident')])
def test_flip_views_are_the_same_offline_and_streaming(views, reduce, theta):
    torch.manual_seed(0)
    plain = tiny_detector().eval()
    model = tiny_detector(onset_views=views, onset_view_reduce=reduce,
                          onset_view_theta=theta).eval()
    model.load_state_dict(plain.state_dict())
    # an onset off the clip's mirror axis: the mirror image is another input
    inputs, sample = onset_item(num_frames=14, onset=9)
    frames = inputs['rgb'].permute(0, 2, 3, 1).numpy()
    data = model.data_preprocessor(dict(inputs=[inputs], data_samples=[sample]))
    offline = model(**data, mode='predict')[0]
    states, stream = streamed_windows(model, frames)
    confs = [s['confidence'] for s in states[WINDOW - 1:]]
    assert len(stream.state.views) == len(views)
    assert all(len(v.feats) == WINDOW for v in stream.state.views)
    assert max(confs) == pytest.approx(offline.max_confidence, abs=1e-6)
    assert states[-1]['onset_frame'] == offline.pred_onset
    # each view is its own input: the combined window is not the video's alone
    plain_confs = [s['confidence'] for s in streamed_windows(plain, frames)[0][WINDOW - 1:]]
    assert not np.allclose(confs, plain_confs)
    # a view is the plain detector on the flipped frames (its flow from the flipped pair)
    axes = {'horizontal': (1,), 'vertical': (0,), 'both': (0, 1)}
    view_states = [streamed_windows(plain, [np.flip(f, axes[v]) for f in frames])[0][WINDOW - 1:]
                   for v in views]
    plain_states = streamed_windows(plain, frames)[0][WINDOW - 1:]
    stacked = np.array([[s['confidence'] for s in run] for run in [plain_states] + view_states])
    expected = stacked.mean(0) if reduce == 'mean' else stacked.min(0)
    assert np.allclose(confs, expected, atol=1e-6)
    thetas = np.array([[s['theta'] for s in run] for run in [plain_states] + view_states])
    expected = (thetas.mean(0) if theta == 'mean'
                else thetas[stacked.argmax(0), np.arange(thetas.shape[1])])
    assert np.allclose([s['theta'] for s in states[WINDOW - 1:]], expected, atol=1e-6)


@pytest.mark.parametrize('use_memory', [True, False])
def test_frame_features_batch_the_views_as_single_calls(use_memory):
    """The views of one frame in one batch give each view's single-call feature."""
    torch.manual_seed(0)
    model = tiny_detector(use_memory=use_memory).eval()
    rng = np.random.default_rng(1)

    def inputs():
        frame = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
        return model.onset_inputs(np.ascontiguousarray(frame))

    # three views, each with its own previous frame and memory (of unequal lengths)
    views = [(inputs(), inputs(), [inputs() for _ in range(m)] if use_memory else None)
             for m in (1, 2, 3)]
    with torch.no_grad():
        feats, logits = model.frame_features(views)
        singles = [model.frame_feature(*view) for view in views]
    assert feats.shape == (3, model.frame_proj[0].out_features) and logits.shape == (3, 2)
    for i, (feat, logit) in enumerate(singles):
        torch.testing.assert_close(feats[i], feat, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(logits[i:i + 1], logit, atol=1e-5, rtol=1e-5)
    # the views differ, so a mixed-up order would show
    assert not torch.allclose(feats[0], feats[1], atol=1e-3)
    with pytest.raises(ValueError, match='no view given'):
        model.frame_features([])


def test_stream_without_a_batched_step_calls_each_view_alone():
    """A model with only ``frame_feature`` (one view per call) streams the same windows."""
    torch.manual_seed(0)
    model = tiny_detector(onset_views=('horizontal', 'vertical')).eval()
    inputs, _ = onset_item(num_frames=12, onset=8)
    frames = inputs['rgb'].permute(0, 2, 3, 1).numpy()
    batched, _ = streamed_windows(model, frames)
    calls = []

    class OneViewAtATime:
        """The model without ``frame_features``: onset_stream_update falls back."""
        frame_features = None

        def __getattr__(self, name):
            return getattr(model, name)

        def frame_feature(self, *args):
            calls.append(1)
            return model.frame_feature(*args)

    alone, _ = streamed_windows(OneViewAtATime(), frames)
    assert len(calls) == 3 * len(frames)  # the video and two flip views, every frame
    for a, b in zip(batched[WINDOW - 1:], alone[WINDOW - 1:]):
        assert a['confidence'] == pytest.approx(b['confidence'], abs=1e-6)
        assert a['theta'] == pytest.approx(b['theta'], abs=1e-6)
        assert a['onset_frame'] == b['onset_frame']


def test_flip_views_reject_unknown_names():
    with pytest.raises(ValueError, match="onset_views must be a subset of"):
        tiny_detector(onset_views=('diagonal',))
    with pytest.raises(ValueError, match="onset_view_reduce must be one of"):
        tiny_detector(onset_views=('horizontal',), onset_view_reduce='max')
    with pytest.raises(ValueError, match="onset_view_theta must be one of"):
        tiny_detector(onset_views=('horizontal',), onset_view_theta='median')


def test_combine_views_hand_computed():
    from bleedorigin.models.utils import combine_views
    thetas = [torch.tensor([0.2, 0.4]), torch.tensor([0.4, 0.8])]
    confs = [torch.tensor([0.9, 0.3]), torch.tensor([0.3, 0.5])]
    # default: each window keeps the theta of its more confident view (0.9 > 0.3, 0.5 > 0.3)
    theta, conf = combine_views(thetas, confs, 'mean')
    assert torch.allclose(theta, torch.tensor([0.2, 0.8]))
    assert torch.allclose(conf, torch.tensor([0.6, 0.4]))
    assert torch.allclose(combine_views(thetas, confs, 'mean', 'mean')[0],
                          torch.tensor([0.3, 0.6]))
    assert torch.allclose(combine_views(thetas, confs, 'min')[1], torch.tensor([0.3, 0.3]))


def test_stream_thread_gives_the_numbers_of_the_serial_step():
    """stream_thread: the memory flows and the resizes in the side worker beside the
    network give every step's output, buffered frame and refiner frame of the serial
    step (flip views, clean-view memory and the onset refiner all on)."""
    torch.manual_seed(0)
    refiner = dict(type='OnsetRefiner', radius=2, crop=16, channels=(8, 8),
                   temporal_channels=16, dropout=0.0)
    kwargs = dict(onset_views=('horizontal',), conf_thr=0.0, onset_refiner=refiner,
                  onset_refine_size=(40, 32))
    threaded = tiny_detector(stream_thread=True, **kwargs).eval()
    serial = tiny_detector(stream_thread=False, **kwargs).eval()
    serial.load_state_dict(threaded.state_dict())
    assert tiny_detector().stream_thread == 'auto'
    with pytest.raises(ValueError, match="must be True, False or 'auto', got 'yes'"):
        tiny_detector(stream_thread='yes')
    inputs, _ = onset_item(num_frames=16, onset=9)
    frames = inputs['rgb'].permute(0, 2, 3, 1).numpy()
    a, stream_a = streamed_windows(threaded, frames)
    b, stream_b = streamed_windows(serial, frames)
    assert a == b
    assert a[-1]['onset_frame'] is not None and 'coarse_onset_frame' in a[-1]
    for (ta, fa), (tb, fb) in zip(stream_a.state.frames, stream_b.state.frames):
        assert ta == tb and np.array_equal(fa, fb)
    kept_a, kept_b = list(stream_a.state.refine_frames), list(stream_b.state.refine_frames)
    assert len(kept_a) == len(kept_b) > 0
    assert all(ta == tb and np.array_equal(fa, fb) and fa.shape == (32, 40, 3)
               for (ta, fa), (tb, fb) in zip(kept_a, kept_b))


def test_frame_features_take_memory_flows_computed_elsewhere():
    """memory_flow: precomputed (or a future) flows give the features computed inline;
    a count that does not match the memory is refused."""
    from concurrent.futures import Future
    torch.manual_seed(0)
    model = tiny_detector().eval()
    rng = np.random.default_rng(3)

    def inputs():
        frame = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
        return model.onset_inputs(np.ascontiguousarray(frame))

    views = [(inputs(), inputs(), [inputs() for _ in range(m)]) for m in (2, 1)]
    flows = model.memory_flows(views)
    assert flows.shape == (3, ) + views[0][0][0].shape[:2] + (2, )
    pending = Future()
    pending.set_result(flows)
    with torch.no_grad():
        inline, _ = model.frame_features(views)
        given, _ = model.frame_features(views, flows)
        waited, _ = model.frame_features(views, pending)
    torch.testing.assert_close(given, inline, rtol=0, atol=0)
    torch.testing.assert_close(waited, inline, rtol=0, atol=0)
    with pytest.raises(ValueError, match='memory_flow holds 2 flows for 3 memory entries'):
        model.frame_features(views, flows[:2])


def test_side_thread_auto_needs_a_core_torch_does_not_use(monkeypatch):
    from bleedorigin.utils import side_thread
    monkeypatch.setattr(side_thread, 'available_cores', lambda: 2)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert side_thread.use_side_thread('auto')
        torch.set_num_threads(2)
        assert not side_thread.use_side_thread('auto')
        assert side_thread.use_side_thread(True) and not side_thread.use_side_thread(False)
    finally:
        torch.set_num_threads(threads)


def test_stream_reports_eq1_gate_of_the_video():
    """memory_gate: MDCFM's two confidences of the newest pair and eq. 1's decision on
    them (None on the first frame); a gate that never opens keeps every pair out."""
    torch.manual_seed(0)
    model = tiny_detector(onset_views=('horizontal',)).eval()
    inputs, _ = onset_item(num_frames=12, onset=6)
    frames = inputs['rgb'].permute(0, 2, 3, 1).numpy()
    states, _ = streamed_windows(model, frames)
    assert states[0]['memory_gate'][2] is None
    for state in states[1:]:
        rgbhsv, flow, clean = state['memory_gate']
        assert 0.0 <= rgbhsv <= 1.0 and 0.0 <= flow <= 1.0
        assert clean == (rgbhsv < model.mdcfm.alpha and flow < model.mdcfm.gamma)
    model.mdcfm.gamma = 1.01
    for alpha, gate in ((0.0, False), (1.01, True)):  # never open, always open
        model.mdcfm.alpha = alpha
        gates = [s['memory_gate'][2] for s in streamed_windows(model, frames)[0][1:]]
        assert gates == [gate] * (len(frames) - 1)


def _preprocessed_clip(model, frames):
    """A 14-frame clip (onset 5) through the model's data preprocessor: (data, its item)."""
    inputs = dict(rgb=torch.from_numpy(frames).permute(0, 3, 1, 2).contiguous(),
                  hsv=torch.from_numpy(rgb_to_hsv01(frames)).permute(0, 3, 1, 2),
                  flow=torch.from_numpy(sequence_flow(frames)).permute(0, 3, 1, 2))
    _, sample = onset_item(num_frames=14, onset=5)
    data = model.data_preprocessor(dict(inputs=[inputs], data_samples=[sample]))
    return data, data['inputs'][0]


@pytest.mark.parametrize('views,bound', [((), None), (('horizontal',), None), ((), 2)])
def test_memory_state_veto_is_the_same_offline_and_streaming(views, bound):
    """The state veto on the clean-view memory (``memory_state_veto``): the offline
    path's settled decisions give the stream's windows, frame by frame."""
    torch.manual_seed(0)
    model = tiny_detector(state_loss_weight=1.0, onset_views=views).eval()
    model.mdcfm.alpha = model.mdcfm.gamma = 1.01  # eq. 1 alone keeps every frame
    # every frame its own (noise, a patch that grows from frame 5): the memory's
    # content changes the comparisons
    rng = np.random.default_rng(3)
    frames = np.clip(rng.integers(80, 180, (1, 24, 32, 3)) + rng.integers(
        -20, 20, (14, 24, 32, 3)), 0, 255).astype(np.uint8)
    for t in range(5, 14):
        frames[t, 8:10 + t - 5, 10:12 + t - 5] = (200, 10, 10)
    data, item = _preprocessed_clip(model, frames)
    with torch.no_grad():
        feats, _ = model.extract_frame_features(item['rgb'], item['hsv'], item['flow'],
                                                item['rgb_uint8'])
        probs = model.state_fc(feats)[1:, 0].sigmoid()
    plain_states, _ = streamed_windows(model, frames)
    assert all(s['memory_gate'][2] for s in plain_states[1:])
    # a veto between the frames' state probabilities: some frames stay out
    # (half-way between two of them: float order cannot flip a decision)
    ranked = probs.sort().values
    model.memory_state_veto = float((ranked[6] + ranked[7]) / 2)
    model.memory_state_veto_frames = bound
    offline = model(**data, mode='predict')[0]
    states, stream = streamed_windows(model, frames)
    gates = [s['memory_gate'][2] for s in states[1:]]
    assert 0 < sum(gates) < len(gates)
    pattern = ''.join(str(int(g)) for g in gates)
    if bound is None:  # this clip: the first three frames kept out
        assert pattern.startswith('000')
    else:  # never more than `bound` frames kept out in a row
        assert '0' * (bound + 1) not in pattern
    # the offline features under the veto are the stream's, and not eq. 1's alone
    with torch.no_grad():
        vetoed, _ = model.extract_batch_features([item], state_veto=True)[0]
    streamed = torch.stack(list(stream.state.feats))
    torch.testing.assert_close(vetoed[-WINDOW:], streamed, atol=1e-5, rtol=1e-5)
    assert (vetoed - feats).abs().amax() > 1e-3
    confs = [s['confidence'] for s in states[WINDOW - 1:]]
    assert max(confs) == pytest.approx(offline.max_confidence, abs=1e-6)
    assert states[-1]['onset_frame'] == offline.pred_onset


@pytest.mark.parametrize('veto', [False, True])
def test_memory_stride_is_the_same_offline_and_streaming(veto):
    """``MDCFM.memory_stride``: the offline features (and with the state veto, its settled
    decisions) are the stream's, and a stride changes what the frames are compared with."""
    torch.manual_seed(0)
    model = tiny_detector(state_loss_weight=1.0).eval()
    model.mdcfm.alpha = model.mdcfm.gamma = 1.01  # eq. 1 keeps every frame
    rng = np.random.default_rng(4)
    frames = np.clip(rng.integers(80, 180, (1, 24, 32, 3)) + rng.integers(
        -20, 20, (14, 24, 32, 3)), 0, 255).astype(np.uint8)
    for t in range(5, 14):  # a slowly growing patch
        frames[t, 8:10 + (t - 5) // 2, 10:12 + (t - 5) // 2] = (200, 10, 10)
    data, item = _preprocessed_clip(model, frames)
    if veto:
        model.memory_state_veto = 0.999999  # on, but it keeps no frame out
    with torch.no_grad():
        every, _ = model.extract_batch_features([item], state_veto=veto)[0]
    model.mdcfm.memory_stride = 3
    with torch.no_grad():
        strided, _ = model.extract_batch_features([item], state_veto=veto)[0]
    states, stream = streamed_windows(model, frames)
    streamed = torch.stack(list(stream.state.feats))
    torch.testing.assert_close(strided[-WINDOW:], streamed, atol=1e-5, rtol=1e-5)
    assert (strided - every).abs().amax() > 1e-3
    offline = model(**data, mode='predict')[0]
    confs = [s['confidence'] for s in states[WINDOW - 1:]]
    assert max(confs) == pytest.approx(offline.max_confidence, abs=1e-6)


def test_memory_state_veto_needs_the_state_head_and_the_memory():
    with pytest.raises(ValueError, match='memory_state_veto needs the state head'):
        tiny_detector(memory_state_veto=0.9)
    with pytest.raises(ValueError, match='memory_state_veto needs the state head'):
        tiny_detector(use_memory=False, state_loss_weight=1.0, memory_state_veto=0.9)
    with pytest.raises(ValueError, match='memory_state_veto_frames must be >= 1'):
        tiny_detector(state_loss_weight=1.0, memory_state_veto=0.9, memory_state_veto_frames=0)


def test_train_state_veto_trains_on_the_vetoed_memories(monkeypatch):
    """With ``train_state_veto`` the sequences whose memory follows MDCFM get the veto's
    settled decisions (the inference memory), and the per-frame state is learnt."""
    torch.manual_seed(0)
    model = tiny_detector(mdg_in_channels=(4, 3, 2), red_domain=True, state_loss_weight=1.0,
                          teacher_memory=0.0, memory_state_veto=0.0, train_state_veto=True)
    model.mdcfm.alpha = model.mdcfm.gamma = 1.01  # eq. 1 alone keeps every frame
    items = [onset_item(), onset_item(onset=None, seed=1)]
    data = model.data_preprocessor(dict(inputs=[i for i, _ in items],
                                        data_samples=[s for _, s in items]), True)
    seen = []
    extract = type(model).extract_batch_features

    def spy(self, sequences, clean_views=None, **kwargs):
        seen.append((clean_views, kwargs))
        return extract(self, sequences, clean_views, **kwargs)

    monkeypatch.setattr(type(model), 'extract_batch_features', spy)
    history = overfit_state(model, data, before_step=seen.clear)
    # one settling pass without gradient, then the training pass on its decisions
    (_, settle), (given, train) = seen
    assert settle == dict(state_veto=True, return_clean=True) and train == {}
    assert len(given) == 2 and all(len(c) == 14 for c in given)
    # a veto of 0 keeps every frame out: the memory holds frame 0, as no eq. 1 decision would
    assert [list(map(bool, c[1:])) for c in given] == [[False] * 13] * 2
    assert history[-1] < 0.5 * history[0]
    with pytest.raises(ValueError, match='train_state_veto needs memory_state_veto'):
        tiny_detector(state_loss_weight=1.0, train_state_veto=True)
