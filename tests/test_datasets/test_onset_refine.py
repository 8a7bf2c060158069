"""The onset refiner: its preprocessing, the model, its dataset and metric."""
import numpy as np
import pytest
import torch
from detect_tree import make_detect_tree

import bleedorigin  # noqa: F401
from bleedorigin.datasets import OnsetRefineDataset
from bleedorigin.evaluation.metrics import RefineMetric
from bleedorigin.models.heads import OnsetRefiner
from bleedorigin.models.utils.onset_refine import (
    RefineCascade,
    refine_crops,
    refine_frame_indices,
    refine_input,
    refine_ready,
    refined_onset,
    to_refine_coords,
)


def test_refine_crops_repeat_the_border():
    frame = np.arange(5 * 6, dtype=np.uint8).reshape(5, 6, 1).repeat(3, axis=2)
    crop = refine_crops([frame], (1.0, 1.0), 4)[0, ..., 0]
    # x0 = y0 = round(1 - 2) = -1: the first row and column repeat
    expected = frame[[0, 0, 1, 2]][:, [0, 0, 1, 2], 0]
    np.testing.assert_array_equal(crop, expected)
    crop = refine_crops([frame], (5.5, 4.5), 4)[0, ..., 0]
    np.testing.assert_array_equal(crop, frame[[2, 3, 4, 4]][:, [4, 5, 5, 5], 0])
    with pytest.raises(ValueError, match='crop must be >= 1'):
        refine_crops([frame], (1, 1), 0)


def test_refine_indices_ready_and_refined_onset():
    assert refine_frame_indices(3, 2) == [0, 1, 2, 3, 4, 5]
    assert refine_frame_indices(1, 2) == [0, 0, 0, 1, 2, 3]
    assert refine_ready(10, 8, 18) and not refine_ready(10, 8, 17)
    assert refined_onset(10, 8, None) == 10
    assert refined_onset(10, 8, 0) == 2 and refined_onset(10, 8, 16) == 18
    assert refined_onset(3, 8, 0) == 0
    assert to_refine_coords((390, 335), (780, 670), (384, 320)) == (192.0, 160.0)


def test_refine_input_channels_hand_computed():
    crops = np.zeros((3, 2, 2, 3), np.uint8)
    crops[1:, 0, 0] = (255, 0, 0)   # a red pixel appears in crop 1
    crops[2, 1, 1] = (0, 255, 0)    # a green one in crop 2
    x = refine_input(crops)
    assert x.shape == (2, 7, 2, 2)
    # candidate 0 (crop 1): RGB, change from crop 0, Red-Mask change 1 at the red pixel
    assert x[0, 0, 0, 0] == 1 and x[0, 3, 0, 0] == 1
    assert float(x[0, 6, 0, 0]) == pytest.approx(1.0, abs=1e-5)
    # candidate 1 (crop 2): nothing changed at (0, 0); green is no Red-Mask change
    assert x[1, 3, 0, 0] == 0 and x[1, 6, 0, 0] == 0
    assert x[1, 4, 1, 1] == 1 and x[1, 6, 1, 1] == 0


def spot_windows(num, radius=2, size=16, seed=0):
    """Windows where a red spot appears at a random candidate (target) or never ("none")."""
    rng = np.random.default_rng(seed)
    xs, targets = [], []
    for _ in range(num):
        crops = np.repeat(rng.integers(90, 160, (1, size, size, 3), dtype=np.uint8),
                          2 * radius + 2, 0)
        target = int(rng.integers(0, 2 * radius + 2))  # 2R + 1: no spot
        if target <= 2 * radius:
            crops[target + 1:, 5:9, 6:10] = (190, 10, 10)
        xs.append(refine_input(crops))
        targets.append(target)
    return torch.stack(xs), targets


