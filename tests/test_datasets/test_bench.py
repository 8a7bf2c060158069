"""Tests of the bench reader on trees written by hand (json.dump + cv2), not by our writer."""
import json
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from hand_tree import H, W, write_clip_folder, write_labelme, write_splits  # noqa: F401

from bleedorigin.datasets.bench import BenchFormatError, BenchIndex, SourcePoint


def frame_value(clip_seed, t):
    return (clip_seed * 37 + t * 5) % 250


def write_clip(root, patient, clip, num_frames=6, onset=3, video='frames', ext='png',
               annotations=None, meta=None, dense=None):
    """One clip folder; frame t of the clip is grey ``frame_value`` with blue = 200 (png/jpg)."""
    seed = sum(map(ord, patient + clip))
    frames = []
    for t in range(num_frames):
        img = np.full((H, W, 3), frame_value(seed, t), np.uint8)
        if video == 'frames':
            img[..., 0] = 200  # B channel in BGR -> last channel in RGB
        frames.append(img)
    clip_dir = write_clip_folder(root, patient, clip, frames, onset, video, ext, meta)
    if annotations is None:
        annotations = {} if onset is None else {
            onset: [{'label': 'bleeding_source', 'points': [[4.5, 6.0]], 'group_id': None,
                     'shape_type': 'point'}]}
    for index, shapes in annotations.items():
        write_labelme(clip_dir, index, shapes, flags={}, imagePath='../x/y.jpg')
    if dense is not None:
        with open(osp.join(clip_dir, 'dense_gt.json'), 'w') as f:
            json.dump(dense, f)
    return clip_dir


@pytest.fixture
def tree(tmp_path):
    root = str(tmp_path / 'bench')
    write_splits(root, {'train': ['P01', 'P02'], 'val': ['P03'], 'test': ['P04']})
    write_clip(root, 'P01', 'C001', annotations={
        3: [{'label': 'bleeding_source', 'points': [[4.5, 6.0]], 'group_id': None,
             'shape_type': 'point'},
            {'label': 'bleeding_source', 'points': [[10, 2]], 'group_id': 2, 'shape_type': 'point'},
            {'label': 'instrument', 'points': [[1, 1], [3, 3]], 'shape_type': 'rectangle'},
            {'label': 'bleeding_source', 'points': [[1, 1], [2, 2], [3, 1]],
             'shape_type': 'polygon'}],
        5: []},
        meta={'operator': 'dr_x', 'custom': {'a': 1}},
        dense={'sources': [{'group_id': None,
                            'points': [None, None, None, [4.5, 6], [5, 6], None],
                            'visible': [False, False, False, True, True, False]}],
               'bleeding': [False, False, False, True, True, True]})
    write_clip(root, 'P02', 'C001', ext='jpg', onset=None)
    write_clip(root, 'P03', 'C002', video='video.mp4', num_frames=8, onset=2)
    write_clip(root, 'P04', 'C001', num_frames=4, onset=0)
    return root


def test_index_reads_every_field(tree):
    index = BenchIndex(tree)
    assert index.broken == []
    assert [c.clip_id for c in index.clips] == ['P01_C001', 'P02_C001', 'P03_C002', 'P04_C001']
    assert [c.split for c in index.clips] == ['train', 'train', 'val', 'test']
    clip = index.clips[0]
    assert clip.clip_dir == osp.join(tree, 'clips', 'P01', 'C001')
    assert (clip.fps, clip.num_frames, clip.width, clip.height) == (30.0, 6, W, H)
    assert clip.onset_frame == 3 and clip.site == 'cardia' and clip.scenarios == ['clear_view']
    assert clip.extra == {'operator': 'dr_x', 'custom': {'a': 1}}
    # null group_id -> 0, rectangle and polygon ignored, sorted by group id
    assert clip.annotations[3] == [SourcePoint(0, 4.5, 6.0), SourcePoint(2, 10.0, 2.0)]
    assert clip.annotations[5] == []  # labelled invisible, not unlabelled
    assert clip.annotated_frames == [3, 5]
    assert clip.has_dense_gt and index.clips[1].has_dense_gt is False
    dense = clip.load_dense_gt()
    assert dense['sources'][0]['group_id'] == 0 and dense['bleeding'][-1] is True
    assert index.clips[1].onset_frame is None and index.clips[1].load_dense_gt() is None
    assert index.clips[2].video == 'video.mp4'


