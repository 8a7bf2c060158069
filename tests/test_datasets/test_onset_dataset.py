from collections import Counter

import numpy as np
import pytest
from detect_tree import make_detect_tree

from bleedorigin.datasets import BleedOnsetDataset
from bleedorigin.datasets.bench import BenchIndex
from bleedorigin.models.utils import onset_frame_input

TRAIN_PIPELINE = [
    dict(type='SampleOnsetSegment', window_size=10, num_windows=3, window_stride=2,
         context_frames=4, positive_fraction=1.0),
    dict(type='SequenceRandomFlip', prob=0.5),
    dict(type='SequenceColorJitter'),
    dict(type='MultiDomainInputs'),
    dict(type='PackOnsetInputs'),
]
TEST_PIPELINE = [dict(type='LoadOnsetClip'), dict(type='MultiDomainInputs'),
                 dict(type='PackOnsetInputs')]


def test_onset_dataset_train_and_test(tmp_path):
    root = make_detect_tree(tmp_path / 'bench')
    cache = tmp_path / 'cache'
    train = BleedOnsetDataset(root, 'train', input_size=(32, 24), samples_per_clip=2,
                              cache_dir=str(cache), cache_workers=1, pipeline=TRAIN_PIPELINE)
    assert len(train) == 8  # 4 train clips x 2
    # median of the train onsets 20, 25, 12
    assert train.metainfo['prior_onset_frame'] == 20
    for index in range(len(train)):
        item = train[index]
        meta = item['data_samples'].metainfo
        rgb = item['inputs']['rgb']
        assert rgb.shape == (4 + 10 + 4, 4, 24, 32) and str(rgb.dtype) == 'torch.uint8'
        assert item['inputs']['flow'].shape == (18, 2, 24, 32)
        # windows start after 4 context frames, except in a segment at the clip start
        # (evaluation also slides its first window from frame 0)
        assert meta['window_start_min'] == (0 if meta['segment_start'] == 0 else 4)
        if meta['gt_onset'] is not None:
            # positive_fraction=1: the onset lies inside the first window
            assert 4 <= meta['onset_index'] < 14
            assert meta['onset_index'] + meta['segment_start'] == meta['gt_onset']
    test = BleedOnsetDataset(root, 'val', input_size=(32, 24), cache_dir=str(cache),
                             cache_workers=1, pipeline=TEST_PIPELINE, test_mode=True)
    assert len(test) == 2
    item = test[0]
    assert item['inputs']['rgb'].shape[0] == 40
    # the cache holds onset_frame_input of what BenchIndex decodes (RGB + pooled red)
    cached = np.load(test.data_list[0]['cache_path'])
    assert cached.shape == (40, 24, 32, 4)
    clip = BenchIndex(root, 'val').clips[0]
    np.testing.assert_array_equal(cached[7], onset_frame_input(clip.load_frames([7])[0],
                                                               (32, 24), 4))


def test_onset_dataset_red_colour_cache(tmp_path):
    root = make_detect_tree(tmp_path / 'bench')
    train = BleedOnsetDataset(root, 'train', input_size=(32, 24), red_colour=True,
                              cache_dir=str(tmp_path / 'cache'), cache_workers=1,
                              pipeline=TRAIN_PIPELINE)
    cached = np.load(train.data_list[0]['cache_path'])
    assert cached.shape[1:] == (24, 32, 7)
    clip = BenchIndex(root, 'train').clips[0]
    np.testing.assert_array_equal(
        cached[3], onset_frame_input(clip.load_frames([3])[0], (32, 24), 4, red_colour=True))
    # the model gets RGB + Red-Mask
    assert train[0]['inputs']['rgb'].shape[1] == 4
    with pytest.raises(ValueError, match='red_colour needs red_pool > 1'):
        BleedOnsetDataset(root, 'train', input_size=(32, 24), red_colour=True, red_pool=1,
                          cache_dir=str(tmp_path / 'cache'), cache_workers=1)


