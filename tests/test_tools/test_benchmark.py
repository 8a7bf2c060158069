"""The benchmark on the tiny synthetic preset: tables, JSON, breakdown, efficiency.

The pieces are package code (``bleedorigin.evaluation.{bench_scoring,priors,breakdown}``,
``bleedorigin.apis.benchmark``); only the command-line wiring is tested through
tools/benchmark.py."""
import json
import os.path as osp

import numpy as np
import pytest
import torch
from tool_loader import load_tool

from bleedorigin.apis.benchmark import BenchmarkConfig, run_benchmark
from bleedorigin.evaluation.bench_scoring import track_errors
from bleedorigin.evaluation.breakdown import group_indices
from bleedorigin.evaluation.priors import prior_predictions

REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    from bleedorigin.datasets.synthetic import ensure_synthetic

    root = str(tmp_path_factory.mktemp('bench') / 'tiny')
    ensure_synthetic(data_root=root, preset='tiny', seed=0, workers=1, progress=False)
    return root


def _clip(**kw):
    """A ClipRecord made in memory (no files: frames are never decoded here)."""
    from bleedorigin.datasets.bench import ClipRecord, SourcePoint

    base = dict(clip_id='P01_C01', patient_id='P01', split='test', clip_dir='/nonexistent',
                fps=30.0, num_frames=6, width=100, height=50, video='frames', onset_frame=2,
                site='cardia', scenarios=['clear_view'], annotation_stride=2, source='test',
                annotations={2: [SourcePoint(0, 10.0, 10.0)], 4: [SourcePoint(0, 20.0, 10.0)],
                             5: []}, has_dense_gt=False, rel_dir='clips/P01/P01_C01')
    base.update(kw)
    return ClipRecord(**base)


def test_track_errors_uses_visible_annotations_after_start():
    clip = _clip()
    preds = np.array([[[10, 10]], [[12, 10]], [[23, 14]], [[0, 0]]], np.float32)  # frames 2..5
    sparse, dense = track_errors(clip, np.array([0]), preds)
    # frame 4 only: the start frame is excluded and frame 5 is labelled invisible
    assert sparse.tolist() == pytest.approx([5.0])
    assert dense.size == 0


class _ShiftTracker:
    def __init__(self, dx):
        self.dx, self.points = dx, None

    def init(self, frame, query):
        self.points = np.asarray(query, np.float32).copy()

    def step(self, frame):
        self.points = self.points + [self.dx, 0]
        return self.points, None


def test_run_trackers_on_clip_decodes_once_and_keeps_the_query_row():
    from bleedorigin.evaluation.track_runner import run_tracker_on_clip, run_trackers_on_clip

    decoded = []
    clip = _clip()
    clip.load_frames = lambda indices: decoded.extend(indices) or [None] * len(indices)
    out = run_trackers_on_clip({'a': _ShiftTracker(1), 'b': _ShiftTracker(-2)}, clip,
                               np.array([[10.0, 10.0]]), start=2, stop=6, chunk=3)
    assert decoded == [2, 3, 4, 5]
    assert out['a'][:, 0, 0].tolist() == [10, 11, 12, 13]
    assert out['b'][:, 0, 0].tolist() == [10, 8, 6, 4]
    groups, preds = run_tracker_on_clip(_ShiftTracker(1), clip, chunk=2)
    assert groups.tolist() == [0] and preds.shape == (4, 1, 2)


def test_priors_and_groups():
    train = [_clip(onset_frame=1), _clip(onset_frame=3), _clip(onset_frame=5, num_frames=9)]
    for c, x in zip(train, (10.0, 30.0, 50.0)):
        from bleedorigin.datasets.bench import SourcePoint
        c.annotations = {c.onset_frame: [SourcePoint(0, x, 25.0)]}
    clips = [_clip(scenarios=['clear_view', 'camera_jitter']), _clip(onset_frame=None,
                                                                      site='duodenum')]
    onset, source = prior_predictions(train, clips, clips[:1])
    assert onset == [3, 3]
    assert source[0] == pytest.approx((30.0, 25.0))
    groups = group_indices(clips)
    assert groups['scenario: clear_view'] == [0, 1]
    assert groups['scenario: camera_jitter'] == [0]
    assert groups['site: duodenum'] == [1]