def test_split_filter_and_unknown_split(tree):
    assert [c.clip_id for c in BenchIndex(tree, split='train').clips] == ['P01_C001', 'P02_C001']
    assert [c.patient_id for c in BenchIndex(tree, split='test')] == ['P04']
    with pytest.raises(BenchFormatError, match='splits.json: nope split not found'):
        BenchIndex(tree, split='nope')


def test_load_frames_from_png_jpg_and_mp4(tree):
    index = BenchIndex(tree)
    png, jpg, mp4 = index.clips[0], index.clips[1], index.clips[2]
    frames = png.load_frames([4, 0, 4])
    assert frames.shape == (3, H, W, 3) and frames.dtype == np.uint8
    seed = sum(map(ord, 'P01C001'))
    assert frames[0, 0, 0].tolist() == [frame_value(seed, 4)] * 2 + [200]  # RGB order
    assert frames[1, 0, 0, 0] == frame_value(seed, 0)
    assert np.array_equal(frames[0], frames[2])
    assert png.load_frames().shape == (6, H, W, 3)
    assert abs(int(jpg.load_frames([2])[0, 5, 5, 0]) - frame_value(sum(map(ord, 'P02C001')), 2)) < 6
    video_frames = mp4.load_frames([7, 1, 5])
    seed = sum(map(ord, 'P03C002'))
    expected = [frame_value(seed, t) for t in (7, 1, 5)]
    assert np.abs(video_frames.reshape(3, -1).mean(1) - expected).max() < 6
    with pytest.raises(IndexError):
        mp4.load_frames([8])


def test_corrupt_frame_detected_at_load_time(tree):
    clip = BenchIndex(tree).clips[0]
    with open(osp.join(clip.clip_dir, 'frames', '000002.png'), 'wb') as f:
        f.write(b'not a png at all')
    with pytest.raises(BenchFormatError, match='clips/P01/C001/frames/000002.png: image cannot'):
        clip.load_frames([2])


def test_onset_out_of_range_message(tmp_path):
    root = str(tmp_path / 'b')
    write_splits(root, {'train': [], 'val': [], 'test': ['P09']})
    write_clip(root, 'P09', 'C004', num_frames=150, onset=180, annotations={})
    with pytest.warns(UserWarning, match='skipped 1 broken clip'):
        index = BenchIndex(root)
    assert index.clips == []
    assert index.broken[0].clip == 'clips/P09/C004'
    assert index.broken[0].reason == 'clips/P09/C004/clip.json: onset_frame 180 >= num_frames 150'
    with pytest.raises(BenchFormatError) as info:
        BenchIndex(root, strict=True)
    assert str(info.value) == 'clips/P09/C004/clip.json: onset_frame 180 >= num_frames 150'


def _break_missing_clip_json(clip_dir):
    os.remove(osp.join(clip_dir, 'clip.json'))


def _break_malformed_json(clip_dir):
    with open(osp.join(clip_dir, 'clip.json'), 'w') as f:
        f.write('{"clip_id": "P02_C009", ')


def _break_missing_frame(clip_dir):
    os.remove(osp.join(clip_dir, 'frames', '000004.png'))


def _break_extra_frame(clip_dir):
    cv2.imwrite(osp.join(clip_dir, 'frames', '000006.png'), np.zeros((H, W, 3), np.uint8))


def _break_empty_frame(clip_dir):
    open(osp.join(clip_dir, 'frames', '000001.png'), 'w').close()