def test_onset_dataset_empty_split(tmp_path):
    root = make_detect_tree(tmp_path / 'bench', onsets={('P01', 'C1'): 5})
    with pytest.raises(ValueError, match="split 'val' has no readable clips"):
        BleedOnsetDataset(root, 'val', cache_dir=str(tmp_path / 'c'), cache_workers=1)


def _numbered_clip(tmp_path, num_frames):
    """A cached clip whose frame i holds the value i (read back which frames were kept)."""
    frames = np.zeros((num_frames, 2, 2, 4), np.uint8)
    frames[:] = np.arange(num_frames, dtype=np.uint8)[:, None, None, None]
    path = str(tmp_path / f'clip{num_frames}.npy')
    np.save(path, frames)
    return path


@pytest.mark.parametrize('onset', [30, 3, None])
def test_sample_onset_segment_stream_starts(tmp_path, onset):
    import random

    from bleedorigin.registry import TRANSFORMS
    sampler = TRANSFORMS.build(dict(type='SampleOnsetSegment', window_size=10, num_windows=3,
                                    window_stride=2, context_frames=4, positive_fraction=1.0,
                                    warmup_fraction=1.0))
    path = _numbered_clip(tmp_path, 60)
    random.seed(0)
    firsts = set()
    for _ in range(200):
        out = sampler(dict(cache_path=path, onset_frame=onset))
        first, start = out['window_start_min'], out['segment_start']
        firsts.add(first)
        # from the window ending at the segment's first frame; the 3rd window ends last
        assert -9 <= first <= 0
        assert out['frames'].shape[0] == first + 10 + 2 * 2
        np.testing.assert_array_equal(out['frames'][:, 0, 0, 0],
                                      np.arange(start, start + out['frames'].shape[0]))
        if onset is None:
            assert out['onset_index'] is None
        else:
            # the onset 0 .. N-1 frames into the stream (frame 0 when the clip is too short)
            assert out['onset_index'] == onset - start
            assert 0 <= out['onset_index'] <= 9
    assert min(firsts) == -9 and max(firsts) == 0
    with pytest.raises(ValueError, match='warmup_fraction'):
        TRANSFORMS.build(dict(type='SampleOnsetSegment', warmup_fraction=1.5))
    with pytest.raises(ValueError, match='speeds'):
        TRANSFORMS.build(dict(type='SampleOnsetSegment', speeds=(0,)))


def test_sample_onset_segment_double_speed(tmp_path):
    import random

    from bleedorigin.registry import TRANSFORMS
    sampler = TRANSFORMS.build(dict(type='SampleOnsetSegment', window_size=10, num_windows=3,
                                    window_stride=2, context_frames=4, positive_fraction=1.0,
                                    speeds=(2,)))
    random.seed(1)
    path = _numbered_clip(tmp_path, 80)
    for _ in range(50):
        out = sampler(dict(cache_path=path, onset_frame=41))
        kept = out['frames'][:, 0, 0, 0].astype(int)
        assert kept.shape[0] == 18 and (np.diff(kept) == 2).all()
        # onset_index: the first kept frame at or after the true onset
        first_bleeding = out['onset_index']
        assert 0 <= first_bleeding < 18
        assert kept[first_bleeding] >= 41 and (first_bleeding == 0 or
                                               kept[first_bleeding - 1] < 41)
    # a clip too short for the slower sampling keeps every frame
    out = sampler(dict(cache_path=_numbered_clip(tmp_path, 30), onset_frame=20))
    assert (np.diff(out['frames'][:, 0, 0, 0].astype(int)) == 1).all()


