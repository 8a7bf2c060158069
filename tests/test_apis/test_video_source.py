import os

import cv2
import numpy as np
import pytest

from bleedorigin.apis import VideoSink, VideoSource, VideoSourceError


def _frames(count, height=40, width=48):
    frames = []
    for t in range(count):
        frame = np.zeros((height, width, 3), np.uint8)
        frame[:, :, 0] = 40 + 5 * t
        frame[10:20, 10:20] = (200, 30, 30)
        frames.append(frame)
    return frames


def test_folder_with_corrupt_frame_yields_none_in_place(tmp_path):
    for t, frame in enumerate(_frames(5)):
        cv2.imwrite(str(tmp_path / f'{t:06d}.png'), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (tmp_path / '000002.png').write_bytes(b'not an image at all')
    source = VideoSource(str(tmp_path))
    frames = list(source)
    assert len(frames) == 5
    assert frames[2] is None
    assert frames[1].shape == (40, 48, 3) and frames[1].dtype == np.uint8
    # RGB order: red square stays red
    assert frames[0][15, 15, 0] > 150 and frames[0][15, 15, 2] < 80
    assert source.stats.undecodable_frames == 1 and source.stats.decoded_frames == 4


def test_video_round_trip_and_truncated_video(tmp_path):
    path = str(tmp_path / 'clip.avi')
    sink = VideoSink(path, 25.0, (48, 40))
    for frame in _frames(30):
        sink.write(frame)
    sink.close()
    source = VideoSource(path)
    assert source.fps == pytest.approx(25.0)
    assert sum(f is not None for f in source) == 30
    assert not source.stats.truncated

    data = open(path, 'rb').read()
    cut = str(tmp_path / 'cut.avi')
    with open(cut, 'wb') as f:
        f.write(data[:len(data) // 2])
    source = VideoSource(cut)
    frames = [f for f in source if f is not None]
    assert 0 < len(frames) < 30
    assert source.stats.truncated
    assert source.stats.expected_frames == 30


def test_max_frames_and_bad_inputs(tmp_path):
    for t, frame in enumerate(_frames(6)):
        cv2.imwrite(str(tmp_path / f'{t:06d}.jpg'), frame)
    assert len(list(VideoSource(str(tmp_path), max_frames=4))) == 4
    with pytest.raises(VideoSourceError, match='no such video file'):
        VideoSource(str(tmp_path / 'missing.mp4'))
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(VideoSourceError, match='no image files'):
        VideoSource(str(empty))
    junk = tmp_path / 'junk.mp4'
    junk.write_bytes(os.urandom(64))
    with pytest.raises(VideoSourceError, match='cannot be opened'):
        VideoSource(str(junk))
