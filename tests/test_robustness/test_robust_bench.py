"""Hostile data trees: the bench reader names the file and keeps the good clips (issue 14).

Each test breaks one file of a tiny tree in one way and asserts the exact
outcome: the broken clip is skipped with a reason naming the file and field,
the two other clips survive, and the work done is bounded by the files
present, never by what a file claims.
"""
import json
import os
import os.path as osp
import time
import tracemalloc

import cv2
import numpy as np
import pytest
from robust_helpers import (
    H,
    W,
    clip_json,
    deeply_nested,
    heap_limit,
    make_tree,
    nested_object,
    rewrite_meta,
)

from bleedorigin.datasets.bench import (
    MAX_NUM_FRAMES,
    BenchFormatError,
    BenchIndex,
    read_json,
)


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / 'bench')


def broken_reason(root, expect_clip='clips/P01/C1'):
    """Index ``root``; assert exactly ``expect_clip`` is broken and the others survive."""
    index = BenchIndex(root)
    assert [b.clip for b in index.broken] == [expect_clip]
    assert len(index.clips) == 2
    with pytest.raises(BenchFormatError, match=expect_clip):
        BenchIndex(root, strict=True)
    return index.broken[0].reason


# ---------------------------------------------------------------- defect 1: absurd counts
def test_absurd_num_frames_is_refused_without_allocating(tree):
    rewrite_meta(tree, num_frames=10 ** 12)
    start = time.perf_counter()
    with heap_limit():  # before the fix: MemoryError here, not the OOM killer
        reason = broken_reason(tree)
    assert time.perf_counter() - start < 30  # bounded (was: until the OOM killer)
    assert reason == ('clips/P01/C1/clip.json: num_frames 1000000000000 exceeds the limit '
                      f'{MAX_NUM_FRAMES} (refused unread, not allocated)')


def test_missing_frames_counted_in_bounded_memory(tree):
    """A count under the limit: the missing frames are counted, not listed (O(files))."""
    rewrite_meta(tree, num_frames=MAX_NUM_FRAMES - 1)
    tracemalloc.start()
    try:
        reason = broken_reason(tree)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert reason == (f'clips/P01/C1/frames: frames {MAX_NUM_FRAMES - 7} of num_frames '
                      f'{MAX_NUM_FRAMES - 1} missing (first: 000006)')
    assert peak < 16 * 2 ** 20, f'indexing allocated {peak / 2 ** 20:.0f} MB'


@pytest.mark.parametrize('field', ['width', 'height'])
def test_absurd_frame_size_is_refused(tree, field):
    rewrite_meta(tree, **{field: 10 ** 9})
    assert broken_reason(tree) == (f'clips/P01/C1/clip.json: {field} 1000000000 exceeds the '
                                   'limit 32768 (refused unread, not allocated)')


# ------------------------------------------------------- defect 2: any JSON failure is named
def _write(path, data):
    mode = 'wb' if isinstance(data, bytes) else 'w'
    with open(path, mode) as f:
        f.write(data)


@pytest.mark.parametrize('content', [deeply_nested(), nested_object()],
                         ids=['array', 'object'])
def test_deeply_nested_clip_json_is_a_named_error(tree, content):
    _write(clip_json(tree), content)
    assert broken_reason(tree) == ('clips/P01/C1/clip.json: JSON malformed (nested too deeply '
                                   'to parse)')


def test_deeply_nested_annotation_and_dense_gt(tree):
    ann = osp.join(tree, 'clips', 'P01', 'C1', 'annotations', '000003.json')
    _write(ann, deeply_nested())
    assert broken_reason(tree) == ('clips/P01/C1/annotations/000003.json: JSON malformed '
                                   '(nested too deeply to parse)')
    os.remove(ann)
    _write(osp.join(tree, 'clips', 'P01', 'C1', 'dense_gt.json'), deeply_nested())
    assert broken_reason(tree) == ('clips/P01/C1/dense_gt.json: JSON malformed (nested too '
                                   'deeply to parse)')