def test_benchmark_end_to_end(tiny_data, tmp_path):
    out = str(tmp_path / 'bench_out')
    # the tiny preset's test split is one negative clip: evaluate the train split (4 clips)
    cli = load_tool('tools/benchmark.py')
    metrics = cli.main(['--data', tiny_data, '--split', 'train', '--out', out,
                        '--efficiency-frames', '3', '--baselines', 'zero_motion',
                        'lucas_kanade', '--detect', 'none', '--track', 'none',
                        '--yolo', 'none'])
    assert osp.isfile(osp.join(out, 'tables.md')) and osp.isfile(osp.join(out, 'breakdown.png'))
    with open(osp.join(out, 'results.json')) as f:
        results = json.load(f)
    assert results['benchmark/num_clips'] == metrics['benchmark/num_clips'] >= 1
    # the zero-motion baseline and the priors are always evaluated
    assert 0 <= results['track/zero_motion/err_le_100'] <= 100
    assert 'onset/prior_median/acc_0' in results and 'source/prior_mean/err_avg' in results
    # no YOLO run: the reference YOLO11-n at its 640 px and at 512 px, on the same 3 frames
    own = 'efficiency/YOLOv11-n at 640 px, own input size (baseline)'
    assert results[f'{own}/fps'] > 0 and results[f'{own}/frames'] == 3
    assert results['efficiency/YOLOv11-n at 512 px (baseline)/frames'] == 3
    # 640 px letterboxes 512x384 frames to 640x480: (640 * 480) / (512 * 384) more work
    assert results[f'{own}/gflops'] / results[
        'efficiency/YOLOv11-n at 512 px (baseline)/gflops'] == pytest.approx(640 * 480 /
                                                                            (512 * 384), rel=0.05)
    with open(osp.join(out, 'tables.md')) as f:
        tables = f.read()
    for title in ('Table 3', 'Table 4', 'Table 7', 'Table 10', 'Per-scenario and per-site'):
        assert title in tables
    assert '| YOLOv11-n at 640 px, own input size (baseline) |' in tables
    assert '| 640x480 | 3 |' in tables and '| 512x384 | 3 |' in tables
    assert '| zero_motion |' in tables and '| prior_median |' in tables
    assert 'our detector not evaluated' in tables
    # Table 10 timed every row at all cores and at one torch thread, keeping the faster
    assert '| frames | torch threads |' in tables
    assert results[f'{own}/threads'] in {1, torch.get_num_threads()}


def test_benchmark_rejects_bad_thread_counts(tmp_path, capsys):
    cli = load_tool('tools/benchmark.py')
    with pytest.raises(SystemExit):
        cli.main(['--data', str(tmp_path), '--out', str(tmp_path / 'o'),
                  '--efficiency-threads', '0'])
    assert 'thread counts must be >= 1' in capsys.readouterr().err


def test_benchmark_rejects_missing_split(tiny_data, tmp_path):
    from bleedorigin.datasets.bench import BenchFormatError

    with pytest.raises(BenchFormatError, match='nosuch'):
        run_benchmark(BenchmarkConfig(data=tiny_data, out=str(tmp_path), split='nosuch'))


def test_benchmark_with_our_detector_and_tracker(tiny_data, tmp_path):
    """The --detect/--track path: our models are scored by the same metrics as the priors."""
    import torch
    from mmengine.config import Config

    import bleedorigin  # noqa: F401
    from bleedorigin.registry import MODELS

    paths = {}
    for name in ('detect', 'track'):
        torch.manual_seed(0)
        model = MODELS.build(Config.fromfile(
            osp.join(REPO_ROOT, 'configs', 'bleedorigin', f'{name}.py')).model)
        paths[name] = str(tmp_path / f'{name}.pth')
        torch.save({'state_dict': model.state_dict(), 'meta': {}}, paths[name])
    out = str(tmp_path / 'ours')
    metrics = run_benchmark(BenchmarkConfig(
        data=tiny_data, split='train', out=out, detect=paths['detect'], track=paths['track'],
        detect_config=osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'detect.py'),
        track_config=osp.join(REPO_ROOT, 'configs', 'bleedorigin', 'track.py'),
        efficiency_frames=2, baselines=['zero_motion']))
    # our rows exist next to the baselines, computed on the same clips
    for key in ('onset/acc_8', 'onset/miss_rate', 'source/err_le_100', 'track/err_le_100',
                'track/zero_motion/err_le_100', 'source/prior_mean/err_le_100'):
        assert key in metrics, key
        assert metrics[key] is None or 0 <= metrics[key] <= 100
    with open(osp.join(out, 'tables.md')) as f:
        tables = f.read()
    assert '| BleedOrigin (ours) |' in tables
    assert 'our detector not evaluated' not in tables
    # Table 10: the pipeline ran both phases on the 2 frames (onset injected at frame 1),
    # every row has a real peak allocation and the frame count it was timed on
    phases = {k: v for k, v in metrics.items() if k.startswith('efficiency/Whole pipeline:')}
    assert phases['efficiency/Whole pipeline: onset phase (ours)/frames'] == 1
    assert phases['efficiency/Whole pipeline: tracking phase (ours)/frames'] == 1
    assert phases['efficiency/Whole pipeline: all frames (ours)/frames'] == 2
    assert metrics['efficiency/Bleeding source tracking (ours)/peak_mem_mb'] > 0
    assert metrics['efficiency/pipeline_slower_phase_fps'] == pytest.approx(min(
        phases['efficiency/Whole pipeline: onset phase (ours)/fps'],
        phases['efficiency/Whole pipeline: tracking phase (ours)/fps']))
    assert 'Pipeline stream: onset phase 1 frames, tracking phase 1 frames' in tables
