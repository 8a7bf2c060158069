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


def test_onset_dataset_empty_split(tmp_path):
    root = make_detect_tree(tmp_path / 'bench', onsets={('P01', 'C1'): 5})
    with pytest.raises(ValueError, match="split 'val' has no readable clips"):
        BleedOnsetDataset(root, 'val', cache_dir=str(tmp_path / 'c'), cache_workers=1)