def test_deeply_nested_splits_json_is_a_tree_error(tree):
    _write(osp.join(tree, 'splits.json'), nested_object())
    with pytest.raises(BenchFormatError) as info:
        BenchIndex(tree)
    assert str(info.value) == 'splits.json: JSON malformed (nested too deeply to parse)'


@pytest.mark.parametrize('content,reason', [
    (b'', 'JSON malformed (Expecting value: line 1 column 1 (char 0))'),
    (b'\xff\xfe\x00garbage\x81', 'JSON malformed (not UTF-8: invalid start byte at byte 0)'),
    ('{"num_frames": ' + '9' * 5000 + '}', 'JSON malformed (Exceeds the limit (4300 digits) '
                                          'for integer string conversion: value has 5000 '
                                          'digits; use sys.set_int_max_str_digits() to '
                                          'increase the limit)'),
    ('[1, 2, 3]', 'top level is not an object (got list)'),
    ('"clip"', 'top level is not an object (got str)'),
    ('{"clip_id": ', 'JSON malformed (Expecting value: line 1 column 13 (char 12))'),
], ids=['empty', 'not-utf8', 'huge-integer', 'list', 'string', 'truncated'])
def test_hostile_clip_json_is_a_named_error(tree, content, reason):
    _write(clip_json(tree), content)
    assert broken_reason(tree) == f'clips/P01/C1/clip.json: {reason}'


def test_read_json_refuses_oversized_and_unreadable_files(tmp_path):
    path = tmp_path / 'big.json'
    path.write_text('{"a": "' + 'x' * 2000 + '"}')
    with pytest.raises(BenchFormatError) as info:
        read_json(str(path), 'big.json', max_bytes=1000)
    assert str(info.value) == 'big.json: too large (2009 bytes > 1000); not read'
    with pytest.raises(BenchFormatError) as info:
        read_json(str(tmp_path), 'folder.json')
    assert str(info.value) == 'folder.json: is not a regular file (a directory)'
    fifo = tmp_path / 'pipe.json'
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    with pytest.raises(BenchFormatError) as info:
        read_json(str(fifo), 'pipe.json')
    assert str(info.value) == 'pipe.json: is not a regular file (a device, FIFO or socket)'
    with pytest.raises(BenchFormatError) as info:
        read_json(str(tmp_path / 'nope.json'), 'nope.json')
    assert str(info.value) == 'nope.json: missing'


# ------------------------------------------------------------------ defect 6: smaller items
def test_mixed_frame_sizes_found_without_decoding(tree):
    frame = osp.join(tree, 'clips', 'P01', 'C1', 'frames', '000004.png')
    cv2.imwrite(frame, np.zeros((H, W + 1, 3), np.uint8))
    assert broken_reason(tree) == ('clips/P01/C1/frames/000004.png: size 17x12 != clip.json '
                                   'width x height 16x12')


def test_every_missing_key_reported_at_once(tree):
    rewrite_meta(tree, drop=('fps', 'num_frames', 'video'))
    assert broken_reason(tree) == 'clips/P01/C1/clip.json: fps, num_frames, video missing'


# --------------------------------------------------------- already handled (kept that way)
def test_incomplete_and_out_of_range_clip_json(tree):
    rewrite_meta(tree, drop=('onset_frame', ))
    assert broken_reason(tree) == 'clips/P01/C1/clip.json: onset_frame missing'
    rewrite_meta(tree, onset_frame=9)
    assert broken_reason(tree) == 'clips/P01/C1/clip.json: onset_frame 9 >= num_frames 6'


@pytest.mark.parametrize('point,reason', [
    ([20, 3], 'shapes[0].points (20, 3) outside the image 16x12'),
    ([float('nan'), 3], 'shapes[0].points [[nan, 3]] is not [[x, y]]'),
], ids=['outside', 'nan'])
def test_point_outside_image_or_nan(tree, point, reason):
    path = osp.join(tree, 'clips', 'P01', 'C1', 'annotations', '000003.json')
    with open(path) as f:
        doc = json.load(f)
    doc['shapes'][0]['points'] = [point]
    with open(path, 'w') as f:
        json.dump(doc, f)  # NaN is written as the non-standard literal NaN
    assert broken_reason(tree) == f'clips/P01/C1/annotations/000003.json: {reason}'


