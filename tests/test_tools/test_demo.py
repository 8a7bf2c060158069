"""tools/demo.py end to end with the real (randomly initialised) models, and its defaults."""
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from tool_loader import load_tool

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
REAL_CLIPS = osp.join(REPO, '..', 'shared', 'reference', 'esd_bleedorigin_clips')
CONFIGS = osp.join(REPO, 'configs')
TRACK = ['--track-config', osp.join(CONFIGS, 'bleedorigin', 'track.py'), '--random-weights']
WINDOW = 6


@pytest.fixture(scope='module')
def demo():
    return load_tool('tools/demo.py')


@pytest.fixture()
def small_detect_config(tmp_path):
    """The project's detect config with a short window and S_conf threshold 0, so an
    untrained detector fires after WINDOW frames. The refiner's search stays on: a
    16-frame video ends before its windows, and the onset is settled at the end
    (``BleedOriginNet.finish``)."""
    path = tmp_path / 'detect_small.py'
    path.write_text(f"_base_ = ['{CONFIGS}/bleedorigin/detect.py']\n"
                    f"model = dict(onset_head=dict(window_size={WINDOW}), conf_thr=0.0, "
                    "onset_refine_confirm=False)\n")
    return str(path)


def _frames(count, height=72, width=96):
    rng = np.random.default_rng(1)
    base = np.clip(rng.normal((170, 110, 100), 8, size=(height, width, 3)), 0, 255)
    frames = []
    for t in range(count):
        frame = base.copy()
        if t >= 8:
            cv2.circle(frame, (60, 36), 2 + t - 8, (150, 10, 15), -1)
        frames.append(frame.astype(np.uint8))
    return frames


def _write_avi(path, frames, fps=25.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), fps,
                             (frames[0].shape[1], frames[0].shape[0]))
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()


def _count_frames(path):
    capture = cv2.VideoCapture(str(path))
    count = 0
    while capture.read()[0]:
        count += 1
    capture.release()
    return count


def test_demo_video_to_annotated_video_and_json(demo, tmp_path, small_detect_config, capfd):
    video = tmp_path / 'in.avi'
    _write_avi(video, _frames(16))
    out, records = tmp_path / 'out' / 'annotated.mp4', tmp_path / 'out' / 'frames.json'
    summary = demo.main([str(video), '--detect-config', small_detect_config, *TRACK,
                         '--out', str(out), '--json', str(records), '--no-progress',
                         '--screenshot', str(tmp_path / 'shot.png')])
    assert _count_frames(out) == 16
    shot = cv2.imread(str(tmp_path / 'shot.png'))
    assert shot.shape == (72, 96, 3)
    red = (shot[..., 2] > 180) & (shot[..., 1] < 80) & (shot[..., 0] < 80)
    assert red[:20].any()  # the "Bleeding" label: the shot is taken after the alert
    data = json.loads(records.read_text())
    assert [r['frame_index'] for r in data['frames']] == list(range(16))
    assert data['frames'][WINDOW - 1]['state'] == 'bleeding'
    assert data['frames'][WINDOW - 2]['state'] == 'non_bleeding'
    # the search's windows lie past the 16th frame: the onset, the source and the tracked
    # point are settled when the video ends and written with the summary
    assert data['frames'][-1]['source_point'] is None
    final = data['summary']['end_of_stream']
    assert data['summary']['onset_at_stream_end'] and final['frame_index'] == 15
    assert len(final['points']) == 1 and final['source_point'] is not None
    assert data['summary']['frames'] == 16 and data['summary']['alert_frame'] == WINDOW - 1
    assert summary['mean_fps'] > 0 and summary['source']['decoded_frames'] == 16
    out = capfd.readouterr().out
    assert 'summary: 16 frames' in out
    assert 'random weights: the detector and tracker keep their random initialisation' in out