def test_refiner_overfits_a_few_windows():
    from mmengine.structures import BaseDataElement
    torch.manual_seed(0)
    model = OnsetRefiner(radius=2, crop=16, channels=(8, 8), temporal_channels=16, dropout=0.0)
    x, targets = spot_windows(24)
    samples = [BaseDataElement(metainfo=dict(target=t)) for t in targets]
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = model(x, samples, mode='loss')['loss_refine']
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(float(loss))
    assert losses[-1] < 0.3 * losses[0]
    model.eval()
    out = model(x, samples, mode='predict')
    assert [o.pred_target for o in out] == targets
    position, prob = model.refine(x[0])
    assert position == (None if targets[0] == 5 else targets[0]) and 0 < prob <= 1
    with pytest.raises(ValueError, match=r'expected \(B, 5, C, S, S\)'):
        model(x[:, :4])
    with pytest.raises(ValueError, match='unknown mode'):
        model(x, samples, mode='train')
    with pytest.raises(ValueError, match='radius >= 1'):
        OnsetRefiner(radius=0)


def test_refine_dataset_labels_the_frame_where_the_spot_appears(tmp_path):
    root = make_detect_tree(tmp_path / 'bench')
    kwargs = dict(input_size=(96, 80), radius=2, crop=16, jitter=3.0,
                  cache_dir=str(tmp_path / 'cache'))
    test = OnsetRefineDataset(root, 'train', test_offsets=(-2, 0, 1, 2), test_mode=True,
                              **kwargs)
    assert len(test) == 3 * 4  # 3 positive training clips (one negative is skipped)
    for index in range(len(test)):
        item = test[index]
        meta = item['data_samples'].metainfo
        assert item['inputs'].shape == (5, 7, 16, 16)
        assert meta['target'] == 2 - meta['offset']
        # the crop is centred on the source: the Red-Mask at its centre first jumps at the
        # labelled candidate (the spot appears there; the texture's drift changes it less)
        red_change = item['inputs'][:, 6, 6:10, 6:10].mean(dim=(1, 2))
        assert int(torch.nonzero(red_change > 0.2)[0]) == meta['target']
    train = OnsetRefineDataset(root, 'train', samples_per_clip=5, none_prob=0.5,
                               scale=(0.8, 1.25), degrade_prob=0.5, noise_prob=0.5, **kwargs)
    assert len(train) == 15
    np.random.seed(0)
    items = [train[i] for i in range(len(train))]
    assert all(item['inputs'].shape == (5, 7, 16, 16) for item in items)
    assert all(item['inputs'][:, :3].min() >= 0 and item['inputs'][:, :3].max() <= 1
               for item in items)
    targets = [item['data_samples'].metainfo['target'] for item in items]
    assert 5 in targets and any(t < 5 for t in targets)  # "none" and candidates
    with pytest.raises(ValueError, match='scale must be'):
        OnsetRefineDataset(root, 'train', scale=(1.2, 0.8), **kwargs)
    with pytest.raises(ValueError, match='test_offsets'):
        OnsetRefineDataset(root, 'train', test_offsets=(3, ), test_mode=True, **kwargs)
    negatives = make_detect_tree(tmp_path / 'neg', onsets={
        (p, 'C1'): None for p in ('P01', 'P02', 'P03', 'P04', 'P05')})
    with pytest.raises(ValueError, match='no positive clip'):
        OnsetRefineDataset(negatives, 'train', **kwargs)


def test_refine_metric_hand_computed():
    metric = RefineMetric()
    samples = [dict(offset=0, target=8, radius=8, pred_target=8),    # exact
               dict(offset=-3, target=11, radius=8, pred_target=12),  # 1 off
               dict(offset=5, target=3, radius=8, pred_target=17),    # none: coarse 5 off
               dict(offset=10, target=17, radius=8, pred_target=0)]   # outside: |10+0-8| = 2
    metric.process({}, samples)
    out = metric.compute_metrics(metric.results)
    assert out['acc_0'] == 25.0 and out['acc_1'] == 50.0
    assert out['coarse_acc_0'] == 25.0
    assert out['select_err'] == pytest.approx((0 + 1 + 5 + 2) / 4)