def test_symlinked_frame_outside_the_root_refused(tree, tmp_path):
    outside = tmp_path / 'outside.png'
    cv2.imwrite(str(outside), np.zeros((H, W, 3), np.uint8))
    frame = osp.join(tree, 'clips', 'P01', 'C1', 'frames', '000002.png')
    os.remove(frame)
    os.symlink(outside, frame)
    assert broken_reason(tree) == ('clips/P01/C1/frames/000002.png: file resolves outside the '
                                   'data root (symlink refused)')


def test_truncated_and_non_video_files(tree):
    video = osp.join(tree, 'clips', 'P02', 'C1', 'video.mp4')
    with open(video, 'rb') as f:
        data = f.read()
    _write(video, data[:len(data) // 3])
    reason = broken_reason(tree, 'clips/P02/C1')
    assert reason.startswith('clips/P02/C1/video.mp4: ')
    assert reason.endswith(('video cannot be opened', 'frame count 0 != num_frames 5'))
    _write(video, 'this is not a video\n')
    assert broken_reason(tree, 'clips/P02/C1') == 'clips/P02/C1/video.mp4: video cannot be opened'


def test_empty_folders(tree):
    frames = osp.join(tree, 'clips', 'P01', 'C1', 'frames')
    for name in os.listdir(frames):
        os.remove(osp.join(frames, name))
    assert broken_reason(tree) == ('clips/P01/C1/frames: frames 6 of num_frames 6 missing '
                                   '(first: 000000)')
    os.makedirs(osp.join(tree, 'clips', 'P03'))  # an empty patient folder: nothing to index
    assert len(BenchIndex(tree).clips) == 2


def test_corrupt_frame_found_when_decoded(tree):
    frame = osp.join(tree, 'clips', 'P01', 'C1', 'frames', '000001.png')
    with open(frame, 'rb') as f:
        data = f.read()
    _write(frame, data[:data.index(b'IDAT') + 8])  # header readable, pixels gone
    clip = BenchIndex(tree).clips[0]
    with pytest.raises(BenchFormatError) as info:
        clip.load_frames([1])
    assert str(info.value) == 'clips/P01/C1/frames/000001.png: image cannot be decoded'


def test_header_sizes_match_pillow(tmp_path):
    """The header parser that finds mixed sizes agrees with Pillow on every kind of frame."""
    from PIL import Image

    from bleedorigin.datasets.bench import _image_size

    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (37, 53, 3), dtype=np.uint8)
    paths = []
    for name, array in (('rgb.png', image), ('grey.png', image[..., 0]),
                        ('rgba.png', np.dstack([image, image[..., :1]])), ('base.jpg', image)):
        cv2.imwrite(str(tmp_path / name), array)
        paths.append(tmp_path / name)
    Image.fromarray(image).save(tmp_path / 'progressive.jpg', progressive=True)
    exif = Image.Exif()
    exif[0x010E] = 'x' * 20000  # ImageDescription: an APP1 segment larger than 4 KiB
    Image.fromarray(image).save(tmp_path / 'exif.jpg', exif=exif)
    Image.fromarray(image).save(tmp_path / 'frame.bmp')  # not PNG/JPEG: Pillow's parser
    paths += [tmp_path / 'progressive.jpg', tmp_path / 'exif.jpg', tmp_path / 'frame.bmp']
    for path in paths:
        with Image.open(path) as reference:
            assert _image_size(str(path)) == reference.size == (53, 37), path.name
    (tmp_path / 'bad.png').write_bytes(b'\x89PNG\r\n\x1a\n' + bytes(40))
    (tmp_path / 'bad.jpg').write_bytes(b'\xff\xd8\xff\xda' + bytes(40))
    assert _image_size(str(tmp_path / 'bad.png')) is None
    assert _image_size(str(tmp_path / 'bad.jpg')) is None
