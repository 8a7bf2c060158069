"""labelme2bench end to end on tiny videos made with cv2.VideoWriter, read back by BenchIndex."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from tool_loader import load_tool

from bleedorigin.datasets.bench import BenchIndex, SourcePoint

TOOL = 'tools/dataset_converters/labelme2bench.py'
W, H = 32, 24


def make_video(path, num_frames):
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), 30, (W, H))
    for t in range(num_frames):
        frame = np.zeros((H, W, 3), np.uint8)
        frame[:, :16] = t % 256  # left half encodes the frame index
        writer.write(frame)
    writer.release()


def labelme(folder, name, points, **extra):
    os.makedirs(folder, exist_ok=True)
    shapes = [{'label': 'bleeding_source', 'points': [[x, y]], 'group_id': g, 'shape_type': 'point'}
              for g, x, y in points]
    shapes.append({'label': 'knife', 'points': [[0, 0], [3, 3]], 'shape_type': 'rectangle'})
    doc = {'version': '5.4.1', 'flags': {}, 'shapes': shapes, 'imagePath': '/somewhere/else.png',
           'imageData': None, 'imageHeight': H, 'imageWidth': W}
    doc.update(extra)
    with open(osp.join(folder, name), 'w') as f:
        json.dump(doc, f)


@pytest.fixture
def recordings(tmp_path):
    videos, labels = tmp_path / 'videos', tmp_path / 'labelme'
    os.makedirs(videos)
    make_video(str(videos / 'case01.mp4'), 230)
    make_video(str(videos / 'case02.mp4'), 160)
    make_video(str(videos / 'case03.mp4'), 160)
    # case01: onset at 130 with tracking labels every 30 frames (one invisible), 2 sources
    labelme(str(labels / 'case01'), 'frame_130.json', [(None, 10.5, 12.0), (1, 20, 5)])
    labelme(str(labels / 'case01'), 'frame_160.json', [(None, 11.0, 12.5)])
    labelme(str(labels / 'case01'), 'frame_190.json', [])
    # a label far from the stride is kept but does not extend the tracking clip
    labelme(str(labels / 'case01'), 'frame_225.json', [(None, 1, 1)])
    # case02: onset at 40 (< 120, clip window shifted), no tracking labels
    labelme(str(labels / 'case02'), '000040.json', [(0, 5, 6)])
    csv_path = tmp_path / 'onsets.csv'
    csv_path.write_text('video,onset_frame,site,scenarios,patient\n'
                        'case01.mp4,130,gastric_body,water_flushing;camera_jitter,\n'
                        'case02.mp4,40,duodenum,,\n'
                        'case03.mp4,,,,\n')
    return tmp_path, csv_path


def test_bad_csv_row_and_negative_needs_start(recordings, capsys):
    tmp_path, csv_path = recordings
    tool = load_tool(TOOL)
    args = [str(csv_path), str(tmp_path / 'out'), '--video-dir', str(tmp_path / 'videos'),
            '--labelme-dir', str(tmp_path / 'labelme')]
    assert tool.main(args) == 1
    assert f'{csv_path}:4: onset_frame empty; a negative clip needs start_frame' in \
        capsys.readouterr().err
    assert not osp.exists(tmp_path / 'out' / 'splits.json')  # nothing written on bad input
    csv_path.write_text('video,onset_frame\ncase01.mp4,12x\n')
    assert tool.main(args) == 1
    assert f"{csv_path}:2: onset_frame '12x' is not an integer" in capsys.readouterr().err
    csv_path.write_text('video,onset_frame,site\ncase01.mp4,12,stomach\n')
    assert tool.main(args) == 1
    assert f"{csv_path}:2: site 'stomach' is not one of" in capsys.readouterr().err
    csv_path.write_text('video,onset_frame\ncase01.mp4,12\nmissing.mp4,3\n')
    assert tool.main(args) == 1
    err = capsys.readouterr().err
    assert f'{csv_path}:3: video' in err and 'missing.mp4 not found' in err
    csv_path.write_text('video,onset_frame\ncase02.mp4,500\n')
    assert tool.main(args) == 1
    assert 'onset_frame 500 >= video length 160' in capsys.readouterr().err


def test_annotation_outside_video_length(recordings, capsys):
    tmp_path, csv_path = recordings
    labelme(str(tmp_path / 'labelme' / 'case02'), 'frame_170.json', [(0, 5, 6)])
    tool = load_tool(TOOL)
    with pytest.raises(tool.ConversionError, match='frame_170.json: frame index 170 >= video '
                                                   'length 160'):
        tool.convert(_only_case02(csv_path), str(tmp_path / 'o'), str(tmp_path / 'videos'),
                     str(tmp_path / 'labelme'))
    labelme(str(tmp_path / 'labelme' / 'case02'), 'frame_170.json', [(0, 50, 6)])
    os.rename(tmp_path / 'labelme' / 'case02' / 'frame_170.json',
              tmp_path / 'labelme' / 'case02' / 'frame_150.json')
    with pytest.raises(tool.ConversionError, match='frame_150.json: shapes\\[0\\].points '
                                                   '\\(50, 6\\) outside the image 32x24'):
        tool.convert(_only_case02(csv_path), str(tmp_path / 'o'), str(tmp_path / 'videos'),
                     str(tmp_path / 'labelme'))


def _only_case02(csv_path):
    path = str(csv_path) + '.case02.csv'
    with open(path, 'w') as f:
        f.write('video,onset_frame\ncase02.mp4,40\n')
    return path


def test_convert_end_to_end_and_read_back(recordings, capsys):
    tmp_path, csv_path = recordings
    csv_path.write_text('video,onset_frame,site,scenarios,patient,start_frame\n'
                        'case01.mp4,130,gastric_body,water_flushing|camera_jitter,,\n'
                        'case02.mp4,40,duodenum,,,\n'
                        'case03.mp4,,cardia,clear_view,P3,5\n')
    out = tmp_path / 'bench'
    tool = load_tool(TOOL)
    args = [str(csv_path), str(out), '--video-dir', str(tmp_path / 'videos'), '--labelme-dir',
            str(tmp_path / 'labelme'), '--image-ext', 'png']
    assert tool.main(args) == 0
    printed = capsys.readouterr().out
    assert 'detection clip shifted, onset at clip frame 40 instead of 120' in printed
    assert '4 clips (4 written, 0 already present)' in printed

    index = BenchIndex(str(out), strict=True)
    clips = {c.clip_id: c for c in index.clips}
    assert sorted(clips) == ['case01_D1', 'case01_T1', 'case02_D1', 'case03_N1']
    det = clips['case01_D1']
    assert (det.num_frames, det.onset_frame, det.width, det.height) == (150, 120, W, H)
    assert det.extra == {'clip_type': 'detection', 'source_video': 'case01.mp4',
                         'source_start_frame': 10}
    assert det.site == 'gastric_body' and det.scenarios == ['water_flushing', 'camera_jitter']
    assert det.annotations == {120: [SourcePoint(0, 10.5, 12.0), SourcePoint(1, 20.0, 5.0)]}
    # frame content comes from the right place of the video (left half = video frame index)
    assert det.load_frames([0, 120])[:, 5, 3, 0].tolist() == pytest.approx([10, 130], abs=3)
    track = clips['case01_T1']
    assert (track.num_frames, track.onset_frame, track.extra['clip_type']) == (61, 0, 'tracking')
    assert track.annotated_frames == [0, 30, 60] and track.annotations[60] == []
    assert track.load_frames([60])[0, 5, 3, 0] == pytest.approx(190, abs=3)
    shifted = clips['case02_D1']
    assert (shifted.num_frames, shifted.onset_frame) == (150, 40)
    neg = clips['case03_N1']
    assert neg.onset_frame is None and neg.annotations == {} and neg.patient_id == 'P3'
    assert neg.extra['source_start_frame'] == 5
    # patient-level split: each patient in exactly one split, all clips of case01 together
    assert sorted(sum(index.splits.values(), [])) == ['P3', 'case01', 'case02']
    assert all(len(v) == 1 for v in index.splits.values())
    assert clips['case01_D1'].split == clips['case01_T1'].split
    # deterministic and resumable: a second run keeps every clip and the same split
    assert tool.main(args) == 0
    assert '(0 written, 4 already present)' in capsys.readouterr().out
    assert BenchIndex(str(out)).splits == index.splits


def test_split_is_4_1_1_and_deterministic():
    tool = load_tool(TOOL)
    patients = [f'P{i:02d}' for i in range(36)]
    splits = tool.split_patients(patients, seed=0)
    assert [len(splits[s]) for s in ('train', 'val', 'test')] == [24, 6, 6]
    assert splits == tool.split_patients(list(reversed(patients)), seed=0)
    assert splits != tool.split_patients(patients, seed=1)
    assert sorted(sum(splits.values(), [])) == patients


def test_video_storage_and_max_track_frames(recordings):
    tmp_path, csv_path = recordings
    csv_path.write_text('video,onset_frame\ncase01.mp4,130\n')
    out = tmp_path / 'bench_mp4'
    result = load_tool(TOOL).convert(str(csv_path), str(out), str(tmp_path / 'videos'),
                                     str(tmp_path / 'labelme'), storage='video',
                                     max_track_frames=40)
    assert result['clips'] == ['case01_D1', 'case01_T1']
    clips = {c.clip_id: c for c in BenchIndex(str(out), strict=True).clips}
    track = clips['case01_T1']
    assert track.video == 'video.mp4' and track.num_frames == 31  # capped before frame 60
    assert track.annotated_frames == [0, 30]
    values = track.load_frames([0, 30])[:, 5, 3, 0].astype(int)
    # mp4 -> mp4 re-encoding of a 32x24 frame shifts grey levels by a few units; the
    # 30-frame step between the two decoded frames is what proves the right window
    assert values.tolist() == pytest.approx([130, 160], abs=8)
    assert values[1] - values[0] == pytest.approx(30, abs=3)
    assert osp.isfile(osp.join(track.clip_dir, 'video.mp4'))
    assert not osp.exists(osp.join(track.clip_dir, 'frames'))
