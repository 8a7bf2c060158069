"""Label-free forward-backward round trip on a hand-made translating video."""
import json
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from bleedorigin.apis.round_trip import grid_points, round_trip, summarise
from bleedorigin.models.trackers.baselines import LucasKanadeTracker, ZeroMotionTracker

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis_tools'))
import round_trip as round_trip_tool  # noqa: E402


def translating_frames(num=13, shift=(1.5, 0.5), size=(160, 120)):
    rng = np.random.default_rng(0)
    w, h = size
    tex = cv2.resize(rng.random((h // 4 + 20, w // 4 + 20, 3)).astype(np.float32),
                     (w + 80, h + 80), interpolation=cv2.INTER_CUBIC)
    tex = (255 * (tex - tex.min()) / np.ptp(tex)).astype(np.uint8)
    frames = []
    for t in range(num):
        m = np.float32([[1, 0, shift[0] * t - 40], [0, 1, shift[1] * t - 40]])
        frames.append(cv2.warpAffine(tex, m, size, flags=cv2.INTER_LINEAR))
    return frames


def test_grid_points_and_bad_arguments():
    pts = grid_points(100, 50, per_side=3, margin=0.2)
    assert pts.shape == (9, 2)
    np.testing.assert_allclose(pts[0], [20, 10])
    np.testing.assert_allclose(pts[-1], [80, 40])
    with pytest.raises(ValueError, match='per_side'):
        grid_points(100, 50, per_side=0)
    with pytest.raises(ValueError, match='at least 2 frames'):
        round_trip(LucasKanadeTracker, translating_frames(1), pts)


def test_round_trip_of_lucas_kanade_returns_home_and_reports_motion():
    frames = translating_frames()
    points = grid_points(160, 120, per_side=3, margin=0.3)
    result = round_trip(LucasKanadeTracker, frames, points)
    assert result['error'].max() < 0.3
    np.testing.assert_allclose(result['motion'], np.hypot(1.5 * 12, 0.5 * 12), atol=0.3)
    zero = round_trip(ZeroMotionTracker, frames, points)
    assert zero['error'].max() == 0 and zero['motion'].max() == 0  # why motion is printed
    s = summarise([result['error']], [result['motion']], 160)
    assert s['within_1pct'] == 100.0 and s['points'] == 9


def test_cli_on_a_frames_folder(tmp_path, capsys):
    folder = tmp_path / 'video'
    folder.mkdir()
    for i, frame in enumerate(translating_frames()):
        cv2.imwrite(str(folder / f'{i:05d}.png'), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    out = tmp_path / 'rt.json'
    summary = round_trip_tool.main([str(folder), '--baselines', 'lucas_kanade', 'zero_motion',
                                    '--horizon', '12', '--grid', '3', '--out', str(out)])
    printed = capsys.readouterr().out
    assert '| lucas_kanade |' in printed and '| zero_motion |' in printed
    assert summary['lucas_kanade']['within_1pct'] == 100.0
    saved = json.loads(out.read_text())
    assert saved['horizon'] == 12 and str(folder) in saved['per_video']
    with pytest.raises(FileNotFoundError, match='input not found'):
        round_trip_tool.main([str(tmp_path / 'missing.mp4')])
