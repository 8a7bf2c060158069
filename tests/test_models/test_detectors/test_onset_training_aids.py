"""Training aids of issue 11: per-branch gradient clipping, temporal-difference tokens and
the continuous checkpoint-selection score."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from test_bleed_origin_detector import onset_item, source_item, tiny_detector

from bleedorigin.evaluation.metrics.onset_metric import OnsetMetric, selection_error
from bleedorigin.registry import MODELS


def test_branch_clip_clips_each_branch_and_logs_norms():
    torch.manual_seed(0)
    model = tiny_detector(branch_clip=1e-3)
    items = [onset_item(), onset_item(onset=None, seed=1), source_item()]
    batch = dict(inputs=[i for i, _ in items], data_samples=[s for _, s in items])
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.0))
    log_vars = model.train_step(batch, optim)
    assert {'grad_norm_onset', 'grad_norm_source', 'loss'} <= set(log_vars)
    # SGD with lr 1: each branch moved by at most its clipped norm
    for name, params in model.branch_parameters().items():
        names = {id(p): n for n, p in model.named_parameters()}
        step = torch.stack([(p.detach() - before[names[id(p)]]).norm() for p in params]).norm()
        assert step <= 1e-3 * 1.01, name
        assert float(log_vars[f'grad_norm_{name}']) > 1e-3


def test_onset_head_temporal_diff_and_pre_norm():
    head = MODELS.build(dict(type='OnsetHead', in_channels=16, window_size=8, num_layers=1,
                             num_heads=4, ffn_channels=16, temporal_diff=True,
                             norm_first=True))
    feats = torch.randn(3, 8, 16)
    loc, conf = head(feats)
    assert loc.shape == conf.shape == (3, 8)
    losses = head.loss(feats, torch.tensor([2, -1, 7]))
    sum(losses.values()).backward()
    assert head.input_proj.weight.grad is not None


def test_selection_error_does_not_tie_when_nothing_fires():
    never = [dict(pred_onset=None, gt_onset=40, max_confidence=0.1),
             dict(pred_onset=None, gt_onset=None, max_confidence=0.0)]
    almost = [dict(pred_onset=None, gt_onset=40, max_confidence=0.45),
              dict(pred_onset=None, gt_onset=None, max_confidence=0.0)]
    assert selection_error(almost) < selection_error(never)
    good = [dict(pred_onset=42, gt_onset=40, max_confidence=0.9),
            dict(pred_onset=None, gt_onset=None, max_confidence=0.2)]
    assert selection_error(good) == 1.0  # (2 + 0) / 2
    alarm = [dict(pred_onset=42, gt_onset=40), dict(pred_onset=3, gt_onset=None)]
    assert selection_error(alarm, miss_error=60) == 31.0
    metric = OnsetMetric()
    metric.process(None, [dict(pred_onset=None, gt_onset=40, num_frames=100,
                               max_confidence=0.3)])
    assert metric.compute_metrics(metric.results)['select_err'] == pytest.approx(60 * 1.7)


def test_state_decoder_first_run_of_confident_frames():
    from bleedorigin.models.utils import onset_from_states

    probs = [0.1, 0.9, 0.2, 0.7, 0.8, 0.9, 0.6, 0.1]
    assert onset_from_states(probs, 0.5, 3) == 3
    assert onset_from_states(probs, 0.5, 1) == 1
    assert onset_from_states(probs, 0.5, 5) is None
    with pytest.raises(ValueError):
        onset_from_states(probs, 0.5, 0)
    metric = OnsetMetric()
    metric.process(None, [dict(pred_onset=10, pred_onset_state=12, gt_onset=12,
                               num_frames=100),
                          dict(pred_onset=None, pred_onset_state=None, gt_onset=None,
                               num_frames=100)])
    metrics = metric.compute_metrics(metric.results)
    assert metrics['acc_0'] == 0.0 and metrics['state_decoder/acc_0'] == 100.0
    assert metrics['state_decoder/false_alarm_rate'] == 0.0


def test_window_decoding_keeps_float32_exact_frames():
    from bleedorigin.models.utils import onset_from_windows

    window = 60
    for k in range(window):
        theta = float((torch.tensor(float(k)) / window).float())
        assert onset_from_windows([100], [theta], [0.9], window) == 100 + k