def _break_frame_size(clip_dir):
    cv2.imwrite(osp.join(clip_dir, 'frames', '000000.png'), np.zeros((H + 1, W, 3), np.uint8))


def _rewrite_meta(**changes):
    def apply(clip_dir):
        path = osp.join(clip_dir, 'clip.json')
        with open(path) as f:
            meta = json.load(f)
        meta.update(changes)
        with open(path, 'w') as f:
            json.dump(meta, f)
    return apply


def _rewrite_annotation(index, shapes, name=None):
    def apply(clip_dir):
        os.makedirs(osp.join(clip_dir, 'annotations'), exist_ok=True)
        with open(osp.join(clip_dir, 'annotations', name or f'{index:06d}.json'), 'w') as f:
            json.dump({'shapes': shapes, 'imagePath': '/etc/passwd', 'imageData': None}, f)
    return apply


def _point(x, y, group_id=0):
    return [{'label': 'bleeding_source', 'points': [[x, y]], 'group_id': group_id,
             'shape_type': 'point'}]


@pytest.mark.parametrize('breaker,reason', [
    (_break_missing_clip_json, 'clips/P02/C009/clip.json: missing'),
    (_break_malformed_json, 'clips/P02/C009/clip.json: JSON malformed'),
    (_break_missing_frame, 'clips/P02/C009/frames: frames 1 of num_frames 6 missing '
                           '(first: 000004)'),
    (_break_extra_frame, 'clips/P02/C009/frames: frames 7 files but num_frames 6'),
    (_break_empty_frame, 'clips/P02/C009/frames/000001.png: frame is empty'),
    (_break_frame_size, 'clips/P02/C009/frames/000000.png: size 16x13 != clip.json'),
    (_rewrite_annotation(3, _point(16.5, 2)),
     'clips/P02/C009/annotations/000003.json: shapes[0].points (16.5, 2) outside the image 16x12'),
    (_rewrite_annotation(3, _point(3, -1)), 'outside the image'),
    (_rewrite_annotation(6, _point(3, 3)),
     'clips/P02/C009/annotations/000006.json: frame index 6 >= num_frames 6'),
    (_rewrite_annotation(2, [], name='2.json'), 'annotations/2.json: file name is not a 6-digit'),
    (_rewrite_annotation(3, _point(3, 3) + _point(4, 4)), 'group_id 0 appears twice'),
    (_rewrite_annotation(3, _point(3, 3, group_id='a')), "group_id 'a' is not an integer"),
    (_rewrite_meta(onset_frame=-1), 'clips/P02/C009/clip.json: onset_frame -1 < 0'),
    (_rewrite_meta(onset_frame=2.5), 'onset_frame 2.5 is not an integer'),
    (_rewrite_meta(patient_id='P01'), "patient_id 'P01' != patient folder 'P02'"),
    (_rewrite_meta(clip_id='../../etc'), "clip_id '../../etc' does not match"),
    (_rewrite_meta(num_frames=0), 'num_frames 0 is not a positive integer'),
    (_rewrite_meta(site='moon'), "site 'moon' is not one of"),
    (_rewrite_meta(scenarios=['rain']), "scenarios 'rain' is not one of"),
    (_rewrite_meta(video='../other.mp4'), "video '../other.mp4' is neither"),
    (_rewrite_meta(video='video.mp4'), 'clips/P02/C009/video.mp4: video file missing'),
    (_rewrite_meta(clip_id='P01_C001'), "clip_id 'P01_C001' already used by clips/P01/C001"),
])
def test_broken_clip_skipped_counted_or_raised(tree, breaker, reason):
    clip_dir = write_clip(tree, 'P02', 'C009')
    breaker(clip_dir)
    index = BenchIndex(tree)
    assert len(index.clips) == 4  # the good clips survive
    assert [b.clip for b in index.broken] == ['clips/P02/C009']
    assert reason in index.broken[0].reason
    with pytest.raises(BenchFormatError, match='clips/P02/C009'):
        BenchIndex(tree, strict=True)