def test_onset_metric_reports_eq2_before_the_refiner():
    from bleedorigin.evaluation.metrics import OnsetMetric
    metric = OnsetMetric()
    metric.process(None, [dict(pred_onset=12, pred_onset_coarse=10, gt_onset=12,
                               num_frames=100),
                          dict(pred_onset=40, pred_onset_coarse=41, gt_onset=41,
                               num_frames=100),
                          dict(pred_onset=None, pred_onset_coarse=None, gt_onset=None,
                               num_frames=100)])
    metrics = metric.compute_metrics(metric.results)
    assert metrics['acc_0'] == 50.0 and metrics['acc_1'] == 100.0
    assert metrics['eq2_unrefined/acc_0'] == 50.0 and metrics['eq2_unrefined/acc_1'] == 50.0
    assert metrics['eq2_unrefined/acc_2'] == 100.0
    # without the refiner's field there is no such row
    metric = OnsetMetric()
    metric.process(None, [dict(pred_onset=12, gt_onset=12, num_frames=100)])
    assert not any(k.startswith('eq2_unrefined') for k in metric.compute_metrics(metric.results))


def test_refiner_test_flip_is_invariant_to_mirroring_the_window():
    torch.manual_seed(0)
    model = OnsetRefiner(radius=2, crop=16, channels=(8, 8), temporal_channels=16,
                         test_flip=True).eval()
    x, _ = spot_windows(3, seed=1)
    for window in x:
        crops_flipped = window.flip(-1)
        prob = model.logits(torch.stack([window, crops_flipped])).softmax(1).mean(0)
        best = int(prob.argmax())
        assert model.refine(window) == model.refine(crops_flipped)
        assert model.refine(window)[0] == (None if best == 5 else best)


def test_refine_cascade_confirms_the_first_candidate_a_window_names():
    """Hand-made: windows at c and c + 5 (R = 2); the refiner names nothing in windows
    centred below 14 and frame centre + 1 elsewhere. Each window is asked once, when frame
    centre + R exists; a candidate whose windows all name nothing is dropped."""
    asked = []

    def ask(centre):
        asked.append(centre)
        return None if centre < 14 else centre + 1

    cascade = RefineCascade(lambda c: [c, c + 5], radius=2)
    cascade.propose(4)  # windows 4 and 9: both name nothing
    cascade.propose(None)  # a window below the candidate threshold
    assert cascade.step(5, ask) is None and asked == []  # frame 6 = 4 + R not in yet
    assert cascade.step(6, ask) is None and asked == [4]
    cascade.propose(10)  # windows 10 and 15
    cascade.propose(4)  # proposed before: not asked again
    assert cascade.step(11, ask) is None and asked == [4, 9]
    assert cascade.dropped == 1 and [p[0] for p in cascade.pending] == [10]
    assert cascade.step(12, ask) is None and asked == [4, 9, 10]
    assert cascade.step(16, ask) is None  # window 15 needs frame 17
    assert cascade.step(17, ask) == 16 and asked == [4, 9, 10, 15]
    assert (cascade.onset, cascade.candidate) == (16, 10)
    cascade.propose(30)  # after the alarm nothing more is asked
    assert cascade.step(40, ask) == 16 and asked == [4, 9, 10, 15] and not cascade.pending
    # windows shared by two candidates are asked once; several windows ready at once are
    # asked in order until one names a frame
    asked.clear()
    cascade = RefineCascade(lambda c: [c, c + 5], radius=2)
    cascade.propose(4)  # windows 4 and 9
    cascade.propose(9)  # windows 9 (asked for candidate 4 already) and 14
    assert cascade.step(30, ask) == 15 and asked == [4, 9, 14]
    assert cascade.candidate == 9 and cascade.dropped == 1
    with pytest.raises(ValueError, match='radius must be >= 0'):
        RefineCascade(lambda c: [c], radius=-1)