def test_demo_frames_folder_with_faults(demo, tmp_path, small_detect_config):
    folder = tmp_path / 'frames'
    folder.mkdir()
    frames = _frames(14)
    for t, frame in enumerate(frames):
        if t == 5:
            frame = np.zeros_like(frame)                      # black
        if t == 7:
            frame = cv2.resize(frame, (48, 36))               # another size
        cv2.imwrite(str(folder / f'{t:06d}.png'), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (folder / '000003.png').write_bytes(b'\x89PNG broken')   # undecodable
    out = tmp_path / 'faults.avi'
    summary = demo.main([str(folder), '--detect-config', small_detect_config, *TRACK,
                         '--out', str(out), '--no-progress'])
    assert summary['frames'] == 14
    assert summary['dropped_frames'] == 1 and summary['black_frames'] == 1
    assert summary['resized_frames'] == 1 and summary['model_errors'] == 0
    assert summary['source']['undecodable_frames'] == 1
    assert _count_frames(out) == 14  # faulty frames keep the time line


def test_demo_evaluation_mode_and_bad_input(demo, tmp_path, small_detect_config):
    video = tmp_path / 'in.avi'
    _write_avi(video, _frames(10))
    records = tmp_path / 'eval.json'
    demo.main([str(video), '--detect-config', small_detect_config, *TRACK, '--json', str(records),
               '--mode', 'evaluation', '--gt-onset', '8', '--gt-point', '60', '36',
               '--no-progress'])
    frames = json.loads(records.read_text())['frames']
    assert frames[7]['state'] == 'non_bleeding' and frames[8]['state'] == 'bleeding'
    assert frames[8]['points'] == [[60.0, 36.0]]
    with pytest.raises(SystemExit):
        demo.main([str(video), '--mode', 'evaluation', '--json', str(records)])
    with pytest.raises(OSError, match='no such video file'):
        demo.main([str(tmp_path / 'missing.mp4'), '--json', str(records), '--no-progress'])
    with pytest.raises(SystemExit):
        demo.main(['--json', str(records)])  # neither INPUT nor --builtin
    with pytest.raises(SystemExit):
        demo.main([str(video), '--json', str(records), '--threads', '0'])


def test_demo_defaults_to_shipped_weights_never_random(demo, tmp_path, monkeypatch, capfd):
    """Without --detect/--track the shipped checkpoints are required: an empty zoo is one clear
    error, not a silent run on random weights."""
    video = tmp_path / 'in.avi'
    _write_avi(video, _frames(4))
    zoo = tmp_path / 'zoo'
    monkeypatch.setenv('BLEEDORIGIN_CHECKPOINTS', str(zoo))
    with pytest.raises(OSError, match="no shipped checkpoint named 'detect'.*--detect"):
        demo.main([str(video), '--json', str(tmp_path / 'r.json'), '--no-progress'])
    assert 'random weights' not in capfd.readouterr().out
    # a given detector file still needs the shipped tracker
    detect = tmp_path / 'own.pth'
    detect.write_bytes(b'')
    with pytest.raises(OSError, match="no shipped checkpoint named 'track'.*--track"):
        demo.main([str(video), '--detect', str(detect), '--track-config', TRACK[1], '--json',
                   str(tmp_path / 'r.json'), '--no-progress'])
    # the command line: one error line, exit code 2
    env = dict(os.environ, BLEEDORIGIN_CHECKPOINTS=str(zoo), PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, osp.join(REPO, 'tools', 'demo.py'), str(video),
                           '--json', str(tmp_path / 'r.json')], capture_output=True, text=True,
                          env=env, cwd=str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no shipped checkpoint named 'detect'")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_demo_builtin_renders_a_clip_and_writes_the_outputs(demo, tmp_path, monkeypatch,
                                                            small_detect_config, capfd):
    from bleedorigin.datasets.synthetic.generator import clip_specs
    from bleedorigin.datasets.synthetic.presets import get_preset

    spec = next(s for s in clip_specs(get_preset('tiny'), 0) if s['role'] == 'positive')
    builtin = demo.builtin_clip
    monkeypatch.setattr(demo, 'builtin_clip', lambda out: builtin(
        out, data_root=str(tmp_path / 'no_data'), clip_id=spec['clip_id'], preset='tiny'))
    out = tmp_path / 'try_it'
    summary = demo.main(['--builtin', '--out', str(out), '--detect-config', small_detect_config,
                         *TRACK, '--no-progress'])
    for name in ('annotated.mp4', 'frames.json', 'alert.png'):
        assert (out / name).is_file(), name
    clip = json.loads(next((out / 'data' / 'clips').glob('*/*/clip.json')).read_text())
    assert clip['clip_id'] == spec['clip_id'] and summary['frames'] == clip['num_frames']
    assert _count_frames(out / 'annotated.mp4') == clip['num_frames']
    text = capfd.readouterr().out
    assert 'rendering the built-in synthetic clip' in text
    line = next(t for t in text.splitlines() if t.startswith('try it: '))
    assert f"(true {clip['onset_frame']})" in line and 'alert at frame' in line and 'FPS' in line
    # a second run reuses the rendered clip
    demo.main(['--builtin', '--out', str(out), '--detect-config', small_detect_config, *TRACK,
               '--no-progress', '--max-frames', '3'])
    assert 'rendering' not in capfd.readouterr().out


def test_demo_truncated_video_ends_cleanly(demo, tmp_path, small_detect_config, capfd):
    video = tmp_path / 'full.avi'
    _write_avi(video, _frames(20))
    cut = tmp_path / 'cut.avi'
    data = video.read_bytes()
    cut.write_bytes(data[:len(data) // 2])
    records = tmp_path / 'cut.json'
    summary = demo.main([str(cut), '--detect-config', small_detect_config, *TRACK,
                         '--json', str(records), '--no-progress'])
    assert summary['source']['truncated'] and summary['source']['expected_frames'] == 20
    assert 0 < summary['frames'] < 20
    assert json.loads(records.read_text())['summary']['frames'] == summary['frames']
    assert 'truncated' in capfd.readouterr().out


@pytest.mark.skipif(not glob.glob(osp.join(REAL_CLIPS, '*.mp4')),
                    reason='real reference clips (../shared/reference) not present')
def test_demo_smoke_on_real_esd_clip(demo, tmp_path):
    clip = sorted(glob.glob(osp.join(REAL_CLIPS, '*.mp4')))[0]
    summary = demo.main([clip, '--detect-config', osp.join(CONFIGS, 'bleedorigin', 'detect.py'),
                         *TRACK, '--out', str(tmp_path / 'real.mp4'), '--max-frames', '16',
                         '--no-progress'])
    assert summary['frames'] == 16 and summary['model_errors'] == 0
    assert _count_frames(tmp_path / 'real.mp4') == 16
