"""tools/analysis_tools/benchmark_pipeline.py on a tiny video."""
import json

import cv2
from pipeline_fixtures import stream_frames
from tool_loader import load_tool


def test_benchmark_reports_both_phases_and_stage_latency(tmp_path):
    tool = load_tool('tools/analysis_tools/benchmark_pipeline.py')
    video = str(tmp_path / 'in.avi')
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'MJPG'), 25.0, (64, 48))
    for frame in stream_frames(6, onset=2):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    out = tmp_path / 'bench.json'
    report = tool.main(['--input', video, '--frames', '10', '--onset', '4', '--size', '64', '48',
                        '--warmup', '1', '--threads', '1', '--overlay', '--out', str(out)])
    saved = json.loads(out.read_text())
    assert saved['frames'] == 10 and saved['size'] == [64, 48] and saved['untrained']
    stages = saved['stage_latency_ms']
    assert stages['detect']['frames'] == 4      # frames 0-3 before the injected onset
    assert stages['track']['frames'] == 6       # init on frame 4, steps on frames 5-9
    assert stages['locate']['frames'] == 1
    assert saved['overlay_ms']['frames'] == 10
    assert report['fps_end_to_end'] > 0 and report['fps_tracking_phase'] > 0
    assert saved['summary']['tracker_frames'] == 5