def test_sample_onset_segment_hard_windows(tmp_path):
    import random

    from bleedorigin.registry import TRANSFORMS
    sampler = TRANSFORMS.build(dict(type='SampleOnsetSegment', window_size=10, num_windows=3,
                                    window_stride=2, context_frames=4, hard_fraction=1.0,
                                    speeds=(2,)))
    path = _numbered_clip(tmp_path, 80)
    random.seed(2)
    ends = set()
    for _ in range(100):
        out = sampler(dict(cache_path=path, onset_frame=None, hard_frames=[50, 70]))
        kept = out['frames'][:, 0, 0, 0].astype(int)
        # hard segments keep every frame (speed 1) and one window ends on a hard frame
        assert kept.shape[0] == 18 and (np.diff(kept) == 1).all()
        window_ends = {int(kept[4 + 2 * k + 9]) for k in range(3)}
        hit = window_ends & {50, 70}
        assert hit and out['onset_index'] is None and out['window_start_min'] == 4
        ends |= hit
    assert ends == {50, 70}
    # near the clip start the segment is clipped to frame 0 (the window then ends later)
    out = sampler(dict(cache_path=path, onset_frame=None, hard_frames=[5]))
    assert out['segment_start'] == 0 and out['window_start_min'] == 0
    # positive clips and clips without hard frames sample as before (double speed here)
    for extra in (dict(onset_frame=None, hard_frames=[]), dict(onset_frame=41, hard_frames=[50])):
        kept = sampler(dict(cache_path=path, **extra))['frames'][:, 0, 0, 0].astype(int)
        assert (np.diff(kept) == 2).all()
    with pytest.raises(ValueError, match='hard_fraction'):
        TRANSFORMS.build(dict(type='SampleOnsetSegment', hard_fraction=-0.1))


def test_onset_dataset_hard_windows_file(tmp_path):
    import json
    root = make_detect_tree(tmp_path / 'bench')
    cache = str(tmp_path / 'cache')
    hard = tmp_path / 'hard.json'
    # written by hand as mine_hard_windows.py writes it: P01/P01_C2 is the negative train clip
    hard.write_text(json.dumps(dict(data_root=str(root), clips={
        'P01/P01_C2': [30, 12], 'P01/P01_C1': [25], 'P09/P09_C9': [1]})))
    train = BleedOnsetDataset(root, 'train', input_size=(32, 24), cache_dir=cache,
                              cache_workers=1, pipeline=[], hard_windows=str(hard))
    frames = {info['clip_id']: info['hard_frames'] for info in train.data_list}
    # sorted; the positive clip's and the unknown clip's frames are dropped
    assert frames['P01/P01_C2'] == [12, 30] and frames['P01/P01_C1'] == []
    # every clip once (samples_per_clip=1): the extra draws of mined clips are opt-in
    assert sorted(info['clip_id'] for info in train.data_list) == [
        'P01/P01_C1', 'P01/P01_C2', 'P02/P02_C1', 'P03/P03_C1']
    # hard_window_repeats: the negative clip with mined frames 2 + 3 times, the positive
    # clip whose frames were dropped keeps samples_per_clip
    repeated = BleedOnsetDataset(root, 'train', input_size=(32, 24), cache_dir=cache,
                                 cache_workers=1, pipeline=[], samples_per_clip=2,
                                 hard_windows=str(hard), hard_window_repeats=3)
    counts = Counter(info['clip_id'] for info in repeated.data_list)
    assert counts == {'P01/P01_C1': 2, 'P01/P01_C2': 5, 'P02/P02_C1': 2, 'P03/P03_C1': 2}
    test = BleedOnsetDataset(root, 'train', input_size=(32, 24), cache_dir=cache,
                             cache_workers=1, pipeline=[], test_mode=True,
                             hard_windows=str(hard), hard_window_repeats=3)
    assert len(test.data_list) == 4
    with pytest.raises(ValueError, match='hard_window_repeats must be >= 0, got -2'):
        BleedOnsetDataset(root, 'train', cache_dir=cache, cache_workers=1,
                          hard_windows=str(hard), hard_window_repeats=-2)
    hard.write_text(json.dumps(dict(data_root=str(tmp_path), clips={})))
    with pytest.raises(ValueError, match=r'hard.json: field "data_root"'):
        BleedOnsetDataset(root, 'train', cache_dir=cache, cache_workers=1,
                          hard_windows=str(hard))
    hard.write_text(json.dumps(dict(data_root=str(root), clips={'P01/P01_C2': [40]})))
    with pytest.raises(ValueError, match=r'field "clips.P01/P01_C2" must list frames in \[0, 40\)'):
        BleedOnsetDataset(root, 'train', cache_dir=cache, cache_workers=1,
                          hard_windows=str(hard))
    hard.write_text('{not json')
    with pytest.raises(ValueError, match='cannot read the hard-window file'):
        BleedOnsetDataset(root, 'train', cache_dir=cache, cache_workers=1,
                          hard_windows=str(hard))