def test_video_frame_count_mismatch(tree):
    write_clip(tree, 'P02', 'C010', video='video.mp4', num_frames=5,
               meta={'num_frames': 9}, annotations={})
    index = BenchIndex(tree)
    assert index.broken[0].reason == ('clips/P02/C010/video.mp4: frame count 5 != '
                                      'num_frames 9')


def test_bad_folder_names_and_unlisted_patient(tree):
    write_clip(tree, 'P02', 'bad.name')
    os.makedirs(osp.join(tree, 'clips', 'P 7', 'C001'))
    write_splits(tree, {'train': ['P01', 'P02'], 'val': ['P03'], 'test': []})  # P04 unlisted
    index = BenchIndex(tree)
    reasons = {b.clip: b.reason for b in index.broken}
    assert 'name does not match' in reasons['clips/P 7']
    assert 'name does not match' in reasons['clips/P02/bad.name']
    assert reasons['clips/P04/C001'].endswith("patient_id 'P04' is not listed in splits.json")


@pytest.mark.parametrize('splits,message', [
    ({'train': ['P01', 'P02'], 'val': ['P02'], 'test': []},
     "splits.json: patient P02 is in both 'train' and 'val'"),
    ({'train': ['P01', 'P01']}, "splits.json: patient P01 is in 'train' twice"),
    ({'train': ['P/1']}, "splits.json: train patient id 'P/1' does not match"),
    ({'train': 'P01'}, 'splits.json: train is not a list'),
])
def test_bad_splits_are_tree_errors(tree, splits, message):
    write_splits(tree, splits)
    with pytest.raises(BenchFormatError) as info:
        BenchIndex(tree)  # not strict: still an error for the whole tree
    assert str(info.value).startswith(message)


def test_missing_or_malformed_splits(tmp_path):
    os.makedirs(tmp_path / 'clips')
    with pytest.raises(BenchFormatError, match='splits.json: missing'):
        BenchIndex(str(tmp_path))
    (tmp_path / 'splits.json').write_text('[1, 2')
    with pytest.raises(BenchFormatError, match='splits.json: JSON malformed'):
        BenchIndex(str(tmp_path))


def test_symlinks_out_of_root_refused(tree, tmp_path):
    outside = str(tmp_path / 'outside')
    write_splits(outside, {'train': ['P02']})
    outside_clip = write_clip(outside, 'P02', 'C001')
    os.symlink(outside_clip, osp.join(tree, 'clips', 'P02', 'C050'))
    inside_clip = write_clip(tree, 'P02', 'C051')
    frame = osp.join(inside_clip, 'frames', '000001.png')
    os.remove(frame)
    os.symlink(osp.join(outside_clip, 'frames', '000001.png'), frame)
    ann = osp.join(inside_clip, 'annotations', '000003.json')
    index = BenchIndex(tree)
    reasons = {b.clip: b.reason for b in index.broken}
    assert 'resolves outside the data root' in reasons['clips/P02/C050']
    assert reasons['clips/P02/C051'].startswith('clips/P02/C051/frames/000001.png: file resolves')
    # a symlink that stays inside the root is fine; one pointing out of it is not
    os.remove(frame)
    os.symlink(osp.join(tree, 'clips', 'P01', 'C001', 'frames', '000001.png'), frame)
    os.remove(ann)
    os.symlink(osp.join(outside_clip, 'annotations', '000003.json'), ann)
    reasons = {b.clip: b.reason for b in BenchIndex(tree).broken}
    assert 'annotations/000003.json: file resolves outside' in reasons['clips/P02/C051']


def test_malformed_dense_gt_is_broken(tree):
    write_clip(tree, 'P02', 'C011', dense={'sources': [{'points': [None], 'visible': [False]}],
                                           'bleeding': [False] * 6})
    index = BenchIndex(tree)
    assert index.broken[0].reason == ('clips/P02/C011/dense_gt.json: sources[0].points must be '
                                      'a list of num_frames 6 entries')