def test_onset_dataset_hard_positives_file(tmp_path):
    import json
    root = make_detect_tree(tmp_path / 'bench')
    cache = str(tmp_path / 'cache')
    hard = tmp_path / 'positives.json'
    # written by hand as `mine_hard_windows.py --positives` writes it: P01_C1 (onset 20) and
    # P02_C1 (25) are positive train clips, P01_C2 the negative one
    records = {'P01/P01_C1': dict(onset=20, predicted=None, alarm=None, max_confidence=0.1,
                                  hard=True),
               'P02/P02_C1': dict(onset=25, predicted=25, alarm=30, max_confidence=0.99,
                                  hard=False),
               'P03/P03_C1': dict(onset=11, predicted=20, alarm=30, max_confidence=0.7,
                                  hard=True),  # relabelled since mining: not trusted
               'P01/P01_C2': dict(onset=3, predicted=None, alarm=None, max_confidence=0.0,
                                  hard=True),  # negative clip: ignored
               'P09/P09_C9': dict(onset=5, hard=True)}  # unknown clip: ignored
    hard.write_text(json.dumps(dict(data_root=str(root), positives=records)))
    train = BleedOnsetDataset(root, 'train', input_size=(32, 24), cache_dir=cache,
                              cache_workers=1, pipeline=[], samples_per_clip=2,
                              hard_positives=str(hard), hard_positive_repeats=3)
    counts = Counter(info['clip_id'] for info in train.data_list)
    # the hard clip 2 + 3 times, every other clip samples_per_clip times
    assert counts == {'P01/P01_C1': 5, 'P01/P01_C2': 2, 'P02/P02_C1': 2, 'P03/P03_C1': 2}
    # test mode: one sample per clip whatever was mined
    test = BleedOnsetDataset(root, 'train', input_size=(32, 24), cache_dir=cache,
                             cache_workers=1, pipeline=[], test_mode=True,
                             hard_positives=str(hard), hard_positive_repeats=3)
    assert len(test.data_list) == 4
    records['P01/P01_C1']['hard'] = 'yes'
    hard.write_text(json.dumps(dict(data_root=str(root), positives=records)))
    with pytest.raises(ValueError, match=r'positives.json: field "positives.P01/P01_C1.hard"'):
        BleedOnsetDataset(root, 'train', cache_dir=cache, cache_workers=1,
                          hard_positives=str(hard))
    hard.write_text(json.dumps(dict(data_root=str(tmp_path), positives={})))
    with pytest.raises(ValueError, match=r'positives.json: field "data_root"'):
        BleedOnsetDataset(root, 'train', cache_dir=cache, cache_workers=1,
                          hard_positives=str(hard))
    # a negative-window file is not a positive one
    hard.write_text(json.dumps(dict(data_root=str(root), clips={})))
    with pytest.raises(ValueError, match=r'field "positives" must map'):
        BleedOnsetDataset(root, 'train', cache_dir=cache, cache_workers=1,
                          hard_positives=str(hard))
    with pytest.raises(ValueError, match='hard_positive_repeats must be >= 0'):
        BleedOnsetDataset(root, 'train', cache_dir=cache, cache_workers=1,
                          hard_positives=str(hard), hard_positive_repeats=-1)
